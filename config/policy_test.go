package config

import (
	"slices"
	"strings"
	"testing"
)

// TestOriginRequestPolicyRefusesAuthorization: an origin request policy
// that lists Authorization is refused, as CloudFront answers 400 ("You
// can't use an origin request policy to forward the Authorization header").
func TestOriginRequestPolicyRefusesAuthorization(t *testing.T) {
	doc := `originRequestPolicies:
  - Id: orp-1
    OriginRequestPolicyConfig:
      Name: forwards-auth
      HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [X-Api, authorization]}}
      CookiesConfig: {CookieBehavior: none}
      QueryStringsConfig: {QueryStringBehavior: none}
distributions: []`
	_, err := Parse("s.yaml", []byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`s.yaml: distributions: at least one distribution is required`,
		`s.yaml: originRequestPolicies[0].OriginRequestPolicyConfig.HeadersConfig.Headers.Items[1]: Authorization cannot be forwarded by an origin request policy; include it in the cache policy's HeadersConfig instead`,
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
