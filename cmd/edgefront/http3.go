package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// http3MaxHeaderBytes is CloudFront's limit on a request's line and headers
// (20,480 bytes), which HTTP/3 enforces on the HEADERS frame.
const http3MaxHeaderBytes = 20 << 10

// startHTTP3 serves h over HTTP/3 (QUIC) on the UDP address addr, usually the
// https listener's host:port. tlsConf is the QUIC listener's configuration
// (tls.Provider.QUICConfig: TLS 1.3, ALPN h3, only names whose distribution
// enables HTTP/3). stop closes the listener and every connection.
func startHTTP3(addr string, tlsConf *tls.Config, h http.Handler) (stop func() error, err error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("http3 listener: %w", err)
	}
	return serveHTTP3(pc, tlsConf, h), nil
}

// serveHTTP3 serves h over HTTP/3 on pc until stop is called; stop also
// closes pc.
func serveHTTP3(pc net.PacketConn, tlsConf *tls.Config, h http.Handler) (stop func() error) {
	srv := &http3.Server{
		Handler:        h,
		TLSConfig:      tlsConf, // the server sets ALPN h3 on it and on what GetConfigForClient returns
		MaxHeaderBytes: http3MaxHeaderBytes,
		IdleTimeout:    2 * time.Minute,
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
	value := []string{`h3=":` + port + `"; ma=86400`}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && r.ProtoMajor < 3 && enabled(r.Host) {
			w.Header()["Alt-Svc"] = value
		}
		h.ServeHTTP(w, r)
	})
}
