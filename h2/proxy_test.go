package h2

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// proxyServer is a proxy.Server in quick mode (CachingOptimized) in front
// of an origin answering body, cacheable for an hour.
func proxyServer(t testing.TB, body []byte, reg *prometheus.Registry) *proxy.Server {
	t.Helper()
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	}))
	t.Cleanup(o.Close)
	cfg, err := config.QuickMode{Origin: o.URL, CachePolicy: "CachingOptimized"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.New(cache.Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(proxy.Options{Store: store, Registry: reg,
		NodeID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// countingProxy counts how requests were served.
type countingProxy struct {
	*proxy.Server
	reg        *prometheus.Registry
	fast, slow atomic.Int64
}

func (p *countingProxy) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	ok := p.Server.ServeFast(w, r)
	if ok {
		p.fast.Add(1)
	}
	return ok
}

// settle waits until the proxy has no origin fetch under way
// (edgefront_origin_fetches_in_flight is 0): a miss's viewer can have its
// whole answer before the fetch has stored it, and a request sent meanwhile
// joins the fetch (a hit, from a handler) rather than finding the stored
// object (a hit from the reader).
func (p *countingProxy) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mfs, err := p.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		pending := -1.0
		for _, mf := range mfs {
			if mf.GetName() == "edgefront_origin_fetches_in_flight" {
				pending = mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("origin fetches still in flight after 5s: %v", pending)
		}
		runtime.Gosched()
	}
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.slow.Add(1)
	p.Server.ServeHTTP(w, r)
}

// TestProxyFastPath: through the proxy, a miss is served by a handler
// goroutine, and the hits after it from the reader (ServeFast), with the
// same headers a handler would send.
func TestProxyFastPath(t *testing.T) {
	body := bytes.Repeat([]byte("k"), 1<<10)
	reg := prometheus.NewRegistry()
	p := &countingProxy{Server: proxyServer(t, body, reg), reg: reg}
	ts := newTestServer(t, p)
	c := ts.client()
	tests := []struct {
		name, path, xcache string
		fast, slow         int64 // counts after the request
	}{
		{"miss", "/obj", "Miss from cloudfront", 0, 1},
		{"hit", "/obj", "Hit from cloudfront", 1, 1},
		{"hit again", "/obj", "Hit from cloudfront", 2, 1},
		{"other object: miss", "/other", "Miss from cloudfront", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Get(ts.url(tt.path))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			p.settle(t)
			if res.StatusCode != 200 || !bytes.Equal(got, body) {
				t.Fatalf("%d, %d bytes", res.StatusCode, len(got))
			}
			if g := res.Header.Get("X-Cache"); g != tt.xcache {
				t.Errorf("X-Cache %q, want %q", g, tt.xcache)
			}
			if g := res.Header.Get("Via"); g != "2.0 0123456789abcdef0123456789abcdef.cloudfront.net (CloudFront)" {
				t.Errorf("Via %q", g)
			}
			if g := res.Header.Get("Content-Length"); g != "1024" {
				t.Errorf("Content-Length %q", g)
			}
			if f, s := p.fast.Load(), p.slow.Load(); f != tt.fast || s != tt.slow {
				t.Errorf("served fast %d, by handler %d; want %d, %d", f, s, tt.fast, tt.slow)
			}
		})
	}
}

// proxyFromYAML is a proxy.Server on an edgefront settings document whose
// "{{web}}" is an origin answering body, cacheable for an hour.
func proxyFromYAML(t testing.TB, settings string, body []byte, reg *prometheus.Registry) *proxy.Server {
	t.Helper()
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	}))
	t.Cleanup(o.Close)
	cfg, err := config.Parse("test.yaml", []byte(strings.ReplaceAll(settings, "{{web}}", o.URL)))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.New(cache.Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(proxy.Options{Store: store, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

const fastDist = `
distributions:
  - id: EFAST0000001
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: fast
      Enabled: true
      Aliases: {Items: [www.example.com]}
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
%s
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6,
        AllowedMethods: {Items: [GET, HEAD, OPTIONS], CachedMethods: {Items: [GET, HEAD]}}}
`

// TestProxyFastDecisions: which requests proxy.ServeFast answers in the
// reader — hits and errors edgefront makes — and which it leaves to a
// handler goroutine: misses, requests it cannot cache, and everything on
// a distribution with custom error pages (those are fetched).
func TestProxyFastDecisions(t *testing.T) {
	body := []byte("object")
	pages := `      CustomErrorResponses:
        Items:
          - {ErrorCode: 404, ResponsePagePath: /404.html, ResponseCode: "404"}`
	tests := []struct {
		name, extra string
		reqs        []struct{ method, host, path string }
		status      []int
		fast        int64
	}{
		{name: "miss then hits", reqs: []struct{ method, host, path string }{
			{"GET", "www.example.com", "/a"}, {"GET", "www.example.com", "/a"}, {"HEAD", "www.example.com", "/a"}},
			status: []int{200, 200, 200}, fast: 2},
		{name: "unknown host: 403 made by the edge", reqs: []struct{ method, host, path string }{
			{"GET", "nobody.example", "/a"}},
			status: []int{403}, fast: 1},
		{name: "not cacheable: handler", reqs: []struct{ method, host, path string }{
			{"DELETE", "www.example.com", "/a"}},
			status: []int{403}, fast: 0},
		{name: "custom error pages: handler", extra: pages, reqs: []struct{ method, host, path string }{
			{"GET", "www.example.com", "/a"}, {"GET", "www.example.com", "/a"}},
			status: []int{200, 200}, fast: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			p := &countingProxy{Server: proxyFromYAML(t, fmt.Sprintf(fastDist, tt.extra), body, reg), reg: reg}
			ts := newTestServer(t, p)
			rc := ts.dial(t)
			for i, q := range tt.reqs {
				id := uint32(2*i + 1)
				_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndStream: true, EndHeaders: true,
					BlockFragment: rc.block(":method", q.method, ":scheme", "https", ":path", q.path, ":authority", q.host)})
				l := rc.read(untilEnded(id))
				if r := l.streams[id]; r.status != fmt.Sprint(tt.status[i]) {
					t.Fatalf("%s %s%s: %+v", q.method, q.host, q.path, r)
				}
				p.settle(t)
			}
			if got := p.fast.Load(); got != tt.fast {
				t.Errorf("answered in the reader %d, want %d (handlers: %d)", got, tt.fast, p.slow.Load())
			}
		})
	}
}
