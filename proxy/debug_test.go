package proxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/proxy"
)

// TestDebugHeaders: with DebugHeaders (serve --debug-headers) every answer
// says what the cache did (RFC 9211 Cache-Status) and why
// (X-Edgefront-Explain): a miss that was stored, with the TTL rule that set
// its TTL and the endpoint that answered; the hit that follows, with the
// TTL left; a request no behaviour caches; an answer edgefront made itself.
// Without the option neither header is sent.
func TestDebugHeaders(t *testing.T) {
	o := newOrigin(t, static("page", "Cache-Control", "max-age=600"))
	settings := webSettings("", `      CacheBehaviors:
        Items:
          - {PathPattern: "/api/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`)
	e := newEdgeWith(t, settings, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.DebugHeaders = true })
	const host = "d111111abcdef8.cloudfront.net"
	const key = `key="dist=ETESTDIST0001 path=/p query=[] headers=[] cookies=[] encoding="`
	for _, tc := range []struct {
		name, path, status, explain string
	}{
		{"miss, stored", "/p", `edgefront; fwd=uri-miss; fwd-status=200; stored; ttl=600; ` + key,
			`distribution="ETESTDIST0001"; behavior="*"; cache-policy="Managed-CachingOptimized"; ttl-rule="max-age"; ` + key + `; origin="web"; endpoint="` + o.URL + `"`},
		{"hit", "/p", `edgefront; hit; ttl=600; ` + key,
			`distribution="ETESTDIST0001"; behavior="*"; cache-policy="Managed-CachingOptimized"; ttl-rule="max-age"; ` + key + `; origin="web"`},
		{"not cached", "/api/x", `edgefront; fwd=bypass; fwd-status=200`,
			`distribution="ETESTDIST0001"; behavior="/api/*"; cache-policy="Managed-CachingDisabled"; origin="web"; endpoint="` + o.URL + `"`},
	} {
		r := e.do("GET", tc.path, "Host", host)
		if got := r.header.Get("Cache-Status"); got != tc.status {
			t.Errorf("%s: Cache-Status\n got %s\nwant %s", tc.name, got, tc.status)
		}
		if got := r.header.Get("X-Edgefront-Explain"); got != tc.explain {
			t.Errorf("%s: X-Edgefront-Explain\n got %s\nwant %s", tc.name, got, tc.explain)
		}
	}
	if r := e.do("GET", "/p", "Host", "evil.example"); r.header.Get("Cache-Status") != `edgefront; detail="error"` {
		t.Errorf("an answer edgefront made: Cache-Status %q", r.header.Get("Cache-Status"))
	}

	plain := newEdge(t, settings, map[string]string{"web": o.URL})
	if r := plain.do("GET", "/p", "Host", host); r.header.Get("Cache-Status") != "" || r.header.Get("X-Edgefront-Explain") != "" || !strings.Contains(r.xcache(), "cloudfront") {
		t.Errorf("without the option: %v", r.header)
	}
}

// TestCachePhaseStale: an object served stale (stale-while-revalidate) is a
// Hit to CloudFront's X-Cache and logs, while Cache-Status says it was
// stale; the phase is set once and drives both.
func TestCachePhaseStale(t *testing.T) {
	o := newOrigin(t, static("page", "Cache-Control", "max-age=1, stale-while-revalidate=600"))
	e := newEdgeWith(t, oneOrigin, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.DebugHeaders = true })
	const host = "d111111abcdef8.cloudfront.net"
	e.do("GET", "/s", "Host", host)
	e.clock.Advance(5 * time.Second)
	r := e.do("GET", "/s", "Host", host)
	if r.xcache() != "Hit from cloudfront" || !strings.HasPrefix(r.header.Get("Cache-Status"), `edgefront; hit; detail="stale"; ttl=-4`) {
		t.Errorf("stale: X-Cache %q, Cache-Status %q", r.xcache(), r.header.Get("Cache-Status"))
	}
}
