package h2

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// proxyServer is a proxy.Server in quick mode (CachingOptimized) in front
// of an origin answering body, cacheable for an hour.
func proxyServer(t testing.TB, body []byte) *proxy.Server {
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
	srv, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry(),
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
	fast, slow atomic.Int64
}

func (p *countingProxy) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	ok := p.Server.ServeFast(w, r)
	if ok {
		p.fast.Add(1)
	}
	return ok
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
	p := &countingProxy{Server: proxyServer(t, body)}
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
