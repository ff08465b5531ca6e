package h2

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
)

// stream is one request and its response. Streams are pooled by the
// server: a stream goes back to the pool when the protocol is done with it
// (it left c.streams) and so is its handler. Fields below mu are guarded
// by the connection's mu.
type stream struct {
	c  *conn
	id uint32

	// The request, built by the reader while the header block is decoded.
	method, scheme, path, authority string
	hdr                             http.Header
	vals                            []string // backing for one-value fields
	cookies                         []string
	req                             http.Request
	base                            *http.Request // carries ctx
	u                               url.URL
	ctx                             streamContext
	rb                              *requestBody   // nil without a body
	hctx                            *streamContext // a handler goroutine's request context
	rw                              responseWriter
	continueWanted                  bool
	bodyDeadline                    time.Time
	// malformed: the answer (400) ends with RST_STREAM(PROTOCOL_ERROR)
	// instead of END_STREAM.
	malformed bool

	// mu
	inMap, handling bool
	recvEnded       bool  // END_STREAM received (or the stream reset)
	sentEnd         bool  // END_STREAM sent
	reset           bool  // RST_STREAM sent or received
	sendWin         int32 // what we may still send
	recvWin         int32 // what the viewer may still send
	recvUnacked     int32 // body bytes consumed, not yet granted again
	declared        int64 // content-length, -1 when none
	bodyRecv        int64
	body            []byte // received, not yet read
	bodyEOF         bool
	bodyErr         error // what reading past the body gives instead of io.EOF
	continueSent    bool
	queue           []byte // response body waiting for a window (answers made in the reader)
	queueEnd        bool   // the stream ends after queue
	writeDeadline   time.Time
}

// newStream takes a stream from the pool for id (reader).
func (c *conn) newStream(id uint32) *stream {
	st, _ := c.srv.streams.Get().(*stream)
	if st == nil {
		st = &stream{hdr: make(http.Header), vals: make([]string, 0, 16)}
		st.base = new(http.Request).WithContext(&st.ctx)
		st.rw.header = make(http.Header)
	}
	st.c, st.id = c, id
	st.rw.st = st
	return st
}

// release puts st back in the server's pool.
func (st *stream) release() {
	s := st.c.srv
	clear(st.hdr)
	clear(st.rw.header)
	clear(st.vals[:cap(st.vals)])
	for i := range st.cookies {
		st.cookies[i] = ""
	}
	*st = stream{
		hdr: st.hdr, vals: st.vals[:0], cookies: st.cookies[:0], base: st.base,
		body: st.body[:0], queue: st.queue[:0],
		rw: responseWriter{header: st.rw.header, pend: st.rw.pend[:0]},
	}
	if cap(st.body) > 64<<10 {
		st.body = nil
	}
	if cap(st.queue) > 64<<10 {
		st.queue = nil
	}
	s.streams.Put(st)
}

// shortBody notes a body that ended short of its content-length (c.mu
// held): as net/http, reading it fails rather than ending cleanly, and the
// handler decides what to answer.
func (st *stream) shortBody() {
	if st.declared >= 0 && st.bodyRecv != st.declared {
		st.bodyErr = fmt.Errorf("h2: request declared a Content-Length of %d but only wrote %d bytes",
			st.declared, st.bodyRecv)
	}
}

// addHeader adds a request field without allocating for its value slice
// when the key is new.
func (st *stream) addHeader(key, value string) {
	if key == "Cookie" {
		st.cookies = append(st.cookies, value)
		return
	}
	if vs, ok := st.hdr[key]; ok {
		st.hdr[key] = append(vs, value)
		return
	}
	if len(st.vals) < cap(st.vals) {
		i := len(st.vals)
		st.vals = append(st.vals, value)
		st.hdr[key] = st.vals[i : i+1 : i+1]
		return
	}
	st.hdr[key] = []string{value}
}

// addTrailer records a trailer field of the request; as net/http, only
// when the request declared trailers. False for a field that must not be a
// trailer.
func (st *stream) addTrailer(key, value string) bool {
	if st.req.Trailer == nil {
		return true
	}
	if !httpguts.ValidTrailerHeader(key) {
		return false
	}
	st.req.Trailer[key] = append(st.req.Trailer[key], value)
	return true
}

// register makes st a stream of the connection (reader).
func (c *conn) register(st *stream, endStream bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st.inMap = true
	st.sendWin = c.peerInitWin
	st.recvWin = c.lim.streamWindow
	st.recvEnded = endStream
	st.bodyEOF = endStream
	c.streams[st.id] = st
	c.open++
	c.idleSince = time.Time{}
	c.takeBuffer()
}

// start answers the request: in the reader when the handler can do so
// without blocking, else in a handler goroutine.
func (c *conn) start(st *stream) {
	h := c.srv.Handler
	if h == nil {
		h = http.DefaultServeMux // as net/http
	}
	st.rw.reset(st.method == http.MethodHead)
	if c.fast != nil && st.recvEnded && c.roomToAnswer() {
		st.rw.fast = true
		if c.serveFast(st) {
			return
		}
		st.rw.reset(st.method == http.MethodHead)
	}
	// A handler goroutine may hand the request's context to work that
	// outlives it (a background refresh): it gets a context and request
	// of its own, not the stream's pooled ones.
	hctx := &streamContext{base: st.ctx.base, local: st.ctx.local}
	req := st.req.WithContext(hctx)
	c.mu.Lock()
	st.handling = true
	st.hctx = hctx
	c.handlers++
	c.mu.Unlock()
	go c.runHandler(st, req, h)
}

// roomToAnswer reports whether the reader may answer another request
// itself: not while its answers wait for windows beyond maxQueued. When the
// output waiting for the socket is over maxPending, the reader waits for
// it to drain first (bounded by the stall limit's write deadline).
func (c *conn) roomToAnswer() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.waitPending()
	return c.queued < maxQueued && c.werr == nil
}

// serveFast offers the request to the FastHandler; true when answered.
func (c *conn) serveFast(st *stream) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.panicked(st, v)
			ok = true
		}
	}()
	if !c.fast.ServeFast(&st.rw, &st.req) {
		if st.rw.wroteHeader || st.rw.written > 0 {
			c.srv.logf("h2: ServeFast wrote a response and returned false")
		} else {
			clear(st.rw.header)
			return false
		}
	}
	st.rw.finish()
	c.mu.Lock()
	c.completed++
	c.streamDoneLocked(st)
	c.mu.Unlock()
	return true
}

// serveInline answers a request in the reader with h, which must not block.
func (c *conn) serveInline(st *stream, h http.Handler) {
	st.rw.reset(st.method == http.MethodHead)
	st.rw.fast = true
	st.req = *st.base
	st.req.Method, st.req.Header, st.req.Body = st.method, st.hdr, http.NoBody
	h.ServeHTTP(&st.rw, &st.req)
	st.rw.finish()
	c.mu.Lock()
	if st.malformed {
		c.resetStream(st.id, http2.ErrCodeProtocol, true)
	}
	c.streamDoneLocked(st)
	c.mu.Unlock()
}

// runHandler serves the request in its own goroutine.
func (c *conn) runHandler(st *stream, req *http.Request, h http.Handler) {
	defer func() {
		if v := recover(); v != nil {
			c.panicked(st, v)
		} else {
			st.rw.finish()
		}
		c.mu.Lock()
		c.handlers--
		st.handling = false
		st.hctx.cancel(context.Canceled)
		if st.rb != nil {
			st.rb.closed = true
		}
		if !st.reset {
			c.completed++
		}
		c.streamDoneLocked(st)
		c.flushLocked()
		c.mu.Unlock()
	}()
	h.ServeHTTP(&st.rw, req)
}

// panicked logs a handler's panic and resets its stream, as net/http does.
func (c *conn) panicked(st *stream, v any) {
	if v != http.ErrAbortHandler {
		buf := make([]byte, 64<<10)
		buf = buf[:runtime.Stack(buf, false)]
		c.srv.logf("h2: panic serving %s: %v\n%s", c.remote, v, buf)
	}
	c.mu.Lock()
	st.rw.done = true // the handler is over: the stream may be reused
	c.resetStream(st.id, http2.ErrCodeInternal, true)
	c.mu.Unlock()
}

// streamDoneLocked is called when st's response is complete (or abandoned)
// and its handler is done with it (c.mu held): a stream whose request body
// has not ended is reset (NO_ERROR, as net/http does), and a stream
// neither the protocol nor a handler uses goes back to the pool.
func (c *conn) streamDoneLocked(st *stream) {
	if st.inMap && !st.reset && st.sentEnd && !st.recvEnded {
		c.resetStream(st.id, http2.ErrCodeNo, true) // which releases st
		return
	}
	if st.inMap && !st.sentEnd && !st.reset {
		// The response did not end (its data waits for a window).
		return
	}
	c.releaseIfDone(st)
}

// releaseIfDone returns st to the pool when nothing uses it (c.mu held).
func (c *conn) releaseIfDone(st *stream) {
	if st.inMap || st.handling || len(st.queue) > 0 {
		return
	}
	if st.rw.fast || st.rw.done {
		st.ctx.cancel(context.Canceled)
		if st.rb != nil {
			st.rb.closed = true
		}
		st.release()
	}
}

// endRecv notes the request's END_STREAM (c.mu held).
func (c *conn) endRecv(st *stream) {
	st.recvEnded = true
	if st.sentEnd {
		c.closeStream(st)
	}
}

// endSend notes the response's END_STREAM (c.mu held).
func (c *conn) endSend(st *stream) {
	st.sentEnd = true
	if st.recvEnded {
		c.closeStream(st)
	}
}

// closeStream takes st out of the connection's streams (c.mu held).
func (c *conn) closeStream(st *stream) {
	if !st.inMap {
		return
	}
	st.inMap = false
	delete(c.streams, st.id)
	c.open--
	if c.goingAway && c.open == 0 && c.handlers == 0 {
		c.wakeReader()
	}
}

// resetStream ends stream id with RST_STREAM(code) — sent when send is
// set — cancelling its handler (c.mu held). A stream no handler uses goes
// back to the pool: the caller must not touch it afterwards.
func (c *conn) resetStream(id uint32, code http2.ErrCode, send bool) {
	if send && !c.closed {
		_ = c.fr.WriteRSTStream(id, code)
	}
	st := c.streams[id]
	if st == nil {
		return
	}
	st.reset = true
	st.recvEnded = true
	if len(st.queue) > 0 {
		c.queued -= len(st.queue)
		st.queue = st.queue[:0]
	}
	if len(st.body) > 0 {
		// Unread body: the connection window is given back.
		c.grantConn(int32(len(st.body)))
		st.body = st.body[:0]
	}
	c.closeStream(st)
	st.ctx.cancel(context.Canceled)
	if st.hctx != nil {
		st.hctx.cancel(context.Canceled)
	}
	c.cond.Broadcast()
	if !st.handling {
		c.releaseIfDone(st)
	}
}

// streamContext is a request's context: the connection's values, and
// cancelled when the stream is reset or the connection ends. Its Done
// channel is made only when someone asks for it.
type streamContext struct {
	base  context.Context // the connection's (ServeConnContext)
	local net.Addr
	mu    sync.Mutex
	done  chan struct{}
	err   error
}

// Deadline implements context.Context: there is none.
func (x *streamContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (x *streamContext) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		}
	}
	return x.done
}

// Err implements context.Context.
func (x *streamContext) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

// Value implements context.Context: http.LocalAddrContextKey, then the
// connection's context.
func (x *streamContext) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return x.local
	}
	if x.base == nil {
		return nil
	}
	return x.base.Value(key)
}

// cancel ends the context with err (once per request).
func (x *streamContext) cancel(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err == nil {
		x.err = err
		if x.done != nil {
			close(x.done)
		}
	}
}

func (x *streamContext) String() string { return "h2.streamContext" }

var _ context.Context = (*streamContext)(nil)

// requestBody is a request's body: what DATA frames brought, read by the
// handler; reading gives the flow-control windows back.
type requestBody struct {
	c      *conn
	st     *stream
	closed bool // the handler returned (c.mu)
}

// Read implements io.Reader.
func (b *requestBody) Read(p []byte) (int, error) {
	c := b.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	st := b.st
	if st.continueWanted && !st.continueSent && len(st.body) == 0 && !st.bodyEOF && !st.reset {
		// RFC 9110 §10.1.1: the client waits for 100 (Continue).
		st.continueSent = true
		c.writeInterim(st, http.StatusContinue, nil)
		c.flushLocked()
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for len(st.body) == 0 && !st.bodyEOF && !st.reset && !c.closed {
		now := time.Now()
		if !st.bodyDeadline.IsZero() && !now.Before(st.bodyDeadline) {
			c.srv.logf("h2: closing connection from %s: request body too slow", c.remote)
			c.closed = true
			_ = c.nc.Close()
			return 0, os.ErrDeadlineExceeded
		}
		if timer == nil && !st.bodyDeadline.IsZero() {
			timer = time.AfterFunc(st.bodyDeadline.Sub(now), c.broadcast)
		}
		c.cond.Wait()
	}
	if len(st.body) > 0 {
		n := copy(p, st.body)
		st.body = st.body[:copy(st.body, st.body[n:])]
		c.consumed(st, int32(n))
		return n, nil
	}
	if st.bodyEOF && !st.reset {
		if st.bodyErr != nil {
			return 0, st.bodyErr
		}
		return 0, io.EOF
	}
	return 0, errClosed
}

// Close implements io.Closer: the rest of the body is not wanted.
func (b *requestBody) Close() error {
	c := b.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.closed {
		return nil
	}
	st := b.st
	if n := len(st.body); n > 0 {
		st.body = st.body[:0]
		c.consumed(st, int32(n))
	}
	return nil
}

// consumed gives n read body bytes back to the viewer's windows, in
// batches (c.mu held).
func (c *conn) consumed(st *stream, n int32) {
	c.grantConn(n)
	if st.recvEnded || st.reset {
		return
	}
	st.recvUnacked += n
	if st.recvUnacked >= min(c.lim.streamWindow/4, 16<<10) {
		_ = c.fr.WriteWindowUpdate(st.id, uint32(st.recvUnacked))
		st.recvWin += st.recvUnacked
		st.recvUnacked = 0
		c.flushLocked()
	}
}

// broadcast wakes everyone waiting on the connection (timers).
func (c *conn) broadcast() {
	c.mu.Lock()
	c.cond.Broadcast()
	c.mu.Unlock()
}
