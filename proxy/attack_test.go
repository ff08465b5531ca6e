package proxy_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

// Regression tests for the attacks of issue 11 that the proxy package
// answers, each through real sockets and named after what it attacks.

// newSigningKey returns an RSA key and its public key as a PEM string
// escaped for a double-quoted YAML value.
func newSigningKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n", "\\n")
}

// webSettings is the settings of one distribution, ETESTDIST0001 at
// d111111abcdef8.cloudfront.net, with one custom origin "web" at {{web}}:
// pre goes before "distributions:" (policies, keys), config after the
// origins in its DistributionConfig (behaviours, aliases), indented by six
// spaces.
func webSettings(pre, config string) string {
	return pre + `
distributions:
  - id: ETESTDIST0001
    domainName: d111111abcdef8.cloudfront.net
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: test
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
` + config
}

// allMethodsUncached is a default behaviour that allows every method and
// caches nothing.
const allMethodsUncached = `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
`

// signedSettings is webSettings with a /private/* behaviour that needs URLs
// signed by key group kg-1, whose one key is pub (newSigningKey).
func signedSettings(pub string) string {
	return webSettings(`
publicKeys:
  - {id: K2PUBLICKEY001, name: test, encodedKey: "`+pub+`"}
keyGroups:
  - {id: kg-1, name: private, publicKeys: [K2PUBLICKEY001]}`, `      CacheBehaviors:
        Items:
          - {PathPattern: "/private/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
             TrustedKeyGroups: {Enabled: true, Items: [kg-1]}}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`)
}

// resolvingOrigin is an origin that resolves dot segments and doubled
// slashes of the decoded path itself, as NGINX and most web servers do: it
// serves SECRET for /private/secret.txt and PUBLIC for anything under
// /public/.
func resolvingOrigin(t *testing.T) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		w.Header().Set("Cache-Control", "max-age=600")
		switch {
		case p == "/private/secret.txt":
			io.WriteString(w, "SECRET")
		case strings.HasPrefix(p, "/private/"):
			io.WriteString(w, "PRIVATE "+p)
		case strings.HasPrefix(p, "/public/"):
			io.WriteString(w, "PUBLIC "+p)
		default:
			http.NotFound(w, r)
		}
	})
}

// TestSignedURLBypassByDotSegments: a behaviour for /private/* that needs a
// signed URL cannot be reached unsigned through a public path's dot
// segments (plain, percent-encoded, with an encoded slash) or a doubled
// slash, even by an origin that resolves them; and a custom policy for
// /private/a* does not open /private/a/../secret.txt. CloudFront normalises
// the URI path before it matches behaviours and checks the resource.
func TestSignedURLBypassByDotSegments(t *testing.T) {
	key, pub := newSigningKey(t)
	o := resolvingOrigin(t)
	e := newEdge(t, signedSettings(pub), map[string]string{"web": o.URL})
	const host = "Host: d111111abcdef8.cloudfront.net\r\n"

	if r := rawRequest(t, e, "GET /public/page HTTP/1.1\r\n"+host+"\r\n"); r.status != 200 || r.body != "PUBLIC /public/page" {
		t.Fatalf("control request: %d %q", r.status, r.body)
	}
	for _, p := range []string{
		"/public/../private/secret.txt",
		"/public/%2e%2e/private/secret.txt",
		"/public/%2E%2E/private/secret.txt",
		"/public/..%2fprivate/secret.txt",
		"/public/..%2Fprivate/secret.txt",
		"/public/.%2e/private/secret.txt",
		"/public/%2e%2e%2fprivate%2fsecret.txt",
		"//private/secret.txt",
		"/public//../private/secret.txt",
		"/./private/secret.txt",
		"/private/./secret.txt",
		"/public/x/../../private/secret.txt",
	} {
		t.Run(p, func(t *testing.T) {
			r := rawRequest(t, e, "GET "+p+" HTTP/1.1\r\n"+host+"\r\n")
			if r.status != 403 || strings.Contains(r.body, "SECRET") || !strings.Contains(r.body, "<Code>MissingKey</Code>") {
				t.Errorf("unsigned GET %s: %d %q, want 403 MissingKey", p, r.status, r.body)
			}
		})
	}
	if n := o.pathHits("/private/secret.txt"); n != 0 {
		t.Errorf("the origin was asked for /private/secret.txt %d times", n)
	}

	// A custom policy for /private/a* opens /private/a… and nothing else.
	later := e.clock.Now().Add(time.Hour)
	signed := func(resource, uri string) string {
		pol := &sign.Policy{Statements: []sign.Statement{{Resource: resource,
			Condition: sign.Condition{DateLessThan: &sign.AWSEpochTime{Time: later}}}}}
		u, err := sign.NewURLSigner("K2PUBLICKEY001", key).SignWithPolicy("http://d111111abcdef8.cloudfront.net"+uri, pol)
		if err != nil {
			t.Fatal(err)
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return uri + "?" + pu.RawQuery
	}
	const resource = "http://d111111abcdef8.cloudfront.net/private/a*"
	if r := rawRequest(t, e, "GET "+signed(resource, "/private/a.txt")+" HTTP/1.1\r\n"+host+"\r\n"); r.status != 200 || r.body != "PRIVATE /private/a.txt" {
		t.Errorf("signed /private/a.txt: %d %q", r.status, r.body)
	}
	for _, p := range []string{"/private/a/../secret.txt", "/private/a/%2e%2e/secret.txt", "/private/a%2f..%2fsecret.txt"} {
		r := rawRequest(t, e, "GET "+signed(resource, p)+" HTTP/1.1\r\n"+host+"\r\n")
		if r.status != 403 || strings.Contains(r.body, "SECRET") {
			t.Errorf("policy for /private/a* on %s: %d %q, want 403", p, r.status, r.body)
		}
	}
	if n := o.pathHits("/private/secret.txt"); n != 0 {
		t.Errorf("the origin was asked for /private/secret.txt %d times", n)
	}
}

// TestBehaviourBypassByDotSegments: without signatures, a path whose dot
// segments lead into another behaviour's pattern is matched — and fetched —
// as the path it resolves to, so a behaviour that allows only GET/HEAD for
// /admin/* cannot be reached with POST through /api/../admin/.
func TestBehaviourBypassByDotSegments(t *testing.T) {
	o := resolvingOrigin(t)
	e := newEdge(t, webSettings("", `      CacheBehaviors:
        Items:
          - {PathPattern: "/private/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
`), map[string]string{"web": o.URL})
	r := rawRequest(t, e, "POST /public/%2e%2e/private/secret.txt HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\nContent-Length: 0\r\n\r\n")
	if r.status != 403 {
		t.Errorf("POST through dot segments into a GET-only behaviour: %d %q, want 403", r.status, r.body)
	}
	req, _ := o.lastRequest()
	if req != nil && req.Method == http.MethodPost {
		t.Errorf("the origin got %s %s", req.Method, req.URL.RequestURI())
	}
	// The origin is sent the normalised path, never the dot segments.
	if r := rawRequest(t, e, "GET /public/x/%2e%2e/y HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n"); r.status != 200 {
		t.Fatalf("GET: %d %q", r.status, r.body)
	}
	if req, _ := o.lastRequest(); req.RequestURI != "/public/y" {
		t.Errorf("origin request-target %q, want /public/y", req.RequestURI)
	}
}

// hostEchoEdge is an edge whose one distribution forwards every viewer
// header, Host included (AllViewer) but keys none, in front of an origin
// that builds its page from the Host it gets — README's load-balancer shape.
func hostEchoEdge(t *testing.T) (*edge, *origin) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, `<a href="http://`+r.Host+`/login">login</a>`)
	})
	e := newEdge(t, webSettings("", `      Aliases: {Items: [www.example.com]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
        OriginRequestPolicyId: 216adef6-5c7f-47e4-b989-5492eafa07d3}
`), map[string]string{"web": o.URL})
	return e, o
}

// TestHostPoisoning: a Host that is neither the distribution's domain, an
// alias, localhost nor this node's address is refused with 403 before it
// reaches the origin, so it cannot fill the cache with a page built for it.
func TestHostPoisoning(t *testing.T) {
	e, o := hostEchoEdge(t)
	for _, h := range []string{"evil.example", "evil.example:80", "d111111abcdef8.cloudfront.net.evil.example", "10.1.2.3", "[::2]:80"} {
		r := rawRequest(t, e, "GET /page HTTP/1.1\r\nHost: "+h+"\r\n\r\n")
		if r.status != 403 || strings.Contains(r.body, "evil") {
			t.Errorf("Host %s: %d %q, want 403", h, r.status, r.body)
		}
	}
	if n := o.hits.Load(); n != 0 {
		t.Fatalf("refused Hosts reached the origin %d times", n)
	}
	for _, tc := range []struct{ host, want, xcache string }{
		{"www.example.com", "www.example.com", "Miss from cloudfront"},
		{"WWW.EXAMPLE.COM:8080", "www.example.com", "Hit from cloudfront"}, // not keyed: the same object
		{"d111111abcdef8.cloudfront.net", "www.example.com", "Hit from cloudfront"},
	} {
		r := e.do("GET", "/page", "Host", tc.host)
		if r.status != 200 || !strings.Contains(r.body, "http://"+tc.want+"/") || r.xcache() != tc.xcache {
			t.Errorf("Host %s: %d %q %q", tc.host, r.status, r.body, r.xcache())
		}
	}
	// Local names stand for the distribution's domain toward the origin.
	for _, h := range []string{"localhost", "localhost:8080", "127.0.0.1", strings.TrimPrefix(e.http.URL, "http://"), "[::1]:8080"} {
		r := rawRequest(t, e, "GET /local HTTP/1.1\r\nHost: "+h+"\r\n\r\n")
		if r.status != 200 || r.body != `<a href="http://d111111abcdef8.cloudfront.net/login">login</a>` {
			t.Errorf("Host %s: %d %q, want the page built for the distribution's domain", h, r.status, r.body)
		}
	}
	if n := o.pathHits("/local"); n != 1 {
		t.Errorf("origin hits for /local: %d, want 1 (local names share the domain's object)", n)
	}
}

// TestAuthorizationNotForwardedUnkeyed: on a cached behaviour, an origin
// request policy (AllViewer) does not forward Authorization; only a cache
// policy that puts it in the key does, and then each credential has its own
// object. Requests that are not cached carry it.
func TestAuthorizationNotForwardedUnkeyed(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		if a := r.Header.Get("Authorization"); a != "" {
			io.WriteString(w, "private page of "+a)
			return
		}
		io.WriteString(w, "public page")
	})
	e := newEdge(t, webSettings(`
cachePolicies:
`+cachePolicy("11111111-2222-3333-4444-000000000001", "auth-keyed", 0, "{HeaderBehavior: whitelist, Headers: {Items: [Authorization]}}", "{CookieBehavior: none}"), `      CacheBehaviors:
        Items:
          - {PathPattern: "/keyed/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 11111111-2222-3333-4444-000000000001}
          - {PathPattern: "/api/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
             OriginRequestPolicyId: 216adef6-5c7f-47e4-b989-5492eafa07d3}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
        OriginRequestPolicyId: 216adef6-5c7f-47e4-b989-5492eafa07d3}
`), map[string]string{"web": o.URL})
	const domain = "d111111abcdef8.cloudfront.net"

	if r := e.do("GET", "/page", "Host", domain, "Authorization", "Bearer alice"); r.body != "public page" {
		t.Errorf("AllViewer on a cached behaviour forwarded Authorization: %q", r.body)
	}
	if r := e.do("GET", "/page", "Host", domain); r.body != "public page" || r.xcache() != "Hit from cloudfront" {
		t.Errorf("next viewer: %q %q", r.body, r.xcache())
	}
	if r := e.do("GET", "/keyed/p", "Host", domain, "Authorization", "Bearer alice"); r.body != "private page of Bearer alice" {
		t.Errorf("keyed Authorization not forwarded: %q", r.body)
	}
	if r := e.do("GET", "/keyed/p", "Host", domain, "Authorization", "Bearer bob"); r.body != "private page of Bearer bob" || r.xcache() != "Miss from cloudfront" {
		t.Errorf("bob got %q %q", r.body, r.xcache())
	}
	if r := e.do("GET", "/keyed/p", "Host", domain); r.body != "public page" {
		t.Errorf("a viewer without credentials got %q", r.body)
	}
	if r := e.do("GET", "/api/me", "Host", domain, "Authorization", "Bearer carol"); r.body != "private page of Bearer carol" {
		t.Errorf("CachingDisabled + AllViewer did not forward Authorization: %q", r.body)
	}
}

// TestSetCookieFrom304NotStored: a revalidation answered with 304 and a
// Set-Cookie does not copy the cookie into the cached object: later hits
// never hand that viewer's session to anyone.
func TestSetCookieFrom304NotStored(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("Set-Cookie", "session=victim; Path=/")
			w.Header().Set("X-Refreshed", "yes")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "page")
	})
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
        OriginRequestPolicyId: 216adef6-5c7f-47e4-b989-5492eafa07d3}
`), map[string]string{"web": o.URL})
	if r := e.do("GET", "/p"); r.status != 200 || r.body != "page" {
		t.Fatalf("first: %d %q", r.status, r.body)
	}
	e.clock.Advance(2 * time.Minute)
	r := e.do("GET", "/p", "Cookie", "session=victim")
	if r.xcache() != "RefreshHit from cloudfront" || r.body != "page" {
		t.Fatalf("revalidation: %q %q", r.xcache(), r.body)
	}
	r = e.do("GET", "/p")
	if r.xcache() != "Hit from cloudfront" || r.header.Get("X-Refreshed") != "yes" {
		t.Fatalf("hit after the 304: %q, X-Refreshed %q (the 304's other headers are merged)", r.xcache(), r.header.Get("X-Refreshed"))
	}
	if c := r.header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("a later viewer got the 304's Set-Cookie: %q", c)
	}
}

// TestPrivateSetCookieNotShared: "private, no-store" with a Set-Cookie,
// cached for the policy's MinTTL under AllViewer (cookies forwarded, not
// keyed), is never served to another viewer with that cookie.
func TestPrivateSetCookieNotShared(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("Set-Cookie", "session=alice; Path=/; HttpOnly")
		io.WriteString(w, "page")
	})
	e := newEdge(t, webSettings(`
cachePolicies:
`+cachePolicy("11111111-2222-3333-4444-000000000002", "min-ttl", 1, "{HeaderBehavior: none}", "{CookieBehavior: none}"), `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 11111111-2222-3333-4444-000000000002,
        OriginRequestPolicyId: 216adef6-5c7f-47e4-b989-5492eafa07d3}
`), map[string]string{"web": o.URL})
	e.do("GET", "/account", "Cookie", "user=alice")
	r := e.do("GET", "/account", "Cookie", "user=mallory")
	if r.xcache() != "Hit from cloudfront" {
		t.Fatalf("second viewer: %q (the MinTTL should cache it)", r.xcache())
	}
	if c := r.header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("another viewer got alice's Set-Cookie: %q", c)
	}
}

// TestNoOriginFetchForResetStream: a request whose viewer has already gone
// — its context is cancelled, as an HTTP/2 stream reset by the viewer
// leaves it — starts no origin fetch, cached or not, so a rapid-reset
// flood never becomes an origin flood.
func TestNoOriginFetchForResetStream(t *testing.T) {
	o := newOrigin(t, static("page", "Cache-Control", "max-age=60"))
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
`), map[string]string{"web": o.URL})
	if r := e.do("GET", "/present"); r.status != 200 || r.body != "page" || o.hits.Load() != 1 {
		t.Fatalf("a viewer still there: %d %q, origin hits %d", r.status, r.body, o.hits.Load())
	}
	reset := newPlainServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		e.srv.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(reset.Close)
	for _, method := range []string{"GET", "POST", "GET"} {
		req, _ := http.NewRequest(method, reset.URL+"/reset", nil)
		req.Host = "d111111abcdef8.cloudfront.net"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	// Close waits for every origin fetch the proxy started in the
	// background: after it, the origin has seen all it will.
	e.srv.Close()
	if n := o.pathHits("/reset"); n != 0 {
		t.Errorf("the origin got %d requests for viewers already gone", n)
	}
}

// TestHTTP10TransferEncodingOverTLS: on the TLS listener (h1 in front, as
// edgefront serves it; net/http alone when --fast-http1=false), an
// HTTP/1.0 request with Transfer-Encoding
// (which net/http ignores) cannot smuggle the request hidden in its body:
// the connection is closed after the response. (h1's own tests cover the
// plain listener, where the request is refused outright.)
func TestHTTP10TransferEncodingOverTLS(t *testing.T) {
	o := newOrigin(t, static("ok"))
	e := newEdge(t, webSettings("", allMethodsUncached), map[string]string{"web": o.URL})
	const host = "Host: d111111abcdef8.cloudfront.net\r\n"
	for _, method := range []string{"POST", "GET"} {
		c, err := tls.Dial("tcp", e.https.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, method+" /api HTTP/1.0\r\n"+host+"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"GET /smuggled HTTP/1.1\r\n"+host+"\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if _, err := http.ReadResponse(br, nil); err == nil {
			t.Errorf("%s: a second response came on the connection", method)
		}
		c.Close()
	}
	// The server closed each connection: whatever it read is done.
	if n := o.pathHits("/smuggled"); n != 0 {
		t.Errorf("the smuggled request reached the origin %d times", n)
	}
}
