package cluster_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// crash stops nd as a crash would: its listeners close, its NATS server
// goes away, and its member entry stays until it expires.
func (nd *node) crash() {
	nd.proxy.SetPeers(nil)
	for _, s := range []*httptest.Server{nd.peer, nd.edge, nd.api} {
		if s != nil {
			s.Close()
		}
	}
	nd.peer, nd.edge, nd.api = nil, nil, nil
	nd.cn.Crash()
	nd.cn = nil
}

// fetch requests path through nd's viewer listener with client and
// returns the response with its body read.
func (nd *node) fetch(client *http.Client, path string) (*http.Response, string, error) {
	req, err := http.NewRequest(http.MethodGet, nd.edge.URL+path, nil)
	if err != nil {
		return nil, "", err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// served returns how many peer requests each node served.
func (tc *testCluster) served() []uint64 {
	out := make([]uint64, len(tc.nodes))
	for i, nd := range tc.nodes {
		if nd.cn != nil {
			_, _, out[i] = nd.cn.PeerStats()
		}
	}
	return out
}

// owner requests path from nd and returns the node that owns its key:
// the one that served a peer request for it, or nd itself.
func (tc *testCluster) owner(nd *node, path string) *node {
	tc.t.Helper()
	before := tc.served()
	if x := nd.get(tc.t, path); x != miss && x != hit {
		tc.t.Fatalf("%s %s: X-Cache %q", nd.name, path, x)
	}
	for i, n := range tc.served() {
		if n > before[i] {
			return tc.nodes[i]
		}
	}
	return nd
}

// TestSharedTierOneOriginRequest: 300 concurrent cold requests for one
// object spread over three nodes make exactly one origin request — the
// owner of the key collapses the other nodes' requests with its own — and
// every viewer gets the object with the origin's headers and none of the
// tier's.
func TestSharedTierOneOriginRequest(t *testing.T) {
	body := strings.Repeat("shared object. ", 4<<10) // 60 KiB
	var hits atomic.Int32
	tc := newTestClusterWith(t, 3, clusterOptions{origin: func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(200 * time.Millisecond) // every node's misses arrive meanwhile
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "application/javascript")
		_, _ = io.WriteString(w, body)
	}})
	for _, nd := range tc.nodes {
		eventually(t, 2*time.Second, nd.name+" sees three nodes on the ring", func() bool { return len(nd.cn.Ring()) == 3 })
	}

	const n = 300
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			nd := tc.nodes[i%len(tc.nodes)]
			resp, got, err := nd.fetch(client, "/shared/app.js")
			switch {
			case err != nil:
				errs <- fmt.Sprintf("viewer %d on %s: %v", i, nd.name, err)
			case resp.StatusCode != http.StatusOK || got != body:
				errs <- fmt.Sprintf("viewer %d on %s: %d, %d bytes", i, nd.name, resp.StatusCode, len(got))
			case resp.Header.Get("Cache-Control") != "max-age=600" || resp.Header.Get("Content-Type") != "application/javascript":
				errs <- fmt.Sprintf("viewer %d on %s: the origin's headers are lost: %v", i, nd.name, resp.Header)
			default:
				for name := range resp.Header {
					if strings.HasPrefix(name, "X-Edgefront-Peer") {
						errs <- fmt.Sprintf("viewer %d on %s: the tier's header %s reached the viewer", i, nd.name, name)
					}
				}
				if x := resp.Header.Get("X-Cache"); x != miss && x != hit {
					errs <- fmt.Sprintf("viewer %d on %s: X-Cache %q", i, nd.name, x)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("origin requests = %d, want 1", got)
	}
	if served := tc.served(); slices.Max(served) == 0 {
		t.Errorf("no node served a peer request: %v", served)
	}
	// Every node stored what it was given: the next request is a hit
	// everywhere, with no request to a peer or the origin.
	before := tc.served()
	for _, nd := range tc.nodes {
		resp, _, err := nd.fetch(client, "/shared/app.js")
		if err != nil || resp.Header.Get("X-Cache") != hit {
			t.Errorf("%s after the storm: %v, want a hit", nd.name, err)
			if err == nil {
				t.Errorf("%s after the storm: X-Cache %q", nd.name, resp.Header.Get("X-Cache"))
			}
		}
	}
	if after := tc.served(); !slices.Equal(before, after) || hits.Load() != 1 {
		t.Errorf("hits after the storm asked peers (%v → %v) or the origin (%d requests)", before, after, hits.Load())
	}
}

// TestSharedTierPeerHit: a node that misses on an object its owner has
// answers it as CloudFront answers from a regional edge cache: a hit
// (X-Cache: Hit from cloudfront), with the owner's Age, stored with the
// TTL its policy gives the origin's headers counted from that age — so
// the copy expires when the owner's does, not a whole TTL later.
func TestSharedTierPeerHit(t *testing.T) {
	var hits atomic.Int32
	tc := newTestClusterWith(t, 3, clusterOptions{origin: func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		// Already 100 s old at the origin's own cache: 2 s of freshness left.
		w.Header().Set("Cache-Control", "max-age=102")
		w.Header().Set("Age", "100")
		w.Header().Set("X-Fetch", fmt.Sprint(n))
		_, _ = io.WriteString(w, r.URL.Path)
	}})
	for _, nd := range tc.nodes {
		eventually(t, 2*time.Second, nd.name+" sees three nodes on the ring", func() bool { return len(nd.cn.Ring()) == 3 })
	}
	first := tc.nodes[0]
	owner := tc.owner(first, "/aged.js")
	var asker *node
	for _, nd := range tc.nodes {
		if nd != owner && nd != first {
			asker = nd
			break
		}
	}
	resp, _, err := asker.fetch(http.DefaultClient, "/aged.js")
	if err != nil {
		t.Fatal(err)
	}
	if x := resp.Header.Get("X-Cache"); x != hit {
		t.Errorf("%s (owner %s has the object): X-Cache %q, want %q", asker.name, owner.name, x, hit)
	}
	if a := resp.Header.Get("Age"); a != "100" && a != "101" {
		t.Errorf("%s: Age %q, want the owner's (100)", asker.name, a)
	}
	if via, want := resp.Header.Get("Via"), nodeID(slices.Index(tc.nodes, asker)); !strings.Contains(via, want) || strings.Count(via, "cloudfront.net") != 1 {
		t.Errorf("%s: Via %q, want the asking node's (%s) alone", asker.name, via, want)
	}
	if resp.Header.Get("Cache-Control") != "max-age=102" || resp.Header.Get("X-Amz-Cf-Id") == "" {
		t.Errorf("%s: Cache-Control %q, X-Amz-Cf-Id %q", asker.name, resp.Header.Get("Cache-Control"), resp.Header.Get("X-Amz-Cf-Id"))
	}
	if hits.Load() != 1 || resp.Header.Get("X-Fetch") != "1" {
		t.Errorf("origin requests = %d (X-Fetch %s), want 1", hits.Load(), resp.Header.Get("X-Fetch"))
	}
	resp, _, err = asker.fetch(http.DefaultClient, "/aged.js")
	if err != nil {
		t.Fatal(err)
	}
	if x, a := resp.Header.Get("X-Cache"), resp.Header.Get("Age"); x != hit || a < "100" {
		t.Errorf("%s again: X-Cache %q Age %q, want a hit of age ≥ 100", asker.name, x, a)
	}
	// 2 s of freshness from the origin's answer: the asker's copy expires
	// with the owner's.
	eventually(t, 4*time.Second, asker.name+"'s copy expires with the owner's", func() bool {
		resp, _, err := asker.fetch(http.DefaultClient, "/aged.js")
		return err == nil && resp.Header.Get("X-Fetch") != "1"
	})
}

// TestSharedTierNodeCrash: under a load of cold requests on nodes a and
// b, node c — owner of a third of the keys — crashes. a and b drop it from
// their rings within about a second, and no viewer request fails: until
// then, asking c fails fast and the node asks the origin.
func TestSharedTierNodeCrash(t *testing.T) {
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	for _, nd := range tc.nodes {
		eventually(t, 2*time.Second, nd.name+" sees three nodes on the ring", func() bool { return len(nd.cn.Ring()) == 3 })
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	type failure struct {
		at  time.Time
		err string
	}
	var (
		mu       sync.Mutex
		failures []failure
		done     = make(chan struct{})
		wg       sync.WaitGroup
		next     atomic.Int64
		total    atomic.Int64
	)
	for w := range 8 {
		nd := []*node{a, b}[w%2]
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				path := fmt.Sprintf("/load/%d.txt", next.Add(1))
				resp, got, err := nd.fetch(client, path)
				total.Add(1)
				msg := ""
				switch {
				case err != nil:
					msg = err.Error()
				case resp.StatusCode != http.StatusOK || got != path:
					msg = fmt.Sprintf("%d %q", resp.StatusCode, got)
				}
				if msg != "" {
					mu.Lock()
					failures = append(failures, failure{time.Now(), nd.name + " " + path + ": " + msg})
					mu.Unlock()
				}
			}
		})
	}
	eventually(t, 5*time.Second, "c serves peer requests under the load", func() bool { return tc.served()[2] >= 20 })
	crashed := time.Now()
	c.crash()
	for _, nd := range []*node{a, b} {
		eventually(t, 1500*time.Millisecond, nd.name+" drops c from its ring", func() bool {
			return !slices.Contains(nd.cn.Ring(), c.name)
		})
	}
	dropped := time.Since(crashed)
	// The load goes on a while with two nodes.
	after := total.Load()
	eventually(t, 5*time.Second, "the load goes on after the crash", func() bool { return total.Load() > after+200 })
	close(done)
	wg.Wait()
	late, early := 0, 0
	for _, f := range failures {
		if f.at.Sub(crashed) > time.Second {
			late++
			t.Errorf("%v after the crash: %s", f.at.Sub(crashed).Round(time.Millisecond), f.err)
		} else {
			early++
			t.Logf("%v after the crash: %s", f.at.Sub(crashed).Round(time.Millisecond), f.err)
		}
	}
	askedA, failedA, _ := a.cn.PeerStats()
	t.Logf("%d viewer requests, %d failed within a second of the crash, %d later; c dropped after %v; a asked peers %d times, %d failed (the origin answered)",
		total.Load(), early, late, dropped.Round(time.Millisecond), askedA, failedA)
}

// TestPeerListenerRefusesOutsiders: the peer listener serves only the
// cluster's nodes (their requests carry the cluster's token): a request
// naming a cache key of its choosing from anyone else is refused, and
// nothing is fetched or stored for it.
func TestPeerListenerRefusesOutsiders(t *testing.T) {
	var hits atomic.Int32
	tc := newTestClusterWith(t, 3, clusterOptions{origin: func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "private "+r.URL.Path)
	}})
	a := tc.nodes[0]
	for _, token := range []string{"", "not-the-token"} {
		req, _ := http.NewRequest(http.MethodGet, a.peer.URL+"/private.txt", nil)
		req.Host = host
		req.Header.Set("X-Edgefront-Peer", "intruder")
		req.Header.Set("X-Edgefront-Peer-Key", "ZHBvaXNvbg") // base64url of a key of its choosing
		if token != "" {
			req.Header.Set("X-Edgefront-Peer-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(string(body), "private") {
			t.Errorf("token %q: %d %q, want 421 and no object", token, resp.StatusCode, body)
		}
	}
	if _, _, served := a.cn.PeerStats(); served != 0 || hits.Load() != 0 {
		t.Errorf("served %d peer requests, %d origin requests: want none", served, hits.Load())
	}
}
