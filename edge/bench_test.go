package edge

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/edgefront/edgefront/config"
)

// BenchmarkViewerRequestHit is one run of bench/rewrite.js, the function
// of the hit-1k-fn scenario, on a request as a load generator sends it: a
// few headers, a query string and a cookie. The request is reset, not
// rebuilt, between runs, as the proxy hands over a request it parsed.
func BenchmarkViewerRequestHit(b *testing.B) {
	code, err := os.ReadFile(filepath.Join("..", "bench", "rewrite.js"))
	if err != nil {
		b.Fatal(err)
	}
	fn := inline(b, "rewrite", config.FunctionRuntime1, string(code))
	rt := runtimeFor(b, nil, fn)
	r, err := http.NewRequest("GET", "http://d111111abcdef8.cloudfront.net/fn/obj/1k?v=1&lang=en", nil)
	if err != nil {
		b.Fatal(err)
	}
	r.Header = http.Header{
		"User-Agent":      {"edgefront-bench/1"},
		"Accept":          {"*/*"},
		"Accept-Encoding": {"gzip, br"},
		"Cookie":          {"session=abc123"},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.URL.Path, r.URL.RawPath = "/fn/obj/1k", ""
		out, err := rt.ViewerRequest(ctx, fn, testInfo, r)
		if err != nil || out.Response != nil || r.URL.Path != "/obj/1k" {
			b.Fatal(err, r.URL.Path)
		}
	}
}

// TestEventSize: a viewer-request event is one allocation of 896 bytes or
// less on a 64-bit machine (record.go's eventSlots says why 888 is the
// bound): every run of every viewer-request function makes one.
func TestEventSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit machines")
	}
	if n := unsafe.Sizeof(viewerEvent{}); n > 888 {
		t.Errorf("a viewer-request event is %d bytes, over 888: its allocation is in the size class of 1024", n)
	}
}
