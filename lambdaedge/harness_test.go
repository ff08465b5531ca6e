package lambdaedge_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/lambdaedge"
	"github.com/edgefront/edgefront/proxy"
)

// requireRuntimes fails (never skips) a test when node or python3 is
// missing: CI installs both (.ci/run).
func requireRuntimes(t *testing.T) {
	t.Helper()
	for _, exe := range []string{"node", "python3"} {
		if _, err := exec.LookPath(exe); err != nil {
			t.Fatalf("%s is not installed: the Lambda@Edge tests run real workers (.ci/run installs nodejs and python3)", exe)
		}
	}
}

// origin is a loopback origin that counts requests by path.
type origin struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string]int
	seen   map[string]*http.Request
	bodies map[string]string
}

func newOrigin(t *testing.T, name string) *origin {
	o := &origin{hits: map[string]int{}, seen: map[string]*http.Request{}, bodies: map[string]string{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.hits[r.URL.Path]++
		o.seen[r.URL.Path] = r
		o.bodies[r.URL.Path] = string(body)
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=600")
		if strings.Contains(r.URL.Path, "missing") {
			w.WriteHeader(http.StatusNotFound)
		}
		io.WriteString(w, name+" "+r.URL.RequestURI())
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

func (o *origin) request(path string) (*http.Request, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[path], o.bodies[path]
}

// edge is a proxy.Server running an Engine's hooks over a real socket.
type edge struct {
	t       *testing.T
	srv     *httptest.Server
	engine  *lambdaedge.Engine
	host    string
	mu      sync.Mutex
	invoked map[string]int // by function ARN
	kinds   map[string]int // by failure kind
	closed  atomic.Bool
}

// newEdge starts an edge for settings, where {{web}}, {{api}} and
// {{testdata}} are replaced by the origins' URLs and the testdata
// directory.
func newEdge(t *testing.T, settings string, web, api *origin) *edge {
	t.Helper()
	requireRuntimes(t)
	td, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	settings = strings.NewReplacer("{{web}}", web.URL, "{{api}}", api.URL, "{{testdata}}", td).Replace(settings)
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "edgefront.yaml"), []byte(settings))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	e := &edge{t: t, host: cfg.Distributions[0].DomainName, invoked: map[string]int{}, kinds: map[string]int{}}
	e.engine, err = lambdaedge.New(context.Background(), cfg, lambdaedge.Options{Dir: t.TempDir(), MaxWorkers: 2,
		Observe: func(arn string, _ time.Duration, kind string) {
			e.mu.Lock()
			e.invoked[arn]++
			e.kinds[kind]++
			e.mu.Unlock()
		}}, nil)
	if err != nil {
		t.Fatalf("lambdaedge.New: %v", err)
	}
	t.Cleanup(func() {
		pids := e.engine.WorkerPIDs()
		e.engine.Close()
		checkGone(t, pids)
	})
	store, err := cache.New(cache.Options{MaxBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	hooks := proxy.Hooks{}
	for p := proxy.ViewerRequest; p <= proxy.ViewerResponse; p++ {
		hooks[p] = e.engine.Run
	}
	srv, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry(), Hooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e.srv = httptest.NewServer(srv)
	t.Cleanup(e.srv.Close)
	return e
}

// checkGone fails t when one of pids is still a running process.
func checkGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("worker process %d outlived Close", pid)
		}
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) xcache() string { return a.header.Get("X-Cache") }

// do sends a request through the edge.
func (e *edge) do(method, path, body string, header ...string) answer {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = e.host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *edge) invocations(arn string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.invoked[arn]
}
