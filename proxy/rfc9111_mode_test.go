package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// This file checks httpSemantics: rfc9111, the opt-in per distribution:
// each row names the RFC section it follows; rows marked cloudfront run the
// same exchange on a distribution in CloudFront's (default) mode, to show
// the difference is the setting's.

// modePolicy: MinTTL 0, DefaultTTL an hour, MaxTTL a year; Authorization in
// the key (so that it reaches the origin on cached requests).
const modePolicy = `
cachePolicies:
  - Id: 00000000-0000-0000-0000-00000000a0de
    CachePolicyConfig:
      Name: mode-test
      MinTTL: 0
      DefaultTTL: 3600
      MaxTTL: 31536000
      ParametersInCacheKeyAndForwardedToOrigin:
        EnableAcceptEncodingGzip: false
        HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [Authorization]}}
        CookiesConfig: {CookieBehavior: none}
        QueryStringsConfig: {QueryStringBehavior: none}`

// modeSettings is a distribution on modePolicy allowing every method, in
// RFC 9111's semantics unless cloudfront is set.
func modeSettings(cloudfront bool) string {
	s := webSettings(modePolicy, `      CustomErrorResponses: {Items: [{ErrorCode: 503, ErrorCachingMinTTL: 30}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-00000000a0de,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE], CachedMethods: {Items: [GET, HEAD]}}}
`)
	if !cloudfront {
		s = strings.Replace(s, "    config:\n", "    httpSemantics: rfc9111\n    config:\n", 1)
	}
	return s
}

// TestRFC9111Mode walks the rules httpSemantics: rfc9111 changes.
func TestRFC9111Mode(t *testing.T) {
	type req struct {
		method, path string
		advance      time.Duration // before the request
		hdr          []string
	}
	get := func(path string) req { return req{method: "GET", path: path} }
	after := func(d time.Duration, r req) req { r.advance = d; return r }
	// answer makes an origin that answers with status and header pairs
	// ("{{now}}" and "{{now-N}}" minutes are the test clock's time).
	answer := func(status int, hdr ...string) func(http.ResponseWriter, *http.Request, time.Time) {
		return func(w http.ResponseWriter, r *http.Request, now time.Time) {
			w.Header().Set("Date", now.Format(http.TimeFormat))
			for i := 0; i+1 < len(hdr); i += 2 {
				v := hdr[i+1]
				if strings.HasPrefix(v, "{{now-") {
					var m int
					for _, c := range strings.TrimSuffix(strings.TrimPrefix(v, "{{now-"), "}}") {
						m = m*10 + int(c-'0')
					}
					v = now.Add(-time.Duration(m) * time.Minute).Format(http.TimeFormat)
				}
				w.Header().Add(hdr[i], v)
			}
			if r.Method != "GET" && r.Method != "HEAD" {
				io.WriteString(w, r.Method)
				return
			}
			w.WriteHeader(status)
			io.WriteString(w, "object")
		}
	}
	cases := []struct {
		rule       string
		cloudfront bool
		origin     func(http.ResponseWriter, *http.Request, time.Time)
		reqs       []req
		hits       int64  // origin requests in all
		last       string // X-Cache of the last answer
		lastHeader []string
	}{
		{"§4.2.1: an error follows its own max-age, not ErrorCachingMinTTL", false, answer(503, "Cache-Control", "max-age=5"),
			[]req{get("/e"), after(6*time.Second, get("/e"))}, 2, "Error from cloudfront", nil},
		{"cloudfront: a 503 is held for ErrorCachingMinTTL (30 s here)", true, answer(503, "Cache-Control", "max-age=5"),
			[]req{get("/e"), after(6*time.Second, get("/e"))}, 1, "Error from cloudfront", nil},
		{"§4.2.2: a 503 without freshness is not stored (not heuristically cacheable)", false, answer(503),
			[]req{get("/e"), get("/e")}, 2, "Error from cloudfront", nil},
		{"§4.2.2: a 404 with max-age is cached", false, answer(404, "Cache-Control", "max-age=60"),
			[]req{get("/e"), after(30*time.Second, get("/e"))}, 1, "Error from cloudfront", nil},
		{"§4.2.2: a 302 without freshness is not stored", false, answer(302, "Location", "/x"),
			[]req{get("/r"), get("/r")}, 2, "Miss from cloudfront", nil},
		{"cloudfront: a 302 without freshness is cached for DefaultTTL", true, answer(302, "Location", "/x"),
			[]req{get("/r"), get("/r")}, 1, "Hit from cloudfront", nil},
		{"§4.2.2: heuristic freshness is 10% of the time since Last-Modified (100 min → 10 min): fresh at 9 min", false,
			answer(200, "Last-Modified", "{{now-100}}"), []req{get("/h"), after(9*time.Minute, get("/h"))}, 1, "Hit from cloudfront", nil},
		{"§4.2.2: heuristic freshness (100 min → 10 min): stale at 11 min", false,
			answer(200, "Last-Modified", "{{now-100}}"), []req{get("/h"), after(11*time.Minute, get("/h"))}, 2, "Miss from cloudfront", nil},
		{"§4.2.2: heuristic freshness is at most a day", false,
			answer(200, "Last-Modified", "{{now-43200}}"), []req{get("/h"), after(25*time.Hour, get("/h"))}, 2, "Miss from cloudfront", nil},
		{"§5.2.2.4: no-cache is stored and revalidated on every use; §4.3.4: the 304 updates the stored headers", false,
			func(w http.ResponseWriter, r *http.Request, now time.Time) {
				w.Header().Set("Cache-Control", "no-cache")
				w.Header().Set("ETag", `"v1"`)
				if r.Header.Get("If-None-Match") == `"v1"` {
					w.Header().Set("X-Revalidated", now.Format(time.TimeOnly))
					w.WriteHeader(http.StatusNotModified)
					return
				}
				io.WriteString(w, "object")
			}, []req{get("/nc"), after(time.Minute, get("/nc")), after(time.Minute, get("/nc"))}, 3, "RefreshHit from cloudfront", []string{"X-Revalidated", "12:02:00"}},
		{"cloudfront: no-cache with MinTTL 0 is not stored", true,
			answer(200, "Cache-Control", "no-cache", "ETag", `"v1"`), []req{get("/nc"), get("/nc")}, 2, "Miss from cloudfront", nil},
		{"§5.2.2.3: must-understand lets a known status be stored despite no-store", false,
			answer(200, "Cache-Control", "must-understand, no-store, max-age=60"), []req{get("/mu"), get("/mu")}, 1, "Hit from cloudfront", nil},
		{"cloudfront: no-store with MinTTL 0 is not stored, must-understand or not", true,
			answer(200, "Cache-Control", "must-understand, no-store, max-age=60"), []req{get("/mu"), get("/mu")}, 2, "Miss from cloudfront", nil},
		{"RFC 9213 §2.2: CDN-Cache-Control takes precedence over Cache-Control", false,
			answer(200, "Cache-Control", "no-store", "CDN-Cache-Control", "max-age=60"), []req{get("/cdn"), get("/cdn")}, 1, "Hit from cloudfront", nil},
		{"RFC 9213 §2.2: Edgefront-Cache-Control takes precedence over CDN-Cache-Control", false,
			answer(200, "Edgefront-Cache-Control", "no-store", "CDN-Cache-Control", "max-age=60"), []req{get("/cdn"), get("/cdn")}, 2, "Miss from cloudfront", nil},
		{"§3.5: an answer to a request with Authorization is not reused without public, s-maxage or must-revalidate", false,
			answer(200, "Cache-Control", "max-age=60"), []req{{method: "GET", path: "/a", hdr: []string{"Authorization", "Bearer x"}},
				{method: "GET", path: "/a", hdr: []string{"Authorization", "Bearer x"}}}, 2, "Miss from cloudfront", nil},
		{"§3.5: with public it is", false,
			answer(200, "Cache-Control", "public, max-age=60"), []req{{method: "GET", path: "/a", hdr: []string{"Authorization", "Bearer x"}},
				{method: "GET", path: "/a", hdr: []string{"Authorization", "Bearer x"}}}, 1, "Hit from cloudfront", nil},
		{"§4.4: a successful POST invalidates its target URI", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/doc"), after(time.Second, req{method: "POST", path: "/doc"}), get("/doc")}, 3, "Miss from cloudfront", nil},
		{"cloudfront: a POST invalidates nothing", true, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/doc"), after(time.Second, req{method: "POST", path: "/doc"}), get("/doc")}, 2, "Hit from cloudfront", nil},
		{"§4.4: a successful DELETE invalidates the same-origin Location and Content-Location", false,
			answer(200, "Cache-Control", "max-age=600", "Location", "/doc", "Content-Location", "http://d111111abcdef8.cloudfront.net/other"),
			[]req{get("/doc"), get("/other"), after(time.Second, req{method: "DELETE", path: "/x", hdr: []string{"Host", "d111111abcdef8.cloudfront.net"}}),
				get("/doc"), get("/other")}, 5, "Miss from cloudfront", nil},
		{"§5.2.1.4: the request's no-cache makes the cache ask the origin", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/a"), after(time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "no-cache"}})}, 2, "Miss from cloudfront", nil},
		{"cloudfront: the request's no-cache is ignored", true, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/a"), after(time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "no-cache"}})}, 1, "Hit from cloudfront", nil},
		{"§5.4: Pragma: no-cache without Cache-Control is no-cache", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/a"), after(time.Second, req{method: "GET", path: "/a", hdr: []string{"Pragma", "no-cache"}})}, 2, "Miss from cloudfront", nil},
		{"§5.2.1.1: the request's max-age below the object's age makes the cache ask the origin", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/a"), after(10*time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "max-age=5"}})}, 2, "Miss from cloudfront", nil},
		{"§5.2.1.1: the request's max-age above the object's age is a hit", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/a"), after(10*time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "max-age=60"}})}, 1, "Hit from cloudfront", nil},
		{"§5.2.1.3: min-fresh above the freshness left makes the cache ask the origin", false, answer(200, "Cache-Control", "max-age=60"),
			[]req{get("/a"), after(30*time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "min-fresh=40"}})}, 2, "Miss from cloudfront", nil},
		{"§5.2.1.2: max-stale lets a stale object answer", false, answer(200, "Cache-Control", "max-age=5"),
			[]req{get("/a"), after(15*time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "max-stale=60"}})}, 1, "Hit from cloudfront", []string{"Age", "15"}},
		{"§5.2.1.2: max-stale below the staleness does not", false, answer(200, "Cache-Control", "max-age=5"),
			[]req{get("/a"), after(15*time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "max-stale=5"}})}, 2, "Miss from cloudfront", nil},
		{"§5.2.2.2: max-stale does not override must-revalidate", false, answer(200, "Cache-Control", "max-age=5, must-revalidate"),
			[]req{get("/a"), after(15*time.Second, req{method: "GET", path: "/a", hdr: []string{"Cache-Control", "max-stale"}})}, 2, "Miss from cloudfront", nil},
		{"§5.2.1.7: only-if-cached with nothing stored is a 504, the origin not asked", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{{method: "GET", path: "/a", hdr: []string{"Cache-Control", "only-if-cached"}}}, 0, "Error from cloudfront", nil},
		{"§5.2.1.7: only-if-cached with the object stored is a hit", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{get("/a"), {method: "GET", path: "/a", hdr: []string{"Cache-Control", "only-if-cached"}}}, 1, "Hit from cloudfront", nil},
		{"§5.2.1.5: the request's no-store keeps its answer out of the cache", false, answer(200, "Cache-Control", "max-age=600"),
			[]req{{method: "GET", path: "/a", hdr: []string{"Cache-Control", "no-store"}}, get("/a")}, 2, "Miss from cloudfront", nil},
		{"cloudfront: the request's no-store is ignored", true, answer(200, "Cache-Control", "max-age=600"),
			[]req{{method: "GET", path: "/a", hdr: []string{"Cache-Control", "no-store"}}, get("/a")}, 1, "Hit from cloudfront", nil},
		{"§4.1: a response with Vary is not used for a request whose value differs", false, answer(200, "Cache-Control", "max-age=600", "Vary", "Accept-Language"),
			[]req{{method: "GET", path: "/v", hdr: []string{"Accept-Language", "en"}}, {method: "GET", path: "/v", hdr: []string{"Accept-Language", "fr"}}}, 2, "Miss from cloudfront", nil},
		{"§4.1: each variant stays cached", false, answer(200, "Cache-Control", "max-age=600", "Vary", "Accept-Language"),
			[]req{{method: "GET", path: "/v", hdr: []string{"Accept-Language", "en"}}, {method: "GET", path: "/v", hdr: []string{"Accept-Language", "fr"}},
				{method: "GET", path: "/v", hdr: []string{"Accept-Language", "en"}}}, 2, "Hit from cloudfront", nil},
		{"§4.1: values are normalised (whitespace, case, list order)", false, answer(200, "Cache-Control", "max-age=600", "Vary", "accept-language"),
			[]req{{method: "GET", path: "/v", hdr: []string{"Accept-Language", "en, fr"}}, {method: "GET", path: "/v", hdr: []string{"Accept-Language", "FR,EN"}}}, 1, "Hit from cloudfront", nil},
		{"cloudfront: Vary never splits the cache", true, answer(200, "Cache-Control", "max-age=600", "Vary", "Accept-Language"),
			[]req{{method: "GET", path: "/v", hdr: []string{"Accept-Language", "en"}}, {method: "GET", path: "/v", hdr: []string{"Accept-Language", "fr"}}}, 1, "Hit from cloudfront", nil},
		{"§4.4: a Location on another origin is not invalidated", false,
			answer(200, "Cache-Control", "max-age=600", "Location", "http://elsewhere.example/doc"),
			[]req{get("/doc"), after(time.Second, req{method: "PUT", path: "/x"}), get("/doc")}, 2, "Hit from cloudfront", nil},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			var e *edge
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { c.origin(w, r, e.clock.Now()) })
			e = newEdge(t, modeSettings(c.cloudfront), map[string]string{"web": o.URL})
			var last response
			for _, q := range c.reqs {
				e.clock.Advance(q.advance)
				hdr := q.hdr
				if q.method != "GET" && len(hdr) == 0 {
					hdr = []string{"Content-Type", "text/plain"}
				}
				last = e.send(e.client, e.http.URL, q.method, q.path, strings.NewReader(""), hdr...)
			}
			if got := last.xcache(); got != c.last {
				t.Errorf("last answer %q, want %q", got, c.last)
			}
			if c.lastHeader != nil && last.header.Get(c.lastHeader[0]) != c.lastHeader[1] {
				t.Errorf("last answer's %s %q, want %q", c.lastHeader[0], last.header.Get(c.lastHeader[0]), c.lastHeader[1])
			}
			if n := o.hits.Load(); n != c.hits {
				t.Errorf("origin requests %d, want %d", n, c.hits)
			}
		})
	}
}

// TestRFC9111MustRevalidateUnreachable: an expired object whose origin
// cannot be reached is served stale in CloudFront's mode
// (HTTPStatusCodes: "The requested object is in the edge cache"), but not
// under RFC 9111 when it said must-revalidate, proxy-revalidate or
// s-maxage (§5.2.2.2, §5.2.2.8, §5.2.2.10): the viewer gets the error.
func TestRFC9111MustRevalidateUnreachable(t *testing.T) {
	cases := []struct {
		cloudfront bool
		cc         string
		want       int
	}{
		{true, "max-age=5, must-revalidate", http.StatusOK},
		{false, "max-age=5", http.StatusOK},
		{false, "max-age=5, must-revalidate", http.StatusBadGateway},
		{false, "max-age=5, proxy-revalidate", http.StatusBadGateway},
		{false, "s-maxage=5", http.StatusBadGateway},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("cloudfront=%v %s", c.cloudfront, c.cc), func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", c.cc)
				io.WriteString(w, "object")
			})
			e := newEdge(t, modeSettings(c.cloudfront), map[string]string{"web": o.URL})
			if r := e.do("GET", "/a"); r.status != http.StatusOK {
				t.Fatalf("first request: %d", r.status)
			}
			o.Close() // the origin cannot be reached any more
			e.clock.Advance(10 * time.Second)
			r := e.do("GET", "/a")
			if r.status != c.want || c.want == http.StatusOK && r.body != "object" {
				t.Errorf("expired, origin unreachable: %d %q, want %d", r.status, r.body, c.want)
			}
		})
	}
}

// TestRFC9111VaryReplaced: a newer response whose Vary names other fields
// replaces the older variants (RFC 9111 §4.1): they are not served again.
func TestRFC9111VaryReplaced(t *testing.T) {
	var n atomic.Int64
	var vary atomic.Value
	vary.Store("Accept-Language")
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", vary.Load().(string))
		fmt.Fprintf(w, "answer %d", n.Add(1))
	})
	e := newEdge(t, modeSettings(false), map[string]string{"web": o.URL})
	steps := []struct {
		lang, body, xcache string
	}{
		{"en", "answer 1", "Miss from cloudfront"},
		{"en", "answer 1", "Hit from cloudfront"},
		{"fr", "answer 2", "Miss from cloudfront"}, // now Vary: X-Device
		{"en", "answer 2", "Hit from cloudfront"},  // the en variant is gone
	}
	for i, s := range steps {
		if i == 2 {
			vary.Store("X-Device")
		}
		r := e.do("GET", "/v", "Accept-Language", s.lang)
		if r.body != s.body || r.xcache() != s.xcache {
			t.Errorf("step %d (%s): %q, %q; want %q, %q", i, s.lang, r.body, r.xcache(), s.body, s.xcache)
		}
	}
}
