package config

import (
	"strings"
	"testing"
)

// TestHTTPSemantics: httpSemantics is edgefront's setting beside
// originEndpoints; CloudFront's semantics unless it says rfc9111, and any
// other value is refused.
func TestHTTPSemantics(t *testing.T) {
	for _, c := range []struct {
		value   string
		rfc9111 bool
		err     string
	}{
		{"", false, ""},
		{"httpSemantics: cloudfront", false, ""},
		{"httpSemantics: rfc9111", true, ""},
		{"httpSemantics: rfc7234", false, `"rfc7234" is not cloudfront (the default) or rfc9111`},
	} {
		t.Run(c.value, func(t *testing.T) {
			settings := `
distributions:
  - id: ESEMANTICS001
    originEndpoints: {web: "http://127.0.0.1:1"}
    ` + c.value + `
    config:
      CallerReference: semantics
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`
			cfg, err := Parse("test.yaml", []byte(settings))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Distributions[0].RFC9111(); got != c.rfc9111 {
				t.Errorf("RFC9111() = %v, want %v", got, c.rfc9111)
			}
		})
	}
}
