package front

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// NetHTTP serves the connections it is given with a net/http server, as
// http.Server.ServeTLS serves them after their handshake: HTTP/2 when ALPN
// chose "h2" (with the server's HTTP2 settings — Server.TLSConfig must
// offer "h2", or net/http does not configure HTTP/2), HTTP/1.1 otherwise,
// r.TLS set either way. It is the HTTP/2 server of the https listener until
// edgefront's own takes over, and every protocol's when the fast paths are
// off.
//
// net/http calls Server.ConnContext with the *tls.Conn; there, Context
// returns the context ServeConn was given for it.
type NetHTTP struct {
	Server *http.Server

	once sync.Once
	ln   *chanListener
	ctxs sync.Map // *tls.Conn (net.Conn) → context.Context, until ConnContext takes it
}

// ServeConn gives c to the net/http server and returns; net/http serves it
// in a goroutine of its own.
func (n *NetHTTP) ServeConn(ctx context.Context, c net.Conn) {
	n.once.Do(func() {
		n.ln = newChanListener(c.LocalAddr())
		go func() { _ = n.Server.Serve(n.ln) }()
	})
	n.ctxs.Store(c, ctx)
	if !n.ln.give(c) {
		n.ctxs.Delete(c)
		_ = c.Close()
	}
}

// Context returns (and forgets) the context ServeConn was given for c: call
// it from Server.ConnContext, which net/http calls once per connection.
func (n *NetHTTP) Context(c net.Conn) (context.Context, bool) {
	v, ok := n.ctxs.LoadAndDelete(c)
	if !ok {
		return nil, false
	}
	ctx, _ := v.(context.Context)
	return ctx, ctx != nil
}

// Shutdown stops taking connections and shuts the net/http server down.
func (n *NetHTTP) Shutdown(ctx context.Context) error {
	n.stop()
	return n.Server.Shutdown(ctx)
}

// Close stops taking connections and closes the net/http server.
func (n *NetHTTP) Close() error {
	n.stop()
	return n.Server.Close()
}

func (n *NetHTTP) stop() {
	n.once.Do(func() { n.ln = newChanListener(nil) })
	_ = n.ln.Close()
}

// chanListener is the net.Listener a net/http server accepts given
// connections from.
type chanListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept implements net.Listener.
func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *chanListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *chanListener) Addr() net.Addr { return l.addr }

// give passes c to the server; false once the listener is closed.
func (l *chanListener) give(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}
