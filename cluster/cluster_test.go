package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/cluster"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
	"github.com/edgefront/edgefront/internal/freeport"
	"github.com/edgefront/edgefront/proxy"
)

const (
	dist = "EPOP00000001"
	host = "pop.edgefront.test"
)

const settings = `
distributions:
  - id: ` + dist + `
    domainName: ` + host + `
    originEndpoints: {web: "%s"}
    config:
      CallerReference: pop
      Comment: one distribution served by every node
      Origins:
        Items:
          - Id: web
            DomainName: web.invalid
            CustomOriginConfig: {OriginProtocolPolicy: http-only}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: Managed-CachingOptimized
`

// testCluster is n edgefront nodes on loopback — each a real cache.Store,
// proxy.Server and control API with an embedded NATS server, the servers
// routed to each other — in front of one origin whose responses are
// cacheable for an hour.
type testCluster struct {
	t          *testing.T
	cfg        *config.Config
	routes     []string
	nodes      []*node
	maxBatches int64         // the log's bound (0: the default)
	noPeers    bool          // clusterOptions.noPeers
	ackWait    time.Duration // clusterOptions.ackWait
}

// node is one edgefront node. Its store and proxy outlive a stop, as a
// disk cache tier would outlive the process: a restarted node must not
// serve what was invalidated while it was down.
type node struct {
	name, clusterAddr, storeDir string
	store                       *cache.Store
	proxy                       *proxy.Server
	edge                        *httptest.Server // the viewer listener (nil while stopped)
	api                         *httptest.Server // the control API (nil while stopped)
	peer                        *httptest.Server // the peer listener (nil while stopped)
	cf                          *cloudfront.Client
	cn                          *cluster.Node
	gate                        atomic.Pointer[chan struct{}] // when set, applying waits until it is closed
	held                        atomic.Pointer[hold]          // when set, the next batch applied stops there
}

// hold stops a node once it has applied a batch (banned and recorded
// it), before the node notes the batch applied and acknowledges it.
type hold struct {
	applied  chan struct{} // closed once the batch is applied
	released chan struct{} // closed by release
	release  func()        // lets the node go on (also at the test's end)
}

// hold makes the next batch nd applies stop once applied, until the
// hold's release.
func (nd *node) hold(t *testing.T) *hold {
	h := &hold{applied: make(chan struct{}), released: make(chan struct{})}
	h.release = sync.OnceFunc(func() { close(h.released) })
	t.Cleanup(h.release)
	nd.held.Store(h)
	return h
}

func newTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	return newTestClusterWith(t, n, clusterOptions{})
}

// clusterOptions vary newTestCluster.
type clusterOptions struct {
	maxBatches int64 // the log's bound (0: the default)
	noPeers    bool  // no shared cache tier: each node's cache is its own
	// ackWait is how long JetStream waits for a node's acknowledgement of
	// a batch before it delivers the batch again (0: the default).
	ackWait time.Duration
	// origin answers the nodes' origin requests (nil: the path, with
	// X-Fetch counting the fetches of the path, cacheable for an hour).
	origin http.HandlerFunc
}

// newTestClusterWith is newTestCluster as o says.
func newTestClusterWith(t *testing.T, n int, o clusterOptions) *testCluster {
	t.Helper()
	handler := o.origin
	if handler == nil {
		var mu sync.Mutex
		fetches := map[string]int{}
		handler = func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			fetches[r.URL.Path]++
			w.Header().Set("X-Fetch", fmt.Sprint(fetches[r.URL.Path]))
			mu.Unlock()
			w.Header().Set("Cache-Control", "max-age=3600")
			_, _ = io.WriteString(w, r.URL.Path)
		}
	}
	maxBatches := o.maxBatches
	origin := httptest.NewServer(handler)
	t.Cleanup(origin.Close)
	cfg, err := config.Parse("cluster.yaml", fmt.Appendf(nil, settings, origin.URL))
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{t: t, cfg: cfg, maxBatches: maxBatches, noPeers: o.noPeers, ackWait: o.ackWait}
	clusterAddrs := freeport.For(t, n)
	for i := range n {
		nd := &node{name: fmt.Sprintf("edge-%c", 'a'+i), clusterAddr: clusterAddrs[i], storeDir: t.TempDir()}
		tc.routes = append(tc.routes, "nats://"+nd.clusterAddr)
		if nd.store, err = cache.New(cache.Options{MaxBytes: 16 << 20}); err != nil {
			t.Fatal(err)
		}
		if nd.proxy, err = proxy.New(proxy.Options{Store: nd.store, Registry: prometheus.NewRegistry(), Logger: quiet,
			NodeID: nodeID(i)}); err != nil {
			t.Fatal(err)
		}
		if err := nd.proxy.Load(cfg); err != nil {
			t.Fatal(err)
		}
		tc.nodes = append(tc.nodes, nd)
		t.Cleanup(func() {
			nd.stop()
			nd.proxy.Close()
			nd.store.Close()
		})
	}
	// JetStream elects its leaders once a majority of the servers run:
	// the nodes start together, as a fleet would.
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, nd := range tc.nodes {
		wg.Go(func() { errs[i] = tc.start(ctx, nd) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return tc
}

var quiet = slog.New(slog.DiscardHandler)

// nodeID is the i-th node's ID in Via (32 hex digits).
func nodeID(i int) string { return fmt.Sprintf("%032x", i+1) }

// start joins nd to the cluster, replays the log and only then opens its
// viewer listener.
func (tc *testCluster) start(ctx context.Context, nd *node) error {
	// The peer listener first: the others may ask it as soon as this node
	// is a member. Its handler is the node's once it has joined.
	var peerHandler atomic.Pointer[http.Handler]
	nd.peer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := peerHandler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not joined yet", http.StatusMisdirectedRequest)
	}))
	c := config.Cluster{Name: "pop1", Node: nd.name, NATS: config.NATS{
		Listen: "127.0.0.1:-1", ClusterListen: nd.clusterAddr, Routes: tc.routes, StoreDir: nd.storeDir,
	}}
	if !tc.noPeers {
		c.Peers = config.Peers{Listen: nd.peer.Listener.Addr().String()}
	}
	o := cluster.Options{Cluster: c, Heartbeat: 100 * time.Millisecond, MemberTTL: time.Second, Logger: quiet,
		MaxBatches: tc.maxBatches}
	if tc.ackWait > 0 {
		o = cluster.WithAckWait(o, tc.ackWait)
	}
	cn, err := cluster.Start(ctx, o)
	if err != nil {
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	api := control.New(&control.ProxyBackend{Proxy: nd.proxy, Store: nd.store}, control.Options{Invalidations: cn, Config: cn, Logger: quiet})
	apply := func(ctx context.Context, b control.Batch) {
		if g := nd.gate.Load(); g != nil {
			<-*g
		}
		api.Apply(ctx, b)
		if h := nd.held.Swap(nil); h != nil {
			close(h.applied)
			<-h.released
		}
	}
	if err := cn.Run(ctx, apply); err != nil {
		cn.Close()
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	if err := cn.SyncConfig(ctx, api); err != nil {
		cn.Close()
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	h := cn.ServePeers(nd.proxy.PeerHandler())
	peerHandler.Store(&h)
	nd.proxy.SetPeers(cn)
	nd.cn = cn
	nd.api = httptest.NewServer(api)
	nd.cf = cloudfront.New(cloudfront.Options{
		BaseEndpoint:     aws.String(nd.api.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEDGEFRONTTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
	nd.edge = httptest.NewServer(nd.proxy)
	return nil
}

// stop closes nd's listeners and leaves the cluster, keeping its cache.
func (nd *node) stop() {
	nd.proxy.SetPeers(nil)
	if nd.peer != nil {
		nd.peer.Close()
		nd.peer = nil
	}
	if nd.edge != nil {
		nd.edge.Close()
		nd.edge = nil
	}
	if nd.api != nil {
		nd.api.Close()
		nd.api = nil
	}
	if nd.cn != nil {
		nd.cn.Close()
		nd.cn = nil
	}
}

// get requests path through nd's viewer listener and returns X-Cache.
func (nd *node) get(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, nd.edge.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := nd.edge.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Cache")
}

// warm caches path on every running node.
func (tc *testCluster) warm(path string) {
	tc.t.Helper()
	for _, nd := range tc.nodes {
		if nd.edge == nil {
			continue
		}
		nd.get(tc.t, path)
		if x := nd.get(tc.t, path); x != hit {
			tc.t.Fatalf("%s %s after warming: X-Cache %q", nd.name, path, x)
		}
	}
}

const (
	hit  = "Hit from cloudfront"
	miss = "Miss from cloudfront"
)

// invalidate sends an invalidation of paths to nd and returns its ID.
func (nd *node) invalidate(t *testing.T, ref string, paths ...string) string {
	t.Helper()
	id, err := nd.createInvalidation(testContext(t), ref, paths...)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// createInvalidation is invalidate for a goroutine other than the test's.
func (nd *node) createInvalidation(ctx context.Context, ref string, paths ...string) (string, error) {
	out, err := nd.cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(dist),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return "", fmt.Errorf("%s: CreateInvalidation: %w", nd.name, err)
	}
	return aws.ToString(out.Invalidation.Id), nil
}

// status returns the status nd's GetInvalidation reports for id.
func (nd *node) status(t *testing.T, id string) string {
	t.Helper()
	out, err := nd.cf.GetInvalidation(testContext(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String(dist), Id: aws.String(id)})
	var none *types.NoSuchInvalidation
	if errors.As(err, &none) {
		return "" // not here yet: the node has not applied the batch
	}
	if err != nil {
		t.Fatalf("%s: GetInvalidation %s: %v", nd.name, id, err)
	}
	return aws.ToString(out.Invalidation.Status)
}

// listed returns the IDs nd's ListInvalidations reports.
func (nd *node) listed(t *testing.T) map[string]bool {
	t.Helper()
	out, err := nd.cf.ListInvalidations(testContext(t), &cloudfront.ListInvalidationsInput{DistributionId: aws.String(dist)})
	if err != nil {
		t.Fatalf("%s: ListInvalidations: %v", nd.name, err)
	}
	ids := map[string]bool{}
	for _, s := range out.InvalidationList.Items {
		ids[aws.ToString(s.Id)] = true
	}
	return ids
}

// fetchNumber requests path through nd's viewer listener and returns which
// of the origin's fetches of path nd served (X-Fetch).
func (nd *node) fetchNumber(t *testing.T, path string) int {
	t.Helper()
	v := nd.header(t, path, "X-Fetch")
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s %s: X-Fetch %q", nd.name, path, v)
	}
	return n
}

// eventually polls cond every 10ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// await waits until ch is closed; the test fails after a minute.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-testContext(t).Done():
		t.Fatalf("not within a minute: %s", what)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestInvalidationReachesEveryNode sends an invalidation to one node of
// three: the others stop serving the object they cached once they applied
// it (they miss, or are served a copy fetched since by the node that owns
// the key in the shared tier — never the invalidated one, even by a peer
// that has not applied the invalidation yet), what the node that was
// asked fetches after it stays cached, every node knows it, and it is
// Completed only once all three applied it.
func TestInvalidationReachesEveryNode(t *testing.T) {
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	tc.warm("/a.txt")
	tc.warm("/b.txt")
	// The latest fetch of /a.txt any node holds: every later one comes
	// after the invalidation. (Warming may fetch it more than once: a
	// node that does not see the others on its ring yet fetches it
	// itself.)
	stale := 0
	for _, nd := range tc.nodes {
		stale = max(stale, nd.fetchNumber(t, "/a.txt"))
	}

	gate := make(chan struct{}) // node c applies nothing until it is closed
	c.gate.Store(&gate)
	id := a.invalidate(t, "ref-1", "/a.txt")
	seq := a.cn.Applied() // (a applied it before CreateInvalidation answered)
	if x := a.get(t, "/a.txt"); x != miss {
		t.Errorf("a /a.txt right after CreateInvalidation answered: X-Cache %q", x)
	}
	fetched := a.fetchNumber(t, "/a.txt")
	if fetched <= stale {
		t.Errorf("a /a.txt after the invalidation: fetch #%d, want one after #%d", fetched, stale)
	}
	if again := a.fetchNumber(t, "/a.txt"); again != fetched {
		t.Errorf("a /a.txt again: fetch #%d, want #%d (fetched after the invalidation was applied)", again, fetched)
	}
	if err := b.cn.WaitApplied(testContext(t), seq); err != nil {
		t.Fatalf("b: %v", err)
	}
	if n := b.fetchNumber(t, "/a.txt"); n <= stale {
		t.Errorf("b /a.txt once it applied the invalidation: fetch #%d, invalidated", n)
	}
	if x := b.get(t, "/b.txt"); x != hit {
		t.Errorf("b /b.txt (not invalidated): X-Cache %q", x)
	}
	for _, nd := range []*node{a, b} {
		if s := nd.status(t, id); s != control.StatusInProgress {
			t.Errorf("%s: %s is %s while c has not applied it", nd.name, id, s)
		}
	}
	close(gate)
	if err := c.cn.WaitApplied(testContext(t), seq); err != nil {
		t.Fatalf("c: %v", err)
	}
	if n := c.fetchNumber(t, "/a.txt"); n <= stale {
		t.Errorf("c /a.txt once it applied the invalidation: fetch #%d, invalidated", n)
	}
	// (Each node learns that the others applied it from their member
	// entries: a heartbeat or two.)
	for _, nd := range tc.nodes {
		eventually(t, 10*time.Second, nd.name+" reports "+id+" Completed", func() bool { return nd.status(t, id) == control.StatusCompleted })
		if !nd.listed(t)[id] {
			t.Errorf("%s: ListInvalidations lacks %s", nd.name, id)
		}
		if got := nd.cn.Members(); got != 3 {
			t.Errorf("%s: %d members, want 3", nd.name, got)
		}
		if got := nd.cn.Behind(); got != 0 {
			t.Errorf("%s: %d batches behind, want 0", nd.name, got)
		}
	}

	// The same caller reference with the same paths is the same batch,
	// asked of any node.
	if again := c.invalidate(t, "ref-1", "/a.txt"); again != id {
		t.Errorf("c: the same CallerReference again made %s, want %s", again, id)
	}
}

// TestApplyingNodeRefusesABehindOwnersCopy: a node that has applied an
// invalidation and misses on the object asks the key's owner with its new
// position in the log, even before it has acknowledged the batch, so an
// owner that has not applied the invalidation yet refuses (421) and the
// node goes to the origin. It used to tell its old position until the
// acknowledgement had come back — a round trip to JetStream, long under
// load —, was handed the owner's invalidated copy and stored it as fetched
// after the invalidation: served for the object's whole TTL.
func TestApplyingNodeRefusesABehindOwnersCopy(t *testing.T) {
	tc := newTestCluster(t, 3)
	for _, nd := range tc.nodes {
		eventually(t, 10*time.Second, nd.name+" sees three nodes on the ring", func() bool { return len(nd.cn.Ring()) == 3 })
	}
	owner := tc.owner(tc.nodes[0], "/a.txt")
	var others []*node
	for _, nd := range tc.nodes {
		if nd != owner {
			others = append(others, nd)
		}
	}
	asker, creator := others[0], others[1]
	tc.warm("/a.txt")
	stale := owner.header(t, "/a.txt", "X-Fetch") // the owner's copy, until it applies the invalidation

	gate := make(chan struct{}) // the owner applies nothing until it is closed
	owner.gate.Store(&gate)
	t.Cleanup(func() { close(gate) })
	h := asker.hold(t)
	creator.invalidate(t, "ref-1", "/a.txt")
	await(t, h.applied, asker.name+" applies the invalidation")
	first := asker.header(t, "/a.txt", "X-Fetch")
	if first == stale {
		t.Fatalf("%s, which applied the invalidation, serves the invalidated /a.txt (fetch #%s) from %s, which has not",
			asker.name, stale, owner.name)
	}
	if again := asker.header(t, "/a.txt", "X-Fetch"); again != first {
		t.Errorf("%s /a.txt again: fetch #%s, want #%s (stored)", asker.name, again, first)
	}
}

// TestRedeliveredBatchKeepsItsBanTime: JetStream delivers a batch again
// when the node's acknowledgement does not come within AckWait (late, or
// lost). The node applies a batch once: the ban stays at the time it first
// applied it, and an object fetched after that stays cached. Applied
// again, the batch's ban moved to the time of the second delivery, and
// invalidated the object fetched in between.
func TestRedeliveredBatchKeepsItsBanTime(t *testing.T) {
	// (Without the shared tier: what a serves is what a fetched.)
	tc := newTestClusterWith(t, 3, clusterOptions{ackWait: 500 * time.Millisecond, noPeers: true})
	a := tc.nodes[0]
	tc.warm("/a.txt")
	warm := a.header(t, "/a.txt", "X-Fetch")

	ctx := testContext(t)
	h := a.hold(t)
	created := make(chan error, 1)
	go func() {
		_, err := a.createInvalidation(ctx, "ref-1", "/a.txt")
		created <- err
	}()
	await(t, h.applied, "a applies the invalidation")
	fetched := a.header(t, "/a.txt", "X-Fetch")
	if fetched == warm {
		t.Fatalf("a serves the invalidated /a.txt (fetch #%s)", warm)
	}
	eventually(t, 30*time.Second, "JetStream delivers the unacknowledged batch again", func() bool {
		n, err := a.cn.Redelivered(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	h.release()
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	// The log is applied in order, one batch at a time: once a later
	// batch is applied, so is the one delivered again.
	a.invalidate(t, "ref-2", "/other.txt")
	if v := a.header(t, "/a.txt", "X-Fetch"); v != fetched {
		t.Errorf("a /a.txt after the batch was delivered again: fetch #%s, want #%s (fetched after the invalidation was applied)", v, fetched)
	}
}

// TestRestartedNodeReplaysBeforeServing stops one node of three, sends an
// invalidation to another, and restarts it: it applies what it missed
// before its viewer listener opens, so it never serves the invalidated
// object, and it knows the invalidations made before and while it was
// down.
func TestRestartedNodeReplaysBeforeServing(t *testing.T) {
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	tc.warm("/a.txt")
	tc.warm("/b.txt")
	before := a.invalidate(t, "before", "/b.txt")
	eventually(t, 2*time.Second, "c applied "+before, func() bool { return c.cn.Behind() == 0 && c.cn.Applied() > 0 })
	tc.warm("/b.txt")

	c.stop()
	eventually(t, 2*time.Second, "a sees two members", func() bool { return a.cn.Members() == 2 })
	while := b.invalidate(t, "while-c-was-down", "/a.txt")
	eventually(t, 2*time.Second, while+" Completed on the live nodes", func() bool { return a.status(t, while) == control.StatusCompleted })

	if err := tc.start(testContext(t), c); err != nil {
		t.Fatal(err)
	}
	if x := c.get(t, "/a.txt"); x != miss {
		t.Errorf("c's first /a.txt after its restart: X-Cache %q, want a miss", x)
	}
	if x := c.get(t, "/b.txt"); x != hit {
		t.Errorf("c /b.txt (cached after the earlier invalidation): X-Cache %q, want a hit", x)
	}
	ids := c.listed(t)
	for _, id := range []string{before, while} {
		if !ids[id] {
			t.Errorf("c after its restart: ListInvalidations lacks %s (has %v)", id, ids)
		}
		if s := c.status(t, id); s != control.StatusCompleted {
			t.Errorf("c after its restart: %s is %s", id, s)
		}
	}
	// (Its NATS server rejoining may hold the members bucket's writes
	// back for a moment while JetStream's replicas catch up.)
	eventually(t, 5*time.Second, "a sees three members", func() bool { return a.cn.Members() == 3 })
}

// TestNodeBeyondTheLogDropsItsCache: the log keeps a bounded number of
// batches; a node that comes back having missed batches the log no longer
// holds cannot know what they invalidated, so it drops its whole cache
// before it serves — a path nobody invalidated is a miss too.
func TestNodeBeyondTheLogDropsItsCache(t *testing.T) {
	// (Without the shared tier: the others' copies of /kept.txt are valid,
	// and c could be served them.)
	tc := newTestClusterWith(t, 3, clusterOptions{maxBatches: 2, noPeers: true})
	a, c := tc.nodes[0], tc.nodes[2]
	first := a.invalidate(t, "first", "/z.txt")
	eventually(t, 2*time.Second, "c applied "+first, func() bool { return c.cn.Behind() == 0 && c.cn.Applied() > 0 })
	tc.warm("/kept.txt")
	c.stop()
	eventually(t, 2*time.Second, "a sees two members", func() bool { return a.cn.Members() == 2 })
	for i := range 3 { // the log keeps 2: c's next batch is gone
		a.invalidate(t, fmt.Sprintf("while-down-%d", i), fmt.Sprintf("/x%d.txt", i))
	}
	if err := tc.start(testContext(t), c); err != nil {
		t.Fatal(err)
	}
	if x := c.get(t, "/kept.txt"); x != miss {
		t.Errorf("c's /kept.txt after missing batches the log dropped: X-Cache %q, want a miss", x)
	}
	if x := a.get(t, "/kept.txt"); x != hit {
		t.Errorf("a's /kept.txt (a missed nothing): X-Cache %q, want a hit", x)
	}
}
