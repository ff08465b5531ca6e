package cluster

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/origin"
)

// This file is the shared cache tier: the nodes with a peer listener
// (cluster.peers) split the cache keys among themselves on a ring (ring.go)
// of the live ones, and a miss on a node that does not own its key asks
// the owner (package proxy, through Owner) instead of the origin.
//
// A node is on the ring while its member entry is younger than PeerTTL,
// and has written one since a request to it last failed to connect. One
// that dies leaves the ring of a node as soon as that node fails to reach
// it (a refused connection, or origin's peer connect timeout: the asking
// node then goes to the origin, so viewers never see a peer's failure),
// and within PeerTTL everywhere; one that closes leaves at once (it
// deletes its entry). The TTL is a few seconds, so that heartbeats late
// under load do not make the ring flap (each change moves keys, and every
// node's copies of them with them).

// DefaultPeerTTL is how long a node stays on the ring without a heartbeat.
const DefaultPeerTTL = 3 * time.Second

// peerTier is a node's view of the ring and its connections to the peers.
type peerTier struct {
	self  string // this node's name
	url   string // this node's peer listener ("": it has none)
	token string // the secret every peer request carries (config.go)

	mu       sync.Mutex
	ring     *ring
	fetchers map[string]peerConn  // by node name
	down     map[string]time.Time // when a request to a node last failed to connect

	asked, failed, served atomic.Uint64
}

// peerConn is the fetcher of one peer at one address.
type peerConn struct {
	url string
	f   origin.Fetcher
}

// peerURL is this node's peer listener's base URL ("": none).
func (n *Node) peerURL() string { return n.peers.url }

// Owner returns the fetcher of the node that owns key on the ring of the
// live nodes, or nil when this node owns it or takes no part in the tier
// (proxy.Peers).
func (n *Node) Owner(key string) origin.Fetcher {
	t := &n.peers
	if t.url == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	live := n.members.peers(t.self, n.o.PeerTTL, t.down)
	if len(live) == 0 {
		return nil
	}
	r := t.ringOf(live)
	owner := r.ownerOf(key)
	if owner == t.self {
		return nil
	}
	c, ok := t.fetchers[owner]
	if !ok || c.url != live[owner] {
		if ok {
			closeFetcher(c.f)
		}
		f, err := origin.NewPeer(live[owner], t.self)
		if err != nil {
			n.log.Warn("cluster: a peer's address is not usable; asking the origin", "peer", owner, "url", live[owner], "err", err)
			return nil
		}
		c = peerConn{url: live[owner], f: &countedPeer{f: f, t: t, n: n, node: owner}}
		t.fetchers[owner] = c
	}
	return c.f
}

// ringOf returns the ring of self and live, rebuilt when they changed;
// fetchers of nodes no longer live are closed. Called with t.mu held.
func (t *peerTier) ringOf(live map[string]string) *ring {
	if r := t.ring; r != nil && len(r.nodes) == len(live)+1 {
		same := true
		for _, name := range r.nodes {
			if _, ok := live[name]; !ok && name != t.self {
				same = false
				break
			}
		}
		if same {
			return r
		}
	}
	nodes := []string{t.self}
	for name := range live {
		nodes = append(nodes, name)
	}
	t.ring = newRing(nodes)
	for name, c := range t.fetchers {
		if _, ok := live[name]; !ok {
			closeFetcher(c.f)
			delete(t.fetchers, name)
		}
	}
	return t.ring
}

// Ring returns the nodes on this node's ring now, sorted (none when this
// node takes no part in the shared cache tier).
func (n *Node) Ring() []string {
	if n.peers.url == "" {
		return nil
	}
	n.peers.mu.Lock()
	live := n.members.peers(n.peers.self, n.o.PeerTTL, n.peers.down)
	n.peers.mu.Unlock()
	nodes := []string{n.peers.self}
	for name := range live {
		nodes = append(nodes, name)
	}
	slices.Sort(nodes)
	return nodes
}

// PeerStats returns how many times this node asked a peer, how many of
// those failed (the origin was asked instead), and how many peer requests
// it served.
func (n *Node) PeerStats() (asked, failed, served uint64) {
	return n.peers.asked.Load(), n.peers.failed.Load(), n.peers.served.Load()
}

// appliedHeader carries the asking node's position in the invalidation
// log to the owner (the last batch it has begun to apply); tokenHeader the
// cluster's peer token.
const (
	appliedHeader = "X-Edgefront-Peer-Applied"
	tokenHeader   = "X-Edgefront-Peer-Token"
)

// ServePeers wraps the peer listener's handler (proxy.Server.PeerHandler):
// it refuses a request without the cluster's peer token — a peer
// request names its cache key and skips the viewer rules, so only the
// cluster's nodes may make one (the token is in the configuration bucket:
// whoever can read it controls the cluster anyway) — and those from a node
// that has begun to apply invalidations this one has not applied yet —
// what this node has cached may be what they invalidate, and the asking
// node would store it again after its own ban, as fetched since: both
// with 421 Misdirected Request, which the asking node answers by asking
// the origin. It counts the requests served.
func (n *Node) ServePeers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(tokenHeader)), []byte(n.peers.token)) != 1 {
			http.Error(w, "not a request of this cluster's nodes (no peer token, or another cluster's)", http.StatusMisdirectedRequest)
			return
		}
		r.Header.Del(tokenHeader)
		if v, err := strconv.ParseUint(r.Header.Get(appliedHeader), 10, 64); err == nil && v > n.applied.Load() {
			http.Error(w, fmt.Sprintf("this node applied the invalidation log up to %d, the asking node is applying it up to %d", n.applied.Load(), v),
				http.StatusMisdirectedRequest)
			return
		}
		r.Header.Del(appliedHeader)
		n.peers.served.Add(1)
		h.ServeHTTP(w, r)
	})
}

// closePeers closes the connections to the peers.
func (t *peerTier) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, c := range t.fetchers {
		closeFetcher(c.f)
		delete(t.fetchers, name)
	}
}

// countedPeer counts the requests to a peer and their failures.
type countedPeer struct {
	f    origin.Fetcher
	t    *peerTier
	n    *Node
	node string
}

func (c *countedPeer) Fetch(ctx context.Context, r *origin.Request) (*origin.Response, error) {
	c.t.asked.Add(1)
	r.Header.Set(appliedHeader, strconv.FormatUint(c.n.applying.Load(), 10))
	r.Header.Set(tokenHeader, c.t.token)
	resp, err := c.f.Fetch(ctx, r)
	if err != nil {
		c.t.failed.Add(1)
		var oe *origin.Error
		if errors.As(err, &oe) && oe.Kind == origin.Connect && !errors.Is(err, origin.ErrMisdirected) {
			// Gone, or unreachable: off the ring until it writes its entry
			// again.
			c.t.mu.Lock()
			c.t.down[c.node] = time.Now()
			c.t.mu.Unlock()
		}
	}
	return resp, err
}

func (c *countedPeer) Close() error {
	closeFetcher(c.f)
	return nil
}

func closeFetcher(f origin.Fetcher) {
	if c, ok := f.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}
