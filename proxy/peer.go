package proxy

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"github.com/edgefront/edgefront/fields"
	"github.com/edgefront/edgefront/origin"
)

// This file is the shared cache tier of a cluster (package cluster): the
// nodes of a POP split the cache keys among themselves, and a miss on a
// node that does not own the key asks the node that does (its peer)
// instead of the origin. The owner answers from its cache or from one
// origin fetch collapsed with every other node's — a regional edge cache,
// in CloudFront's terms. The asking node then stores the object with the
// TTL its own policy gives the owner's headers, and Age as the owner
// counts it, so both copies expire together.

// Peers is the shared cache tier as the proxy sees it.
type Peers interface {
	// Owner returns the fetcher of the node that owns key, or nil when
	// this node owns it (or has no peers).
	Owner(key string) origin.Fetcher
}

// Headers of a request from a peer (the asking node) to the owner.
const (
	// PeerHeader names the asking node: the owner answers from its cache
	// or the origin, never asking another peer (loop prevention).
	PeerHeader = "X-Edgefront-Peer"
	// peerKeyHeader is the cache key (base64url), peerEncHeader the
	// encoding in it, peerProtoHeader the viewer's scheme.
	peerKeyHeader   = "X-Edgefront-Peer-Key"
	peerEncHeader   = "X-Edgefront-Peer-Encoding"
	peerProtoHeader = "X-Edgefront-Peer-Proto"
)

// SetPeers makes p the shared cache tier from now on (nil: none).
func (s *Server) SetPeers(p Peers) {
	if p == nil {
		s.peers.Store(nil)
		return
	}
	s.peers.Store(&p)
}

// PeerHandler is the handler of the peer listener: requests from the other
// nodes of the cluster for the keys this node owns. It must not be
// reachable by viewers — what it is asked (the cache key) is trusted.
//
// The request is the viewer's as the asking node saw it after its viewer
// phases (viewer rules and viewer-request code ran there), with the cache
// key in a header: the owner looks the key up and on a miss joins or
// starts the one flight of the key, exactly as for its own viewers. The
// answer is the cached object as stored, with Age — no custom error page,
// viewer-response code or response headers policy (the asking node applies
// them). When the owner cannot serve the request at all (no such
// distribution yet, a key it cannot read) it answers 421 Misdirected
// Request, and the asking node goes to the origin itself.
func (s *Server) PeerHandler() http.Handler { return http.HandlerFunc(s.servePeer) }

func (s *Server) servePeer(w http.ResponseWriter, r *http.Request) {
	key, err := base64.RawURLEncoding.DecodeString(r.Header.Get(peerKeyHeader))
	if err != nil || len(key) == 0 || r.Method != http.MethodGet {
		http.Error(w, "not a peer request: a GET with the cache key in "+peerKeyHeader, http.StatusMisdirectedRequest)
		return
	}
	enc, https := r.Header.Get(peerEncHeader), r.Header.Get(peerProtoHeader) == "https"
	for _, h := range []string{PeerHeader, peerKeyHeader, peerEncHeader, peerProtoHeader} {
		delete(r.Header, h)
	}
	x := s.newExchange(w, r)
	defer x.release()
	x.peer, x.peerHTTPS = true, https
	st := s.state.Load()
	if st == nil {
		http.Error(w, "not configured yet", http.StatusMisdirectedRequest)
		return
	}
	x.st, x.pop, x.signer = st, st.pop, st.signer
	ds, local := st.distribution(r)
	if ds == nil || !ds.dist.Enabled {
		http.Error(w, "no such distribution here (yet)", http.StatusMisdirectedRequest)
		return
	}
	x.ds, x.local = ds, local
	s.normalize(x)
	s.behavior(x)
	if !x.cacheable() {
		http.Error(w, "not a cacheable request here", http.StatusMisdirectedRequest)
		return
	}
	x.peerKey, x.peerEnc = string(key), enc
	if p := s.peers.Load(); p != nil && (*p).Owner(x.peerKey) != nil {
		// This node does not think it owns the key (the nodes' views of
		// the ring differ for a moment): its own flight for the key may be
		// asking a peer, maybe the one asking now, so this request fetches
		// apart rather than wait on it.
		x.peerApart = true
	}
	s.serveCached(x)
}

// askPeer fetches j from the node that owns its key, when that is another
// node and the request can be described to it. It reports false when the
// origin is to be asked instead: no peer owns the key, the request came
// from a peer, edge code chose the origin, or the peer failed (it is
// leaving, or gone: the viewer must not see that).
func (s *Server) askPeer(ctx context.Context, j *flightJob) (*origin.Response, bool) {
	if j.peer == nil {
		return nil, false
	}
	p := s.peers.Load()
	if p == nil {
		return nil, false
	}
	f := (*p).Owner(j.key)
	if f == nil {
		return nil, false
	}
	req := *j.peer
	req.Header = j.peer.Header.Clone()
	for _, name := range []string{"If-None-Match", "If-Modified-Since"} {
		if v := j.req.Header[name]; len(v) > 0 {
			req.Header[name] = v // the validators of the entry being revalidated
		}
	}
	resp, err := f.Fetch(ctx, &req)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("peer fetch failed; asking the origin", "distribution", j.ds.dist.ID, "path", j.path, "err", err)
		}
		return nil, false
	}
	return resp, true
}

// peerRequest describes x's request to the node that owns key: the
// viewer's request after the viewer phases, without what only concerns
// this viewer (its conditional and Range headers, hop-by-hop fields), with
// the key. Nil when x cannot be described to a peer: a request from a
// peer, or one whose origin edge code chose.
func (s *Server) peerRequest(x *exchange, key, enc string) *origin.Request {
	if x.peer || x.origin != nil || x.originGroup != nil {
		return nil
	}
	if p := s.peers.Load(); p == nil {
		return nil
	}
	r := x.r
	h := make(http.Header, len(r.Header)+5)
	hopByHop := fields.HopByHop(r.Header)
	for name, vals := range r.Header {
		if !conditionalHeaders[name] && !hopByHop(name) {
			h[name] = vals
		}
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		h["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + ip}
	} else {
		h["X-Forwarded-For"] = []string{ip}
	}
	h[peerKeyHeader] = []string{base64.RawURLEncoding.EncodeToString([]byte(key))}
	h[peerEncHeader] = []string{enc}
	proto := "http"
	if x.https() {
		proto = "https"
	}
	h[peerProtoHeader] = []string{proto}
	return &origin.Request{Method: http.MethodGet, Path: escapedPath(x), RawQuery: r.URL.RawQuery, Header: h,
		Host: r.Host, ViewerHTTPS: x.https(), ContentLength: 0}
}
