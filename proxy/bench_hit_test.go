package proxy_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
	"github.com/edgefront/edgefront/proxy"
)

// discardWriter is a ResponseWriter that throws the response away. Its
// header map is reused (cleared per request), so that allocs/op counts what
// the handler allocates, not what net/http's response would.
type discardWriter struct {
	h        http.Header
	status   int
	n        int
	rendered fields.Rendered
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// SetRendered takes a cached object's rendered fields, as h1's and h2's
// writers do (fields.RenderedWriter).
func (w *discardWriter) SetRendered(f fields.Rendered, _ int64) { w.rendered = f }

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n, w.rendered = 0, 0, fields.Rendered{}
}

// quickServer is a proxy.Server in quick mode (CachingOptimized) in front
// of a real origin that answers every request with body and
// Cache-Control: public, max-age=3600 (and etag, when set).
func quickServer(b *testing.B, body []byte, etag string, cacheBytes int64) *proxy.Server {
	b.Helper()
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		_, _ = w.Write(body)
	}))
	b.Cleanup(o.Close)
	cfg, err := config.QuickMode{Origin: o.URL, CachePolicy: "CachingOptimized"}.Config()
	if err != nil {
		b.Fatal(err)
	}
	store, err := cache.New(cache.Options{MaxBytes: cacheBytes})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry(), NodeID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// hitServer is a quickServer of 1 KiB objects with /obj/1k already in its
// cache.
func hitServer(b *testing.B) *proxy.Server {
	b.Helper()
	body := bytes.Repeat([]byte("x"), 1<<10)
	srv := quickServer(b, body, `"obj-1k"`, 64<<20)

	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		w := &discardWriter{h: http.Header{}}
		srv.ServeHTTP(w, hitRequest())
		if w.status != http.StatusOK || w.n != len(body) || w.h.Get("X-Cache") != want {
			b.Fatalf("warm-up request %d: status %d, %d bytes, X-Cache %q; want 200, %d bytes, %q",
				i+1, w.status, w.n, w.h.Get("X-Cache"), len(body), want)
		}
	}
	return srv
}

// hitRequest is what wrk sends: GET /obj/1k, no Accept-Encoding.
func hitRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/obj/1k", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

func checkHit(b *testing.B, w *discardWriter) {
	if w.status != http.StatusOK || w.n != 1<<10 || !strings.HasPrefix(w.h.Get("X-Cache"), "Hit") {
		b.Errorf("not a hit: status %d, %d bytes, X-Cache %q", w.status, w.n, w.h.Get("X-Cache"))
	}
}

// BenchmarkHit1K is one 1 KiB cache hit through ServeHTTP; allocs/op is the
// handler's own (the ResponseWriter and the request are reused).
func BenchmarkHit1K(b *testing.B) {
	srv := hitServer(b)
	w := &discardWriter{h: make(http.Header, 16)}
	r := hitRequest()
	b.ReportAllocs()
	b.SetBytes(1 << 10)
	for b.Loop() {
		w.reset()
		srv.ServeHTTP(w, r)
	}
	checkHit(b, w)
}

// BenchmarkHit1KParallel is BenchmarkHit1K from GOMAXPROCS goroutines at
// once (shared store, metrics, pools).
func BenchmarkHit1KParallel(b *testing.B) {
	srv := hitServer(b)
	b.ReportAllocs()
	b.SetBytes(1 << 10)
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header, 16)}
		r := hitRequest()
		for pb.Next() {
			w.reset()
			srv.ServeHTTP(w, r)
		}
		if w.status != 0 {
			checkHit(b, w)
		}
	})
}
