//go:build flightrss

package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFlightMemory measures the peak resident memory (VmHWM) of a proxy
// whose viewers read large objects slowly, for issue 11 item 6. It is a
// measurement, not part of the test suite (the build tag flightrss; .ci/run
// vets it): set EDGEFRONT_FLIGHT_RSS to one scenario's name, and run one
// scenario per process (VmHWM is the process's peak), without -race:
//
//	EDGEFRONT_FLIGHT_RSS=chunked300 go test -tags flightrss -count=1 -run TestFlightMemory -v ./proxy/
//
// Scenarios (every viewer waits idle, reading nothing, for idle, then
// reads the rest as fast as it can; the origin sends as fast as it is read):
//
//	chunked300  one viewer of a 300 MiB chunked object, cache 32 MiB
//	four100     four viewers of four 100 MiB objects (with a length), cache 256 MiB
//	collapsed16 sixteen viewers collapsed on one 300 MiB chunked object, cache
//	            32 MiB; half of them read at once, the others after idle
//	fast300     one viewer that reads a 300 MiB chunked object at once (its
//	            time is the streaming throughput), cache 32 MiB
func TestFlightMemory(t *testing.T) {
	name := os.Getenv("EDGEFRONT_FLIGHT_RSS")
	if name == "" {
		t.Fatal("set EDGEFRONT_FLIGHT_RSS to a scenario: chunked300, four100, collapsed16 or fast300")
	}
	const idle = 3 * time.Second
	type get struct {
		path  string
		size  int
		delay time.Duration
	}
	var cacheSize string
	var gets []get
	switch name {
	case "chunked300":
		cacheSize = "32MiB"
		gets = []get{{fmt.Sprintf("/chunked/%d/o", 300<<20), 300 << 20, idle}}
	case "fast300":
		cacheSize = "32MiB"
		gets = []get{{fmt.Sprintf("/chunked/%d/o", 300<<20), 300 << 20, 0}}
	case "four100":
		cacheSize = "256MiB"
		for i := range 4 {
			gets = append(gets, get{fmt.Sprintf("/length/%d/o%d", 100<<20, i), 100 << 20, idle})
		}
	case "collapsed16":
		cacheSize = "32MiB"
		for i := range 16 {
			d := time.Duration(0)
			if i%2 == 1 {
				d = idle
			}
			gets = append(gets, get{fmt.Sprintf("/chunked/%d/o", 300<<20), 300 << 20, d})
		}
	default:
		t.Fatalf("unknown scenario %q", name)
	}
	block := []byte(strings.Repeat("0123456789abcdef", 2<<10)) // 32 KiB
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /chunked/<size>/<name> or /length/<size>/<name>
		parts := strings.Split(r.URL.Path, "/")
		n, _ := strconv.Atoi(parts[2])
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "application/octet-stream")
		if parts[1] == "length" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		for n > 0 {
			m, err := w.Write(block[:min(n, len(block))])
			if err != nil {
				return
			}
			n -= m
		}
	}))
	t.Cleanup(origin.Close)
	e := newEdge(t, "cache: {size: "+cacheSize+"}\n"+oneOrigin, map[string]string{"web": origin.URL})
	start := time.Now()
	var wg sync.WaitGroup
	for _, g := range gets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.client.Get(e.http.URL + g.path)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			time.Sleep(g.delay) // a viewer that reads nothing for a while
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil || n != int64(g.size) {
				t.Errorf("%s: %d bytes of %d, %v", g.path, n, g.size, err)
			}
		}()
	}
	wg.Wait()
	t.Logf("scenario %s: %d viewers done in %v; peak RSS (VmHWM) %s", name, len(gets), time.Since(start).Round(time.Millisecond), vmHWM(t))
}

// vmHWM reads this process's peak resident set size.
func vmHWM(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "unknown"
}
