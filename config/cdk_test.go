package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoadCDKTemplates reads the templates of testdata/cdk as they are
// (WebStack in the shape `cdk synth` writes, ApiStack in CloudFormation
// YAML; both hand-written) and checks what each reference resolved to:
// the values the resources' "Return values" in the CloudFormation Template
// Reference describe, and policy resources compiled as custom policies.
func TestLoadCDKTemplates(t *testing.T) {
	type check struct {
		name string
		got  func(*Config) string
		want string // a regular expression when it starts with ^
	}
	web := func(c *Config) *Distribution { return c.Distributions[0] }
	tests := []struct {
		file   string
		params map[string]string
		checks []check
		errs   []string // substrings of the errors, when the load fails
	}{
		{"testdata/cdk/WebStack.template.json", nil, []check{
			{"distribution ID is the logical ID", func(c *Config) string { return web(c).ID }, "SiteDistribution3FF9535D"},
			{"bucket RegionalDomainName, generated bucket name", func(c *Config) string {
				return web(c).Origins["WebStackSiteDistributionOrigin1D4A4F5B0"].DomainName
			}, `^webstack-sitebucket397a1860-[a-z2-7]{12}\.s3\.us-east-1\.amazonaws\.com$`},
			{"S3 origin with the OAC's Id", func(c *Config) string {
				o := web(c).Origins["WebStackSiteDistributionOrigin1D4A4F5B0"]
				if o.S3 == nil {
					return "not S3"
				}
				return o.OriginAccessControlID
			}, `^E[A-Z2-7]{13}$`},
			{"load balancer DNSName, generated name", func(c *Config) string {
				return web(c).Origins["WebStackSiteDistributionOrigin2C85B5A5B"].DomainName
			}, `^webstack-apploadbal-[a-z2-7]{12}-[0-9]+\.us-east-1\.elb\.amazonaws\.com$`},
			{"Ref to the CachePolicy resource: a custom policy", func(c *Config) string {
				cp := web(c).Behaviors[0].CachePolicy
				return cp.Name + " " + cp.QueryStrings.Behavior + " " + strings.Join(cp.Headers.Items, ",") + " " + cp.MaxTTL.String()
			}, "WebStackApiCachePolicy1E7D5F2C-us-east-1 all Authorization 1h0m0s"},
			{"managed origin request policy by ID", func(c *Config) string { return web(c).Behaviors[0].OriginRequestPolicy.Name }, "Managed-AllViewerExceptHostHeader"},
			{"nothing ignored", func(c *Config) string { return strings.Join(errStrings(c.Warnings()), "; ") }, ""},
		}, nil},
		{"testdata/cdk/ApiStack.template.yaml", map[string]string{"Env": "prod"}, []check{
			{"Fn::If true", func(c *Config) string { return web(c).Comment }, "production API"},
			{"Fn::If list", func(c *Config) string { return strings.Join(web(c).Aliases, ",") }, "api.example.com"},
			{"function URL host by Select and Split", func(c *Config) string { return web(c).Origins["handler"].DomainName }, `^[a-z2-7]{32}\.lambda-url\.us-east-1\.on\.aws$`},
			{"cache policy: FindInMap, string number, StackName", func(c *Config) string {
				cp := web(c).Default.CachePolicy
				return cp.Name + " " + cp.MaxTTL.String() + " " + strings.Join(cp.QueryStrings.Items, ",")
			}, "ApiStack-api 24h0m0s q"},
			{"origin request policy by Fn::GetAtt Id", func(c *Config) string {
				orp := web(c).Default.OriginRequestPolicy
				return orp.Name + " " + strings.Join(orp.Headers.Items, ",")
			}, "ApiStack-forward X-Tenant"},
			{"response headers policy with a Ref value", func(c *Config) string {
				rp := web(c).Default.ResponseHeadersPolicy
				return rp.Name + " " + rp.Custom[0].Name + "=" + rp.Custom[0].Value
			}, "ApiStack-headers X-Env=prod"},
		}, nil},
		{"testdata/cdk/ApiStack.template.yaml", map[string]string{"Env": "dev", "AWS::Region": "eu-west-1"}, []check{
			{"Fn::If false", func(c *Config) string { return web(c).Comment }, "dev API"},
			{"AWS::NoValue omits Aliases", func(c *Config) string { return strings.Join(web(c).Aliases, ",") }, ""},
			{"region given", func(c *Config) string { return web(c).Origins["handler"].DomainName }, `^[a-z2-7]{32}\.lambda-url\.eu-west-1\.on\.aws$`},
			{"FindInMap by parameter", func(c *Config) string { return web(c).Default.CachePolicy.MaxTTL.String() }, (60 * time.Second).String()},
		}, nil},
		{"testdata/cdk/ApiStack.template.yaml", nil, nil, []string{
			"ApiStack.template.yaml: Resources.ApiDistribution.Properties.DistributionConfig.Comment: Fn::If: Conditions.IsProd: Fn::Equals: Ref Env: the parameter has no Default, so its value is only known when the stack is created; give it (--parameter Env=VALUE)",
			"ApiStack.template.yaml: Resources.ApiCachePolicy.Properties.CachePolicyConfig: MaxTTL: Fn::FindInMap: Ref Env: the parameter has no Default",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+strings.Join(sortedKeys(tt.params), ","), func(t *testing.T) {
			cfg, err := LoadWith(tt.file, TemplateInputs{Parameters: tt.params})
			if tt.errs != nil {
				if err == nil {
					t.Fatal("loaded; want errors")
				}
				for _, want := range tt.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("errors lack %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				got := c.got(cfg)
				ok := got == c.want
				if strings.HasPrefix(c.want, "^") {
					ok = regexp.MustCompile(c.want).MatchString(got)
				}
				if !ok {
					t.Errorf("%s: got %q, want %q", c.name, got, c.want)
				}
			}
		})
	}
}

// TestTemplateInSettings: a settings file's distribution names a template
// and its resource; originEndpoints keyed by the logical ID of the bucket
// and load balancer reach the origins built from them; unknown keys and
// resources are errors naming the field.
func TestTemplateInSettings(t *testing.T) {
	const head = "distributions:\n  - template: cdk/WebStack.template.json\n"
	tests := []struct {
		name, doc string
		want      map[string][]string // origin Id → endpoints
		errs      []string
	}{
		{"by logical ID", head + "    originEndpoints: {SiteBucket397A1860: 'http://127.0.0.1:9000', AppLoadBalancerBE9C4B4F: ['http://127.0.0.1:8081', 'http://127.0.0.1:8082']}\n",
			map[string][]string{
				"WebStackSiteDistributionOrigin1D4A4F5B0": {"http://127.0.0.1:9000"},
				"WebStackSiteDistributionOrigin2C85B5A5B": {"http://127.0.0.1:8081", "http://127.0.0.1:8082"},
			}, nil},
		{"by origin Id, resource named", head + "    resource: SiteDistribution3FF9535D\n    originEndpoints: {WebStackSiteDistributionOrigin1D4A4F5B0: 'http://127.0.0.1:9000'}\n",
			map[string][]string{"WebStackSiteDistributionOrigin1D4A4F5B0": {"http://127.0.0.1:9000"}}, nil},
		{"unknown key", head + "    originEndpoints: {Nope: 'http://127.0.0.1:9000'}\n", nil,
			[]string{`s.yaml: distributions[0].originEndpoints.Nope: "Nope" names no origin of this distribution`}},
		{"unknown resource", head + "    resource: Nope\n", nil,
			[]string{`s.yaml: distributions[0].resource: "Nope" is not an AWS::CloudFront::Distribution of the template (SiteDistribution3FF9535D)`}},
		{"template and configFile", head + "    configFile: distribution.json\n", nil,
			[]string{"s.yaml: distributions[0]: give one of template, configFile and config"}},
		{"settings parameters answer the template", "parameters: {Env: prod}\ndistributions:\n  - template: cdk/ApiStack.template.yaml\n    originEndpoints: {HandlerUrl: 'http://127.0.0.1:9000'}\n",
			map[string][]string{"handler": {"http://127.0.0.1:9000"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("testdata/s.yaml", []byte(tt.doc))
			if tt.errs != nil {
				got := errStrings(err.(Errors))
				for _, want := range tt.errs {
					if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
						t.Errorf("errors lack %q:\n%s", want, strings.Join(got, "\n"))
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tt.want {
				if got := cfg.Distributions[0].Origins[id].Endpoints; !slices.Equal(got, want) {
					t.Errorf("origin %s endpoints %v, want %v", id, got, want)
				}
			}
		})
	}
}

func errStrings(es Errors) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

// TestTemplateKeys: a template's AWS::CloudFront::PublicKey and KeyGroup
// resources join the configuration's keys under the IDs Ref gives them, so
// a behaviour's TrustedKeyGroups that Ref the group verify with its keys; a
// bad key is an error at the resource's property.
func TestTemplateKeys(t *testing.T) {
	pem, err := os.ReadFile("testdata/keys/rsa-a.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	indent := "            " + strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", "\n            ")
	doc := func(key string) string {
		return `Resources:
  SignerKey:
    Type: AWS::CloudFront::PublicKey
    Properties:
      PublicKeyConfig:
        CallerReference: signer-key
        Name: !Sub ${AWS::StackName}-signer
        EncodedKey: |
` + key + `
  SignerGroup:
    Type: AWS::CloudFront::KeyGroup
    Properties:
      KeyGroupConfig: {Name: signers, Items: [!Ref SignerKey]}
  D:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins: [{Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]
        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized, TrustedKeyGroups: [!Ref SignerGroup]}
`
	}
	cfg, err := Parse("testdata/keys.yaml", []byte(doc(indent)))
	if err != nil {
		t.Fatal(err)
	}
	groups := cfg.Distributions[0].Default.TrustedKeyGroups
	if len(groups) != 1 {
		t.Fatalf("TrustedKeyGroups %v", groups)
	}
	g := cfg.Keys.KeyGroups[groups[0]]
	if g == nil || g.Name != "signers" || len(g.Keys) != 1 {
		t.Fatalf("key group %q: %+v", groups[0], g)
	}
	for id, pk := range g.Keys {
		if !regexp.MustCompile(`^K[A-Z2-7]{13}$`).MatchString(id) || pk.Name != "keys-signer" || pk.Key == nil {
			t.Errorf("public key %q: %+v", id, pk)
		}
	}
	_, err = Parse("testdata/keys.yaml", []byte(doc("            not a key")))
	if err == nil || !strings.Contains(err.Error(), "testdata/keys.yaml: Resources.SignerKey.Properties.PublicKeyConfig.EncodedKey: ") {
		t.Errorf("bad key: %v", err)
	}
}
