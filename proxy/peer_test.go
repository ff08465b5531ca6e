package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	edgeorigin "github.com/edgefront/edgefront/origin"
)

// This file tests the shared cache tier's side in the proxy (peer.go) with
// two edges whose peers are set by hand: which node owns a key is what the
// test says (package cluster computes it from a ring).

// owner is a proxy.Peers that names one node as the owner of every key
// (nil: this node).
type owner struct{ f edgeorigin.Fetcher }

func (o owner) Owner(string) edgeorigin.Fetcher { return o.f }

// peerEdge is an edge with a peer listener that counts what it serves.
type peerEdge struct {
	*edge
	peer   *httptest.Server
	served atomic.Int64
}

func newPeerEdge(t *testing.T, originURL string) *peerEdge {
	t.Helper()
	return newPeerEdgeWith(t, oneOrigin, originURL)
}

// newPeerEdgeWith is newPeerEdge with its own settings.
func newPeerEdgeWith(t *testing.T, settings, originURL string) *peerEdge {
	t.Helper()
	e := &peerEdge{edge: newEdge(t, settings, map[string]string{"web": originURL})}
	h := e.srv.PeerHandler()
	e.peer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.served.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.peer.Close)
	return e
}

// asks makes e ask the node behind base for every key (from names e).
func (e *peerEdge) asks(t *testing.T, base, from string) {
	t.Helper()
	f, err := edgeorigin.NewPeer(base, from)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.(io.Closer).Close() })
	e.srv.SetPeers(owner{f})
}

// TestPeerTier: a miss on a node that does not own its key is asked of the
// owner, whose cached object is the asker's hit; the owner never forwards
// a peer's request (two nodes that each think the other owns a key both
// get it, without waiting on each other); an owner that is gone or cannot
// serve the request is the origin's to answer, never a viewer error.
func TestPeerTier(t *testing.T) {
	t.Run("Server-Timing names the shared tier as the hit's layer", func(t *testing.T) {
		o := newOrigin(t, static("owned", "Cache-Control", "max-age=300"))
		settings := policyDist(rhpPolicies, "CachingOptimized", ", ResponseHeadersPolicyId: 00000000-0000-0000-0000-0000000000a1")
		a, b := newPeerEdgeWith(t, settings, o.URL), newPeerEdgeWith(t, settings, o.URL)
		b.do("GET", "/k.txt")
		a.asks(t, b.peer.URL, "a")
		for _, step := range []struct {
			who   *peerEdge
			layer string
		}{
			{b, `cdn-hit-layer;desc="EDGE"`}, // the owner's own hit
			{a, `cdn-hit-layer;desc="REC"`},  // the owner's copy, through the tier
			{a, `cdn-hit-layer;desc="EDGE"`}, // a's own copy since
		} {
			r := step.who.do("GET", "/k.txt", "Pragma", "server-timing")
			if st := r.header.Get("Server-Timing"); r.xcache() != "Hit from cloudfront" || !strings.Contains(st, step.layer) {
				t.Errorf("%s, Server-Timing %q; want a hit with %s", r.xcache(), st, step.layer)
			}
		}
		if o.pathHits("/k.txt") != 1 {
			t.Errorf("origin asked %d times, want once", o.pathHits("/k.txt"))
		}
	})
	t.Run("the owner's cached object is the asker's hit", func(t *testing.T) {
		o := newOrigin(t, static("owned", "Cache-Control", "max-age=300", "Content-Type", "text/plain"))
		a, b := newPeerEdge(t, o.URL), newPeerEdge(t, o.URL)
		if r := b.do("GET", "/k.txt"); r.xcache() != "Miss from cloudfront" {
			t.Fatalf("b (the owner) first: %s", r.xcache())
		}
		a.asks(t, b.peer.URL, "a")
		r := a.do("GET", "/k.txt")
		if r.status != 200 || r.body != "owned" || r.xcache() != "Hit from cloudfront" || r.header.Get("Age") == "" ||
			r.header.Get("Content-Type") != "text/plain" || !viaRE.MatchString(r.header.Get("Via")) {
			t.Errorf("a: %d %q X-Cache %q Age %q Via %q", r.status, r.body, r.xcache(), r.header.Get("Age"), r.header.Get("Via"))
		}
		for name := range r.header {
			if strings.HasPrefix(name, "X-Edgefront-Peer") {
				t.Errorf("a: the tier's %s reached the viewer", name)
			}
		}
		if r := a.do("GET", "/k.txt"); r.xcache() != "Hit from cloudfront" || b.served.Load() != 1 {
			t.Errorf("a again: %s, b served %d peer requests (want a's own hit, 1)", r.xcache(), b.served.Load())
		}
		if n := o.hits.Load(); n != 1 {
			t.Errorf("origin requests = %d, want 1", n)
		}
	})

	t.Run("each thinks the other owns the key", func(t *testing.T) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond) // both flights are under way at once
			w.Header().Set("Cache-Control", "max-age=300")
			_, _ = io.WriteString(w, "body")
		})
		a, b := newPeerEdge(t, o.URL), newPeerEdge(t, o.URL)
		a.asks(t, b.peer.URL, "a")
		b.asks(t, a.peer.URL, "b")
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
		var wg sync.WaitGroup
		errs := make(chan string, 2)
		for _, e := range []*peerEdge{a, b} {
			wg.Go(func() {
				resp, err := client.Get(e.http.URL + "/both.txt")
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "body" {
					errs <- fmt.Sprintf("%d %q", resp.StatusCode, body)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		// Each asked the other once; neither forwarded the other's request.
		if a.served.Load() != 1 || b.served.Load() != 1 {
			t.Errorf("peer requests served: a %d, b %d; want 1 each", a.served.Load(), b.served.Load())
		}
		if n := o.hits.Load(); n != 2 {
			t.Errorf("origin requests = %d, want 2 (each owner fetched apart from its own flight)", n)
		}
	})

	t.Run("the owner is gone: the origin answers", func(t *testing.T) {
		o := newOrigin(t, static("from the origin", "Cache-Control", "max-age=300"))
		a := newPeerEdge(t, o.URL)
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		a.asks(t, gone.URL, "a")
		if r := a.do("GET", "/g.txt"); r.status != 200 || r.body != "from the origin" || r.xcache() != "Miss from cloudfront" {
			t.Errorf("a: %d %q %s", r.status, r.body, r.xcache())
		}
		if n := o.hits.Load(); n != 1 {
			t.Errorf("origin requests = %d, want 1", n)
		}
	})
	t.Run("the owner cannot serve it (421): the origin answers", func(t *testing.T) {
		o := newOrigin(t, static("from the origin", "Cache-Control", "max-age=300"))
		a := newPeerEdge(t, o.URL)
		misdirected := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no such distribution here (yet)", http.StatusMisdirectedRequest)
		}))
		t.Cleanup(misdirected.Close)
		a.asks(t, misdirected.URL, "a")
		if r := a.do("GET", "/m.txt"); r.status != 200 || r.body != "from the origin" {
			t.Errorf("a: %d %q", r.status, r.body)
		}
		// Nothing of the refusal was stored: the next request is a's hit.
		if r := a.do("GET", "/m.txt"); r.xcache() != "Hit from cloudfront" || r.body != "from the origin" {
			t.Errorf("a again: %s %q", r.xcache(), r.body)
		}
	})
}
