package proxy_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ttlSettings is a distribution whose default behaviour uses a custom cache
// policy with the given Min/Default/Max TTL (seconds).
func ttlSettings(minTTL, defTTL, maxTTL int) string {
	return fmt.Sprintf(`
cachePolicies:
  - Id: 11111111-2222-3333-4444-555555555555
    CachePolicyConfig:
      Name: test-ttl
      MinTTL: %d
      DefaultTTL: %d
      MaxTTL: %d
      ParametersInCacheKeyAndForwardedToOrigin:
        EnableAcceptEncodingGzip: false
        EnableAcceptEncodingBrotli: false
        HeadersConfig: {HeaderBehavior: none}
        CookiesConfig: {CookieBehavior: none}
        QueryStringsConfig: {QueryStringBehavior: none}
distributions:
  - id: ETESTDIST0001
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: test
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: 11111111-2222-3333-4444-555555555555
`, minTTL, defTTL, maxTTL)
}

// TestTTL walks CloudFront's expiration table ("Manage how long content
// stays in the cache"): each row is the origin's headers, the policy's
// Min/Default/Max TTL, and the X-Cache a viewer sees on requests made at the
// given offsets after the first.
func TestTTL(t *testing.T) {
	type step struct {
		at   time.Duration // since the first request
		want string        // X-Cache
	}
	miss, hit := "Miss from cloudfront", "Hit from cloudfront"
	cases := []struct {
		name          string
		min, def, max int
		header        []string
		steps         []step
	}{
		{"max-age within Min/Max is used", 0, 86400, 31536000, []string{"Cache-Control", "max-age=100"},
			[]step{{0, miss}, {99 * time.Second, hit}, {101 * time.Second, miss}}},
		{"s-maxage wins over max-age", 0, 86400, 31536000, []string{"Cache-Control", "max-age=1000, s-maxage=10"},
			[]step{{0, miss}, {9 * time.Second, hit}, {11 * time.Second, miss}}},
		{"MaxTTL caps max-age", 0, 30, 60, []string{"Cache-Control", "max-age=100000"},
			[]step{{0, miss}, {59 * time.Second, hit}, {61 * time.Second, miss}}},
		{"MinTTL raises max-age", 20, 86400, 31536000, []string{"Cache-Control", "max-age=5"},
			[]step{{0, miss}, {19 * time.Second, hit}, {21 * time.Second, miss}}},
		{"max-age=0 with MinTTL>0 is cached for MinTTL", 10, 86400, 31536000, []string{"Cache-Control", "max-age=0"},
			[]step{{0, miss}, {9 * time.Second, hit}, {11 * time.Second, miss}}},
		{"no freshness information: DefaultTTL", 0, 50, 31536000, nil,
			[]step{{0, miss}, {49 * time.Second, hit}, {51 * time.Second, miss}}},
		{"Expires only", 0, 86400, 31536000, []string{"Expires", "+40s"},
			[]step{{0, miss}, {39 * time.Second, hit}, {41 * time.Second, miss}}},
		{"no-store with MinTTL 0 is not cached", 0, 86400, 31536000, []string{"Cache-Control", "no-store"},
			[]step{{0, miss}, {0, miss}, {time.Second, miss}}},
		{"no-cache with MinTTL 0 is not cached", 0, 86400, 31536000, []string{"Cache-Control", "no-cache"},
			[]step{{0, miss}, {0, miss}}},
		{"private with MinTTL 0 is not cached", 0, 86400, 31536000, []string{"Cache-Control", "private, max-age=600"},
			[]step{{0, miss}, {0, miss}}},
		{"no-store with MinTTL>0 is cached for MinTTL", 15, 86400, 31536000, []string{"Cache-Control", "no-store"},
			[]step{{0, miss}, {14 * time.Second, hit}, {16 * time.Second, miss}}},
		{"CachingDisabled-like 0/0/0 never caches", 0, 0, 0, []string{"Cache-Control", "max-age=600"},
			[]step{{0, miss}, {0, miss}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e *edge
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				for i := 0; i+1 < len(c.header); i += 2 {
					v := c.header[i+1]
					if strings.HasPrefix(v, "+") {
						d, _ := time.ParseDuration(v[1:])
						v = e.clock.Now().Add(d).Format(http.TimeFormat)
						w.Header().Set("Date", e.clock.Now().Format(http.TimeFormat))
					}
					w.Header().Set(c.header[i], v)
				}
				fmt.Fprint(w, "body")
			})
			e = newEdge(t, ttlSettings(c.min, c.def, c.max), map[string]string{"web": o.URL})
			start := e.clock.Now()
			var wantHits int64
			for i, s := range c.steps {
				e.clock.Advance(start.Add(s.at).Sub(e.clock.Now()))
				r := e.do("GET", "/obj")
				if r.status != 200 || r.body != "body" {
					t.Fatalf("step %d: %d %q", i, r.status, r.body)
				}
				if r.xcache() != s.want {
					t.Errorf("step %d at +%v: X-Cache %q, want %q", i, s.at, r.xcache(), s.want)
				}
				if s.want == miss {
					wantHits++
				}
			}
			if got := o.hits.Load(); got != wantHits {
				t.Errorf("origin hits %d, want %d", got, wantHits)
			}
		})
	}
}
