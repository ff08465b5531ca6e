package config

import (
	"strings"
	"testing"
)

const envS3Settings = `distributions:
  - id: E1
    domainName: d1.example.net
    originCredentials: {chain: {source: default-chain}}
    config:
      Origins:
        Items:
          - {Id: plain, DomainName: b1.s3.us-east-1.amazonaws.com, S3OriginConfig: {OriginAccessIdentity: ""}}
          - {Id: chain, DomainName: b2.s3.us-east-1.amazonaws.com, S3OriginConfig: {OriginAccessIdentity: ""}}
          - {Id: web, DomainName: web.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      DefaultCacheBehavior: {TargetOriginId: plain, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`

// TestEnvironmentCredentials: the environment's AWS keys sign an S3 origin
// without originCredentials — resolved when the configuration is compiled
// (and again by UpdateDistribution), never by the origin package — and half
// a key pair is an error that names the variables.
func TestEnvironmentCredentials(t *testing.T) {
	t.Run("both set", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "AKIDENV")
		t.Setenv(envSecretAccessKey, "env-secret")
		t.Setenv(envSessionToken, "env-token")
		cfg, err := Parse("s.yaml", []byte(envS3Settings))
		if err != nil {
			t.Fatal(err)
		}
		check := func(cfg *Config) {
			t.Helper()
			d := cfg.Distributions[0]
			if c := d.Origins["plain"].Credentials; c == nil || !c.FromEnvironment || c.AccessKeyID != "AKIDENV" || c.SecretAccessKey != "env-secret" || c.SessionToken != "env-token" {
				t.Errorf("plain S3 origin: %+v", c)
			}
			if c := d.Origins["chain"].Credentials; c == nil || !c.DefaultChain || c.FromEnvironment {
				t.Errorf("originCredentials must win over the environment: %+v", c)
			}
			if c := d.Origins["web"].Credentials; c != nil {
				t.Errorf("custom origin got credentials: %+v", c)
			}
		}
		check(cfg)
		next, err := cfg.WithDistribution("E1", cfg.Distributions[0].Raw)
		if err != nil {
			t.Fatalf("UpdateDistribution with a default-chain origin: %v", err)
		}
		check(next)
	})
	t.Run("neither set", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "")
		t.Setenv(envSecretAccessKey, "")
		cfg, err := Parse("s.yaml", []byte(envS3Settings))
		if err != nil {
			t.Fatal(err)
		}
		if c := cfg.Distributions[0].Origins["plain"].Credentials; c != nil {
			t.Errorf("anonymous origin got %+v", c)
		}
	})
	t.Run("half a pair", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "AKIDENV")
		t.Setenv(envSecretAccessKey, "")
		_, err := Parse("s.yaml", []byte(envS3Settings))
		want := `s.yaml: (environment): AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: S3 origin "plain" of distribution E1 would be asked unsigned; set both, neither, or give it originCredentials`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	})
}
