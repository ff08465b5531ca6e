package proxy_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

// This file checks edgefront against the CloudFront Developer Guide, one
// table per area; every row names the rule it checks. All requests go
// through real sockets to origins that count what reaches them.

// policyDist is a distribution whose default behaviour uses cache policy
// cachePolicy (an ID or name, or "custom" for the policy in policies) and
// the extra behaviour fields in extra (YAML flow mappings, comma-led).
func policyDist(policies, cachePolicy, extra string) string {
	return `
` + policies + `
distributions:
  - id: ECONFORM00001
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: conformance
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      CustomErrorResponses:
        Items:
          - {ErrorCode: 503, ErrorCachingMinTTL: 30}
          - {ErrorCode: 500, ResponsePagePath: /errors/500.html, ResponseCode: "200", ErrorCachingMinTTL: 5}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: ` + cachePolicy + extra + `,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS], CachedMethods: {Items: [GET, HEAD]}}}
`
}

// keyPolicy is a custom cache policy with the given key parameters.
func keyPolicy(headers, cookies, queries string) string {
	return `
cachePolicies:
  - Id: 00000000-0000-0000-0000-00000000c0de
    CachePolicyConfig:
      Name: key-test
      MinTTL: 0
      DefaultTTL: 3600
      MaxTTL: 86400
      ParametersInCacheKeyAndForwardedToOrigin:
        EnableAcceptEncodingGzip: true
        EnableAcceptEncodingBrotli: true
        HeadersConfig: ` + headers + `
        CookiesConfig: ` + cookies + `
        QueryStringsConfig: ` + queries + `
originRequestPolicies:
  - Id: 00000000-0000-0000-0000-0000000000f0
    OriginRequestPolicyConfig:
      Name: forward-lang
      HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [X-Forwarded-Only]}}
      CookiesConfig: {CookieBehavior: none}
      QueryStringsConfig: {QueryStringBehavior: whitelist, QueryStrings: {Items: [fwd]}}
`
}

// TestConformanceCacheKey: what goes into the cache key is exactly what the
// cache policy selects ("Understand the cache key"); what the origin gets
// beyond it comes from the origin request policy, which does not change the
// key ("Control origin requests with a policy").
func TestConformanceCacheKey(t *testing.T) {
	type req struct {
		path string
		hdr  []string
	}
	cases := []struct {
		rule               string
		headers, cookies   string
		queries            string
		first, second      req
		secondHit          bool
		wantForwardedQuery string // query the origin saw on the first request
	}{
		{"query strings none: a different query is the same object", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: none}`,
			req{"/a?x=1", nil}, req{"/a?x=2", nil}, true, ""},
		{"query strings whitelist: a listed parameter is in the key", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: whitelist, QueryStrings: {Items: [x]}}`,
			req{"/a?x=1&y=1", nil}, req{"/a?x=2&y=1", nil}, false, "x=1"},
		{"query strings whitelist: an unlisted parameter is not", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: whitelist, QueryStrings: {Items: [x]}}`,
			req{"/a?x=1&y=1", nil}, req{"/a?x=1&y=2", nil}, true, "x=1"},
		{"query strings allExcept: the excepted parameter is not in the key", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: allExcept, QueryStrings: {Items: [utm]}}`,
			req{"/a?x=1&utm=a", nil}, req{"/a?x=1&utm=b", nil}, true, "x=1"},
		{"query strings all: order matters", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: all}`,
			req{"/a?x=1&y=2", nil}, req{"/a?y=2&x=1", nil}, false, "x=1&y=2"},
		{"query strings all: case matters", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: all}`,
			req{"/a?x=A", nil}, req{"/a?x=a", nil}, false, "x=A"},
		{"headers whitelist: a listed header's value is in the key", `{HeaderBehavior: whitelist, Headers: {Items: [X-Tenant]}}`, `{CookieBehavior: none}`, `{QueryStringBehavior: none}`,
			req{"/a", []string{"X-Tenant", "a"}}, req{"/a", []string{"X-Tenant", "b"}}, false, ""},
		{"headers whitelist: other headers are not", `{HeaderBehavior: whitelist, Headers: {Items: [X-Tenant]}}`, `{CookieBehavior: none}`, `{QueryStringBehavior: none}`,
			req{"/a", []string{"X-Tenant", "a", "X-Other", "1"}}, req{"/a", []string{"X-Tenant", "a", "X-Other", "2"}}, true, ""},
		{"cookies whitelist: a listed cookie is in the key", `{HeaderBehavior: none}`, `{CookieBehavior: whitelist, Cookies: {Items: [session]}}`, `{QueryStringBehavior: none}`,
			req{"/a", []string{"Cookie", "session=1; theme=dark"}}, req{"/a", []string{"Cookie", "session=2; theme=dark"}}, false, ""},
		{"cookies whitelist: other cookies are not", `{HeaderBehavior: none}`, `{CookieBehavior: whitelist, Cookies: {Items: [session]}}`, `{QueryStringBehavior: none}`,
			req{"/a", []string{"Cookie", "session=1; theme=dark"}}, req{"/a", []string{"Cookie", "session=1; theme=light"}}, true, ""},
		{"origin request policy: forwarded, not in the key", `{HeaderBehavior: none}`, `{CookieBehavior: none}`, `{QueryStringBehavior: none}`,
			req{"/a?fwd=1", []string{"X-Forwarded-Only", "1"}}, req{"/a?fwd=2", []string{"X-Forwarded-Only", "2"}}, true, "fwd=1"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			o := newOrigin(t, static("obj", "Cache-Control", "max-age=60"))
			e := newEdge(t, policyDist(keyPolicy(c.headers, c.cookies, c.queries), "00000000-0000-0000-0000-00000000c0de",
				", OriginRequestPolicyId: 00000000-0000-0000-0000-0000000000f0"), map[string]string{"web": o.URL})
			if r := e.do("GET", c.first.path, c.first.hdr...); r.xcache() != "Miss from cloudfront" {
				t.Fatalf("first: %q", r.xcache())
			}
			got, _ := o.lastRequest()
			if got.URL.RawQuery != c.wantForwardedQuery {
				t.Errorf("origin query %q, want %q", got.URL.RawQuery, c.wantForwardedQuery)
			}
			if strings.Contains(c.rule, "origin request policy") && got.Header.Get("X-Forwarded-Only") != "1" {
				t.Errorf("X-Forwarded-Only not forwarded")
			}
			r := e.do("GET", c.second.path, c.second.hdr...)
			want := map[bool]string{true: "Hit from cloudfront", false: "Miss from cloudfront"}[c.secondHit]
			if r.xcache() != want {
				t.Errorf("second request: %q, want %q", r.xcache(), want)
			}
			wantHits := map[bool]int64{true: 1, false: 2}[c.secondHit]
			if n := o.hits.Load(); n != wantHits {
				t.Errorf("origin hits %d, want %d", n, wantHits)
			}
		})
	}
}

// TestConformanceManagedPolicies: the managed cache policies' TTLs applied
// end to end ("Use managed cache policies").
func TestConformanceManagedPolicies(t *testing.T) {
	cases := []struct {
		rule, policy, cacheControl string
		secondHit                  bool
	}{
		{"CachingOptimized caches an object without Cache-Control for DefaultTTL (1 day)", "CachingOptimized", "", true},
		{"CachingOptimized has MinTTL 1 s: no-store is still held 1 s", "CachingOptimized", "no-store", true},
		{"CachingDisabled never caches", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "max-age=600", false},
		{"UseOriginCacheControlHeaders: no Cache-Control, DefaultTTL 0, not cached", "UseOriginCacheControlHeaders", "", false},
		{"UseOriginCacheControlHeaders: max-age is honoured", "83da9c7e-98b4-4e11-a168-04f0df8e2c65", "max-age=60", true},
		{"CachingOptimizedForUncompressedObjects caches like CachingOptimized", "CachingOptimizedForUncompressedObjects", "max-age=60", true},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if c.cacheControl != "" {
					w.Header().Set("Cache-Control", c.cacheControl)
				}
				io.WriteString(w, "obj")
			})
			e := newEdge(t, policyDist("", c.policy, ""), map[string]string{"web": o.URL})
			e.do("GET", "/m")
			r := e.do("GET", "/m")
			if got := r.xcache() == "Hit from cloudfront"; got != c.secondHit {
				t.Errorf("second request %q, want hit=%v", r.xcache(), c.secondHit)
			}
		})
	}
}

// TestConformanceRevalidation: an expired object with a validator is
// revalidated with a conditional request; a 304 refreshes it and the viewer
// sees "RefreshHit from cloudfront" ("Manage how long content stays in the
// cache": the origin returns 304 Not Modified when the cache has the latest
// version). Viewers' own conditional requests get 304 from the cache.
func TestConformanceRevalidation(t *testing.T) {
	var version atomic.Value
	version.Store(`"v1"`)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		etag := version.Load().(string)
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=10")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "body "+etag)
	})
	e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
	e.do("GET", "/r")
	e.clock.Advance(11 * time.Second)

	r := e.do("GET", "/r")
	if r.status != 200 || r.body != `body "v1"` || r.xcache() != "RefreshHit from cloudfront" {
		t.Errorf("after expiry, unchanged: %d %q %q", r.status, r.body, r.xcache())
	}
	req, _ := o.lastRequest()
	if req.Header.Get("If-None-Match") != `"v1"` {
		t.Errorf("revalidation sent If-None-Match %q", req.Header.Get("If-None-Match"))
	}
	if r := e.do("GET", "/r"); r.xcache() != "Hit from cloudfront" {
		t.Errorf("after refresh: %q (the 304 renewed the TTL)", r.xcache())
	}
	if r := e.do("GET", "/r", "If-None-Match", `"v1"`); r.status != 304 || r.body != "" {
		t.Errorf("viewer conditional: %d %q", r.status, r.body)
	}
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin hits %d, want 2", n)
	}

	version.Store(`"v2"`)
	e.clock.Advance(11 * time.Second)
	if r := e.do("GET", "/r"); r.body != `body "v2"` || r.xcache() != "Miss from cloudfront" {
		t.Errorf("after expiry, changed: %q %q", r.body, r.xcache())
	}
}

// TestConformanceStale: stale-while-revalidate serves the expired object at
// once and refreshes it in the background; stale-if-error, and an origin that
// fails with a 5xx or cannot be reached, serve the cached object
// (CloudFront supports both directives since 2023; "Origin unavailable").
func TestConformanceStale(t *testing.T) {
	t.Run("stale-while-revalidate", func(t *testing.T) {
		var n atomic.Int64
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=60")
			fmt.Fprintf(w, "v%d", n.Add(1))
		})
		e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
		e.do("GET", "/s")
		e.clock.Advance(20 * time.Second)
		r := e.do("GET", "/s")
		if r.body != "v1" || r.xcache() != "Hit from cloudfront" {
			t.Errorf("within stale-while-revalidate: %q %q, want the stale v1 at once", r.body, r.xcache())
		}
		deadline := time.Now().Add(5 * time.Second)
		for o.hits.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		// The background refresh lands in the cache.
		for time.Now().Before(deadline) {
			if r = e.do("GET", "/s"); r.body == "v2" {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if r.body != "v2" || r.xcache() != "Hit from cloudfront" {
			t.Errorf("after the background refresh: %q %q", r.body, r.xcache())
		}
		if h := o.hits.Load(); h != 2 {
			t.Errorf("origin hits %d, want 2 (one refresh)", h)
		}
	})
	t.Run("5xx serves the cached object", func(t *testing.T) {
		var fail atomic.Bool
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if fail.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Cache-Control", "max-age=10, stale-if-error=600")
			io.WriteString(w, "good")
		})
		e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
		e.do("GET", "/s")
		fail.Store(true)
		e.clock.Advance(30 * time.Second)
		if r := e.do("GET", "/s"); r.status != 200 || r.body != "good" {
			t.Errorf("origin 503 within stale-if-error: %d %q", r.status, r.body)
		}
	})
	t.Run("unreachable origin serves the cached object", func(t *testing.T) {
		o := newOrigin(t, static("good", "Cache-Control", "max-age=10", "ETag", `"x"`))
		e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
		e.do("GET", "/s")
		o.Close()
		e.clock.Advance(30 * time.Second)
		if r := e.do("GET", "/s"); r.status != 200 || r.body != "good" {
			t.Errorf("origin down: %d %q", r.status, r.body)
		}
	})
}

// TestConformanceErrors: which error responses are cached and for how long
// ("How CloudFront processes HTTP 4xx and 5xx status codes from your
// origin", "Control how long CloudFront caches errors"), and custom error
// pages.
func TestConformanceErrors(t *testing.T) {
	cases := []struct {
		rule         string
		status       int
		cacheControl string
		after        time.Duration
		wantHits     int64
		wantStatus   int
		wantBody     string
	}{
		{"404 is cached for ErrorCachingMinTTL (10 s)", 404, "", 9 * time.Second, 1, 404, "err"},
		{"404 is fetched again after ErrorCachingMinTTL", 404, "", 11 * time.Second, 2, 404, "err"},
		{"403 without max-age is not cached", 403, "", time.Second, 2, 403, "err"},
		{"403 with max-age is cached", 403, "max-age=60", 30 * time.Second, 1, 403, "err"},
		{"503 uses the CustomErrorResponse's ErrorCachingMinTTL (30 s)", 503, "", 29 * time.Second, 1, 503, "err"},
		{"500 with a ResponsePagePath: the page, with ResponseCode 200", 500, "", time.Second, 1, 200, "custom page"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/errors/500.html" {
					w.Header().Set("Cache-Control", "max-age=300")
					io.WriteString(w, "custom page")
					return
				}
				if c.cacheControl != "" {
					w.Header().Set("Cache-Control", c.cacheControl)
				}
				w.WriteHeader(c.status)
				io.WriteString(w, "err")
			})
			e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
			e.do("GET", "/e")
			e.clock.Advance(c.after)
			r := e.do("GET", "/e")
			if r.status != c.wantStatus || r.body != c.wantBody || r.xcache() != "Error from cloudfront" {
				t.Errorf("%d %q %q, want %d %q", r.status, r.body, r.xcache(), c.wantStatus, c.wantBody)
			}
			if n := int64(o.pathHits("/e")); n != c.wantHits {
				t.Errorf("origin hits for /e: %d, want %d", n, c.wantHits)
			}
		})
	}
}

// TestConformanceCompression: CloudFront compresses with Brotli or gzip
// when the behaviour compresses, the viewer accepts it, and the object is of
// a compressible type, 1,000 to 10,000,000 bytes, not already encoded;
// compressed copies are cached per encoding ("Serve compressed files").
func TestConformanceCompression(t *testing.T) {
	text := strings.Repeat("edgefront compresses text like CloudFront does. ", 100)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "max-age=60")
		h.Set("ETag", `"strong"`)
		switch r.URL.Path {
		case "/small.txt":
			h.Set("Content-Type", "text/plain")
			io.WriteString(w, "tiny")
		case "/image.png":
			h.Set("Content-Type", "image/png")
			io.WriteString(w, text)
		case "/pre.txt":
			h.Set("Content-Type", "text/plain")
			h.Set("Content-Encoding", "gzip")
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			io.WriteString(zw, text)
			zw.Close()
			w.Write(b.Bytes())
		case "/chunked.css":
			h.Set("Content-Type", "text/css")
			io.WriteString(w, text) // over 4 KiB: net/http sends it chunked, with no Content-Length
		default:
			h.Set("Content-Type", "text/css; charset=utf-8")
			h.Set("Content-Length", fmt.Sprint(len(text)))
			io.WriteString(w, text)
		}
	})
	e := newEdge(t, policyDist("", "CachingOptimized", ", Compress: true"), map[string]string{"web": o.URL})
	cases := []struct {
		rule, path, accept, wantEncoding string
	}{
		{"gzip when the viewer accepts gzip", "/site.css", "gzip", "gzip"},
		{"Brotli when the viewer accepts both", "/site.css", "gzip, deflate, br", "br"},
		{"Brotli alone", "/site.css", "br", "br"},
		{"no Accept-Encoding: uncompressed", "/site.css", "", ""},
		{"gzip;q=0 is not accepted", "/site.css", "gzip;q=0", ""},
		{"under 1,000 bytes: not compressed", "/small.txt", "gzip", ""},
		{"not a compressible type: not compressed", "/image.png", "gzip", ""},
		{"no Content-Length from the origin: not compressed", "/chunked.css", "gzip", ""},
		{"already encoded by the origin: passed as it is", "/pre.txt", "gzip", "gzip"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			for i, want := range []string{"", "Hit from cloudfront"} {
				var hdr []string
				if c.accept != "" {
					hdr = []string{"Accept-Encoding", c.accept}
				}
				r := e.do("GET", c.path, hdr...)
				if got := r.header.Get("Content-Encoding"); got != c.wantEncoding {
					t.Fatalf("request %d: Content-Encoding %q, want %q", i, got, c.wantEncoding)
				}
				if want != "" && r.xcache() != want {
					t.Errorf("request %d: %q (compressed copies are cached per encoding)", i, r.xcache())
				}
				body := decode(t, c.wantEncoding, r.body)
				if c.path != "/small.txt" && body != text {
					t.Errorf("request %d: body does not decode to the object", i)
				}
				if c.wantEncoding != "" && c.path != "/pre.txt" && r.header.Get("ETag") != `W/"strong"` {
					t.Errorf("request %d: ETag %q, want the weak form", i, r.header.Get("ETag"))
				}
			}
		})
	}
}

func decode(t *testing.T, enc, body string) string {
	t.Helper()
	var rd io.Reader
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		rd = zr
	case "br":
		rd = brotli.NewReader(strings.NewReader(body))
	default:
		return body
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConformanceCookies: with no cookies in the cache key or origin
// request policy, CloudFront forwards no Cookie header and caches the
// response without its Set-Cookie; when cookies are forwarded, Set-Cookie
// reaches the viewer ("Cache content based on cookies").
func TestConformanceCookies(t *testing.T) {
	o := newOrigin(t, static("obj", "Cache-Control", "max-age=60", "Set-Cookie", "session=secret"))
	t.Run("cookies not forwarded", func(t *testing.T) {
		e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
		for i := 0; i < 2; i++ {
			r := e.do("GET", "/c", "Cookie", "session=mine")
			if r.header.Get("Set-Cookie") != "" {
				t.Errorf("request %d: Set-Cookie %q reached the viewer", i, r.header.Get("Set-Cookie"))
			}
		}
		if req, _ := o.lastRequest(); req.Header.Get("Cookie") != "" {
			t.Errorf("Cookie forwarded: %q", req.Header.Get("Cookie"))
		}
	})
	t.Run("cookies forwarded", func(t *testing.T) {
		e := newEdge(t, policyDist(keyPolicy(`{HeaderBehavior: none}`, `{CookieBehavior: all}`, `{QueryStringBehavior: none}`),
			"00000000-0000-0000-0000-00000000c0de", ""), map[string]string{"web": o.URL})
		r := e.do("GET", "/c", "Cookie", "session=mine")
		if r.header.Get("Set-Cookie") != "session=secret" {
			t.Errorf("Set-Cookie %q", r.header.Get("Set-Cookie"))
		}
		if req, _ := o.lastRequest(); req.Header.Get("Cookie") != "session=mine" {
			t.Errorf("Cookie forwarded: %q", req.Header.Get("Cookie"))
		}
	})
}

// TestConformanceInvalidation: an invalidated path is a miss; other paths
// stay hits; a trailing '*' invalidates every path with that prefix
// ("Invalidate files").
func TestConformanceInvalidation(t *testing.T) {
	o := newOrigin(t, static("obj", "Cache-Control", "max-age=600"))
	e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
	for _, p := range []string{"/img/a.png", "/img/b/c.png", "/css/site.css"} {
		e.do("GET", p)
	}
	e.clock.Advance(time.Second)
	e.store.Invalidate("ECONFORM00001", "/css/site.css", e.clock.Now())
	e.store.Invalidate("ECONFORM00001", "/img/*", e.clock.Now())
	e.clock.Advance(time.Second)
	for _, c := range []struct{ path, want string }{
		{"/css/site.css", "Miss from cloudfront"},
		{"/img/a.png", "Miss from cloudfront"},
		{"/img/b/c.png", "Miss from cloudfront"},
		{"/img/a.png", "Hit from cloudfront"}, // fetched after the invalidation
	} {
		if r := e.do("GET", c.path); r.xcache() != c.want {
			t.Errorf("%s: %q, want %q", c.path, r.xcache(), c.want)
		}
	}
}
