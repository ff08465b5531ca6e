package proxy_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// This file holds hardening tests: CloudFront's request size limits,
// request smuggling, cache poisoning through headers outside the cache key,
// and paths that try to leave an S3 origin's OriginPath. Requests that a Go
// client would refuse to send or would normalise go over a raw TCP
// connection.

// rawResponse is what came back on a raw connection.
type rawResponse struct {
	status int
	header http.Header
	body   string
	closed bool // the server closed the connection after the response
}

// rawRequest writes req verbatim to the edge's http listener and reads one
// response. It then checks whether the server closed the connection.
func rawRequest(t *testing.T, e *edge, req string) rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.http.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := rawResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}
	// After the response, a closed connection reads EOF at once; an open
	// one times out.
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.ReadByte(); err == io.EOF || (err != nil && !isTimeout(err)) {
		out.closed = true
	}
	return out
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestRequestSizeLimits: CloudFront's limits on a request ("Maximum length of
// a request and maximum length of a URL" in the Developer Guide): the
// request line and headers together at most 20,480 bytes, the URL CloudFront
// builds (scheme, host, path, query) at most 8,192 bytes; beyond either,
// 413 and the connection closed. The origin gets nothing.
func TestRequestSizeLimits(t *testing.T) {
	o := newOrigin(t, static("ok", "Cache-Control", "max-age=60"))
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	host := "d111111abcdef8.cloudfront.net"
	urlOverhead := len("http://" + host)

	cases := []struct {
		name   string
		path   string
		header int // bytes of one extra header's value
		status int
	}{
		{"small request", "/ok", 0, 200},
		{"URL just under 8,192 bytes", "/" + strings.Repeat("a", 8192-urlOverhead-1), 0, 200},
		// CloudFront's quota: 8,192 bytes of URL ("http(s)://" + Host +
		// request target), else 413 and close.
		{"URL over 8,192 bytes", "/" + strings.Repeat("a", 8192-urlOverhead+10), 0, 413},
		{"query string counts", "/q?" + strings.Repeat("x=1&", 8192/4), 0, 413},
		{"headers just under 20,480 bytes", "/h", 20480 - 200, 200},
		// CloudFront's quota: 20,480 bytes of request line and headers,
		// else 413 and close (net/http alone would allow 1 MB, then 431).
		{"headers over 20,480 bytes", "/h", 20480 + 100, 413},
		// Over what the front end reads at all (MaxHeaderBytes, 64 KiB):
		// still CloudFront's 413 and headers, never net/http's plain 431.
		{"headers over the front end's 64 KiB", "/h", 70000, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := o.hits.Load()
			req := "GET " + tc.path + " HTTP/1.1\r\nHost: " + host + "\r\n"
			if tc.header > 0 {
				req += "X-Big: " + strings.Repeat("b", tc.header) + "\r\n"
			}
			req += "\r\n"
			r := rawRequest(t, e, req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (body %.200q)", r.status, tc.status, r.body)
			}
			if tc.status == 413 {
				if !r.closed {
					t.Error("connection left open after 413; CloudFront closes it")
				}
				if r.header.Get("X-Cache") != "Error from cloudfront" {
					t.Errorf("X-Cache %q, want Error from cloudfront", r.header.Get("X-Cache"))
				}
				if n := o.hits.Load() - before; n != 0 {
					t.Errorf("origin got %d requests for a refused one", n)
				}
			}
		})
	}
}

// TestRequestSmuggling: framing that two parsers could read differently.
// Each request is refused (net/http's 400 or 501, connection closed, the
// origin gets nothing), or, where RFC 9112 lets a server process it, handled
// without a second request hidden in it ever reaching the origin and without
// CR or LF reaching the origin inside a header value.
func TestRequestSmuggling(t *testing.T) {
	o := newOrigin(t, static("ok", "Cache-Control", "no-store"))
	e := newEdge(t, strings.Replace(oneOrigin,
		"CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6\n        AllowedMethods: {Items: [GET, HEAD], CachedMethods: {Items: [GET, HEAD]}}",
		"CachePolicyId: 4135ea2d-6df8-44a3-9df3-4b5a84be39ad\n        OriginRequestPolicyId: 216adef6-5c7f-47e4-b989-5492eafa07d3\n        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}", 1),
		map[string]string{"web": o.URL})
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n"
	host := "Host: d111111abcdef8.cloudfront.net\r\n"
	for _, tc := range []struct {
		name      string
		req       string
		statuses  []int // acceptable answers
		mustClose bool  // the connection must be closed even after a 200
	}{
		// A message that can be read two ways is refused and the
		// connection closed (RFC 9112 §6.1: a server MUST close after
		// such a message; h1 refuses it before any handler runs).
		{"Content-Length and Transfer-Encoding",
			"POST /api HTTP/1.1\r\n" + host + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
			[]int{400}, true},
		{"Transfer-Encoding on HTTP/1.0",
			"POST /api HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
			[]int{400}, true},
		{"two different Content-Length",
			"POST /api HTTP/1.1\r\n" + host + "Content-Length: 0\r\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\r\n\r\n" + smuggled,
			[]int{400}, true},
		{"Content-Length list",
			"POST /api HTTP/1.1\r\n" + host + "Content-Length: 0, " + strconv.Itoa(len(smuggled)) + "\r\n\r\n" + smuggled,
			[]int{400}, true},
		// obs-fold: RFC 9112 §5.2 lets a server replace it with SP or
		// answer 400; edgefront refuses it, as CloudFront and NGINX do.
		{"obs-fold header",
			"GET /api HTTP/1.1\r\n" + host + "X-Folded: a\r\n b\r\n\r\n",
			[]int{400}, true},
		{"obs-fold Transfer-Encoding",
			"POST /fold HTTP/1.1\r\n" + host + "Transfer-Encoding:\r\n chunked\r\nContent-Length: 0\r\n\r\n" + smuggled,
			[]int{400}, true},
		{"Transfer-Encoding not chunked last",
			"POST /api HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled,
			[]int{400, 501}, true},
		{"space before colon",
			"POST /api HTTP/1.1\r\n" + host + "Transfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n" + smuggled,
			[]int{400}, true},
		{"two Host headers",
			"GET /api HTTP/1.1\r\n" + host + "Host: evil.example.com\r\n\r\n",
			[]int{400}, true},
		// A bare LF: RFC 9112 §2.2 lets recipients accept it, but a
		// front end and an origin that disagree on it read two messages;
		// refused.
		{"bare LF in header",
			"GET /api HTTP/1.1\r\n" + host + "X-A: 1\nX-B: 2\r\n\r\n",
			[]int{400}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Count by this row's path: a request that another row's
			// forwarded body made the origin see may arrive late.
			path := strings.Fields(tc.req)[1]
			before, smuggledBefore := o.pathHits(path), o.pathHits("/smuggled")
			r := rawRequest(t, e, tc.req)
			if !slices.Contains(tc.statuses, r.status) {
				t.Errorf("status %d, want one of %v (body %.120q)", r.status, tc.statuses, r.body)
			}
			if (tc.mustClose || r.status >= 400) && !r.closed {
				t.Error("connection left open")
			}
			if r.status >= 400 && r.header.Get("X-Cache") == "" {
				// Refused by net/http itself: nothing may reach the origin.
				if n := o.pathHits(path) - before; n != 0 {
					t.Errorf("origin got %d requests", n)
				}
			}
			if o.pathHits("/smuggled") != smuggledBefore {
				t.Error("the smuggled request reached the origin")
			}
			if r.status == 200 {
				req, _ := o.lastRequest()
				for name, vals := range req.Header {
					for _, v := range vals {
						if strings.ContainsAny(v, "\r\n") {
							t.Errorf("origin got %s: %q with CR or LF", name, v)
						}
					}
				}
			}
		})
	}
}

// TestNoCachePoisoningByUnkeyedHeaders: headers that are neither in the
// cache key nor forwarded (CachingOptimized, no origin request policy) never
// reach the origin, so they cannot change what is cached for everyone. The
// origin here is the classic vulnerable one: it builds links from
// X-Forwarded-Host and routes by X-Original-URL / X-Rewrite-URL.
func TestNoCachePoisoningByUnkeyedHeaders(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		host := r.Host
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			host = fh
		}
		path := r.URL.Path
		for _, h := range []string{"X-Original-Url", "X-Rewrite-Url"} {
			if v := r.Header.Get(h); v != "" {
				path = v
			}
		}
		io.WriteString(w, `<script src="//`+host+`/app.js"></script> page `+path)
	})
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	const clean = `<script src="//origin.example.com/app.js"></script> page `

	for i, tc := range []struct {
		name string
		hdr  []string
	}{
		{"X-Forwarded-Host", []string{"X-Forwarded-Host", "evil.example.com"}},
		{"X-Original-URL", []string{"X-Original-URL", "/admin"}},
		{"X-Rewrite-URL", []string{"X-Rewrite-URL", "/admin"}},
		{"X-Forwarded-Scheme and X-Host", []string{"X-Forwarded-Scheme", "nothttps", "X-Host", "evil.example.com", "X-Forwarded-Server", "evil.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/page" + strconv.Itoa(i)
			poisoned := e.do("GET", path, tc.hdr...)
			if poisoned.status != 200 || poisoned.body != clean+path || poisoned.xcache() != "Miss from cloudfront" {
				t.Errorf("attacker's request: %d %q %q", poisoned.status, poisoned.body, poisoned.xcache())
			}
			req, _ := o.lastRequest()
			for j := 0; j < len(tc.hdr); j += 2 {
				if v := req.Header.Get(tc.hdr[j]); v != "" {
					t.Errorf("origin got %s: %q", tc.hdr[j], v)
				}
			}
			victim := e.do("GET", path)
			if victim.body != clean+path || victim.xcache() != "Hit from cloudfront" {
				t.Errorf("next viewer: %q %q, want the clean page from the cache", victim.body, victim.xcache())
			}
		})
	}
	if n := o.hits.Load(); n != 4 {
		t.Errorf("origin hits %d, want 4 (one per page)", n)
	}
}

// TestNoCachePoisoningByHost: a second Host header is refused, and an
// absolute-form request URI cannot name another host than the one the
// object is cached under for that distribution.
func TestNoCachePoisoningByHost(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		io.WriteString(w, "host "+r.Host)
	})
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	r := rawRequest(t, e, "GET /p HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\nHost: evil.example.com\r\n\r\n")
	if r.status != 400 {
		t.Errorf("two Host headers: %d, want 400", r.status)
	}
	// The authority of an absolute-form target replaces Host (RFC 9112
	// §3.2.2): evil.example.com is no name of the distribution.
	r = rawRequest(t, e, "GET http://evil.example.com/p HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n")
	if r.status != 403 {
		t.Errorf("absolute-form URI naming another host: %d %q, want 403", r.status, r.body)
	}
	r = rawRequest(t, e, "GET http://d111111abcdef8.cloudfront.net/p HTTP/1.1\r\nHost: evil.example.com\r\n\r\n")
	if r.status != 200 || r.body != "host origin.example.com" {
		t.Errorf("absolute-form URI: %d %q, want the origin's own Host", r.status, r.body)
	}
	if v := e.do("GET", "/p"); v.body != "host origin.example.com" {
		t.Errorf("next viewer: %q", v.body)
	}
}

// TestPathCannotLeaveOriginPath: an S3 origin with OriginPath /public serves
// only keys under public/. Dot segments, encoded dot segments, encoded
// slashes and doubled slashes never reach an object outside the prefix.
func TestPathCannotLeaveOriginPath(t *testing.T) {
	s3srv, client := newS3(t, "site-bucket")
	ctx := context.Background()
	for key, body := range map[string]string{
		"public/index.html":  "PUBLIC INDEX",
		"public/a/page.html": "PUBLIC PAGE",
		"secret.txt":         "SECRET ROOT",
		"private/key.txt":    "SECRET PRIVATE",
	} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("site-bucket"), Key: aws.String(key),
			Body: strings.NewReader(body), CacheControl: aws.String("max-age=60")}); err != nil {
			t.Fatal(err)
		}
	}
	e := newEdge(t, `
distributions:
  - id: ETESTDIST0001
    domainName: d111111abcdef8.cloudfront.net
    originEndpoints: {bucket: "{{s3}}"}
    originCredentials: {bucket: {accessKeyId: AKIDTEST, secretAccessKey: secret, region: us-east-1}}
    config:
      CallerReference: test
      Enabled: true
      Origins:
        Items:
          - Id: bucket
            DomainName: site-bucket.s3.us-east-1.amazonaws.com
            OriginPath: /public
            S3OriginConfig: {OriginAccessIdentity: ""}
      DefaultCacheBehavior:
        TargetOriginId: bucket
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
`, map[string]string{"s3": s3srv})

	if r := rawRequest(t, e, "GET /a/page.html HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n"); r.status != 200 || r.body != "PUBLIC PAGE" {
		t.Fatalf("control request: %d %q", r.status, r.body)
	}
	// The proxy resolves dot segments of the decoded path (RFC 3986
	// §5.2.4, never above the root) before matching behaviours and
	// prefixing OriginPath, and sends no "." / ".." segment or encoded
	// slash that the S3 server would resolve itself. An origin that does
	// resolve them is TestSignedURLBypassByDotSegments's.
	for _, p := range []string{
		"/../secret.txt",
		"/a/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/.%2e/secret.txt",
		"/..%2fsecret.txt",
		"/%2e%2e%2fsecret.txt",
		"/a/..%2f..%2fsecret.txt",
		"//secret.txt",
		"/..//secret.txt",
		"/../private/key.txt",
		"/%2e%2e/private/key.txt",
		"/./../secret.txt",
		"/..\\secret.txt",
		"/%5c..%5csecret.txt",
	} {
		t.Run(p, func(t *testing.T) {
			r := rawRequest(t, e, "GET "+p+" HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n")
			if strings.Contains(r.body, "SECRET") {
				t.Fatalf("GET %s served an object outside OriginPath: %d %q", p, r.status, r.body)
			}
			if r.status == 200 && r.body != "PUBLIC INDEX" && r.body != "PUBLIC PAGE" {
				t.Errorf("GET %s: 200 %q", p, r.body)
			}
		})
	}
}
