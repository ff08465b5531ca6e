package proxy_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/proxy"
)

// This file checks edgefront's CloudFront mode against RFC 9111 (HTTP
// Caching) and RFC 9110 where CloudFront's guide is silent: every row names
// the section it checks. Requests go through real sockets to origins that
// count what reaches them; time moves only by the test clock.

// originTTLPolicy caches by the origin's headers alone (MinTTL 0,
// DefaultTTL 0, MaxTTL a year, as UseOriginCacheControlHeaders, but with
// nothing in the key: that one forwards cookies, which turns collapsing off).
const originTTLPolicy = `
cachePolicies:
  - Id: 00000000-0000-0000-0000-000000009111
    CachePolicyConfig:
      Name: origin-ttl
      MinTTL: 0
      DefaultTTL: 0
      MaxTTL: 31536000
      ParametersInCacheKeyAndForwardedToOrigin:
        EnableAcceptEncodingGzip: false
        HeadersConfig: {HeaderBehavior: none}
        CookiesConfig: {CookieBehavior: none}
        QueryStringsConfig: {QueryStringBehavior: none}`

// originCCSettings is a distribution whose default behaviour uses
// originTTLPolicy.
var originCCSettings = webSettings(originTTLPolicy, `      CustomErrorResponses: {Items: [{ErrorCode: 503, ErrorCachingMinTTL: 30}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-000000009111}
`)

// TestRFC9111Age: the origin's Age counts toward a response's age (RFC 9111
// §4.2.3), a miss passes it on and every answer from the cache carries Age
// (§5.1).
func TestRFC9111Age(t *testing.T) {
	type step struct {
		advance time.Duration
		xcache  string // "" for any
		age     string // "-" for no Age header
	}
	cases := []struct {
		rule    string
		headers []string // the origin's, besides ETag
		steps   []step
		origin  int64 // requests the origin got in all
	}{
		{"§4.2.3: stored with Age 7200 and max-age 3600, it is already stale",
			[]string{"Cache-Control", "max-age=3600", "Age", "7200"},
			[]step{{0, "Miss from cloudfront", "7200"}, {0, "RefreshHit from cloudfront", "0"}}, 2},
		{"§4.2.3: max-age 600 with Age 500 is fresh for 100 s more",
			[]string{"Cache-Control", "max-age=600", "Age", "500"},
			[]step{{0, "Miss from cloudfront", "500"}, {90 * time.Second, "Hit from cloudfront", "590"}, {20 * time.Second, "RefreshHit from cloudfront", "0"}}, 2},
		{"§4.2.3: s-maxage less Age",
			[]string{"Cache-Control", "s-maxage=60, max-age=3600", "Age", "59"},
			[]step{{0, "Miss from cloudfront", "59"}, {2 * time.Second, "RefreshHit from cloudfront", "0"}}, 2},
		{"§5.1: a miss without Age gets none; a hit counts from the fetch",
			[]string{"Cache-Control", "max-age=600"},
			[]step{{0, "Miss from cloudfront", "-"}, {7 * time.Second, "Hit from cloudfront", "7"}}, 1},
		{"§5.1: a hit's Age is the origin's Age plus the time in the cache",
			[]string{"Cache-Control", "max-age=600", "Age", "100"},
			[]step{{0, "Miss from cloudfront", "100"}, {10 * time.Second, "Hit from cloudfront", "110"}}, 1},
		{"§5.1: of an invalid Age nothing counts, and it is passed on as it came",
			[]string{"Cache-Control", "max-age=600", "Age", "ten"},
			[]step{{0, "Miss from cloudfront", "ten"}, {10 * time.Second, "Hit from cloudfront", "10"}}, 1},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") == `"v1"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				for i := 0; i+1 < len(c.headers); i += 2 {
					w.Header().Set(c.headers[i], c.headers[i+1])
				}
				w.Header().Set("ETag", `"v1"`)
				io.WriteString(w, "object")
			})
			e := newEdge(t, originCCSettings, map[string]string{"web": o.URL})
			for i, s := range c.steps {
				e.clock.Advance(s.advance)
				r := e.do("GET", "/age")
				if r.status != 200 || r.body != "object" {
					t.Fatalf("request %d: %d %q", i+1, r.status, r.body)
				}
				if s.xcache != "" && r.xcache() != s.xcache {
					t.Errorf("request %d: X-Cache %q, want %q", i+1, r.xcache(), s.xcache)
				}
				age, has := r.header["Age"]
				switch {
				case s.age == "-" && has:
					t.Errorf("request %d: Age %q, want none", i+1, age)
				case s.age != "-" && (len(age) != 1 || age[0] != s.age):
					t.Errorf("request %d: Age %q, want %q", i+1, age, s.age)
				}
			}
			if n := o.hits.Load(); n != c.origin {
				t.Errorf("origin requests %d, want %d", n, c.origin)
			}
		})
	}
}

// TestRFC9111AgeExpires: Expires counts from the origin's Date, and the
// origin's Age is subtracted from what that leaves (RFC 9111 §4.2.1,
// §4.2.3): an Expires an hour after Date with Age 3600 is already stale.
func TestRFC9111AgeExpires(t *testing.T) {
	var e *edge
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		now := e.clock.Now()
		w.Header().Set("Date", now.Format(http.TimeFormat))
		w.Header().Set("Expires", now.Add(time.Hour).Format(http.TimeFormat))
		w.Header().Set("Age", strings.TrimPrefix(r.URL.Path, "/expires/"))
		io.WriteString(w, "object")
	})
	e = newEdge(t, originCCSettings, map[string]string{"web": o.URL})
	for _, c := range []struct {
		rule, age string
		hit       bool
	}{
		{"§4.2.3: Expires one hour after Date, Age 3600: stale", "3600", false},
		{"§4.2.3: Expires one hour after Date, Age 3000: fresh", "3000", true},
	} {
		t.Run(c.rule, func(t *testing.T) {
			path := "/expires/" + c.age
			e.do("GET", path)
			e.clock.Advance(time.Second)
			r := e.do("GET", path)
			if got := r.xcache() == "Hit from cloudfront"; got != c.hit {
				t.Errorf("second request %q, want hit=%v", r.xcache(), c.hit)
			}
		})
	}
}

// TestRFC9111InvalidExpires: an Expires that is not exactly an HTTP-date,
// or that comes twice, means already expired (RFC 9111 §5.3, RFC 9110
// §5.6.7): the next request asks the origin again.
func TestRFC9111InvalidExpires(t *testing.T) {
	const valid = "Thu, 26 Nov 2026 12:00:00 GMT" // a day after the test clock's now
	cases := []struct {
		rule    string
		expires []string
		hit     bool
	}{
		{"§5.6.7: a valid IMF-fixdate is honoured (control)", []string{valid}, true},
		{"§5.6.7: the obsolete RFC 850 form is honoured", []string{"Thursday, 26-Nov-26 12:00:00 GMT"}, true},
		{"§5.6.7: the obsolete asctime form is honoured", []string{"Thu Nov 26 12:00:00 2026"}, true},
		{"§5.3: a one-digit hour is already expired", []string{"Thu, 26 Nov 2026 9:00:00 GMT"}, false},
		{"§5.3: an extra space is already expired", []string{"Thu,  26 Nov 2026 12:00:00 GMT"}, false},
		{"§5.3: a zone other than GMT is already expired", []string{"Thu, 26 Nov 2026 12:00:00 +0000"}, false},
		{"§5.3: a number is already expired", []string{"0"}, false},
		{"§5.3: two Expires fields are already expired", []string{valid, valid}, false},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			var e *edge
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", e.clock.Now().Format(http.TimeFormat)) // the origin's clock is the test's
				w.Header()["Expires"] = c.expires
				io.WriteString(w, "object")
			})
			e = newEdge(t, originCCSettings, map[string]string{"web": o.URL})
			e.do("GET", "/x")
			r := e.do("GET", "/x")
			if got := r.xcache() == "Hit from cloudfront"; got != c.hit {
				t.Errorf("second request %q, want hit=%v", r.xcache(), c.hit)
			}
			want := map[bool]int64{true: 1, false: 2}[c.hit]
			if n := o.hits.Load(); n != want {
				t.Errorf("origin requests %d, want %d", n, want)
			}
		})
	}
}

// TestRFC9111AgeCollapsed: viewers collapsed onto a miss are answered from
// the cache, so they get Age (RFC 9111 §5.1): the origin's Age plus the
// time since the fetch began; the leader gets the origin's Age as it came.
func TestRFC9111AgeCollapsed(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 8)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Age", "30")
		io.WriteString(w, "object")
	})
	reg := prometheus.NewRegistry()
	e := newEdgeWith(t, originCCSettings, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Registry = reg })
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // before the edge's and the origin's Close, which wait for the fetch
	leader := make(chan response, 1)
	go func() { leader <- e.do("GET", "/c") }()
	<-arrived // the leader's fetch is under way
	const waiters = 3
	got := make(chan response, waiters)
	for range waiters {
		go func() { got <- e.do("GET", "/c") }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for collapsedRequests(t, reg) < waiters {
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d viewers collapsed", collapsedRequests(t, reg), waiters)
		}
		runtime.Gosched()
	}
	e.clock.Advance(5 * time.Second)
	open()
	if r := <-leader; r.header.Get("Age") != "30" || r.xcache() != "Miss from cloudfront" {
		t.Errorf("leader: Age %q, %q; want the origin's 30, a miss", r.header.Get("Age"), r.xcache())
	}
	for range waiters {
		if r := <-got; r.header.Get("Age") != "35" || r.xcache() != "Hit from cloudfront" {
			t.Errorf("collapsed viewer: Age %q, %q; want 35, a hit", r.header.Get("Age"), r.xcache())
		}
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin requests %d, want 1", n)
	}
}

// TestRFC9111AgeStale: a stale object served in place of a failing origin
// carries its Age (RFC 9111 §5.1; HTTPStatusCodes: CloudFront serves the
// cached object when the origin answers 5xx), on the request that found
// the origin failing and on those answered stale without asking it.
func TestRFC9111AgeStale(t *testing.T) {
	var failing atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Age", "4")
		io.WriteString(w, "object")
	})
	e := newEdge(t, originCCSettings, map[string]string{"web": o.URL})
	e.do("GET", "/s")
	failing.Store(true)
	e.clock.Advance(20 * time.Second)
	for i, want := range []string{"24", "26"} {
		r := e.do("GET", "/s")
		if r.status != 200 || r.body != "object" || r.xcache() != "Hit from cloudfront" {
			t.Fatalf("stale request %d: %d %q %q", i+1, r.status, r.body, r.xcache())
		}
		if age := r.header.Get("Age"); age != want {
			t.Errorf("stale request %d: Age %q, want %s", i+1, age, want)
		}
		e.clock.Advance(2 * time.Second)
	}
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin requests %d, want 2 (the second stale answer does not ask: ErrorCachingMinTTL)", n)
	}
}

// interimTrace sends GET path on c and records the informational
// responses the client saw before the final one.
func (e *edge) interimTrace(c *http.Client, base, path string) (interim []string, r response) {
	e.t.Helper()
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		mu.Lock()
		interim = append(interim, strconv.Itoa(code)+" "+h.Get("Link"))
		mu.Unlock()
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	mu.Lock()
	defer mu.Unlock()
	return interim, response{status: resp.StatusCode, header: resp.Header, body: string(b), proto: resp.Proto}
}

// TestRFC9110Interim: an origin's 103 Early Hints (and other 1xx but 100
// and 101) reach the viewer that caused the origin request, over HTTP/1.1
// and HTTP/2, before the final answer; they are never stored, so a hit has
// none (RFC 9110 §15.2: a proxy forwards 1xx responses; RFC 8297).
func TestRFC9110Interim(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Link", "</app.js>; rel=preload; as=script")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, "page")
	})
	e := newEdge(t, webSettings(originTTLPolicy, `      CacheBehaviors:
        Items:
          - {PathPattern: "/pass/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 00000000-0000-0000-0000-000000009111}
`), map[string]string{"web": o.URL})
	hints := []string{"103 </app.css>; rel=preload; as=style", "103 </app.js>; rel=preload; as=script"}
	cases := []struct {
		rule    string
		tls     bool
		path    string
		interim []string
		xcache  string
	}{
		{"§15.2: the leader of a miss gets the origin's 103s, HTTP/1.1", false, "/h1", hints, "Miss from cloudfront"},
		{"§15.2: 1xx are not stored: a hit has none, HTTP/1.1", false, "/h1", nil, "Hit from cloudfront"},
		{"§15.2: the leader of a miss gets the origin's 103s, HTTP/2", true, "/h2", hints, "Miss from cloudfront"},
		{"§15.2: 1xx are not stored: a hit has none, HTTP/2", true, "/h2", nil, "Hit from cloudfront"},
		{"§15.2: a request that is not cached gets them, HTTP/1.1", false, "/pass/a", hints, "Miss from cloudfront"},
		{"§15.2: a request that is not cached gets them, HTTP/2", true, "/pass/b", hints, "Miss from cloudfront"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			cl, base := e.client, e.http.URL
			if c.tls {
				cl, base = e.tclient, e.https.URL
			}
			interim, r := e.interimTrace(cl, base, c.path)
			if strings.Join(interim, "|") != strings.Join(c.interim, "|") {
				t.Errorf("interim responses %q, want %q", interim, c.interim)
			}
			if r.status != 200 || r.body != "page" || r.xcache() != c.xcache || r.header.Get("Link") != "" {
				t.Errorf("final: %d %q %q, Link %q", r.status, r.body, r.xcache(), r.header.Get("Link"))
			}
			if c.tls && r.proto != "HTTP/2.0" {
				t.Errorf("proto %s, want HTTP/2.0", r.proto)
			}
		})
	}
	if n := o.hits.Load(); n != 4 {
		t.Errorf("origin requests %d, want 4 (two misses, two not cached)", n)
	}
}

// TestRFC9112TransferCoding: an origin response with a transfer coding
// other than chunked (RFC 9112 §6.1; here "gzip, chunked", which edgefront
// cannot decode) is not a response edgefront can read: the viewer gets
// CloudFront's 502 (http-502-bad-gateway; RequestAndResponseBehavior-
// CustomOrigin: CloudFront supports only the chunked transfer coding),
// cached like any origin failure, and the reason is logged once.
func TestRFC9112TransferCoding(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				requests.Add(1)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"+
					"5\r\nhello\r\n0\r\n\r\n")
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	var logs lockedBuffer
	e := newEdgeWith(t, originCCSettings, map[string]string{"web": "http://" + ln.Addr().String()}, func(o *proxy.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	for i := range 2 {
		r := e.do("GET", "/te")
		if r.status != http.StatusBadGateway || r.xcache() != "Error from cloudfront" {
			t.Errorf("request %d: %d %q, want CloudFront's 502", i+1, r.status, r.xcache())
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("origin requests %d, want 1 (the 502 is cached for ErrorCachingMinTTL, not retried)", n)
	}
	if n := strings.Count(logs.String(), "unsupported transfer encoding"); n != 1 {
		t.Errorf("the reason was logged %d times, want once:\n%s", n, logs.String())
	}
}
