package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// tlsOrigin answers with what it saw of the viewer's TLS (the headers
// CloudFront adds) and the request body, and records the requests.
type tlsOrigin struct {
	mu     sync.Mutex
	seen   []http.Header
	bodies []string
}

func (o *tlsOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.seen = append(o.seen, r.Header.Clone())
	o.bodies = append(o.bodies, string(b))
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=60")
	io.WriteString(w, "origin "+r.Method+" "+r.URL.Path)
}

// last returns the headers and body of the origin's last request; n is the
// number of requests it saw.
func (o *tlsOrigin) last() (h http.Header, body string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		return nil, "", 0
	}
	return o.seen[len(o.seen)-1], o.bodies[len(o.bodies)-1], len(o.seen)
}

// tlsEdge starts an edge whose one distribution redirects http viewers to
// https and forwards the viewer's TLS headers to o.
func tlsEdge(t *testing.T, o http.Handler, extra ...string) *edge {
	t.Helper()
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	cfg := `
originRequestPolicies:
  - Id: 44444444-aaaa-bbbb-cccc-000000000004
    OriginRequestPolicyConfig:
      Name: viewer-tls
      HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [CloudFront-Viewer-TLS, CloudFront-Viewer-JA3-Fingerprint, CloudFront-Forwarded-Proto]}}
      CookiesConfig: {CookieBehavior: none}
      QueryStringsConfig: {QueryStringBehavior: none}
distributions:
  - id: ETLS000000001
    originEndpoints: {web: "` + srv.URL + `"}
    config:
      CallerReference: tls
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: redirect-to-https, CachePolicyId: CachingOptimized,
                             OriginRequestPolicyId: viewer-tls, AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}}
`
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--config", file, "--http3=false"}, extra...)
	f, _, err := parseServeFlags(args, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return testEdge(t, f)
}

// h1Client speaks HTTPS over HTTP/1.1 only (ALPN http/1.1).
func h1Client() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			TLSClientConfig:    &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}},
			TLSNextProto:       map[string]func(string, *tls.Conn) http.RoundTripper{},
			DisableCompression: true,
		},
		Timeout: 10 * time.Second,
	}
}

// answered is how many requests h1 answered on the https listener.
func answered(e *edge) int64 {
	if e.fastTLS == nil {
		return -1
	}
	return e.fastTLS.Answered()
}

var viewerTLSValue = regexp.MustCompile(`^TLSv1\.[23]:[A-Z0-9_-]+:fullHandshake$`)

// TestHTTPSThroughH1: over HTTPS HTTP/1.1, requests without a body are
// answered by h1 (its count grows; net/http's would not), with the viewer's
// TLS seen as net/http would show it: no redirect to https,
// CloudFront-Forwarded-Proto https, CloudFront-Viewer-TLS and the JA3
// fingerprint for the origin. A POST is handed over to net/http with its
// body intact and the same TLS view; h2 is negotiated and served by the
// HTTP/2 server, with the same view too. Over plain http the same
// behaviour redirects.
func TestHTTPSThroughH1(t *testing.T) {
	o := &tlsOrigin{}
	e := tlsEdge(t, o)
	base := "https://" + e.addrs["https"]
	c := h1Client()
	defer c.CloseIdleConnections()

	type step struct {
		name, method, path, body string
		xcache                   string
		byH1                     bool // answered by h1, not net/http (which serves the connection after a handover)
		originSees               bool // the origin gets this request
	}
	steps := []step{
		{"miss", "GET", "/page", "", "Miss from cloudfront", true, true},
		{"hit", "GET", "/page", "", "Hit from cloudfront", true, false},
		{"post handed over", "POST", "/form", "a=1&b=" + strings.Repeat("x", 20000), "Miss from cloudfront", false, true},
		{"hit after the handover", "GET", "/page", "", "Hit from cloudfront", false, false},
	}
	for _, s := range steps {
		before := answered(e)
		_, _, seenBefore := o.last()
		req, _ := http.NewRequest(s.method, base+s.path, strings.NewReader(s.body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 1 || string(body) != "origin "+s.method+" "+s.path {
			t.Errorf("%s: %d %s %q, want 200 over HTTP/1.1 with the origin's body", s.name, resp.StatusCode, resp.Proto, body)
		}
		if got := resp.Header.Get("X-Cache"); got != s.xcache {
			t.Errorf("%s: X-Cache %q, want %q", s.name, got, s.xcache)
		}
		want := int64(0)
		if s.byH1 {
			want = 1
		}
		if got := answered(e) - before; got != want {
			t.Errorf("%s: h1 answered %d requests, want %d", s.name, got, want)
		}
		h, gotBody, seen := o.last()
		if !s.originSees {
			if seen != seenBefore {
				t.Errorf("%s: the origin was asked", s.name)
			}
			continue
		}
		if seen != seenBefore+1 {
			t.Fatalf("%s: the origin saw %d requests, want 1", s.name, seen-seenBefore)
		}
		if gotBody != s.body {
			t.Errorf("%s: the origin got a %d-byte body, want the %d bytes sent", s.name, len(gotBody), len(s.body))
		}
		if p := h.Get("CloudFront-Forwarded-Proto"); p != "https" {
			t.Errorf("%s: CloudFront-Forwarded-Proto %q, want https", s.name, p)
		}
		if v := h.Get("CloudFront-Viewer-TLS"); !viewerTLSValue.MatchString(v) {
			t.Errorf("%s: CloudFront-Viewer-TLS %q, want version:cipher:fullHandshake", s.name, v)
		}
		if fp := h.Get("CloudFront-Viewer-JA3-Fingerprint"); len(fp) != 32 {
			t.Errorf("%s: CloudFront-Viewer-JA3-Fingerprint %q, want 32 hex digits", s.name, fp)
		}
	}
	// The behaviour redirects plain http viewers: over TLS, above, it did not.
	resp, err := c.Get("http://" + e.addrs["http"] + "/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
		t.Errorf("plain http: %d Location %q, want a 301 to https", resp.StatusCode, resp.Header.Get("Location"))
	}

	// HTTP/2 is still negotiated, and served (not by h1).
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true, DisableCompression: true}, Timeout: 10 * time.Second}
	defer h2.CloseIdleConnections()
	before := answered(e)
	resp, err = h2.Get(base + "/page")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "origin GET /page" || resp.Header.Get("X-Cache") != "Hit from cloudfront" {
		t.Errorf("h2: %s %q %q", resp.Proto, body, resp.Header.Get("X-Cache"))
	}
	if answered(e) != before {
		t.Errorf("h1 answered an HTTP/2 request")
	}
	// An HTTP/2 miss: the origin sees the viewer's TLS as over HTTP/1.1.
	resp, err = h2.Get(base + "/h2page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h, _, _ := o.last()
	if resp.ProtoMajor != 2 || !viewerTLSValue.MatchString(h.Get("CloudFront-Viewer-TLS")) || len(h.Get("CloudFront-Viewer-JA3-Fingerprint")) != 32 {
		t.Errorf("h2 miss: %s, origin saw CloudFront-Viewer-TLS %q JA3 %q", resp.Proto, h.Get("CloudFront-Viewer-TLS"), h.Get("CloudFront-Viewer-JA3-Fingerprint"))
	}
}

// TestHTTPSWithoutFastHTTP1: with --fast-http1=false net/http serves the
// https listener alone, as before h1 served TLS, with the same view of the
// viewer's TLS.
func TestHTTPSWithoutFastHTTP1(t *testing.T) {
	o := &tlsOrigin{}
	e := tlsEdge(t, o, "--fast-http1=false")
	if e.fastTLS != nil {
		t.Fatal("h1 serves the https listener with --fast-http1=false")
	}
	c := h1Client()
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + e.addrs["https"] + "/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h, _, _ := o.last()
	if resp.StatusCode != 200 || !viewerTLSValue.MatchString(h.Get("CloudFront-Viewer-TLS")) || len(h.Get("CloudFront-Viewer-JA3-Fingerprint")) != 32 {
		t.Errorf("%d, origin saw CloudFront-Viewer-TLS %q JA3 %q", resp.StatusCode, h.Get("CloudFront-Viewer-TLS"), h.Get("CloudFront-Viewer-JA3-Fingerprint"))
	}
}

// TestHTTPSRawRequests: what h1's strictness makes of raw requests on the
// TLS listener, one connection each: a head over the 64 KiB net/http reads
// gets CloudFront's 413 page (not net/http's 431); HTTP/1.0 with
// Transfer-Encoding is refused and smuggles nothing to the origin.
func TestHTTPSRawRequests(t *testing.T) {
	o := &tlsOrigin{}
	e := tlsEdge(t, o)
	const host = "Host: localhost\r\n"
	cases := []struct {
		name   string
		raw    string
		status int
		body   string // a substring of the response body
	}{
		{"head over 64 KiB", "GET /big HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("b", 70<<10) + "\r\n\r\n",
			http.StatusRequestEntityTooLarge, "The request is too large"},
		{"head far over 64 KiB", "GET /big HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("b", 300<<10) + "\r\n\r\n",
			http.StatusRequestEntityTooLarge, "The request is too large"},
		{"HTTP/1.0 with Transfer-Encoding", "POST /api HTTP/1.0\r\n" + host + "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"0\r\n\r\nGET /smuggled HTTP/1.1\r\n" + host + "\r\n", http.StatusBadRequest, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", e.addrs["https"], &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			go io.WriteString(c, tc.raw) // the server may answer before it read everything
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if _, err := http.ReadResponse(br, nil); err == nil {
				t.Errorf("a second response came on the connection")
			}
		})
	}
	if _, _, n := o.last(); n != 0 {
		t.Errorf("the origin saw %d requests, want none", n)
	}
}

// TestHTTPSAccessLog: the access log's TLS fields of requests over HTTPS
// HTTP/1.1, answered by h1 or handed over to net/http, and over HTTP/2,
// are the connection's (cs-protocol https, ssl-protocol, ssl-cipher).
func TestHTTPSAccessLog(t *testing.T) {
	file := filepath.Join(t.TempDir(), "access.log")
	e := tlsEdge(t, &tlsOrigin{}, "--access-log", file)
	base := "https://" + e.addrs["https"]
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true, DisableCompression: true}, Timeout: 10 * time.Second}
	reqs := []struct {
		client        *http.Client
		method, proto string
	}{
		{h1Client(), "GET", "HTTP/1.1"},  // h1's miss
		{h1Client(), "POST", "HTTP/1.1"}, // handed over
		{h2, "GET", "HTTP/2.0"},
	}
	for _, r := range reqs {
		req, _ := http.NewRequest(r.method, base+"/logged", strings.NewReader("body"))
		resp, err := r.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.client.CloseIdleConnections()
	}
	e.close() // flushes the log
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2+len(reqs) {
		t.Fatalf("log:\n%s", data)
	}
	fields := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
	for i, r := range reqs {
		vals := strings.Split(lines[2+i], "\t")
		got := map[string]string{}
		for j, f := range fields {
			if j < len(vals) {
				got[f] = vals[j]
			}
		}
		if got["cs-method"] != r.method || got["cs-protocol"] != "https" || got["cs-protocol-version"] != r.proto ||
			!strings.HasPrefix(got["ssl-protocol"], "TLSv1.") || !strings.HasPrefix(got["ssl-cipher"], "TLS_") {
			t.Errorf("%s %s: logged method %q protocol %q %q, ssl-protocol %q, ssl-cipher %q", r.method, r.proto,
				got["cs-method"], got["cs-protocol"], got["cs-protocol-version"], got["ssl-protocol"], got["ssl-cipher"])
		}
	}
}
