package h1

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// connContext is the context of every request on a connection. It is
// cancelled when the connection ends or fails, and — unlike net/http, which
// watches the connection during every request — it starts watching for
// the viewer leaving only when something waits on Done, which a handler
// answering from memory never does.
type connContext struct {
	c      *conn
	parent context.Context // values only; nil for none
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

func newConnContext(c *conn, parent context.Context) *connContext {
	return &connContext{c: c, parent: parent, done: make(chan struct{})}
}

// Deadline implements context.Context: there is none.
func (x *connContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context; it starts the connection watch.
func (x *connContext) Done() <-chan struct{} {
	x.c.watch()
	return x.done
}

// Err implements context.Context.
func (x *connContext) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

// Value implements context.Context: http.ServerContextKey and
// http.LocalAddrContextKey, as net/http provides them, then the values of
// the context the connection was served with (ServeConn).
func (x *connContext) Value(key any) any {
	switch key {
	case http.ServerContextKey:
		return x.c.srv.General
	case http.LocalAddrContextKey:
		return x.c.nc.LocalAddr()
	}
	if x.parent != nil {
		return x.parent.Value(key)
	}
	return nil
}

// cancel ends the context with err (once).
func (x *connContext) cancel(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err == nil {
		x.err = err
		close(x.done)
	}
}

func (x *connContext) String() string { return "h1.connContext" }

var _ context.Context = (*connContext)(nil)
