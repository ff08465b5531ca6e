// Package h2 is edgefront's HTTP/2 front end for TLS viewer connections
// whose ALPN chose "h2". It is built on golang.org/x/net/http2's Framer and
// hpack (framing and header compression are theirs) and serves each
// connection from one reader goroutine: frames are read, header blocks
// decoded straight into a pooled request, and a request the handler can
// answer without blocking (a cache hit, a redirect, an error the edge
// makes) is answered from that goroutine into the connection's write
// buffer, which goes out once per batch of frames read. Every other request
// runs in a goroutine of its own, whose ResponseWriter writes frames through
// the same buffer under the connection's write lock; it may stream, Flush,
// send trailers (declared with a Trailer header, or named with
// http.TrailerPrefix) and set its write deadline (http.ResponseController).
// Nobody holds the lock while writing to the socket: whoever flushes takes
// the whole buffer and the others append behind it.
//
// A handler answers without blocking by implementing FastHandler: the
// server calls ServeFast first, in the reader goroutine, for requests
// without a body; it returns false, having written nothing, to have the
// request served by ServeHTTP in a goroutine.
//
// Use: the TLS accept loop hands each connection whose ALPN is "h2" to
// ServeConn, which returns when the connection ends; Shutdown sends GOAWAY
// to every connection and waits for their streams; Close closes them at
// once. Requests carry r.TLS (the connection's state), Proto "HTTP/2.0",
// RemoteAddr, Host from :authority, and a context with
// http.LocalAddrContextKey and, through ServeConnContext, the values of
// the context the connection was accepted (and its TLS handshake made)
// with.
//
// A handler must not keep the request, its header map or its body after it
// returns: streams reuse them.
//
// The protocol (RFC 9113) is served whole, and defended: SETTINGS are
// acknowledged and applied (initial window changes reach open streams);
// flow control is kept on both directions — request bodies are bounded by
// the windows this server grants, and a response blocked on a window the
// viewer never opens fails after WriteStallTimeout and closes the
// connection; PING is answered, and a silent viewer with requests in
// progress is PINGed then closed; priorities are ignored (RFC 9113
// §5.3.2); pseudo-headers and content-length are checked as net/http
// checks them, and refused the same way (stream or connection errors);
// connection-specific fields get net/http's 400, then RST_STREAM
// PROTOCOL_ERROR (RFC 9113 §8.1.1, §8.2.2); header lists over
// MaxHeaderBytes get 431 as from net/http; a header block that keeps
// growing past twice the limit, or arrives slower than PrefaceTimeout,
// ends the connection (CONTINUATION flood, CVE-2024-27316); more than
// MaxResets requests cancelled by the viewer, and more cancelled than
// completed, end it too (rapid reset, CVE-2023-44487), and handlers of
// reset streams still running count against new streams; frames that do
// no work — SETTINGS, PING, PRIORITY, empty DATA and CONTINUATION,
// RST_STREAM and WINDOW_UPDATE with nothing to send — beyond a burst of
// FloodFrames and FloodFrames a second end it with ENHANCE_YOUR_CALM;
// output waiting for a viewer that does not read is bounded per
// connection, and answers waiting for windows that do not open close it
// after WriteStallTimeout; a connection with no request in progress is
// closed after IdleTimeout whatever PINGs it sends. Anything this server
// does not support (server push, extended CONNECT) is refused as net/http
// refuses it.
package h2

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/fields"
)

// FastHandler is a handler that can answer some requests without blocking.
// ServeFast is called in the connection's reader goroutine for requests
// without a body; it either answers the request completely, without
// waiting for anything but the CPU, and returns true, or returns false
// having touched neither w nor r, and the request then goes to ServeHTTP in
// a goroutine of its own. Writes to w never block in ServeFast: what the
// flow-control windows do not admit yet is copied and sent later, so a
// FastHandler should answer only small bodies (tens of KiB) there.
type FastHandler interface {
	ServeFast(w http.ResponseWriter, r *http.Request) bool
}

// Defaults of the Server's limits (the zero value of a field means its
// default). The timeouts match edgefront's net/http viewer limits.
const (
	DefaultMaxConcurrentStreams = 100
	DefaultMaxHeaderBytes       = 64 << 10
	DefaultStreamWindow         = 1 << 20
	DefaultConnWindow           = 1 << 20
	DefaultPrefaceTimeout       = 10 * time.Second
	DefaultIdleTimeout          = 2 * time.Minute
	DefaultPingAfter            = 10 * time.Second
	DefaultPingTimeout          = 10 * time.Second
	DefaultBodyTimeout          = 60 * time.Second
	DefaultWriteStallTimeout    = 30 * time.Second
	DefaultMaxResets            = 100
	DefaultFloodFrames          = 1000
)

// Server serves HTTP/2 connections. Its exported fields must not change
// once it serves.
//
// Its limits take over cmd/edgefront's viewerLimits, which bound net/http's
// HTTP/2 viewer connections today: Silent is PingAfter, Ping PingTimeout,
// Body BodyTimeout, WriteStall WriteStallTimeout, MaxStreams
// MaxConcurrentStreams, Resets MaxResets — with the same defaults — and the
// https listener's MaxHeaderBytes (64 KiB) and IdleTimeout (2 min) are
// MaxHeaderBytes and IdleTimeout; ServeConnContext with the handshake's
// context (edgetls.CaptureHello) carries the ClientHello fingerprints.
type Server struct {
	// Handler answers every request; if it implements FastHandler, requests
	// without a body are offered to ServeFast first.
	Handler http.Handler
	// MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS.
	MaxConcurrentStreams uint32
	// MaxHeaderBytes bounds a request's header list (RFC 9113 §6.5.2
	// size: names, values and 32 bytes a field); over it the request is
	// answered 431, as net/http does.
	MaxHeaderBytes int
	// StreamWindow and ConnWindow are the flow-control windows granted to
	// the viewer for request bodies: a stream's body buffer never holds
	// more than StreamWindow, a connection's bodies together never more
	// than ConnWindow.
	StreamWindow, ConnWindow int32
	// PrefaceTimeout bounds the wait for the client preface and its
	// SETTINGS once ServeConn starts, and for the rest of a header block
	// once its first frame arrived.
	PrefaceTimeout time.Duration
	// IdleTimeout closes (GOAWAY, NO_ERROR) a connection without
	// requests in progress that sent nothing for this long.
	IdleTimeout time.Duration
	// PingAfter is how long a connection with requests in progress may
	// send no frame before it is PINGed; PingTimeout is how long the
	// answer may take before the connection is closed.
	PingAfter, PingTimeout time.Duration
	// BodyTimeout is how long a request body may take to arrive, from its
	// request's headers; a handler reading it past then gets
	// os.ErrDeadlineExceeded and the connection is closed.
	BodyTimeout time.Duration
	// WriteStallTimeout is how long a response may wait for the viewer to
	// take data (a zero flow-control window, a TCP window it never opens);
	// past it the connection is closed.
	WriteStallTimeout time.Duration
	// MaxResets: a connection on which more than MaxResets requests were
	// cancelled by the viewer (RST_STREAM) before their response ended,
	// and more were cancelled than completed, is closed
	// (ENHANCE_YOUR_CALM).
	MaxResets int
	// FloodFrames is the burst, and the rate per second, of frames that do
	// no work (SETTINGS, PING, PRIORITY, RST_STREAM, empty DATA and
	// CONTINUATION) a connection may send; past it, it is closed
	// (ENHANCE_YOUR_CALM).
	FloodFrames int
	// ErrorLog receives handler panics and connection errors worth an
	// operator's attention (the standard logger when nil).
	ErrorLog *log.Logger

	mu      sync.Mutex
	conns   map[*conn]struct{}
	drained chan struct{} // closed when conns empties during Shutdown
	closing atomic.Bool

	streams sync.Pool // *stream
	bufs    sync.Pool // *[]byte write buffers of idle connections

	dateNow fields.Date
}

// ErrServerClosed is returned by ServeConn after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// ServeConn serves the HTTP/2 connection c (a *tls.Conn whose handshake
// chose "h2", or a plain one speaking h2c with prior knowledge) until it
// ends. It closes c.
func (s *Server) ServeConn(c net.Conn) { s.ServeConnContext(context.Background(), c) }

// ServeConnContext is ServeConn whose requests' contexts carry ctx's
// values (not its cancellation): say, the context the TLS handshake used.
func (s *Server) ServeConnContext(ctx context.Context, c net.Conn) {
	cc := s.newConn(ctx, c)
	if cc == nil {
		_ = c.Close()
		return
	}
	defer s.forget(cc)
	cc.serve()
}

// Shutdown sends GOAWAY to every connection, lets their streams in
// progress finish and waits for the connections to close — within ctx,
// after which it closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.drained == nil {
		s.drained = make(chan struct{})
		if len(s.conns) == 0 {
			close(s.drained)
		}
	}
	done := s.drained
	for c := range s.conns {
		c.goAway()
	}
	s.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		_ = s.Close()
		return ctx.Err()
	}
}

// Close closes every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.nc.Close()
	}
	return nil
}

func (s *Server) newConn(ctx context.Context, nc net.Conn) *conn {
	c := newConn(s, ctx, nc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
	}
	s.conns[c] = struct{}{}
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if len(s.conns) == 0 && s.drained != nil {
		select {
		case <-s.drained:
		default:
			close(s.drained)
		}
	}
	s.mu.Unlock()
}

// limits is a Server's limits with their defaults filled in.
type limits struct {
	maxStreams                     uint32
	maxHeaderList                  uint32
	streamWindow, connWindow       int32
	preface, idle, pingAfter, ping time.Duration
	body, stall                    time.Duration
	maxResets, flood               int
}

func (s *Server) limits() limits {
	l := limits{
		maxStreams:   s.MaxConcurrentStreams,
		streamWindow: s.StreamWindow, connWindow: s.ConnWindow,
		preface: s.PrefaceTimeout, idle: s.IdleTimeout, pingAfter: s.PingAfter, ping: s.PingTimeout,
		body: s.BodyTimeout, stall: s.WriteStallTimeout,
		maxResets: s.MaxResets, flood: s.FloodFrames,
	}
	if l.maxStreams == 0 {
		l.maxStreams = DefaultMaxConcurrentStreams
	}
	mh := s.MaxHeaderBytes
	if mh <= 0 {
		mh = DefaultMaxHeaderBytes
	}
	// As net/http: room for ten typical fields' overhead beyond the bytes.
	l.maxHeaderList = uint32(mh) + 10*32
	if l.streamWindow <= 0 {
		l.streamWindow = DefaultStreamWindow
	}
	if l.connWindow <= 0 {
		l.connWindow = DefaultConnWindow
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.preface, DefaultPrefaceTimeout)
	def(&l.idle, DefaultIdleTimeout)
	def(&l.pingAfter, DefaultPingAfter)
	def(&l.ping, DefaultPingTimeout)
	def(&l.body, DefaultBodyTimeout)
	def(&l.stall, DefaultWriteStallTimeout)
	if l.maxResets <= 0 {
		l.maxResets = DefaultMaxResets
	}
	if l.flood <= 0 {
		l.flood = DefaultFloodFrames
	}
	return l
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// errClosed reports a write on a stream or connection that has ended.
var errClosed = errors.New("h2: stream closed")
