package proxy_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/proxy"
)

// counterValue reads a counter (the first series with the given label
// value, or the only one) from reg; 0 when absent.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestOriginBodyFailureRecorded: an origin that promises 100,000 bytes and
// hangs up after 1,000 gives the viewer a cut response (never a complete
// one), is counted in edgefront_origin_body_errors_total, and stores
// nothing: the next viewer is a miss again.
func TestOriginBodyFailureRecorded(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(200)
		w.Write(bytes.Repeat([]byte("x"), 1000))
		w.(http.Flusher).Flush()
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	reg := prometheus.NewRegistry()
	e := newEdgeWith(t, oneOrigin, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Registry = reg })
	for i := range 2 {
		req, _ := http.NewRequest("GET", e.http.URL+"/cut", nil)
		req.Host = "d111111abcdef8.cloudfront.net"
		resp, err := e.client.Do(req)
		if err != nil {
			continue // cut before the headers went out
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil || n >= 100000 {
			t.Errorf("viewer %d read %d bytes without an error: a cut body must not look complete", i, n)
		}
		if x := resp.Header.Get("X-Cache"); x != "Miss from cloudfront" {
			t.Errorf("viewer %d: %q, want a miss (nothing stored)", i, x)
		}
	}
	if v := counterValue(t, reg, "edgefront_origin_body_errors_total", "web"); v != 2 {
		t.Errorf("edgefront_origin_body_errors_total{origin=web} = %v, want 2", v)
	}
}

// TestCompressedOverMaxObjectSizeNotStored: a body that compresses to more
// than the largest object the cache stores is served compressed, but not
// stored.
func TestCompressedOverMaxObjectSizeNotStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	text := make([]byte, 8000) // random letters: gzip keeps most of it
	for i := range text {
		text[i] = 'a' + byte(rng.IntN(26))
	}
	o := newOrigin(t, static(string(text), "Cache-Control", "max-age=600", "Content-Type", "text/plain", "Content-Length", strconv.Itoa(len(text))))
	settings := "cache: {size: 32MiB, maxObjectSize: 2KiB}\n" + webSettings("",
		"      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized, Compress: true}\n")
	e := newEdge(t, settings, map[string]string{"web": o.URL})
	for i := range 2 {
		r := e.do("GET", "/big.txt", "Host", "d111111abcdef8.cloudfront.net", "Accept-Encoding", "gzip")
		if r.header.Get("Content-Encoding") != "gzip" || len(r.body) <= 2048 {
			t.Fatalf("viewer %d: Content-Encoding %q, %d bytes", i, r.header.Get("Content-Encoding"), len(r.body))
		}
		zr, err := gzip.NewReader(bytes.NewReader([]byte(r.body)))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, text) {
			t.Fatalf("viewer %d: the body does not decompress to the object (%v)", i, err)
		}
		if r.xcache() != "Miss from cloudfront" {
			t.Errorf("viewer %d: %q, want a miss: %s compressed bytes exceed maxObjectSize 2 KiB", i, r.xcache(), strconv.Itoa(len(r.body)))
		}
	}
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin requests %d, want 2 (nothing stored)", n)
	}
}
