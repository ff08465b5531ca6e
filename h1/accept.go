package h1

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// Accept returns the next connection from ln for a server's accept loop
// (h1's, and the https front end's). On an error worth waiting out — a
// timeout, a process out of file descriptors — it backs off as net/http
// does (5 ms, doubling, at most 1 s), telling logf, and tries again; once
// closing reports true it returns ErrServerClosed; any other error is
// returned as it is.
func Accept(ln net.Listener, closing func() bool, logf func(format string, args ...any)) (net.Conn, error) {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			return nc, nil
		}
		if closing() {
			return nil, ErrServerClosed
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			logf("accept error: %v; retrying in %v", err, delay)
			time.Sleep(delay)
			continue
		}
		return nil, err
	}
}
