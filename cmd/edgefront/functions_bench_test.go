package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// BenchmarkViewerRequestHook: the whole viewer-request hook path the proxy
// runs for a hit of bench's hit-1k-fn — the hook function, the runtime, the
// metrics — on a realistic request with eight headers. The request's URL
// and headers are restored between runs, outside the timer's concern: a
// restore is a few assignments.
func BenchmarkViewerRequestHook(b *testing.B) {
	code, err := os.ReadFile("../../bench/rewrite.js") // bench's hit-1k-fn function
	if err != nil {
		b.Fatal(err)
	}
	fn, err := config.NewFunction("rewrite", config.FunctionRuntime1, string(code))
	if err != nil {
		b.Fatal(err)
	}
	cfg := &config.Config{Functions: map[string]*config.Function{fn.ARN: fn}}
	fh := &functionHooks{log: slog.New(slog.DiscardHandler), metrics: newFunctionMetrics(prometheus.NewRegistry())}
	rt, err := fh.compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	fh.cur.Store(rt)
	hook := proxy.Hook(fh.viewerRequest)
	dist := &config.Distribution{ID: "EBENCHFUNCTION", DomainName: "d111111abcdef8.cloudfront.net"}
	beh := &config.Behavior{TargetOriginID: "origin", ViewerRequestFunction: fn}
	var failed atomic.Int64
	b.ReportAllocs()
	defer func() { b.ReportMetric(float64(failed.Load())/float64(b.N), "failed/op") }()
	b.RunParallel(func(pb *testing.PB) {
		r, err := http.NewRequest("GET", "http://127.0.0.1:8080/fn/a/b/c.bin", nil)
		if err != nil {
			b.Error(err)
			return
		}
		r.RemoteAddr = "127.0.0.1:54321"
		r.Header = http.Header{
			"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
			"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
			"Accept-Language": {"en-US,en;q=0.5"},
			"Accept-Encoding": {"gzip, deflate, br"},
			"Referer":         {"https://example.com/fn/"},
			"Cache-Control":   {"no-cache"},
			"Sec-Fetch-Mode":  {"navigate"},
			"Cookie":          {"session=abc123; theme=dark"},
		}
		path := r.URL.Path
		ev := &proxy.Event{Point: proxy.ViewerRequest, RequestID: "bench-request-id", Distribution: dist, Behavior: beh, Request: r}
		for pb.Next() {
			r.URL.Path, r.URL.RawPath = path, ""
			if err := hook(context.Background(), ev); err != nil {
				failed.Add(1)
			} else if r.URL.Path != "/a/b/c.bin" {
				b.Error(r.URL.Path)
				return
			}
		}
	})
}
