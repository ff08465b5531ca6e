// Package front is the https listener's accept loop. Each connection's TLS
// handshake runs in the connection's own goroutine, bounded by
// HandshakeTimeout, and the protocol ALPN chose then picks the server that
// serves the connection from then on: HTTP1 for "http/1.1" (or none), HTTP2
// for "h2". Neither server knows the other, and either may be edgefront's
// own (h1, h2) or net/http's (NetHTTP): each gets a handshaken *tls.Conn
// and the connection's context, from which its requests' contexts take
// their values, as net/http's ConnContext gives them.
package front

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/h1"
)

// ConnServer serves connections another loop accepted and handshook.
type ConnServer interface {
	// ServeConn serves c until it ends, or hands it on (it may then
	// return first: Shutdown waits for it); requests' contexts carry
	// ctx's values.
	ServeConn(ctx context.Context, c net.Conn)
	// Shutdown ends the connections gracefully within ctx, Close at once.
	Shutdown(ctx context.Context) error
	Close() error
}

// DefaultHandshakeTimeout is Server.HandshakeTimeout when it is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// Server accepts TLS connections and gives each to the server of its
// protocol.
type Server struct {
	// TLSConfig is the listener's TLS configuration; its NextProtos (or
	// those GetConfigForClient returns) choose what ALPN may select.
	TLSConfig *tls.Config
	// HandshakeTimeout bounds the TLS handshake, from accept: a viewer
	// that has not finished it by then is closed. Zero means
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// ConnContext, when set, makes the context of a new connection (the
	// *tls.Conn, before its handshake, which runs under that context: what
	// GetConfigForClient records in it stays for the connection's requests).
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// HTTP1 serves "http/1.1" connections, and those without ALPN or with
	// another protocol (as net/http serves them); HTTP2 serves "h2". Both
	// required; they may be the same.
	HTTP1, HTTP2 ConnServer
	// ErrorLog receives failed handshakes (the standard logger when nil).
	ErrorLog *log.Logger

	mu          sync.Mutex
	listeners   map[net.Listener]struct{}
	handshaking map[net.Conn]struct{}
	closing     atomic.Bool
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// Serve accepts connections on ln, a TCP listener, until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	if s.HTTP1 == nil || s.HTTP2 == nil || s.TLSConfig == nil {
		return errors.New("front: Server needs TLSConfig, HTTP1 and HTTP2")
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
	s.mu.Unlock()

	for {
		nc, err := h1.Accept(ln, s.closing.Load, func(format string, args ...any) { s.logf("front: "+format, args...) })
		switch {
		case errors.Is(err, h1.ErrServerClosed):
			return ErrServerClosed
		case err != nil:
			return fmt.Errorf("front: accept: %w", err)
		}
		if !s.track(nc, true) {
			_ = nc.Close()
			continue
		}
		go s.serveConn(nc)
	}
}

// track adds nc to (or removes it from) the connections in handshake;
// false when the server is closing.
func (s *Server) track(nc net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.handshaking, nc)
		return true
	}
	if s.closing.Load() {
		return false
	}
	if s.handshaking == nil {
		s.handshaking = map[net.Conn]struct{}{}
	}
	s.handshaking[nc] = struct{}{}
	return true
}

// serveConn handshakes nc and gives it to the server of its protocol.
func (s *Server) serveConn(nc net.Conn) {
	tc := tls.Server(nc, s.TLSConfig)
	ctx := context.Background()
	if s.ConnContext != nil {
		ctx = s.ConnContext(ctx, tc)
	}
	err := s.handshake(ctx, nc, tc)
	s.track(nc, false)
	if err != nil {
		_ = nc.Close()
		if !errors.Is(err, net.ErrClosed) {
			s.logf("front: TLS handshake error from %s: %v", nc.RemoteAddr(), err)
		}
		return
	}
	if s.closing.Load() {
		_ = tc.Close()
		return
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		s.HTTP2.ServeConn(ctx, tc)
		return
	}
	s.HTTP1.ServeConn(ctx, tc)
}

// handshake runs tc's handshake under ctx within the handshake timeout.
func (s *Server) handshake(ctx context.Context, nc net.Conn, tc *tls.Conn) error {
	d := s.HandshakeTimeout
	if d <= 0 {
		d = DefaultHandshakeTimeout
	}
	if err := nc.SetDeadline(time.Now().Add(d)); err != nil {
		return fmt.Errorf("front: handshake deadline: %w", err)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("front: handshake: %w", err)
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("front: handshake deadline: %w", err)
	}
	return nil
}

// closeListeners closes the listeners and the connections in handshake.
func (s *Server) closeListeners() {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for ln := range s.listeners {
		_ = ln.Close()
	}
	for nc := range s.handshaking {
		_ = nc.Close()
	}
}

// servers are HTTP1 and HTTP2, once each.
func (s *Server) servers() []ConnServer {
	if s.HTTP1 == s.HTTP2 {
		return []ConnServer{s.HTTP1}
	}
	return []ConnServer{s.HTTP1, s.HTTP2}
}

// Shutdown stops accepting, closes the connections still in their
// handshake (no request is under way on them) and shuts HTTP1 and HTTP2
// down within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	var errs []error
	for _, cs := range s.servers() {
		if err := cs.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closeListeners()
	var errs []error
	for _, cs := range s.servers() {
		if err := cs.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
