package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	edgeorigin "github.com/edgefront/edgefront/origin"
	"github.com/edgefront/edgefront/proxy"
)

// This file tests edgefront as a tier (an edge whose origin is another
// edgefront node, its origin shield) and the streaming of bodies through a
// flight: bytes reach the viewer while the origin still writes, and a fetch
// nobody waits for any more is cancelled.

// verifyNoLeaks checks, once every other cleanup of the test has run
// (servers closed, idle connections dropped), that the test left no
// goroutine behind. Call it first in the test: cleanups run last-in
// first-out.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, ignore)
	})
}

// shieldSettings is what the shield node runs: the real distribution, whose
// origin "web" is at {{web}} under OriginPath /prod, and a decoy
// distribution, so that a request with the wrong Host goes astray.
const shieldSettings = `
distributions:
  - id: ESHIELDDIST01
    domainName: d111111abcdef8.cloudfront.net
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: shielded
      Enabled: true
      Origins:
        Items:
          - Id: web
            DomainName: origin.example.com
            OriginPath: /prod
            CustomOriginConfig: {OriginProtocolPolicy: http-only}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
  - id: EDECOYDIST001
    domainName: d222222abcdef8.cloudfront.net
    originEndpoints: {decoy: "{{decoy}}"}
    config:
      CallerReference: decoy
      Enabled: true
      Origins:
        Items:
          - Id: decoy
            DomainName: decoy.example.com
            CustomOriginConfig: {OriginProtocolPolicy: http-only}
      DefaultCacheBehavior:
        TargetOriginId: decoy
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
`

// viaEndpointSettings is an edge that reaches the shield without the
// originShield setting: the shield is the endpoint of an origin whose
// DomainName (sent as Host) is the shield distribution's domain name, with
// no OriginPath (the shield adds it).
const viaEndpointSettings = `
distributions:
  - id: ESHIELDDIST01
    domainName: d111111abcdef8.cloudfront.net
    originEndpoints: {web: "{{shield}}"}
    config:
      CallerReference: shielded
      Enabled: true
      Origins:
        Items:
          - Id: web
            DomainName: d111111abcdef8.cloudfront.net
            CustomOriginConfig: {OriginProtocolPolicy: http-only}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
`

// newTierEdge starts an edge on settings whose fetchers are built as
// proxy.Server.Load should build them: a distribution with an origin shield
// fetches every origin through origin.NewShield, the others through
// origin.New. It returns the edge's base URL.
func newTierEdge(t *testing.T, settings string) string {
	t.Helper()
	cfg, err := config.Parse("edge.yaml", []byte(settings))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	newFetcher := func(o *config.Origin) (edgeorigin.Fetcher, error) {
		for _, d := range cfg.Distributions {
			if d.Origins[o.ID] == o && d.Shield != "" {
				return edgeorigin.NewShield(d)
			}
		}
		return edgeorigin.New(o)
	}
	clk := newClock()
	store, err := cache.New(cache.Options{MaxBytes: 64 << 20, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry(), Now: clk.Now,
		NodeID: "fedcba9876543210fedcba9876543210", NewFetcher: newFetcher})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		store.Close()
	})
	return hs.URL
}

// TestShieldTier: four edges share one shield node; 200 concurrent cold
// requests spread over the edges make exactly one origin request, and every
// viewer gets the object.
func TestShieldTier(t *testing.T) {
	tests := []struct {
		name string
		// edge starts one edge in front of the shield at shieldURL.
		edge func(t *testing.T, shieldURL, originURL string) string
	}{
		{"originShield setting", func(t *testing.T, shieldURL, originURL string) string {
			s := strings.Replace(shieldSettings, "    domainName: d111111abcdef8.cloudfront.net\n",
				"    domainName: d111111abcdef8.cloudfront.net\n    originShield: \""+shieldURL+"\"\n", 1)
			// The edge's own endpoints stay the real origin's: a fetch
			// that skipped the shield would show in the origin's count.
			s = strings.ReplaceAll(strings.ReplaceAll(s, "{{web}}", originURL), "{{decoy}}", originURL)
			return newTierEdge(t, s)
		}},
		{"originEndpoints at the shield", func(t *testing.T, shieldURL, _ string) string {
			return newEdge(t, viaEndpointSettings, map[string]string{"shield": shieldURL}).http.URL
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifyNoLeaks(t)
			body := strings.Repeat("shielded object. ", 16<<10) // 272 KiB
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(200 * time.Millisecond) // the misses of every edge arrive meanwhile
				w.Header().Set("Cache-Control", "max-age=300")
				w.Header().Set("Content-Type", "application/javascript")
				_, _ = io.WriteString(w, body)
			})
			decoy := newOrigin(t, static("decoy", "Cache-Control", "max-age=300"))
			shield := newEdge(t, shieldSettings, map[string]string{"web": o.URL, "decoy": decoy.URL})
			var edges []string
			for range 4 {
				edges = append(edges, tt.edge(t, shield.http.URL, o.URL))
			}

			const n = 200
			tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
			t.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var (
				wg     sync.WaitGroup
				misses atomic.Int32
				errs   = make(chan string, n)
			)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					req, _ := http.NewRequest(http.MethodGet, edges[i%len(edges)]+"/static/app.js", nil)
					req.Host = "d111111abcdef8.cloudfront.net"
					resp, err := client.Do(req)
					if err != nil {
						errs <- err.Error()
						return
					}
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					if err != nil || resp.StatusCode != http.StatusOK || string(b) != body {
						errs <- fmt.Sprintf("viewer %d: %d, %d bytes, %v", i, resp.StatusCode, len(b), err)
					}
					if resp.Header.Get("X-Cache") == "Miss from cloudfront" {
						misses.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			if got := o.hits.Load(); got != 1 {
				t.Errorf("origin requests = %d, want 1", got)
			}
			if got := o.pathHits("/prod/static/app.js"); got != 1 {
				t.Errorf("origin requests for /prod/static/app.js = %d, want 1 (the shield adds OriginPath)", got)
			}
			if got := decoy.hits.Load(); got != 0 {
				t.Errorf("decoy origin requests = %d, want 0 (the shield must get the distribution's Host)", got)
			}
			if got := misses.Load(); got != int32(len(edges)) {
				t.Errorf("viewers answered with a Miss = %d, want %d (one per edge)", got, len(edges))
			}
		})
	}
}

// gatedOrigin writes first, flushes it, then waits for release (or for its
// request to be cancelled) before writing rest. It reports whether its
// request's context was cancelled.
type gatedOrigin struct {
	*origin
	release   chan struct{}
	canceled  chan struct{}
	completed atomic.Bool
}

func newGatedOrigin(t *testing.T, first, rest string) *gatedOrigin {
	t.Helper()
	g := &gatedOrigin{release: make(chan struct{}), canceled: make(chan struct{})}
	g.origin = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Content-Length", fmt.Sprint(len(first)+len(rest)))
		_, _ = io.WriteString(w, first)
		w.(http.Flusher).Flush()
		select {
		case <-g.release:
			_, _ = io.WriteString(w, rest)
			g.completed.Store(true)
		case <-r.Context().Done():
			close(g.canceled)
		case <-time.After(10 * time.Second):
		}
	})
	return g
}

// startViewer sends GET path to e and reads until it has want bytes; it
// returns the response and a cancel for the request.
func startViewer(t *testing.T, e *edge, path string, want int) (*http.Response, []byte, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+path, nil)
	resp, err := e.client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", path, err)
	}
	buf := make([]byte, want)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		cancel()
		resp.Body.Close()
		t.Fatalf("GET %s: reading the first %d bytes: %v", path, want, err)
	}
	return resp, buf, cancel
}

func TestStreamingAndCancellation(t *testing.T) {
	first := strings.Repeat("a", 256<<10)
	rest := strings.Repeat("b", 4<<20)

	t.Run("bytes reach the viewer while the origin still writes", func(t *testing.T) {
		verifyNoLeaks(t)
		g := newGatedOrigin(t, first, rest)
		e := newEdge(t, oneOrigin, map[string]string{"web": g.URL})
		resp, got, cancel := startViewer(t, e, "/big.bin", len(first))
		defer cancel()
		defer resp.Body.Close()
		if g.completed.Load() {
			t.Fatal("the origin finished before the viewer read: nothing was streamed")
		}
		if string(got) != first {
			t.Fatal("the first bytes differ from the origin's")
		}
		close(g.release)
		tail, err := io.ReadAll(resp.Body)
		if err != nil || string(tail) != rest {
			t.Fatalf("rest of the body: %d bytes, %v", len(tail), err)
		}
		// Stored whole: the next viewer is a hit.
		if r := e.do("GET", "/big.bin"); r.xcache() != "Hit from cloudfront" || len(r.body) != len(first)+len(rest) {
			t.Errorf("second request: %s, %d bytes", r.xcache(), len(r.body))
		}
		if n := g.hits.Load(); n != 1 {
			t.Errorf("origin requests = %d, want 1", n)
		}
	})

	t.Run("the only viewer leaving cancels the origin fetch", func(t *testing.T) {
		verifyNoLeaks(t)
		g := newGatedOrigin(t, first, rest)
		e := newEdge(t, oneOrigin, map[string]string{"web": g.URL})
		resp, _, cancel := startViewer(t, e, "/big.bin", len(first))
		cancel()
		resp.Body.Close()
		select {
		case <-g.canceled:
		case <-time.After(5 * time.Second):
			t.Fatal("the origin's request was not cancelled after its only viewer left")
		}
		// Nothing partial was stored: the next viewer fetches again.
		close(g.release)
		if r := e.do("GET", "/big.bin"); r.status != 200 || r.xcache() != "Miss from cloudfront" || len(r.body) != len(first)+len(rest) {
			t.Errorf("after the cancelled fetch: %d %s, %d bytes", r.status, r.xcache(), len(r.body))
		}
	})

	t.Run("a viewer leaving does not cancel a fetch others still read", func(t *testing.T) {
		verifyNoLeaks(t)
		g := newGatedOrigin(t, first, rest)
		e := newEdge(t, oneOrigin, map[string]string{"web": g.URL})
		respA, _, cancelA := startViewer(t, e, "/big.bin", len(first))
		respB, _, cancelB := startViewer(t, e, "/big.bin", len(first))
		defer cancelB()
		defer respB.Body.Close()
		if n := g.hits.Load(); n != 1 {
			t.Fatalf("origin requests = %d, want 1 (B must join A's fetch)", n)
		}
		cancelA()
		respA.Body.Close()
		select {
		case <-g.canceled:
			t.Fatal("the origin's request was cancelled while viewer B still reads")
		case <-time.After(300 * time.Millisecond):
		}
		close(g.release)
		tail, err := io.ReadAll(respB.Body)
		if err != nil || string(tail) != rest {
			t.Fatalf("viewer B's rest of the body: %d bytes, %v", len(tail), err)
		}
		if r := e.do("GET", "/big.bin"); r.xcache() != "Hit from cloudfront" {
			t.Errorf("after B finished: %s, want a hit", r.xcache())
		}
		if n := g.hits.Load(); n != 1 {
			t.Errorf("origin requests = %d, want 1", n)
		}
	})
}
