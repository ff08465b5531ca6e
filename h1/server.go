// Package h1 is edgefront's HTTP/1.1 front end for viewer connections,
// plain-text (Serve) or TLS (ServeConn, given a handshaken *tls.Conn). It
// answers the requests that make up nearly all of a cache's traffic —
// HTTP/1.1, no request body, an ordinary target — with far less work per
// request than net/http: one allocation for the request head, a
// reused request, response and header map per connection, responses
// rendered straight into a per-connection buffer and flushed once per batch
// of pipelined requests, and no goroutine per request to watch for the
// viewer leaving (the watch starts only when a handler waits on the
// request's context).
//
// A handler must not keep the request's header map, nor the request, after
// it returns (the values in the map it may keep): a connection reuses them.
//
// Any request it does not answer itself — a body, Expect, an upgrade,
// HTTP/1.0, an oversized or unusual head — hands the connection, with every
// byte not yet consumed, to a general net/http server, which serves it from
// then on. Both run the same handler.
//
// Requests that could be read two ways (request smuggling) or that an edge
// never serves are refused — 400, then the connection is closed — on the
// connections this server keeps and on those it handed over alike: bare LF
// or CR line ends, obs-fold, Transfer-Encoding on HTTP/1.0 or with
// Content-Length, framing headers spelt with '_', CONNECT, asterisk-form
// targets on methods other than OPTIONS, faulty chunked framing and long
// chunk extensions (see checkHead and chunkScanner). A handed-over
// connection stays behind a guardConn, which checks every request net/http
// reads from it, and paces request bodies (Server.BodyTimeout).
//
// On a TLS connection every request carries the connection's state in
// r.TLS, as net/http sets it. net/http cannot see that state behind the
// guardConn of a handed-over connection: HandedOver gives the General
// server's ConnContext what it needs to restore it.
package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/fields"
)

// Buffer sizes per connection. A request head that does not fit in
// readBufSize goes to the general server.
const (
	readBufSize  = 4096
	writeBufSize = 4096
)

// Server serves HTTP/1.1 connections, handing the ones it cannot serve to
// General.
type Server struct {
	// Handler answers every request; General.Handler should be the same.
	Handler http.Handler
	// General serves the connections this server hands over. Its timeouts
	// and limits apply to them. Required.
	General *http.Server
	// ReadHeaderTimeout bounds reading a request head once its first byte
	// arrived; IdleTimeout bounds the wait for the next request.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// BodyTimeout bounds how slowly a request body may arrive (requests
	// with a body are handed over: it applies on handed-over connections):
	// each successive 8 KiB of a body (or all of it, when shorter) must
	// arrive within BodyTimeout of waiting for it — time the handler spends
	// not reading does not count — or the read fails (the handler sees the
	// error; before the handler runs, the request is refused with a 400)
	// and the connection is closed. A body trickling a byte every 2 s is thus
	// cut off after 20 s by default, while an upload faster than 410 B/s
	// never is. Zero means DefaultBodyTimeout (20 s); negative, no bound
	// (the general server's ReadTimeout, if set, still applies).
	BodyTimeout time.Duration
	// ErrorLog receives handler panics (the standard logger when nil).
	ErrorLog *log.Logger
	// TooLarge, when set, makes the whole response (status line, header
	// and body) sent in place of net/http's plain "431 Request Header
	// Fields Too Large" to a request whose head is over the general
	// server's MaxHeaderBytes (CloudFront answers 413 with its error
	// page); the connection closes after it either way.
	TooLarge func() []byte

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	handoff   *handoffListener
	closing   atomic.Bool

	// answered counts the requests of connections gone that this server
	// answered itself (Answered).
	answered atomic.Int64

	// wbufs holds the write buffers of connections between responses, so
	// that thousands of idle keep-alive connections hold none.
	wbufs sync.Pool

	dateNow fields.Date

	// sendfiles counts the bodies written with sendfile (sendfile.go).
	sendfiles atomic.Int64
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	if s.General == nil {
		return errors.New("h1: Server.General is required")
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	s.startGeneral(ln.Addr())
	s.mu.Unlock()

	for {
		nc, err := Accept(ln, s.closing.Load, func(format string, args ...any) { s.logf("h1: "+format, args...) })
		if err != nil {
			return err
		}
		c := s.newConn(nil, nc)
		if c == nil {
			continue
		}
		go c.serve()
	}
}

// ServeConn serves one connection accepted elsewhere — a *tls.Conn whose
// handshake is done and whose ALPN protocol is "http/1.1" or none — in the
// calling goroutine, until it ends or is handed over to General. Its
// requests' contexts carry ctx's values (a nil ctx carries none) and, for
// a *tls.Conn, r.TLS is its connection state. After Shutdown or Close it
// closes nc at once.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	if s.General == nil {
		_ = nc.Close()
		s.logf("h1: ServeConn: Server.General is required")
		return
	}
	s.mu.Lock()
	s.startGeneral(nc.LocalAddr())
	s.mu.Unlock()
	if c := s.newConn(ctx, nc); c != nil {
		c.serve()
	}
}

// startGeneral starts the general server on the handoff listener, once;
// s.mu must be held.
func (s *Server) startGeneral(addr net.Addr) {
	if s.handoff != nil || s.closing.Load() {
		return
	}
	s.handoff = newHandoffListener(addr)
	go func(hl *handoffListener) { _ = s.General.Serve(hl) }(s.handoff)
}

// Shutdown stops accepting, closes idle connections, waits for the others
// to finish their response (each then closes), and shuts the general
// server down — all within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		_ = ln.Close()
	}
	hl := s.handoff
	s.mu.Unlock()
	if hl != nil {
		_ = hl.Close()
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		for c := range s.conns {
			c.closeIfIdle()
		}
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
	return s.General.Shutdown(ctx)
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		_ = ln.Close()
	}
	for c := range s.conns {
		_ = c.nc.Close()
	}
	hl := s.handoff
	s.mu.Unlock()
	if hl != nil {
		_ = hl.Close()
	}
	return s.General.Close()
}

func (s *Server) shuttingDown() bool { return s.closing.Load() }

// bodyTimeout is BodyTimeout with its default; 0 for none.
func (s *Server) bodyTimeout() time.Duration {
	switch {
	case s.BodyTimeout == 0:
		return DefaultBodyTimeout
	case s.BodyTimeout < 0:
		return 0
	}
	return s.BodyTimeout
}

// newConn registers a connection to serve; parent (may be nil) gives its
// requests' contexts their values. nil when the server is closing.
func (s *Server) newConn(parent context.Context, nc net.Conn) *conn {
	c := &conn{
		srv:    s,
		nc:     nc,
		rbuf:   make([]byte, readBufSize),
		remote: nc.RemoteAddr().String(),
	}
	if tc, ok := nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	c.w.c = c
	c.w.header = make(http.Header)
	c.hdr = make(http.Header)
	c.ctx = newConnContext(c, parent)
	c.base = new(http.Request).WithContext(c.ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		_ = nc.Close()
		return nil
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.answered.Add(c.answered.Load())
	s.mu.Unlock()
}

// Answered returns how many requests the server has answered itself —
// not counting those of connections it handed over to General. A request
// counts from when its handler starts, so a viewer that has its answer
// finds it counted. Each connection counts its own (no shared counter on
// the hot path).
func (s *Server) Answered() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.answered.Load()
	for c := range s.conns {
		n += c.answered.Load()
	}
	return n
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// handoffListener is the net.Listener the general server accepts handed
// over connections from.
type handoffListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// give passes c to the general server; false when it is shut down.
func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}
