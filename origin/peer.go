package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/edgefront/edgefront/config"
)

// PeerID is the OriginID of the errors of a peer fetcher.
const PeerID = "cluster-peer"

// Peer timeouts: a node of the same POP answers a connection at once, or is
// gone (the asking node then goes to the origin, so the viewer waits this
// long at most); its answer may wait for an origin fetch, which the owner
// bounds with the origin's own timeouts.
const (
	peerConnectTimeout = 500 * time.Millisecond
	peerReadTimeout    = 90 * time.Second
	peerKeepalive      = 60 * time.Second
)

// NewPeer returns the Fetcher of another node of the cluster, the owner of
// the cache keys the asking node sends it (the shared cache tier: package
// cluster chooses the owner, package proxy asks it). base is the owner's
// peer listener ("http://host:port"); from names the asking node, in the
// PeerHeader the owner answers without asking any other node.
//
// The request is sent as it is (the proxy has made it the owner's: the
// viewer's request after the viewer phases, with the cache key), with one
// connection attempt. The answer is the owner's object as it stores it:
// the owner's own response headers (X-Cache, Via, X-Amz-Cf-Pop,
// X-Amz-Cf-Id) are removed — the asking node sets its own — and X-Cache
// "Hit" becomes Response.CacheHit. Age is kept: the object's age at the
// owner is its age here too. An answer 421 (Misdirected Request: the owner
// cannot serve the request, e.g. it does not have the distribution yet) is
// an error of kind Connect, like a connection refused: the caller asks the
// origin instead.
func NewPeer(base, from string, opts ...Option) (Fetcher, error) {
	var op options
	for _, fn := range opts {
		fn(&op)
	}
	t, err := parseEndpoint(base)
	if err != nil {
		return nil, fmt.Errorf("cluster peer: %w", err)
	}
	f := &httpFetcher{
		id:      PeerID,
		headers: []config.Header{{Name: peerHeader, Value: from}},
		settings: connSettings{
			attempts:       1,
			connectTimeout: peerConnectTimeout,
			readTimeout:    peerReadTimeout,
			keepalive:      peerKeepalive,
		},
	}
	tlsConf, err := tlsConfig(nil, op.rootCAs)
	if err != nil {
		return nil, fmt.Errorf("cluster peer: %w", err)
	}
	f.transport = newTransport(f.settings, tlsConf)
	f.balancer = newBalancer([]target{t}, &config.Balancing{Policy: config.RoundRobin}, nil)
	f.picker = f.balancer
	return &peerFetcher{http: f, base: base}, nil
}

// peerHeader is proxy.PeerHeader (origin cannot import proxy).
const peerHeader = "X-Edgefront-Peer"

// peerFetcher is NewPeer's Fetcher.
type peerFetcher struct {
	http *httpFetcher
	base string
}

// ErrMisdirected is the cause of the error of a peer that answered 421
// Misdirected Request: it is up, but cannot serve this request now.
var ErrMisdirected = errors.New("the peer cannot serve this request (421 Misdirected Request)")

func (p *peerFetcher) Fetch(ctx context.Context, r *Request) (*Response, error) {
	resp, err := p.http.Fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusMisdirectedRequest {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, &Error{Kind: Connect, OriginID: PeerID, Err: fmt.Errorf("%s: %w: %s", p.base, ErrMisdirected, msg)}
	}
	h := resp.Header
	resp.CacheHit = h.Get("X-Cache") == "Hit from cloudfront"
	for _, name := range []string{"X-Cache", "Via", "X-Amz-Cf-Pop", "X-Amz-Cf-Id"} {
		delete(h, name)
	}
	return resp, nil
}

// Close closes the idle connections to the peer.
func (p *peerFetcher) Close() error { return p.http.Close() }
