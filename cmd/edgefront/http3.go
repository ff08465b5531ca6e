package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/h2"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// http3MaxHeaderBytes is CloudFront's limit on a request's line and headers
// (20,480 bytes), which HTTP/3 enforces on the HEADERS frame.
const http3MaxHeaderBytes = 20 << 10

// startHTTP3 serves h over HTTP/3 (QUIC) on the UDP address addr, usually the
// https listener's host:port. tlsConf is the QUIC listener's configuration
// (tls.Provider.QUICConfig: TLS 1.3, ALPN h3, only names whose distribution
// enables HTTP/3). stop closes the listener and every connection.
func startHTTP3(addr string, tlsConf *tls.Config, h http.Handler, g *http3Guard) (stop func() error, err error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("http3 listener: %w", err)
	}
	return serveHTTP3(pc, tlsConf, h, g), nil
}

// serveHTTP3 serves h over HTTP/3 on pc, within g's limits, until stop is
// called; stop also closes pc.
func serveHTTP3(pc net.PacketConn, tlsConf *tls.Config, h http.Handler, g *http3Guard) (stop func() error) {
	g.next = h
	srv := &http3.Server{
		Handler:        g,
		ConnContext:    g.connContext,
		TLSConfig:      tlsConf, // the server sets ALPN h3 on it and on what GetConfigForClient returns
		MaxHeaderBytes: http3MaxHeaderBytes,
		IdleTimeout:    2 * time.Minute,
		QUICConfig:     &quic.Config{MaxIncomingStreams: int64(g.limits.MaxStreams)},
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	return func() error {
		err := srv.Close()
		// Closing pc also ends a Serve that had not yet registered pc
		// when Close ran.
		if cerr := pc.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
		if served := <-done; served != nil && !errors.Is(served, http.ErrServerClosed) && !errors.Is(served, net.ErrClosed) {
			err = errors.Join(err, served)
		}
		return err
	}
}

// altSvc advertises HTTP/3 the way CloudFront does: responses to https
// requests for a distribution whose HttpVersion enables HTTP/3 (enabled
// reports it for a Host header, e.g. tls.Provider.HTTP3) carry
// `Alt-Svc: h3=":PORT"; ma=86400`, PORT being the UDP port of the HTTP/3
// listener. Requests already on HTTP/3 and plain-http requests get none.
func altSvc(h http.Handler, port string, enabled func(host string) bool) http.Handler {
	return &altSvcHandler{next: h, value: []string{`h3=":` + port + `"; ma=86400`}, enabled: enabled}
}

// altSvcHandler is altSvc's handler; it answers hits on the HTTP/2 fast
// path too when next does (h2.FastHandler).
type altSvcHandler struct {
	next    http.Handler
	value   []string
	enabled func(host string) bool
}

func (a *altSvcHandler) set(w http.ResponseWriter, r *http.Request) {
	if r.TLS != nil && r.ProtoMajor < 3 && a.enabled(r.Host) {
		w.Header()["Alt-Svc"] = a.value
	}
}

// ServeHTTP implements http.Handler.
func (a *altSvcHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.set(w, r)
	a.next.ServeHTTP(w, r)
}

// ServeFast implements h2.FastHandler.
func (a *altSvcHandler) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	fh, ok := a.next.(h2.FastHandler)
	if !ok {
		return false
	}
	a.set(w, r)
	if fh.ServeFast(w, r) {
		return true
	}
	delete(w.Header(), "Alt-Svc") // declined: nothing written
	return false
}

// http3Guard applies to HTTP/3 connections the rapid-reset rule of the
// HTTP/2 ones (viewerLimits.Resets, CVE-2023-44487 over QUIC): a
// connection on which the viewer cancelled (RESET_STREAM, STOP_SENDING)
// more than Resets requests before their response, and more than it let
// complete, is closed with H3_EXCESSIVE_LOAD. quic-go bounds the rest
// (streams at MaxStreams, flow control, the header size).
type http3Guard struct {
	next   http.Handler
	limits viewerLimits
	log    *slog.Logger
	// closed counts the connections closed for rapid reset.
	closed atomic.Int64
}

// newHTTP3Guard returns a guard with l's limits (defaults for zero fields).
func newHTTP3Guard(l viewerLimits, log *slog.Logger) *http3Guard {
	return &http3Guard{limits: l.withDefaults(), log: log}
}

// http3Conn is what the guard counts of one connection.
type http3Conn struct {
	conn                 *quic.Conn
	cancelled, completed atomic.Int64
	closing              atomic.Bool
}

type http3ConnKey struct{}

// h3ExcessiveLoad is H3_EXCESSIVE_LOAD (RFC 9114 §8.1).
const h3ExcessiveLoad quic.ApplicationErrorCode = 0x0107

// connContext is the http3.Server's ConnContext.
func (g *http3Guard) connContext(ctx context.Context, c *quic.Conn) context.Context {
	return context.WithValue(ctx, http3ConnKey{}, &http3Conn{conn: c})
}

// ServeHTTP serves a request through next and counts how it ended.
func (g *http3Guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hc, _ := r.Context().Value(http3ConnKey{}).(*http3Conn)
	if hc == nil {
		g.next.ServeHTTP(w, r)
		return
	}
	if hc.closing.Load() {
		return
	}
	if r.Context().Err() == nil {
		g.next.ServeHTTP(w, r)
		if r.Context().Err() == nil {
			hc.completed.Add(1)
			return
		}
	}
	if n := hc.cancelled.Add(1); tooManyResets(n, hc.completed.Load(), g.limits.Resets) && hc.closing.CompareAndSwap(false, true) {
		g.closed.Add(1)
		g.log.Warn("closing viewer connection: too many requests cancelled by the viewer (rapid reset)",
			"viewer", hc.conn.RemoteAddr().String(), "protocol", "HTTP/3", "cancelled", n, "completed", hc.completed.Load())
		_ = hc.conn.CloseWithError(h3ExcessiveLoad, "too many cancelled requests")
	}
}
