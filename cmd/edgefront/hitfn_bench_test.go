package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// BenchmarkHit1KFunction is bench's hit-1k-fn in process: one server, as
// bench configures it (the default behaviour without a function, /fn/*
// with bench/rewrite.js at viewer-request, the hooks wired as serve wires
// them), and a 1 KiB hit through ServeHTTP without and with the function
// (/fn/obj/1k is rewritten to the cached /obj/1k). The ratio of the two
// is what hit-1k-fn measures, without the sockets, the load generator
// and their noise; allocs/op are the handler's and the hook's.
func BenchmarkHit1KFunction(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1<<10)
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(body)
	}))
	b.Cleanup(o.Close)
	// bench's hit-1k-fn settings, whose codeFile is read beside them.
	name, err := filepath.Abs("../../bench/functions.yaml")
	if err != nil {
		b.Fatal(err)
	}
	settings, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse(name, bytes.ReplaceAll(settings, []byte("@ORIGIN@"), []byte(o.URL)))
	if err != nil {
		b.Fatal(err)
	}
	store, err := cache.New(cache.Options{MaxBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler) // a run a busy machine stretches past the budget is a 503, not a line
	p, err := proxy.New(proxy.Options{Store: store, Registry: reg, Logger: log, NodeID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(); store.Close() })
	fh := &functionHooks{log: log, metrics: newFunctionMetrics(reg)}
	rt, err := fh.compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	fh.cur.Store(rt)
	p.SetHooks(fh.forConfig(cfg))
	if err := p.Load(cfg); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{{"without", "/obj/1k"}, {"with", "/fn/obj/1k"}} {
		b.Run(tc.name, func(b *testing.B) {
			w := &hitWriter{h: make(http.Header, 16)}
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+tc.path, nil)
			r.RemoteAddr = "127.0.0.1:40000"
			host := r.Host
			serve := func() {
				w.reset()
				r.URL.Path, r.URL.RawPath, r.Host = tc.path, "", host
				p.ServeHTTP(w, r)
			}
			serve() // a miss the first time
			serve()
			if w.status != http.StatusOK || w.n != len(body) || w.h.Get("X-Cache") != "Hit from cloudfront" {
				b.Fatalf("%s: status %d, %d bytes, X-Cache %q; want a 1 KiB hit", tc.path, w.status, w.n, w.h.Get("X-Cache"))
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				serve()
			}
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
			}
		})
	}
}

// hitWriter is a ResponseWriter that throws the response away, its header
// map reused.
type hitWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *hitWriter) Header() http.Header { return w.h }

func (w *hitWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *hitWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *hitWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}
