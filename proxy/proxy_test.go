package proxy_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// oneOrigin is a distribution with a single custom origin "web" (its
// endpoint is {{web}}) and a default behaviour using CachingOptimized.
var oneOrigin = webSettings("", `      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6
        AllowedMethods: {Items: [GET, HEAD], CachedMethods: {Items: [GET, HEAD]}}
`)

var (
	viaRE  = regexp.MustCompile(`^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$`)
	cfIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{54}==$`)
)

// TestMissThenHit: the first request for an object is a Miss fetched from
// the origin, the second a Hit from the cache, with CloudFront's viewer
// headers on both and Age on the hit.
func TestMissThenHit(t *testing.T) {
	o := newOrigin(t, static("hello", "Content-Type", "text/plain", "Cache-Control", "max-age=300"))
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})

	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront", "Hit from cloudfront"} {
		r := e.do("GET", "/hello.txt")
		if r.status != 200 || r.body != "hello" {
			t.Fatalf("request %d: %d %q", i, r.status, r.body)
		}
		if got := r.xcache(); got != want {
			t.Errorf("request %d: X-Cache %q, want %q", i, got, want)
		}
		if v := r.header.Get("Via"); !viaRE.MatchString(v) {
			t.Errorf("request %d: Via %q", i, v)
		}
		if v := r.header.Get("X-Amz-Cf-Id"); !cfIDRE.MatchString(v) {
			t.Errorf("request %d: X-Amz-Cf-Id %q", i, v)
		}
		if r.header.Get("X-Amz-Cf-Pop") == "" {
			t.Errorf("request %d: no X-Amz-Cf-Pop", i)
		}
		if _, hasAge := r.header["Age"]; hasAge != (i > 0) {
			t.Errorf("request %d: Age present %v", i, hasAge)
		}
		if r.header.Get("Content-Type") != "text/plain" {
			t.Errorf("request %d: Content-Type %q", i, r.header.Get("Content-Type"))
		}
	}
	e.clock.Advance(5 * time.Second)
	if r := e.do("GET", "/hello.txt"); r.header.Get("Age") != "5" {
		t.Errorf("Age after 5 s: %q", r.header.Get("Age"))
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin hits %d, want 1", n)
	}
	// HEAD is answered from the cached GET, without a body.
	if r := e.do("HEAD", "/hello.txt"); r.status != 200 || r.body != "" || r.xcache() != "Hit from cloudfront" || r.header.Get("Content-Length") != "5" {
		t.Errorf("HEAD: %d %q %q CL=%q", r.status, r.body, r.xcache(), r.header.Get("Content-Length"))
	}
	// Over HTTPS with HTTP/2 the same cached object is served.
	if r := e.doTLS("GET", "/hello.txt"); r.proto != "HTTP/2.0" || r.xcache() != "Hit from cloudfront" || r.body != "hello" {
		t.Errorf("h2: %s %q %q", r.proto, r.xcache(), r.body)
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin hits %d, want 1", n)
	}
}

// TestOriginRequest: what CloudFront sends to a custom origin — OriginPath
// prefixed, the origin's own domain as Host, custom headers that replace the
// viewer's, Via, X-Forwarded-For, X-Amz-Cf-Id, User-Agent "Amazon
// CloudFront"; no query string or cookies under CachingOptimized.
func TestOriginRequest(t *testing.T) {
	o := newOrigin(t, static("ok", "Cache-Control", "max-age=60"))
	e := newEdge(t, `
distributions:
  - id: ETESTDIST0001
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: test
      Enabled: true
      Origins:
        Items:
          - Id: web
            DomainName: origin.example.com
            OriginPath: /v1
            CustomHeaders: {Items: [{HeaderName: X-Origin-Secret, HeaderValue: s3cr3t}]}
            CustomOriginConfig: {HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: http-only}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
        AllowedMethods: {Items: [GET, HEAD], CachedMethods: {Items: [GET, HEAD]}}
`, map[string]string{"web": o.URL})

	e.do("GET", "/a/b.css?v=1", "X-Origin-Secret", "viewer-tries", "X-Forwarded-For", "198.51.100.7",
		"Cookie", "session=1", "User-Agent", "curl/8", "Authorization", "Bearer x")
	req, _ := o.lastRequest()
	checks := []struct{ what, got, want string }{
		{"path", req.URL.Path, "/v1/a/b.css"},
		{"query", req.URL.RawQuery, ""},
		{"Host", req.Host, "origin.example.com"},
		{"custom header", req.Header.Get("X-Origin-Secret"), "s3cr3t"},
		{"X-Forwarded-For", req.Header.Get("X-Forwarded-For"), "198.51.100.7, 127.0.0.1"},
		{"User-Agent", req.Header.Get("User-Agent"), "Amazon CloudFront"},
		{"Cookie", req.Header.Get("Cookie"), ""},
		{"Authorization", req.Header.Get("Authorization"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if v := req.Header.Get("Via"); !viaRE.MatchString(v) {
		t.Errorf("Via toward origin %q", v)
	}
	if v := req.Header.Get("X-Amz-Cf-Id"); !cfIDRE.MatchString(v) {
		t.Errorf("X-Amz-Cf-Id toward origin %q", v)
	}
}

// behaviours is a distribution whose behaviours send each path pattern to
// the origin of the same name; each origin answers with its own name.
const behaviours = `
distributions:
  - id: ETESTDIST0001
    originEndpoints: {images: "{{o}}", jpegs: "{{o}}", api: "{{o}}", web: "{{o}}", q: "{{o}}"}
    config:
      CallerReference: test
      Enabled: true
      DefaultRootObject: index.html
      Origins:
        Items:
          - {Id: web, DomainName: web.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: jpegs, DomainName: jpegs.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: images, DomainName: images.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: api, DomainName: api.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: q, DomainName: q.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      CacheBehaviors:
        Items:
          - {PathPattern: "/images/*.jpg", TargetOriginId: jpegs, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
          - {PathPattern: "/images/*", TargetOriginId: images, ViewerProtocolPolicy: redirect-to-https, CachePolicyId: CachingDisabled}
          - {PathPattern: "/api/*", TargetOriginId: api, ViewerProtocolPolicy: https-only, CachePolicyId: CachingDisabled,
             AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE], CachedMethods: {Items: [GET, HEAD]}}}
          - {PathPattern: "/v?/*", TargetOriginId: q, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
`

// TestBehaviorPrecedence: behaviours are tried in order, the first whose
// path pattern matches wins ('*' spans '/', '?' is one character, matching
// is case-sensitive), and the default behaviour takes the rest.
func TestBehaviorPrecedence(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", strings.TrimSuffix(r.Host, ".example.com"), r.URL.Path)
	})
	e := newEdge(t, behaviours, map[string]string{"o": o.URL})
	cases := []struct {
		path, want string
	}{
		{"/images/a.jpg", "jpegs /images/a.jpg"}, // first behaviour wins over the second
		{"/images/deep/b/c.jpg", "jpegs /images/deep/b/c.jpg"},
		{"/images/a.png", "images /images/a.png"}, // second behaviour
		{"/images/a.JPG", "images /images/a.JPG"}, // case-sensitive
		{"/v1/x", "q /v1/x"},                      // '?' is exactly one character
		{"/v10/x", "web /v10/x"},                  // … not two
		{"/IMAGES/a.jpg", "web /IMAGES/a.jpg"},    // default
		{"/", "web /index.html"},                  // DefaultRootObject for the root
		{"/docs/", "web /docs/"},                  // … and not for subfolders
	}
	for _, c := range cases {
		r := e.doTLS("GET", c.path)
		if r.status != 200 || r.body != c.want {
			t.Errorf("GET %s: %d %q, want %q", c.path, r.status, r.body, c.want)
		}
	}
}

// TestViewerRules: ViewerProtocolPolicy and AllowedMethods, as CloudFront
// applies them before anything reaches the origin.
func TestViewerRules(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	})
	e := newEdge(t, behaviours, map[string]string{"o": o.URL})
	_, httpsPort, _ := net.SplitHostPort(e.https.Listener.Addr().String())
	_ = httpsPort

	// redirect-to-https: 301 to the same URL on https.
	r := e.do("GET", "/images/a.png?x=1")
	if r.status != 301 || r.xcache() != "Redirect from cloudfront" {
		t.Errorf("redirect-to-https over http: %d %q", r.status, r.xcache())
	}
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "https://") || !strings.HasSuffix(loc, "/images/a.png?x=1") {
		t.Errorf("Location %q", loc)
	}
	if r := e.doTLS("GET", "/images/a.png"); r.status != 200 {
		t.Errorf("redirect-to-https over https: %d", r.status)
	}
	// https-only: 403 over http, served over https.
	if r := e.do("GET", "/api/x"); r.status != 403 || r.xcache() != "Error from cloudfront" || !strings.Contains(r.body, "The request could not be satisfied") {
		t.Errorf("https-only over http: %d %q", r.status, r.xcache())
	}
	before := o.hits.Load()
	// AllowedMethods GET,HEAD (the default behaviour here): POST → 403, never reaches the origin.
	if r := e.send(e.client, e.http.URL, "POST", "/form", strings.NewReader("a=1")); r.status != 403 || r.xcache() != "Error from cloudfront" {
		t.Errorf("POST on GET,HEAD behaviour: %d %q", r.status, r.xcache())
	}
	if r := e.do("DELETE", "/form"); r.status != 403 {
		t.Errorf("DELETE on GET,HEAD behaviour: %d", r.status)
	}
	if n := o.hits.Load(); n != before {
		t.Errorf("refused requests reached the origin: %d", n-before)
	}
	// All seven methods: POST goes through with its body and is not cached.
	for i := 0; i < 2; i++ {
		r := e.send(e.tclient, e.https.URL, "POST", "/api/items", strings.NewReader(`{"a":1}`), "Content-Type", "application/json")
		if r.status != 200 || r.body != "POST /api/items" || r.xcache() != "Miss from cloudfront" {
			t.Errorf("POST %d: %d %q %q", i, r.status, r.body, r.xcache())
		}
		req, body := o.lastRequest()
		if body != `{"a":1}` || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("POST body toward origin %q, Content-Type %q", body, req.Header.Get("Content-Type"))
		}
	}
}

// TestUnknownHost: with several distributions, a Host that is none of their
// domain names or aliases gets 403.
func TestUnknownHost(t *testing.T) {
	o := newOrigin(t, static("ok"))
	e := newEdge(t, `
distributions:
  - id: EFIRST0000001
    domainName: d1.cloudfront.net
    originEndpoints: {web: "{{web}}"}
    config: {CallerReference: a, Enabled: true, Aliases: {Items: [www.example.com]},
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]},
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}}
  - id: ESECOND000001
    domainName: d2.cloudfront.net
    originEndpoints: {web: "{{web}}"}
    config: {CallerReference: b, Enabled: true,
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]},
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: https-only, CachePolicyId: CachingDisabled}}
`, map[string]string{"web": o.URL})
	cases := []struct {
		host string
		want int
	}{
		{"www.example.com", 200},
		{"WWW.Example.com:8080", 200},
		{"d1.cloudfront.net", 200},
		{"d2.cloudfront.net", 403}, // https-only
		{"other.example.com", 403},
	}
	for _, c := range cases {
		if r := e.do("GET", "/", "Host", c.host); r.status != c.want {
			t.Errorf("Host %s: %d, want %d", c.host, r.status, c.want)
		}
	}
}

// TestCollapse: 1,000 concurrent cold requests for one object make exactly
// one origin request, and every viewer gets the whole body.
func TestCollapse(t *testing.T) {
	body := strings.Repeat("x", 64<<10)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte(body))
	})
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	const n = 1000
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	var wg sync.WaitGroup
	errs := make(chan string, n)
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			resp, err := c.Get(e.http.URL + "/big.bin")
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			b := make([]byte, 0, len(body))
			buf := make([]byte, 32<<10)
			for {
				k, err := resp.Body.Read(buf)
				b = append(b, buf[:k]...)
				if err != nil {
					break
				}
			}
			if resp.StatusCode != 200 || len(b) != len(body) {
				errs <- fmt.Sprintf("%d, %d bytes", resp.StatusCode, len(b))
			}
		}()
	}
	for i := 0; i < n; i++ {
		<-started
	}
	// Let the requests reach the proxy before the origin answers.
	deadline := time.Now().Add(20 * time.Second)
	for o.hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
		break
	}
	if h := o.hits.Load(); h != 1 {
		t.Errorf("origin requests: %d, want 1", h)
	}
	// The storm's client asked for gzip (Go's default); CachingOptimized puts
	// the normalised encoding in the key, so the same request is a hit…
	if r := e.do("GET", "/big.bin", "Accept-Encoding", "gzip"); r.xcache() != "Hit from cloudfront" {
		t.Errorf("after the storm: %q", r.xcache())
	}
	// … and one that accepts no encoding is another object.
	if r := e.do("GET", "/big.bin"); r.xcache() != "Miss from cloudfront" {
		t.Errorf("after the storm: %q", r.xcache())
	}
}

// TestUncacheableStreamsWhole: a response that is not cached is streamed to
// the viewer that asked for it, whole, however large (a regression: the
// collapsed fetch was cancelled as soon as its only viewer took over the
// origin's body).
func TestUncacheableStreamsWhole(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 1<<19) // 8 MiB
	o := newOrigin(t, static(body, "Cache-Control", "no-store", "Content-Type", "application/octet-stream"))
	e := newEdge(t, ttlSettings(0, 86400, 31536000), map[string]string{"web": o.URL})
	for i := 0; i < 3; i++ {
		r := e.do("GET", "/big")
		if r.status != 200 || len(r.body) != len(body) || r.xcache() != "Miss from cloudfront" {
			t.Fatalf("request %d: %d, %d bytes of %d, %q", i, r.status, len(r.body), len(body), r.xcache())
		}
	}
	if n := o.hits.Load(); n != 3 {
		t.Errorf("origin hits %d, want 3 (no-store is not cached)", n)
	}
}

// TestTooLargeSharedNotStored: an object larger than the cache's
// maxObjectSize is not stored, but viewers that arrive while it is fetched
// share that one origin request and stream it as it arrives.
func TestTooLargeSharedNotStored(t *testing.T) {
	body := strings.Repeat("z", 64<<10)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	})
	e := newEdge(t, "cache: {size: 16MiB, maxObjectSize: 16KiB}\n"+oneOrigin, map[string]string{"web": o.URL})
	var wg sync.WaitGroup
	got := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("GET", "/large.bin")
			got <- len(r.body)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for o.hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the others join the fetch
	close(release)
	wg.Wait()
	close(got)
	for n := range got {
		if n != len(body) {
			t.Errorf("a viewer got %d bytes, want %d", n, len(body))
		}
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin requests %d, want 1 (shared while streaming)", n)
	}
	if r := e.do("GET", "/large.bin"); r.xcache() != "Miss from cloudfront" || o.hits.Load() != 2 {
		t.Errorf("afterwards: %q, origin requests %d: too large to store, so fetched again", r.xcache(), o.hits.Load())
	}
}

// TestDisabledDistribution: a distribution with Enabled false serves no
// viewer.
func TestDisabledDistribution(t *testing.T) {
	o := newOrigin(t, static("ok"))
	e := newEdge(t, strings.Replace(oneOrigin, "Enabled: true", "Enabled: false", 1), map[string]string{"web": o.URL})
	if r := e.do("GET", "/x"); r.status != 403 || r.xcache() != "Error from cloudfront" || o.hits.Load() != 0 {
		t.Errorf("disabled distribution: %d %q, origin hits %d", r.status, r.xcache(), o.hits.Load())
	}
}
