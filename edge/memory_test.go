package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// TestMemoryBound: a run that tries to allocate about 100 MB fails with an
// execution error (503) naming the memory, without the process keeping
// that memory, and the function's next run works — in one step (a builtin
// asked for too much at once: refused before it allocates) or step by step
// (the watchdog sees the process's allocations grow). Both runtimes.
func TestMemoryBound(t *testing.T) {
	tests := []struct{ name, runtime, code string }{
		{"String.repeat", config.FunctionRuntime1, `'x'.repeat(100 * 1024 * 1024)`},
		{"padStart", config.FunctionRuntime1, `''.padStart(100 * 1024 * 1024, 'x')`},
		{"padEnd caught", config.FunctionRuntime1, `(function () { try { return ''.padEnd(100 * 1024 * 1024); } catch (e) { return 'caught'; } })()`},
		{"Array.join", config.FunctionRuntime1, `new Array(100 * 1024 * 1024).join('x')`},
		{"Array.fill", config.FunctionRuntime1, `new Array(20 * 1024 * 1024).fill(0)`},
		{"a typed array", config.FunctionRuntime1, `new Uint8Array(100 * 1024 * 1024)`},
		{"an ArrayBuffer", config.FunctionRuntime2, `new ArrayBuffer(100 * 1024 * 1024)`},
		{"Float64Array", config.FunctionRuntime2, `new Float64Array(13 * 1024 * 1024)`},
		{"Buffer.alloc", config.FunctionRuntime2, `Buffer.alloc(100 * 1024 * 1024)`},
		{"Buffer.allocUnsafe", config.FunctionRuntime2, `Buffer.allocUnsafe(100 * 1024 * 1024)`},
		{"Buffer.from an array-like", config.FunctionRuntime2, `Buffer.from({length: 100 * 1024 * 1024})`},
		{"Buffer.concat", config.FunctionRuntime2, `(function () { var b = Buffer.alloc(1024 * 1024); return Buffer.concat([b, b, b]); })()`},
		{"a string doubled in a loop", config.FunctionRuntime1, `(function () { var s = 'x'; for (var i = 0; i < 40; i++) { s = s + s; } return s.length; })()`},
		{"an array grown in a loop", config.FunctionRuntime2, `(function () { var a = []; for (var i = 0; i < 1e8; i++) { a.push({i: i, s: 'item ' + i}); } return a.length; })()`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := inline(t, fmt.Sprintf("mem%d", i), tt.runtime,
				"function handler(event) { if (event.request.uri === '/big') { var v = "+tt.code+"; return {statusCode: 200, body: String(v)}; } return {statusCode: 200, body: 'ok'}; }")
			cfg := &config.Config{Functions: map[string]*config.Function{fn.ARN: fn}}
			// A long budget: the memory bound, not the clock, must end the run.
			rt, err := New(cfg, Options{Budget: time.Minute, AllocLimit: 64 << 20})
			if err != nil {
				t.Fatal(err)
			}
			_, err = generatedBy(rt, fn, httptest.NewRequest("GET", "/big", nil))
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != ExecutionError || fe.Status() != 503 || !errors.Is(err, errMemory) {
				t.Fatalf("err = %v, want a 503 FunctionExecutionError for memory", err)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > 256<<20 {
				t.Errorf("the heap holds %d MB after the failed run", ms.HeapAlloc>>20)
			}
			if resp, err := generatedBy(rt, fn, httptest.NewRequest("GET", "/", nil)); err != nil || string(resp.Body) != "ok" {
				t.Errorf("the next run: %v %v", resp, err)
			}
		})
	}
	// What stays under the bound runs.
	fn := inline(t, "fits", config.FunctionRuntime2, `function handler(event) {
	var b = Buffer.alloc(1024 * 1024, 'a'), s = 'y'.repeat(1024 * 1024), a = new Array(1000).fill(1);
	return {statusCode: 200, body: [b.length, s.length, a.length].join(',')};
}`)
	resp, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/", nil))
	if err != nil || string(resp.Body) != "1048576,1048576,1000" {
		t.Errorf("1 MB each: %v %v", resp, err)
	}
}

// TestMemoryUnderConcurrency: 64 × 10 goroutines streaming requests through
// one function share its pool of VMs (idle ones are bounded), none fails
// (the allocation watchdog must not mistake the others' work for a run's),
// and the heap after them stays bounded: measured with runtime.MemStats
// (HeapAlloc after a GC), not with a clock.
func TestMemoryUnderConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("640 goroutines")
	}
	fn := fixture(t, "index-html.js", config.FunctionRuntime1)
	cfg := &config.Config{Functions: map[string]*config.Function{fn.ARN: fn}}
	rt, err := New(cfg, Options{Budget: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const streams, perStream = 64 * 10, 20
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for g := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perStream {
				r := httptest.NewRequest("GET", fmt.Sprintf("http://example.com/s%d/r%d/", g, i), nil)
				if _, err := rt.ViewerRequest(context.Background(), fn, testInfo, r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	f := rt.byARN[fn.ARN]
	if n, c := f.pool.idle(); n > c || c != 2*runtime.GOMAXPROCS(0) {
		t.Errorf("pool %d of %d", n, c)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d runs on %d goroutines: heap %d KB before, %d KB after (%+d KB), %d idle VMs kept; heap from the OS %d MB, allocated in all %d MB",
		streams*perStream, streams, before.HeapAlloc>>10, after.HeapAlloc>>10, grown>>10, idleVMs(f), after.HeapSys>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
	if grown > 64<<20 {
		t.Errorf("the heap grew by %d MB", grown>>20)
	}
}

func idleVMs(f *function) int {
	n, _ := f.pool.idle()
	return n
}
