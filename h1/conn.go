package h1

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Connection states for Shutdown.
const (
	stateActive int32 = iota
	stateIdle         // waiting for the first byte of a request
	stateClosed
)

// conn is one viewer connection served by this server.
type conn struct {
	srv *Server
	nc  net.Conn
	// raw is nc's RawConn and sf the state of its sendfile(2) responses,
	// set up by the first (sendfileAt).
	raw    syscall.RawConn
	sf     sendfileOp
	remote string
	tls    *tls.ConnectionState // nil on a plain connection
	// answered counts the requests answered here (Server.Answered), each
	// from when its handler starts.
	answered atomic.Int64

	rbuf    []byte // read buffer; rbuf[r0:r1] is read but not consumed
	r0, r1  int
	wbuf    []byte  // rendered responses not yet written; nil while idle
	wbufBox *[]byte // what wbuf goes back to the pool in
	bufs    [2][]byte
	iov     net.Buffers
	werr    error

	deadline  time.Time // read deadline in force (zero: none)
	headTimed bool      // the header timeout of the current head is set
	state     atomic.Int32

	base *http.Request // carries ctx; copied into req for each request
	req  http.Request
	u    url.URL
	// hdr is the request header map, reused: handlers must not keep the
	// map (its values they may) once they return.
	hdr http.Header
	w   response
	ctx *connContext

	// watch: a goroutine reading the connection while a handler waits, to
	// see the viewer leave.
	watchMu   sync.Mutex
	inHandler bool // a handler runs and no request bytes are buffered
	watching  bool
	watchDone chan struct{}
	watchByte [1]byte
	watchGot  bool
}

// serve reads and answers requests until the connection ends or is handed
// over.
func (c *conn) serve() {
	handedOver := false
	defer func() {
		if !handedOver {
			_ = c.nc.Close()
			c.state.Store(stateClosed)
		}
		c.srv.forget(c)
		c.ctx.cancel(context.Canceled)
	}()
	for {
		end, err := c.readHead()
		if err != nil {
			switch {
			case errors.Is(err, errGeneral):
				handedOver = c.handOver()
			case errors.Is(err, errMalformed):
				c.refuse()
			}
			return
		}
		clear(c.hdr)
		head := string(c.rbuf[c.r0 : c.r0+end])
		r, err := parseHead(head, c.hdr)
		if err != nil {
			if _, err := checkHead(head); err != nil {
				c.refuse()
				return
			}
			handedOver = c.handOver()
			return
		}
		c.r0 += end
		if !c.run(&r) {
			return
		}
		if c.w.close || c.srv.shuttingDown() {
			_ = c.flush()
			return
		}
	}
}

// run answers one request; false when the connection must end.
func (c *conn) run(r *request) (ok bool) {
	c.req = *c.base
	q := &c.req
	q.Method = r.method
	c.u = url.URL{Path: r.path, RawPath: r.rawPath, RawQuery: r.rawQuery}
	q.URL = &c.u
	q.Proto, q.ProtoMajor, q.ProtoMinor = "HTTP/1.1", 1, 1
	q.Header = r.header
	q.Body = http.NoBody
	q.Host = r.host
	q.RemoteAddr = c.remote
	q.TLS = c.tls
	q.RequestURI = r.target
	q.Close = r.close
	c.w.reset(r.method == http.MethodHead, r.close)

	c.watchMu.Lock()
	c.inHandler = c.r0 == c.r1 // pipelined bytes: nothing to watch for
	c.watchMu.Unlock()
	defer func() {
		c.stopWatch()
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logf("h1: panic serving %s: %v\n%s", c.remote, v, buf)
			}
			ok = false
		}
	}()
	// Counted before the handler writes, so that a viewer that has its
	// answer finds it counted (Server.Answered).
	c.answered.Add(1)
	c.srv.Handler.ServeHTTP(&c.w, q)
	c.w.finish()
	return c.werr == nil && c.ctx.Err() == nil
}

// readHead returns the length of a complete request head at rbuf[r0:],
// reading as needed. errGeneral: the head does not fit the buffer;
// errMalformed: a line ends in a bare LF or CR.
func (c *conn) readHead() (int, error) {
	searched := 0
	for {
		buf := c.rbuf[c.r0:c.r1]
		if i := bytes.Index(buf[max(searched-3, 0):], crlfcrlf); i >= 0 {
			c.state.Store(stateActive)
			return max(searched-3, 0) + i + 4, nil
		}
		if badLineEnd(buf, max(searched-1, 0)) {
			// Never a CRLF CRLF: refused now, not at the header timeout.
			return 0, malformed("line end")
		}
		searched = len(buf)
		if c.r0 > 0 {
			// Move the partial head to the front.
			n := copy(c.rbuf, buf)
			c.r0, c.r1 = 0, n
		}
		if c.r1 == len(c.rbuf) {
			return 0, errGeneral
		}
		// About to block: what is rendered goes out first.
		if err := c.flush(); err != nil {
			return 0, err
		}
		idle := c.r1 == 0
		if idle {
			c.releaseWriteBuffer()
			c.state.Store(stateIdle)
			if c.srv.shuttingDown() {
				return 0, net.ErrClosed
			}
		}
		if err := c.setReadDeadline(idle); err != nil {
			return 0, err
		}
		n, err := c.nc.Read(c.rbuf[c.r1:])
		c.r1 += n
		if err != nil {
			if n > 0 && c.r1 > 0 {
				continue // a last head may be complete
			}
			return 0, err
		}
		if c.state.Load() == stateClosed {
			return 0, net.ErrClosed
		}
		c.state.Store(stateActive)
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// setReadDeadline applies the idle timeout while waiting for a request and
// the header timeout, counted from its first bytes, while a head is
// incomplete. The idle deadline moves only when it would be more than a
// second off, so a busy keep-alive connection rarely pays for a timer
// update.
func (c *conn) setReadDeadline(idle bool) error {
	if !idle {
		if c.headTimed {
			return nil // counted from the head's first bytes, never extended
		}
		c.headTimed = true
		return c.applyDeadline(c.srv.ReadHeaderTimeout)
	}
	c.headTimed = false
	d := c.srv.IdleTimeout
	if d > 0 && !c.deadline.IsZero() {
		if off := time.Now().Add(d).Sub(c.deadline); off < time.Second && off > -time.Second {
			return nil
		}
	}
	return c.applyDeadline(d)
}

// applyDeadline sets a read deadline d from now (none for d <= 0).
func (c *conn) applyDeadline(d time.Duration) error {
	var want time.Time
	if d > 0 {
		want = time.Now().Add(d)
	}
	if want.IsZero() && c.deadline.IsZero() {
		return nil
	}
	c.deadline = want
	return c.nc.SetReadDeadline(want)
}

// closeIfIdle closes the connection if it waits for a request (Shutdown).
func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(stateIdle, stateClosed) {
		_ = c.nc.SetReadDeadline(aLongTimeAgo)
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// handOver gives the connection, with the bytes not yet consumed, to the
// general server, behind a guardConn.
func (c *conn) handOver() bool {
	if c.flush() != nil {
		return false
	}
	if !c.deadline.IsZero() {
		if c.nc.SetReadDeadline(time.Time{}) != nil {
			return false
		}
	}
	g := newGuardConn(c.srv, c.nc, c.rbuf[c.r0:c.r1])
	g.parent, g.tls = c.ctx.parent, c.tls
	c.srv.mu.Lock()
	hl := c.srv.handoff
	c.srv.mu.Unlock()
	return hl != nil && hl.give(g)
}

// refuse answers 400 to a request that is refused (errMalformed); the
// connection is then closed.
func (c *conn) refuse() {
	c.takeWriteBuffer()
	b := append(c.wbuf, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: 15\r\nConnection: close\r\nDate: "...)
	b = append(b, c.srv.dateNow.Now()...)
	c.wbuf = append(b, "\r\n\r\n400 Bad Request"...)
	if c.flush() == nil {
		drain(c.nc)
	}
}

// write appends p to the write buffer, writing out (one writev for a large
// p) when it does not fit.
func (c *conn) write(p []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.wbuf)+len(p) <= cap(c.wbuf) {
		c.wbuf = append(c.wbuf, p...)
		return nil
	}
	if len(p) < cap(c.wbuf)/2 {
		if err := c.flush(); err != nil {
			return err
		}
		c.wbuf = append(c.wbuf, p...)
		return nil
	}
	c.bufs = [2][]byte{c.wbuf, p}
	c.iov = c.bufs[:]
	_, err := c.iov.WriteTo(c.nc)
	c.bufs = [2][]byte{}
	c.wbuf = c.wbuf[:0]
	return c.fail(err)
}

// takeWriteBuffer gives the connection a write buffer from the server's
// pool if it has none.
func (c *conn) takeWriteBuffer() {
	if c.wbuf != nil {
		return
	}
	if b, ok := c.srv.wbufs.Get().(*[]byte); ok {
		c.wbufBox, c.wbuf = b, (*b)[:0]
		return
	}
	c.wbuf = make([]byte, 0, writeBufSize)
	c.wbufBox = new([]byte)
}

// releaseWriteBuffer returns the (flushed) write buffer to the pool while
// the connection waits for its next request.
func (c *conn) releaseWriteBuffer() {
	if c.wbuf == nil || len(c.wbuf) > 0 {
		return
	}
	if cap(c.wbuf) == writeBufSize {
		*c.wbufBox = c.wbuf
		c.srv.wbufs.Put(c.wbufBox)
	}
	c.wbuf, c.wbufBox = nil, nil
}

// flush writes the write buffer out.
func (c *conn) flush() error {
	if c.werr != nil || len(c.wbuf) == 0 {
		return c.werr
	}
	_, err := c.nc.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
	return c.fail(err)
}

// fail records a write error: the connection is done, and the request's
// context says so.
func (c *conn) fail(err error) error {
	if err != nil && c.werr == nil {
		c.werr = err
		c.ctx.cancel(context.Canceled)
	}
	return err
}

// watch starts reading the connection in the background, once per
// request, so that a viewer leaving while the handler waits cancels the
// request's context. Called through the context's Done.
func (c *conn) watch() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if !c.inHandler || c.watching || c.ctx.Err() != nil {
		return
	}
	c.watching = true
	c.watchDone = make(chan struct{})
	// No read deadline: a long response must not end the watch early.
	_ = c.nc.SetReadDeadline(time.Time{})
	go func() {
		defer close(c.watchDone)
		// The watch may outlast the idle deadline of a long response.
		n, err := c.nc.Read(c.watchByte[:])
		if n == 1 {
			c.watchGot = true // the next request's first byte
			return
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			c.ctx.cancel(context.Canceled)
		}
	}()
}

// stopWatch ends the background read after the handler returned, keeping
// any byte it read.
func (c *conn) stopWatch() {
	c.watchMu.Lock()
	c.inHandler = false
	w := c.watching
	c.watching = false
	c.watchMu.Unlock()
	if !w {
		return
	}
	_ = c.nc.SetReadDeadline(aLongTimeAgo)
	<-c.watchDone
	c.deadline = time.Time{}
	_ = c.nc.SetReadDeadline(time.Time{})
	if c.watchGot {
		c.watchGot = false
		if c.r1 == len(c.rbuf) {
			// Cannot happen: a watch starts only with nothing buffered.
			c.fail(errors.New("h1: read buffer full"))
			return
		}
		c.rbuf[c.r1] = c.watchByte[0]
		c.r1++
	}
}
