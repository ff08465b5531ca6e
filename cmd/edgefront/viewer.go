package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/edgetls"
	"github.com/edgefront/edgefront/h2"
)

// viewerLimits bound what one HTTP/2 viewer connection on the https
// listener may hold: the zero value of a field means its default.
type viewerLimits struct {
	// Silent is how long a connection may send no frame before it is
	// PINGed; Ping is how long the PING's answer may take before the
	// connection is closed. A viewer stuck in an unfinished header block
	// cannot answer (RFC 9113 §6.10: only CONTINUATION may follow), so it
	// is closed after Silent+Ping.
	Silent, Ping time.Duration
	// Body is how long a request body may take to arrive, from its
	// request's headers; past it the connection is closed.
	Body time.Duration
	// WriteStall is how long a response write may wait without the viewer
	// taking data (a zero flow-control window, or a TCP window it never
	// opens); past it the connection is closed.
	WriteStall time.Duration
	// MaxStreams is SETTINGS_MAX_CONCURRENT_STREAMS.
	MaxStreams int
	// Resets: a connection on which more than Resets requests were
	// cancelled by the viewer (RST_STREAM) before their response was
	// written, and more were cancelled than completed, is closed.
	Resets int
}

// Default viewer limits (documented in serveHelp and the README): h2's,
// for net/http's HTTP/2 server and HTTP/3 too.
const (
	defaultViewerSilent     = h2.DefaultPingAfter
	defaultViewerPing       = h2.DefaultPingTimeout
	defaultViewerBody       = h2.DefaultBodyTimeout
	defaultViewerWriteStall = h2.DefaultWriteStallTimeout
	defaultViewerMaxStreams = h2.DefaultMaxConcurrentStreams
	defaultViewerResets     = h2.DefaultMaxResets
)

// withDefaults fills in the zero fields.
func (l viewerLimits) withDefaults() viewerLimits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.Silent, defaultViewerSilent)
	def(&l.Ping, defaultViewerPing)
	def(&l.Body, defaultViewerBody)
	def(&l.WriteStall, defaultViewerWriteStall)
	if l.MaxStreams <= 0 {
		l.MaxStreams = defaultViewerMaxStreams
	}
	if l.Resets <= 0 {
		l.Resets = defaultViewerResets
	}
	return l
}

// http2Config is net/http's HTTP/2 configuration for the limits.
func (l viewerLimits) http2Config() *http.HTTP2Config {
	return &http.HTTP2Config{
		MaxConcurrentStreams: l.MaxStreams,
		SendPingTimeout:      l.Silent,
		PingTimeout:          l.Ping,
		// A viewer that does not read the connection at all (TCP window
		// closed) blocks the connection's writer.
		WriteByteTimeout: l.WriteStall,
	}
}

// viewerConnKey is the context key of a connection's *viewerConn.
type viewerConnKey struct{}

// viewerConn is what the guard knows of one viewer connection.
type viewerConn struct {
	conn                 net.Conn
	cancelled, completed atomic.Int64
	closed               atomic.Bool

	// active are the responses being written on the connection; one
	// watcher goroutine (watching) looks for a stalled one while there
	// are any. A request costs a map insert and delete, no timer.
	mu       sync.Mutex
	active   map[*stallWriter]struct{}
	watching bool
}

// tlsState is the connection's TLS state, nil when it is not TLS.
func (vc *viewerConn) tlsState() *tls.ConnectionState {
	tc, ok := vc.conn.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	return &st
}

// viewerGuard enforces viewerLimits on the HTTP/2 requests of a listener
// whose http.Server has ConnContext set to its connContext. HTTP/1 requests
// go straight to next.
type viewerGuard struct {
	next   http.Handler
	limits viewerLimits
	log    *slog.Logger
}

// newViewerGuard wraps next; l's zero fields take their defaults.
func newViewerGuard(next http.Handler, l viewerLimits, log *slog.Logger) *viewerGuard {
	return &viewerGuard{next: next, limits: l.withDefaults(), log: log}
}

// connContext is the http.Server's ConnContext: it attaches the connection
// the guard counts requests of and closes, and room for the connection's
// ClientHello fingerprints (CloudFront-Viewer-JA3/JA4-Fingerprint), which
// the handshake fills in.
func (g *viewerGuard) connContext(ctx context.Context, c net.Conn) context.Context {
	ctx = edgetls.CaptureHello(ctx)
	return context.WithValue(ctx, viewerConnKey{}, &viewerConn{conn: c})
}

// closeConn closes vc once, logging why.
func (g *viewerGuard) closeConn(vc *viewerConn, reason string) {
	if !vc.closed.CompareAndSwap(false, true) {
		return
	}
	g.log.Warn("closing viewer connection: "+reason, "viewer", vc.conn.RemoteAddr().String(),
		"cancelled", vc.cancelled.Load(), "completed", vc.completed.Load())
	_ = vc.conn.Close()
}

// ServeHTTP serves an HTTP/2 request through next within the limits: a
// request the viewer already reset is not served at all.
func (g *viewerGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	vc, _ := r.Context().Value(viewerConnKey{}).(*viewerConn)
	if r.TLS == nil && vc != nil {
		// A connection h1 handed over to net/http, which sees no *tls.Conn.
		r.TLS = vc.tlsState()
	}
	if vc == nil || r.ProtoMajor != 2 {
		g.next.ServeHTTP(w, r)
		return
	}
	if vc.closed.Load() {
		return // the connection is going: serve nothing more on it
	}
	ctx := r.Context()
	if ctx.Err() != nil {
		// Reset by the viewer before its handler started: no work at all.
		g.noteCancelled(vc)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		// net/http's HTTP/2 server closes the body with
		// os.ErrDeadlineExceeded at the read deadline.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(g.limits.Body))
		r.Body = &guardedBody{ReadCloser: r.Body, g: g, vc: vc}
	}
	sw := stallWriters.Get().(*stallWriter)
	sw.ResponseWriter = w
	g.watch(vc, sw)
	g.next.ServeHTTP(sw, r)
	if sw.pending && ctx.Err() == nil {
		// net/http cancels ctx before it flushes what the handler left
		// buffered, so flush here, where a stall is still watched.
		sw.Flush()
	}
	g.unwatch(vc, sw)
	*sw = stallWriter{}
	stallWriters.Put(sw)
	if ctx.Err() != nil {
		g.noteCancelled(vc)
	} else {
		vc.completed.Add(1)
	}
}

// noteCancelled counts a request the viewer cancelled and closes the
// connection past the limit (rapid reset, CVE-2023-44487).
func (g *viewerGuard) noteCancelled(vc *viewerConn) {
	if tooManyResets(vc.cancelled.Add(1), vc.completed.Load(), g.limits.Resets) {
		g.closeConn(vc, "too many requests cancelled by the viewer (rapid reset)")
	}
}

// tooManyResets is the rapid-reset rule of a viewer connection (HTTP/2 and
// HTTP/3): more than limit requests cancelled by the viewer before their
// response, and more cancelled than completed.
func tooManyResets(cancelled, completed int64, limit int) bool {
	return cancelled > int64(limit) && cancelled > completed
}

// stallWriters recycles the per-request writers.
var stallWriters = sync.Pool{New: func() any { return new(stallWriter) }}

// watch adds sw to the responses of vc that its watcher checks, starting
// the watcher if none runs: while vc has responses in progress, one
// goroutine looks every tenth of WriteStall for one blocked writing for
// WriteStall, and closes the connection if it finds one. It ends when no
// response is left.
func (g *viewerGuard) watch(vc *viewerConn, sw *stallWriter) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if vc.active == nil {
		vc.active = make(map[*stallWriter]struct{})
	}
	vc.active[sw] = struct{}{}
	if !vc.watching {
		vc.watching = true
		go g.watcher(vc)
	}
}

// unwatch removes sw from vc's responses in progress.
func (g *viewerGuard) unwatch(vc *viewerConn, sw *stallWriter) {
	vc.mu.Lock()
	delete(vc.active, sw)
	vc.mu.Unlock()
}

// watcher is vc's stall watcher (watch).
func (g *viewerGuard) watcher(vc *viewerConn) {
	limit := g.limits.WriteStall
	tick := time.NewTicker(max(limit/10, time.Millisecond))
	defer tick.Stop()
	for range tick.C {
		vc.mu.Lock()
		if len(vc.active) == 0 || vc.closed.Load() {
			vc.watching = false
			vc.mu.Unlock()
			return
		}
		stalled := false
		now := time.Now().UnixNano()
		for sw := range vc.active {
			if since := sw.since.Load(); since != 0 && time.Duration(now-since) >= limit {
				stalled = true
			}
		}
		if stalled {
			vc.watching = false
		}
		vc.mu.Unlock()
		if stalled {
			g.closeConn(vc, "response stalled: the viewer took no data")
			return
		}
	}
}

// stallWriter records since when a write has been blocked.
type stallWriter struct {
	http.ResponseWriter
	pending bool         // body bytes written since the last Flush (handler goroutine only)
	since   atomic.Int64 // UnixNano when the blocking call began; 0 when none
}

// Write writes p, noting since when it has been blocked.
func (s *stallWriter) Write(p []byte) (int, error) {
	s.since.Store(time.Now().UnixNano())
	n, err := s.ResponseWriter.Write(p)
	s.since.Store(0)
	s.pending = s.pending || n > 0
	return n, err
}

// WriteString writes str as Write does, without copying it.
func (s *stallWriter) WriteString(str string) (int, error) {
	s.since.Store(time.Now().UnixNano())
	n, err := io.WriteString(s.ResponseWriter, str)
	s.since.Store(0)
	s.pending = s.pending || n > 0
	return n, err
}

// Flush flushes the underlying writer, noting since when it has been
// blocked.
func (s *stallWriter) Flush() {
	s.since.Store(time.Now().UnixNano())
	_ = http.NewResponseController(s.ResponseWriter).Flush()
	s.since.Store(0)
	s.pending = false
}

// Unwrap lets http.ResponseController reach the connection.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// guardedBody closes the connection when the request body's read deadline
// passes: a body trickled slower than viewerLimits.Body allows.
type guardedBody struct {
	io.ReadCloser
	g  *viewerGuard
	vc *viewerConn
}

// Read reads the body; at its deadline it closes the connection.
func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.g.closeConn(b.vc, "request body too slow")
	}
	return n, err
}
