package origin

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// balancedOrigin is customOrigin over several endpoints with policy b.
func balancedOrigin(b *config.Balancing, endpoints ...string) *config.Origin {
	o := customOrigin("")
	o.Endpoints = endpoints
	o.Balancing = b
	// Generous timeouts: a slow machine must not turn into a failed attempt
	// that moves a request to another endpoint.
	o.ConnectionTimeout, o.Custom.ReadTimeout = 10*time.Second, 30*time.Second
	return o
}

// named answers with its name.
func named(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, name) }
}

// manualClock is a clock for the balancer's ejections.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pathHits counts the requests o got for path.
func (o *testOrigin) pathHits(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.reqs {
		if r.RequestURI == path {
			n++
		}
	}
	return n
}

func TestBalancingSpreadsRequests(t *testing.T) {
	tests := []struct {
		name      string
		balancing *config.Balancing
	}{
		{"default is round-robin", nil},
		{"round-robin", &config.Balancing{Policy: config.RoundRobin}},
		{"least-connections, sequential requests", &config.Balancing{Policy: config.LeastConnections}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestOrigin(t, false, named("a"))
			b := newTestOrigin(t, false, named("b"))
			c := newTestOrigin(t, false, named("c"))
			f := newFetcher(t, balancedOrigin(tt.balancing, a.URL, b.URL, c.URL))
			got := map[string]int{}
			for range 300 {
				_, body, err := fetchAll(context.Background(), f, get("/x"))
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				got[body]++
			}
			for _, name := range []string{"a", "b", "c"} {
				want(t, "requests to "+name, got[name], 100)
			}
			for _, o := range []*testOrigin{a, b, c} {
				want(t, "Host", o.last(t).Host, "origin.example.com")
			}
		})
	}
}

// TestLeastConnectionsAvoidsSlowEndpoints sends 20 requests one after the
// other to a fast endpoint and one that holds every request: round-robin
// gives the slow one half of them, least-connections only the first.
func TestLeastConnectionsAvoidsSlowEndpoints(t *testing.T) {
	tests := []struct {
		policy   string
		wantSlow int
	}{
		{config.RoundRobin, 10},
		{config.LeastConnections, 1},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			release := make(chan struct{})
			slow := newTestOrigin(t, false, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				_, _ = io.WriteString(w, "slow")
			})
			fast := newTestOrigin(t, false, named("fast"))
			f := newFetcher(t, balancedOrigin(&config.Balancing{Policy: tt.policy}, slow.URL, fast.URL))
			var fastDone atomic.Int32
			var wg sync.WaitGroup
			for i := 1; i <= 20; i++ {
				wg.Go(func() {
					_, body, err := fetchAll(context.Background(), f, get("/x"))
					if err != nil {
						t.Errorf("Fetch: %v", err)
					}
					if body == "fast" {
						fastDone.Add(1)
					}
				})
				// The next request starts once this one is at the slow
				// origin or done at the fast one.
				deadline := time.Now().Add(5 * time.Second)
				for int(slow.hits.Load()+fastDone.Load()) < i && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
			want(t, "slow endpoint's requests", int(slow.hits.Load()), tt.wantSlow)
			close(release)
			wg.Wait()
			want(t, "fast endpoint's requests", int(fastDone.Load()), 20-tt.wantSlow)
		})
	}
}

// TestPassiveEjection: a dead endpoint (a closed port) costs a connection
// attempt, never a viewer error; after ejectAfter failures it is out of
// rotation for ejectFor, then back.
func TestPassiveEjection(t *testing.T) {
	alive := newTestOrigin(t, false, named("alive"))
	dead := closedPortURL(t)
	clk := &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFetcher(t, balancedOrigin(&config.Balancing{Policy: config.RoundRobin, EjectAfter: 2, EjectFor: 30 * time.Second}, dead, alive.URL))
	bal := f.(*httpFetcher).balancer
	bal.now = clk.Now
	deadEP := bal.eps[0]

	fetchN := func(n int) map[string]int {
		t.Helper()
		got := map[string]int{}
		for range n {
			_, body, err := fetchAll(context.Background(), f, get("/x"))
			if err != nil {
				t.Fatalf("Fetch: %v (a dead endpoint must move the attempt to the next one)", err)
			}
			got[body]++
		}
		return got
	}

	got := fetchN(10)
	want(t, "answers from alive", got["alive"], 10)
	want(t, "attempts on the dead endpoint", deadEP.fails.Load(), int64(2)) // then ejected: never tried again
	if deadEP.inRotation(clk.Now().UnixNano()) {
		t.Fatal("dead endpoint still in rotation after 2 failures")
	}

	// The endpoint comes back to life on the same port.
	ln, err := net.Listen("tcp", strings.TrimPrefix(dead, "http://"))
	if err != nil {
		t.Fatalf("reopening %s: %v", dead, err)
	}
	revived := &testOrigin{}
	revived.Server = httptest.NewUnstartedServer(named("revived"))
	revived.Listener.Close()
	revived.Listener = ln
	revived.Start()
	t.Cleanup(revived.Close)

	clk.Advance(29 * time.Second)
	got = fetchN(10)
	want(t, "answers from revived during the cool-down", got["revived"], 0)

	clk.Advance(2 * time.Second)
	got = fetchN(10)
	want(t, "answers from revived after the cool-down", got["revived"], 5)
	want(t, "answers from alive after the cool-down", got["alive"], 5)
	want(t, "failure count after a success", deadEP.fails.Load(), int64(0))
}

// TestPassiveEjectionAllDead: with every endpoint ejected they are tried
// anyway, and the request fails only when none answers.
func TestPassiveEjectionAllDead(t *testing.T) {
	a, b := closedPortURL(t), closedPortURL(t)
	f := newFetcher(t, balancedOrigin(&config.Balancing{Policy: config.RoundRobin, EjectAfter: 1, EjectFor: time.Hour}, a, b))
	for range 3 {
		_, _, err := fetchAll(context.Background(), f, get("/x"))
		want(t, "kind", kindOf(err), Connect)
	}
	bal := f.(*httpFetcher).balancer
	for i, e := range bal.eps {
		if e.inRotation(time.Now().UnixNano()) {
			t.Errorf("endpoint %d in rotation", i)
		}
	}
}

// TestActiveHealthChecks: an endpoint whose health check fails is out of
// rotation until it passes again; Close stops the checks.
func TestActiveHealthChecks(t *testing.T) {
	type node struct {
		*testOrigin
		healthy atomic.Bool
	}
	newNode := func(name string) *node {
		n := &node{}
		n.healthy.Store(true)
		n.testOrigin = newTestOrigin(t, false, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				if !n.healthy.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
				return
			}
			_, _ = io.WriteString(w, name)
		})
		return n
	}
	a, b := newNode("a"), newNode("b")
	hc := &config.HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond,
		UnhealthyThreshold: 2, HealthyThreshold: 2}
	f := newFetcher(t, balancedOrigin(&config.Balancing{Policy: config.RoundRobin, HealthCheck: hc}, a.URL, b.URL))
	bal := f.(*httpFetcher).balancer
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	fetchN := func(n int) map[string]int {
		t.Helper()
		got := map[string]int{}
		for range n {
			_, body, err := fetchAll(context.Background(), f, get("/x"))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			got[body]++
		}
		return got
	}

	waitUntil("a first health check", func() bool { return a.pathHits("/healthz") >= 1 && b.pathHits("/healthz") >= 1 })
	want(t, "Host of the health check", a.last(t).Host, "origin.example.com")
	got := fetchN(10)
	want(t, "a's share while both are healthy", got["a"], 5)

	b.healthy.Store(false)
	waitUntil("b down", bal.eps[1].down.Load)
	got = fetchN(10)
	want(t, "a's share while b is down", got["a"], 10)

	a.healthy.Store(false)
	waitUntil("a down", bal.eps[0].down.Load)
	got = fetchN(10)
	want(t, "answers while both are down (tried anyway)", got["a"]+got["b"], 10)

	a.healthy.Store(true)
	b.healthy.Store(true)
	waitUntil("both up", func() bool { return !bal.eps[0].down.Load() && !bal.eps[1].down.Load() })
	got = fetchN(10)
	want(t, "b's share once it is healthy again", got["b"], 5)

	if err := f.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	before := a.pathHits("/healthz")
	time.Sleep(100 * time.Millisecond) // five intervals
	want(t, "health checks after Close", a.pathHits("/healthz"), before)
	got = fetchN(2)
	want(t, "answers after Close (the fetcher stays usable)", got["a"]+got["b"], 2)
}

// TestHealthCheckTimeout: an endpoint that does not answer its health check
// within the timeout is down.
func TestHealthCheckTimeout(t *testing.T) {
	stuck := newTestOrigin(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "stuck")
	})
	ok := newTestOrigin(t, false, named("ok"))
	hc := &config.HealthCheck{Path: "/healthz", Interval: 30 * time.Millisecond, Timeout: 20 * time.Millisecond,
		UnhealthyThreshold: 1, HealthyThreshold: 1}
	f := newFetcher(t, balancedOrigin(&config.Balancing{HealthCheck: hc}, stuck.URL, ok.URL))
	bal := f.(*httpFetcher).balancer
	for deadline := time.Now().Add(5 * time.Second); !bal.eps[0].down.Load(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stuck endpoint never went down")
		}
	}
	want(t, "ok endpoint down", bal.eps[1].down.Load(), false)
}

// TestBalancingFailedAttemptMovesOn: an endpoint that accepts and closes
// (no response) is retried elsewhere for a GET; a POST is not retried once
// sent.
func TestBalancingFailedAttemptMovesOn(t *testing.T) {
	bad := newRawOrigin(t, resetAfterRequest)
	good := newTestOrigin(t, false, named("good"))
	tests := []struct {
		method   string
		wantErr  bool
		wantGood int
	}{
		{http.MethodGet, false, 1},
		{http.MethodPost, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			f := newFetcher(t, balancedOrigin(&config.Balancing{Policy: config.RoundRobin}, bad.URL(), good.URL))
			f.(*httpFetcher).balancer.next.Store(^uint64(0)) // the first pick is endpoint 0: bad
			before := good.hits.Load()
			r := get("/x")
			r.Method = tt.method
			_, body, err := fetchAll(context.Background(), f, r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr {
				want(t, "body", body, "good")
			}
			want(t, "requests to good", int(good.hits.Load()-before), tt.wantGood)
		})
	}
}
