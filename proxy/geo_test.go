package proxy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/proxy"
)

// TestGeoRestriction: a whitelist lets only the listed countries in; others
// get CloudFront's 403; a viewer whose country is unknown is served, as
// CloudFront does ("Restrict the geographic distribution of your content").
// The origin gets CloudFront-Viewer-Country when a policy names it, with the
// country edgefront determined, never one the viewer claimed.
func TestGeoRestriction(t *testing.T) {
	o := newOrigin(t, static("ok", "Cache-Control", "max-age=60"))
	res, err := geo.New(geo.Options{TrustHeader: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEdgeWith(t, `
originRequestPolicies:
  - Id: 00000000-0000-0000-0000-0000000000c1
    OriginRequestPolicyConfig:
      Name: country
      HeadersConfig: {HeaderBehavior: allViewerAndWhitelistCloudFront, Headers: {Items: [CloudFront-Viewer-Country]}}
      CookiesConfig: {CookieBehavior: none}
      QueryStringsConfig: {QueryStringBehavior: none}
distributions:
  - id: EGEO000000001
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: geo
      Enabled: true
      Restrictions: {GeoRestriction: {RestrictionType: whitelist, Items: [US, CA]}}
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
        OriginRequestPolicyId: 00000000-0000-0000-0000-0000000000c1}
`, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Geo = res })

	cases := []struct {
		rule, country string
		want          int
	}{
		{"a whitelisted country is served", "US", 200},
		{"another whitelisted country", "CA", 200},
		{"a country not on the whitelist gets 403", "FR", 403},
		{"an unknown location is served", "", 200},
	}
	for _, c := range cases {
		var hdr []string
		if c.country != "" {
			hdr = []string{"CloudFront-Viewer-Country", c.country}
		}
		r := e.do("GET", "/x", hdr...)
		if r.status != c.want {
			t.Errorf("%s: %d, want %d", c.rule, r.status, c.want)
		}
		if c.want == 403 && !strings.Contains(r.body, geo.BlockedMessage) {
			t.Errorf("%s: body lacks the geo message", c.rule)
		}
		if c.want == 200 {
			req, _ := o.lastRequest()
			if got := req.Header.Get("Cloudfront-Viewer-Country"); got != c.country {
				t.Errorf("%s: origin got CloudFront-Viewer-Country %q, want %q", c.rule, got, c.country)
			}
		}
	}
}

// TestGeoCountryInCacheKey: a cache policy that keys on
// CloudFront-Viewer-Country gets the country edgefront found — here from a
// trusted header (--geo-trust-header), which is one of the viewer's
// CloudFront-* headers the key never takes as sent — so each country has
// its own copy.
func TestGeoCountryInCacheKey(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("country=" + r.Header.Get("CloudFront-Viewer-Country")))
	})
	res, err := geo.New(geo.Options{TrustHeader: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEdgeWith(t, `
cachePolicies:
`+cachePolicy("00000000-0000-0000-0000-0000000000c2", "by-country", 0, "{HeaderBehavior: whitelist, Headers: {Items: [CloudFront-Viewer-Country]}}", "{CookieBehavior: none}")+`distributions:
  - id: EGEO000000002
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: geo
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-0000000000c2}
`, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Geo = res })
	for _, c := range []struct{ country, xcache string }{{"US", "Miss"}, {"FR", "Miss"}, {"US", "Hit"}, {"FR", "Hit"}} {
		r := e.do("GET", "/x", "CloudFront-Viewer-Country", c.country)
		if r.body != "country="+c.country || r.xcache() != c.xcache+" from cloudfront" {
			t.Errorf("viewer in %s: %q %q, want its own copy (%s)", c.country, r.body, r.xcache(), c.xcache)
		}
	}
}
