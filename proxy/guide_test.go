package proxy_test

import (
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/proxy"
)

// This file holds the rules where edgefront once differed from the
// CloudFront Developer Guide, one table per rule; every row names the
// guide page (relative to the Developer Guide) it checks. Requests go
// through real sockets to origins that count what reaches them.

// TestGuideRedirectToHTTPS: redirect-to-https answers an HTTP request with
// 301 for GET and HEAD, 307 for the other methods (a 301 lets clients turn
// them into GETs), and 403 for those over HTTP/1.0, which has no 307
// (using-https-viewers-to-cloudfront).
func TestGuideRedirectToHTTPS(t *testing.T) {
	o := newOrigin(t, static("origin"))
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: redirect-to-https, CachePolicyId: CachingDisabled,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
`), map[string]string{"web": o.URL})
	const host = "d111111abcdef8.cloudfront.net"
	cases := []struct {
		page, method string
		http10       bool
		status       int
	}{
		{"using-https-viewers-to-cloudfront: GET → 301", "GET", false, 301},
		{"using-https-viewers-to-cloudfront: HEAD → 301", "HEAD", false, 301},
		{"using-https-viewers-to-cloudfront: POST → 307", "POST", false, 307},
		{"using-https-viewers-to-cloudfront: PUT → 307", "PUT", false, 307},
		{"using-https-viewers-to-cloudfront: DELETE → 307", "DELETE", false, 307},
		{"using-https-viewers-to-cloudfront: OPTIONS → 307", "OPTIONS", false, 307},
		{"using-https-viewers-to-cloudfront: PATCH → 307", "PATCH", false, 307},
		{"using-https-viewers-to-cloudfront: GET over HTTP/1.0 → 301", "GET", true, 301},
		{"using-https-viewers-to-cloudfront: POST over HTTP/1.0 → 403", "POST", true, 403},
	}
	for _, c := range cases {
		t.Run(c.page, func(t *testing.T) {
			var status int
			var location string
			if c.http10 {
				r := rawRequest(t, e, c.method+" /a?x=1 HTTP/1.0\r\nHost: "+host+"\r\nContent-Length: 0\r\n\r\n")
				status, location = r.status, r.header.Get("Location")
			} else {
				r := e.do(c.method, "/a?x=1", "Host", host)
				status, location = r.status, r.header.Get("Location")
			}
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			if want := "https://" + host + "/a?x=1"; c.status != 403 && location != want {
				t.Errorf("Location %q, want %q", location, want)
			}
		})
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin got %d requests, want none", n)
	}
}

// TestGuideSetCookie: a behaviour that forwards no cookies (neither its
// cache policy nor its origin request policy) has Set-Cookie removed from
// every response, uncached and POST ones included; one that forwards them
// passes it on (Cookies: "Don't forward cookies to your origin"). An origin
// that sends no-cache="Set-Cookie" has its object cached without the
// Set-Cookie (Cookies: "Suspending caching based on cookies").
func TestGuideSetCookie(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=for-"+r.URL.Path)
		if r.URL.Path == "/suspended" {
			w.Header().Set("Cache-Control", `max-age=60, no-cache="Set-Cookie"`)
		}
		w.Write([]byte("body"))
	})
	e := newEdge(t, webSettings(`
cachePolicies:
`+cachePolicy("00000000-0000-0000-0000-00000000c00c", "keyed-cookies", 0, "{HeaderBehavior: none}", "{CookieBehavior: all}"), `      CacheBehaviors:
        Items:
          - {PathPattern: "/pass/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
             AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
          - {PathPattern: "/forwarded/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
             OriginRequestPolicyId: AllViewer, AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-00000000c00c}
`), map[string]string{"web": o.URL})
	const host = "d111111abcdef8.cloudfront.net"
	cases := []struct {
		page, method, path string
		setCookie          bool
		xcache             string
	}{
		{"Cookies: not forwarded → removed (uncached GET)", "GET", "/pass/a", false, "Miss from cloudfront"},
		{"Cookies: not forwarded → removed (POST)", "POST", "/pass/a", false, "Miss from cloudfront"},
		{"Cookies: forwarded by the origin request policy → kept (POST)", "POST", "/forwarded/a", true, "Miss from cloudfront"},
		{"Cookies: forwarded by the cache policy → kept", "GET", "/keyed", true, "Miss from cloudfront"},
		{"Cookies: forwarded by the cache policy → kept on a hit", "GET", "/keyed", true, "Hit from cloudfront"},
		{`Cookies: no-cache="Set-Cookie" → cached`, "GET", "/suspended", false, "Miss from cloudfront"},
		{`Cookies: no-cache="Set-Cookie" → cached without the Set-Cookie`, "GET", "/suspended", false, "Hit from cloudfront"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, "Host", host, "Cookie", "a=1")
		if got := r.header.Get("Set-Cookie") != ""; got != c.setCookie || r.xcache() != c.xcache || r.status != 200 {
			t.Errorf("%s: %s %s: %d %q, Set-Cookie %q", c.page, c.method, c.path, r.status, r.xcache(), r.header.Get("Set-Cookie"))
		}
	}
}

// TestGuideGetWithBody: "If a viewer GET request includes a body,
// CloudFront returns an HTTP status code 403 (Forbidden)"
// (RequestAndResponseBehaviorCustomOrigin, RequestAndResponseBehaviorS3Origin),
// on cached and uncached behaviours; the origin never sees it.
func TestGuideGetWithBody(t *testing.T) {
	o := newOrigin(t, static("origin"))
	e := newEdge(t, webSettings("", allMethodsUncached), map[string]string{"web": o.URL})
	const host = "d111111abcdef8.cloudfront.net"
	cases := []struct {
		page, req string
		status    int
	}{
		{"RequestAndResponseBehaviorCustomOrigin: GET with a body → 403",
			"GET /a HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 2\r\n\r\n{}", 403},
		{"RequestAndResponseBehaviorCustomOrigin: GET with a chunked body → 403",
			"GET /a HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 403},
		{"RequestAndResponseBehaviorCustomOrigin: HEAD with a body → 403",
			"HEAD /a HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 2\r\n\r\n{}", 403},
		{"RequestAndResponseBehaviorCustomOrigin: GET with Content-Length: 0 has no body → 200",
			"GET /a HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 0\r\n\r\n", 200},
		{"RequestAndResponseBehaviorCustomOrigin: POST with a body → forwarded",
			"POST /a HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 2\r\n\r\n{}", 200},
	}
	for _, c := range cases {
		before := o.hits.Load()
		r := rawRequest(t, e, c.req)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d", c.page, r.status, c.status)
		}
		if forwarded := o.hits.Load() != before; forwarded != (c.status == 200) {
			t.Errorf("%s: forwarded to the origin: %v", c.page, forwarded)
		}
		if c.status == 403 && (r.header.Get("X-Cache") != "Error from cloudfront" || !r.closed) {
			t.Errorf("%s: X-Cache %q, connection closed %v", c.page, r.header.Get("X-Cache"), r.closed)
		}
	}
}

// TestGuideStaleOnOriginFailure: an expired object whose origin answers
// 5xx or cannot be reached is served stale, validators or not, and for the
// error caching minimum TTL CloudFront keeps serving it without asking the
// origin again (HTTPStatusCodes: "The requested object is in the edge
// cache"; RequestAndResponseBehaviorCustomOrigin "Origin unavailable"); an
// origin's stale-if-error bounds that and stale-if-error=0 forbids it
// (Expiration).
func TestGuideStaleOnOriginFailure(t *testing.T) {
	cases := []struct {
		page, cacheControl string
		failure            string // "503" or "down"
		after              time.Duration
		stale              bool
	}{
		{"HTTPStatusCodes: 503, no validators → stale", "max-age=10", "503", 30 * time.Second, true},
		{"HTTPStatusCodes: 500, no validators → stale", "max-age=10", "500", 30 * time.Second, true},
		{"RequestAndResponseBehaviorCustomOrigin: origin unavailable, no validators → stale", "max-age=10", "down", 30 * time.Second, true},
		{"Expiration: stale-if-error=0 → the error", "max-age=10, stale-if-error=0", "503", 30 * time.Second, false},
		{"Expiration: within stale-if-error → stale", "max-age=10, stale-if-error=60", "503", 30 * time.Second, true},
		{"Expiration: past stale-if-error → the error", "max-age=10, stale-if-error=5", "503", 30 * time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.page, func(t *testing.T) {
			var failing atomic.Bool
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if failing.Load() {
					status, _ := strconv.Atoi(c.failure)
					http.Error(w, "failing", status)
					return
				}
				w.Header().Set("Cache-Control", c.cacheControl)
				w.Write([]byte("good"))
			})
			e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`), map[string]string{"web": o.URL})
			if r := e.do("GET", "/s"); r.body != "good" {
				t.Fatalf("first request: %d %q", r.status, r.body)
			}
			failing.Store(true)
			if c.failure == "down" {
				o.Close()
			}
			e.clock.Advance(c.after)
			r := e.do("GET", "/s")
			if got := r.status == 200 && r.body == "good"; got != c.stale {
				t.Fatalf("after the origin failed: %d %q %q, want stale %v", r.status, r.xcache(), r.body, c.stale)
			}
			if !c.stale || c.failure == "down" {
				return
			}
			// For the error caching minimum TTL (10 s by default) the stale
			// object answers without the origin being asked; then the
			// origin is asked again.
			asked := o.hits.Load()
			e.clock.Advance(9 * time.Second)
			if r := e.do("GET", "/s"); r.body != "good" || o.hits.Load() != asked {
				t.Errorf("within ErrorCachingMinTTL: %q, origin asked %d more times, want 0", r.body, o.hits.Load()-asked)
			}
			e.clock.Advance(2 * time.Second)
			if r := e.do("GET", "/s"); r.body != "good" || o.hits.Load() != asked+1 {
				t.Errorf("after ErrorCachingMinTTL: %q, origin asked %d more times, want 1", r.body, o.hits.Load()-asked)
			}
		})
	}
}

// TestGuideVary: CloudFront returns in Vary only Accept-Encoding, Cookie
// and the headers the behaviour forwards, removes every other name, and
// never splits the cache on Vary (RequestAndResponseBehaviorCustomOrigin,
// "HTTP response headers that CloudFront removes or replaces"); Vary: *
// with MinTTL 0 is cached but every request goes to the origin without
// validators, with another MinTTL it is removed like any other name
// ("Content negotiation").
func TestGuideVary(t *testing.T) {
	var mu sync.Mutex
	conditional := 0
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			conditional++
		}
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"v1"`)
		switch r.URL.Path {
		case "/star", "/star0":
			w.Header().Set("Vary", "*")
		case "/mixed":
			w.Header().Set("Vary", "Accept-Language, X-Not-Forwarded, Cookie, Accept-Encoding")
		}
		w.Write([]byte("lang=" + r.Header.Get("Accept-Language")))
	})
	minTTL0 := `
originRequestPolicies:
  - Id: 00000000-0000-0000-0000-0000000000a1
    OriginRequestPolicyConfig:
      Name: language
      HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [Accept-Language]}}
      CookiesConfig: {CookieBehavior: none}
      QueryStringsConfig: {QueryStringBehavior: none}
cachePolicies:
` + cachePolicy("00000000-0000-0000-0000-0000000000a0", "min-ttl-0", 0, "{HeaderBehavior: none}", "{CookieBehavior: none}")
	e := newEdge(t, webSettings(minTTL0, `      CacheBehaviors:
        Items:
          - {PathPattern: /star0, TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-0000000000a0}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized, OriginRequestPolicyId: 00000000-0000-0000-0000-0000000000a1}
`), map[string]string{"web": o.URL})
	steps := []struct {
		page, path, lang, body, xcache, vary string
	}{
		{"RequestAndResponseBehaviorCustomOrigin: a forwarded header, Cookie and Accept-Encoding stay in Vary, others go",
			"/mixed", "en", "lang=en", "Miss from cloudfront", "Accept-Language, Cookie, Accept-Encoding"},
		{"RequestAndResponseBehaviorCustomOrigin: Vary does not split the cache (the key decides)",
			"/mixed", "fr", "lang=en", "Hit from cloudfront", "Accept-Language, Cookie, Accept-Encoding"},
		{"RequestAndResponseBehaviorCustomOrigin: Vary: * with MinTTL 1 is removed, the object cached",
			"/star", "en", "lang=en", "Miss from cloudfront", ""},
		{"RequestAndResponseBehaviorCustomOrigin: Vary: * with MinTTL 1, again: a hit",
			"/star", "en", "lang=en", "Hit from cloudfront", ""},
		{"RequestAndResponseBehaviorCustomOrigin: Vary: * with MinTTL 0 is cached",
			"/star0", "en", "lang=", "Miss from cloudfront", "*"},
		{"RequestAndResponseBehaviorCustomOrigin: Vary: * with MinTTL 0, again: the origin is asked",
			"/star0", "en", "lang=", "Miss from cloudfront", "*"},
	}
	for _, st := range steps {
		r := e.do("GET", st.path, "Accept-Language", st.lang)
		if r.body != st.body || r.xcache() != st.xcache || r.header.Get("Vary") != st.vary {
			t.Errorf("%s: %q %q Vary %q, want %q %q Vary %q", st.page, r.body, r.xcache(), r.header.Get("Vary"), st.body, st.xcache, st.vary)
		}
	}
	if n := o.pathHits("/star0"); n != 2 {
		t.Errorf("the origin was asked %d times for /star0, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if conditional != 0 {
		t.Errorf("%d conditional requests reached the origin, want none (Vary: * asks for the whole object)", conditional)
	}
}

// TestGuideOriginRequestHeaders: headers CloudFront removes whatever the
// policies forward (AllViewer here) — X-Forwarded-Proto, X-Real-IP,
// X-Edge-*, Proxy-*, TE, Trailer, Upgrade, Expect — never reach the
// origin; Connection is Keep-Alive; forwarded cookies are sorted by name,
// as name=value pairs (RequestAndResponseBehaviorCustomOrigin "HTTP request
// headers and CloudFront behavior"; Cookies "CloudFront sorts cookies").
func TestGuideOriginRequestHeaders(t *testing.T) {
	o := newOrigin(t, static("ok"))
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
        OriginRequestPolicyId: AllViewer}
`), map[string]string{"web": o.URL})
	r := e.do("GET", "/h", "X-Forwarded-Proto", "https", "X-Real-IP", "192.0.2.9", "X-Edge-Location", "x", "X-Edge-Other", "y",
		"Proxy-Authorization", "Basic eA==", "TE", "trailers", "X-Kept", "yes", "Cookie", "zeta=3; alpha=1; mid=2")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	req, _ := o.lastRequest()
	for _, c := range []struct {
		page, header, want string
	}{
		{"RequestAndResponseBehaviorCustomOrigin: X-Forwarded-Proto removed", "X-Forwarded-Proto", ""},
		{"RequestAndResponseBehaviorCustomOrigin: X-Real-IP removed", "X-Real-Ip", ""},
		{"RequestAndResponseBehaviorCustomOrigin: X-Edge-* removed", "X-Edge-Location", ""},
		{"RequestAndResponseBehaviorCustomOrigin: X-Edge-* removed (any)", "X-Edge-Other", ""},
		{"RequestAndResponseBehaviorCustomOrigin: Proxy-Authorization removed", "Proxy-Authorization", ""},
		{"RequestAndResponseBehaviorCustomOrigin: TE removed", "Te", ""},
		{"RequestAndResponseBehaviorCustomOrigin: Connection replaced with Keep-Alive", "Connection", "Keep-Alive"},
		{"RequestAndResponseBehaviorCustomOrigin: other headers forwarded under AllViewer", "X-Kept", "yes"},
		{"Cookies: cookies sorted by name", "Cookie", "alpha=1; mid=2; zeta=3"},
	} {
		if got := strings.Join(req.Header.Values(c.header), ", "); got != c.want {
			t.Errorf("%s: the origin got %s %q, want %q", c.page, c.header, got, c.want)
		}
	}
}

// TestGuideNoCollapsingWithCookies: with cookies forwarded (here by the
// origin request policy, outside the cache key) two simultaneous viewers
// are not collapsed onto one origin request: each gets the answer to its
// own cookies (RequestAndResponseBehaviorCustomOrigin, "Simultaneous
// requests for the same object": CloudFront forwards requests that are not
// identical).
func TestGuideNoCollapsingWithCookies(t *testing.T) {
	arrived := make(chan struct{}, 2)
	both := make(chan struct{})
	var once sync.Once
	var n atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		if n.Add(1) == 2 {
			once.Do(func() { close(both) })
		}
		select { // both viewers' requests are in flight together, or only one came
		case <-both:
		case <-time.After(3 * time.Second):
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte(r.Header.Get("Cookie")))
	})
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
        OriginRequestPolicyId: AllViewer}
`), map[string]string{"web": o.URL})
	bodies := make(chan string, 2)
	go func() { bodies <- e.do("GET", "/c", "Cookie", "who=first").body }()
	<-arrived // the first viewer's fetch is under way
	go func() { bodies <- e.do("GET", "/c", "Cookie", "who=second").body }()
	got := map[string]bool{<-bodies: true, <-bodies: true}
	if !got["who=first"] || !got["who=second"] {
		t.Errorf("the viewers got %v, want each its own cookie's answer", got)
	}
	if h := o.hits.Load(); h != 2 {
		t.Errorf("origin requests %d, want 2 (no collapsing with cookies forwarded)", h)
	}
}

// TestGuideAcceptEncoding: with a cache policy that enables gzip and
// Brotli, the key and the origin request hold exactly the encodings the
// viewer accepts of the two — "br,gzip" for both —, "identity" goes to the
// origin when it accepts neither, no header when it sent none; an HTTP/1.0
// request loses the header and is never sent a compressed object
// (controlling-the-cache-key "Compression support", ServingCompressedFiles).
func TestGuideAcceptEncoding(t *testing.T) {
	page := strings.Repeat("<p>compressible</p>", 200)
	o := newOrigin(t, static(page, "Cache-Control", "max-age=60", "Content-Type", "text/html", "Content-Length", strconv.Itoa(len(page))))
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized, Compress: true}
`), map[string]string{"web": o.URL})
	const host = "d111111abcdef8.cloudfront.net"
	cases := []struct {
		page, path, accept string
		http10             bool
		toOrigin           string // "<none>" for no header
		contentEncoding    string
	}{
		{"controlling-the-cache-key: both accepted → br,gzip", "/both", "gzip, deflate, br", false, "br,gzip", "br"},
		{"controlling-the-cache-key: gzip only → gzip", "/gzip", "gzip", false, "gzip", "gzip"},
		{"controlling-the-cache-key: neither → identity to the origin", "/neither", "deflate", false, "identity", ""},
		{"controlling-the-cache-key: no header → none to the origin", "/none", "", false, "<none>", ""},
		{"ServingCompressedFiles: HTTP/1.0 loses the header, never compressed", "/old", "gzip, br", true, "<none>", ""},
	}
	for _, c := range cases {
		t.Run(c.page, func(t *testing.T) {
			var ce string
			if c.http10 {
				r := rawRequest(t, e, "GET "+c.path+" HTTP/1.0\r\nHost: "+host+"\r\nAccept-Encoding: "+c.accept+"\r\n\r\n")
				ce = r.header.Get("Content-Encoding")
			} else {
				var hdr []string
				if c.accept != "" {
					hdr = []string{"Accept-Encoding", c.accept}
				}
				ce = e.do("GET", c.path, hdr...).header.Get("Content-Encoding")
			}
			req, _ := o.lastRequest()
			got := "<none>"
			if v, ok := req.Header["Accept-Encoding"]; ok {
				got = strings.Join(v, ", ")
			}
			if got != c.toOrigin || ce != c.contentEncoding {
				t.Errorf("origin got Accept-Encoding %q, viewer got Content-Encoding %q; want %q, %q", got, ce, c.toOrigin, c.contentEncoding)
			}
		})
	}
}

// TestGuideCustomErrorPages: a custom error page also answers the
// geo-restriction 403 (georestrictions) and an origin failure on a
// behaviour that does not cache; when the page itself cannot be had, the
// viewer gets the status of that failed request (custom-error-pages-
// expiration, GeneratingCustomErrorResponses).
func TestGuideCustomErrorPages(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/errors/page.html":
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("the custom page"))
		case "/errors/broken.html":
			http.Error(w, "the page's own failure", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	})
	down := newOrigin(t, static("never"))
	down.Close()
	res, err := geo.New(geo.Options{TrustHeader: true})
	if err != nil {
		t.Fatal(err)
	}
	e := newEdgeWith(t, `
distributions:
  - id: EPAGES0000001
    originEndpoints: {web: "{{web}}", down: "{{down}}"}
    config:
      CallerReference: pages
      Enabled: true
      Restrictions: {GeoRestriction: {RestrictionType: blacklist, Items: [FR]}}
      Origins:
        Items:
          - {Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: down, DomainName: down.example.com, ConnectionAttempts: 1, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      CustomErrorResponses:
        Items:
          - {ErrorCode: 403, ResponsePagePath: /errors/page.html, ResponseCode: "403"}
          - {ErrorCode: 502, ResponsePagePath: /errors/page.html, ResponseCode: "503"}
          - {ErrorCode: 404, ResponsePagePath: /errors/broken.html, ResponseCode: "200"}
      CacheBehaviors:
        Items:
          - {PathPattern: /api/*, TargetOriginId: down, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`, map[string]string{"web": o.URL, "down": down.URL}, func(opts *proxy.Options) { opts.Geo = res })
	cases := []struct {
		page, path  string
		hdr         []string
		status      int
		bodyContain string
	}{
		{"georestrictions: the 403 gets the custom page", "/a", []string{"CloudFront-Viewer-Country", "FR"}, 403, "the custom page"},
		{"GeneratingCustomErrorResponses: an origin failure on an uncached behaviour gets the page", "/api/x", nil, 503, "the custom page"},
		{"custom-error-pages-expiration: the page cannot be had → that request's status", "/missing", nil, 500, "the page's own failure"},
	}
	for _, c := range cases {
		r := e.do("GET", c.path, c.hdr...)
		if r.status != c.status || !strings.Contains(r.body, c.bodyContain) {
			t.Errorf("%s: %d %q, want %d with %q", c.page, r.status, r.body, c.status, c.bodyContain)
		}
	}
}

// TestGuideCompression: CloudFront compresses responses with status 200,
// 403 and 404; a strong ETag becomes weak, a weak one is kept and an
// invalid one (not starting with " or W/) is removed
// (ServingCompressedFiles, "Conditions for compression", "ETag header
// conversion").
func TestGuideCompression(t *testing.T) {
	text := strings.Repeat("edgefront compresses text like CloudFront does. ", 100)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "max-age=60")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(text)))
		switch r.URL.Path {
		case "/strong":
			h.Set("ETag", `"v1"`)
		case "/weak":
			h.Set("ETag", `W/"v1"`)
		case "/invalid":
			h.Set("ETag", `v1-unquoted`)
		case "/404":
			w.WriteHeader(http.StatusNotFound)
		case "/403":
			w.WriteHeader(http.StatusForbidden)
		case "/500":
			w.WriteHeader(http.StatusInternalServerError)
		}
		io.WriteString(w, text)
	})
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized, Compress: true}
`), map[string]string{"web": o.URL})
	for _, c := range []struct {
		page, path, encoding, etag string
	}{
		{"ServingCompressedFiles: strong ETag made weak", "/strong", "gzip", `W/"v1"`},
		{"ServingCompressedFiles: weak ETag kept", "/weak", "gzip", `W/"v1"`},
		{"ServingCompressedFiles: invalid ETag removed", "/invalid", "gzip", ""},
		{"ServingCompressedFiles: 404 compressed", "/404", "gzip", ""},
		{"ServingCompressedFiles: 403 compressed", "/403", "gzip", ""},
		{"ServingCompressedFiles: 500 not compressed", "/500", "", ""},
	} {
		r := e.do("GET", c.path, "Accept-Encoding", "gzip")
		if ce := r.header.Get("Content-Encoding"); ce != c.encoding || r.header.Get("ETag") != c.etag {
			t.Errorf("%s: Content-Encoding %q ETag %q, want %q %q", c.page, ce, r.header.Get("ETag"), c.encoding, c.etag)
		}
	}
}

// TestGuideCanceledRequest: a viewer that goes away while the object is
// still coming from the origin leaves nothing cached: the next viewer's
// request goes to the origin again (RequestAndResponseBehaviorCustomOrigin,
// "Canceled requests"). edgefront's choice where the guide is silent: when
// other viewers collapsed onto the same fetch still read it, the fetch
// goes on for them and its object is cached.
func TestGuideCanceledRequest(t *testing.T) {
	half := make(chan struct{})
	var halfOnce sync.Once
	finish := make(chan struct{})
	canceled := make(chan struct{}, 1)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "2000000")
		w.Write(make([]byte, 100000)) // within what the flight reads ahead of its viewer
		w.(http.Flusher).Flush()
		halfOnce.Do(func() { close(half) })
		select {
		case <-finish:
		case <-r.Context().Done():
			canceled <- struct{}{}
			return
		}
		w.Write(make([]byte, 1900000))
	})
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`), map[string]string{"web": o.URL})
	// The viewer reads the headers, then leaves while the origin is mid-body.
	req, _ := http.NewRequest("GET", e.http.URL+"/big?slow=1", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-half
	resp.Body.Close()
	e.client.CloseIdleConnections()
	// The abandoned fetch ends: the origin sees its request canceled.
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("RequestAndResponseBehaviorCustomOrigin (canceled requests): the fetch went on after its only viewer left")
	}
	// A new viewer then misses.
	close(finish)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.do("GET", "/big?slow=1")
		if r.xcache() == "Miss from cloudfront" && len(r.body) == 2000000 {
			break
		}
		if r.xcache() == "Hit from cloudfront" {
			t.Fatalf("RequestAndResponseBehaviorCustomOrigin (canceled requests): the object of a canceled request was cached")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete answer after the cancellation: %q, %d bytes", r.xcache(), len(r.body))
		}
	}
	if n := o.hits.Load(); n < 2 {
		t.Errorf("origin requests %d, want a second one after the canceled request", n)
	}
}

// TestGuideViaAndRedirects: Via names the viewer's HTTP version — "2.0"
// over HTTP/2, to the viewer and to the origin
// (RequestAndResponseBehaviorCustomOrigin, "Via"); a 303 is cached by the
// ordinary rules like the other redirects ("Redirects").
func TestGuideViaAndRedirects(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/see-other" {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		w.Write([]byte("ok"))
	})
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      CacheBehaviors:
        Items:
          - {PathPattern: /see-other, TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`), map[string]string{"web": o.URL})
	const node = " 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)"
	for _, c := range []struct {
		page  string
		h2    bool
		viaTo string
	}{
		{"RequestAndResponseBehaviorCustomOrigin: Via 1.1 over HTTP/1.1", false, "1.1" + node},
		{"RequestAndResponseBehaviorCustomOrigin: Via 2.0 over HTTP/2", true, "2.0" + node},
	} {
		var r response
		if c.h2 {
			r = e.doTLS("GET", "/via")
			if r.proto != "HTTP/2.0" {
				t.Fatalf("%s: the viewer spoke %s", c.page, r.proto)
			}
		} else {
			r = e.do("GET", "/via")
		}
		req, _ := o.lastRequest()
		if r.header.Get("Via") != c.viaTo || req.Header.Get("Via") != c.viaTo {
			t.Errorf("%s: Via to the viewer %q, to the origin %q, want %q", c.page, r.header.Get("Via"), req.Header.Get("Via"), c.viaTo)
		}
	}
	for _, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		if r := e.do("GET", "/see-other"); r.status != 303 || r.xcache() != want || r.header.Get("Location") != "/elsewhere" {
			t.Errorf("RequestAndResponseBehaviorCustomOrigin (redirects): 303 %d %q %q, want %s", r.status, r.xcache(), r.header.Get("Location"), want)
		}
	}
}

// TestGuideCollapsingWithSameCookies: with cookies forwarded (the origin
// request policy AllViewer, as quick mode has it), identical requests —
// no cookies, or the same ones — still share one origin fetch
// (RequestAndResponseBehaviorCustomOrigin, "Simultaneous requests for the
// same object").
func TestGuideCollapsingWithSameCookies(t *testing.T) {
	for _, cookie := range []string{"", "who=same"} {
		t.Run("cookie "+cookie, func(t *testing.T) {
			release := make(chan struct{})
			arrived := make(chan struct{}, 8)
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				<-release
				w.Header().Set("Cache-Control", "max-age=60")
				w.Write([]byte("shared"))
			})
			reg := prometheus.NewRegistry()
			e := newEdgeWith(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
        OriginRequestPolicyId: AllViewer}
`), map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Registry = reg })
			var once sync.Once
			open := func() { once.Do(func() { close(release) }) }
			t.Cleanup(open)
			var hdr []string
			if cookie != "" {
				hdr = []string{"Cookie", cookie}
			}
			const viewers = 3
			got := make(chan string, viewers)
			go func() { got <- e.do("GET", "/c", hdr...).body }()
			<-arrived
			for range viewers - 1 {
				go func() { got <- e.do("GET", "/c", hdr...).body }()
			}
			deadline := time.Now().Add(30 * time.Second)
			for collapsedRequests(t, reg) < viewers-1 {
				if time.Now().After(deadline) {
					t.Fatalf("%v of %d viewers collapsed", collapsedRequests(t, reg), viewers-1)
				}
				runtime.Gosched()
			}
			open()
			for range viewers {
				if b := <-got; b != "shared" {
					t.Errorf("a viewer got %q", b)
				}
			}
			if n := o.hits.Load(); n != 1 {
				t.Errorf("origin requests %d, want 1", n)
			}
		})
	}
}

// TestGuideRangeNotStored: a viewer asking for part of an object that is
// not stored (here the origin says no-store, with MinTTL 0) gets that part — the Range
// goes to the origin (RangeGETs) — not the whole object.
func TestGuideRangeNotStored(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, "obj.bin", time.Time{}, strings.NewReader(body))
	})
	e := newEdge(t, webSettings(`
cachePolicies:
`+cachePolicy("00000000-0000-0000-0000-0000000000b0", "honour-origin", 0, "{HeaderBehavior: none}", "{CookieBehavior: none}"), `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-0000000000b0}
`), map[string]string{"web": o.URL})
	r := e.do("GET", "/obj.bin", "Range", "bytes=10-19")
	if r.status != http.StatusPartialContent || r.body != "0123456789" || r.header.Get("Content-Range") != "bytes 10-19/10000" {
		t.Errorf("RangeGETs: %d, %d bytes, Content-Range %q, want 206 of the ten bytes", r.status, len(r.body), r.header.Get("Content-Range"))
	}
}
