package h2

import (
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/edgefront/edgefront/fields"
)

// writeBufSize is the capacity of a pooled write buffer.
const writeBufSize = 32 << 10

// takeBuffer gives the connection a write buffer if it has none (c.mu
// held).
func (c *conn) takeBuffer() {
	if c.wbox != nil {
		return
	}
	if b, ok := c.srv.bufs.Get().(*[]byte); ok {
		c.wbox, c.wbuf = b, append((*b)[:0], c.wbuf...)
		return
	}
	c.wbox = new([]byte)
	c.wbuf = append(make([]byte, 0, writeBufSize), c.wbuf...)
}

// releaseBuffer returns the (empty) write buffer to the pool while the
// connection has nothing in progress (c.mu held).
func (c *conn) releaseBuffer() {
	if cap(c.wbuf) == writeBufSize {
		*c.wbox = c.wbuf[:0]
		c.srv.bufs.Put(c.wbox)
	}
	c.wbuf, c.wbox = nil, nil
}

// flushLocked writes out what is buffered (c.mu held; released while
// writing). When another goroutine is writing, it returns at once: that
// one writes what was added meanwhile before it stops. (A writer goroutine
// per connection instead, woken for each batch, served 1 KiB hits about a
// quarter slower in BenchmarkProxyHit1K: one more goroutine switch a
// batch.)
func (c *conn) flushLocked() {
	for len(c.wbuf) > 0 && !c.writing && c.werr == nil {
		c.writing = true
		buf := c.wbuf
		box := c.wbox
		c.wbuf, c.wbox = nil, nil
		c.takeBuffer()
		c.mu.Unlock()
		// The deadline moves only when it is well off: a busy connection
		// rarely pays for a timer update.
		if d := time.Now().Add(c.lim.stall); d.Sub(c.wdeadline) > c.lim.stall/8 {
			c.wdeadline = d
			_ = c.nc.SetWriteDeadline(d)
		}
		_, err := c.nc.Write(buf)
		c.mu.Lock()
		c.writing = false
		if box != nil && cap(buf) == writeBufSize {
			*box = buf[:0]
			c.srv.bufs.Put(box)
		}
		if err != nil {
			if c.werr == nil {
				c.werr = err
				if !c.closed && errors.Is(err, os.ErrDeadlineExceeded) {
					c.srv.logf("h2: closing connection from %s: the viewer took no data for %v", c.remote, c.lim.stall)
				}
				c.closed = true
				_ = c.nc.Close()
			}
		}
		c.cond.Broadcast()
	}
}

// waitPending makes a writer wait while too much output waits for the
// socket (c.mu held).
func (c *conn) waitPending() error {
	for len(c.wbuf) > maxPending && c.werr == nil {
		if !c.writing {
			c.flushLocked()
			continue
		}
		c.cond.Wait()
	}
	return c.werr
}

// writeHeaders encodes a header block and writes it as HEADERS and
// CONTINUATION frames (c.mu held).
func (c *conn) writeHeaders(id uint32, endStream bool) {
	block := c.hbuf.b
	max := int(c.peerMaxFrame)
	first := block
	if len(first) > max {
		first = block[:max]
	}
	_ = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first,
		EndStream: endStream, EndHeaders: len(first) == len(block)})
	for rest := block[len(first):]; len(rest) > 0; {
		n := min(len(rest), max)
		_ = c.fr.WriteContinuation(id, n == len(rest), rest[:n])
		rest = rest[n:]
	}
	c.hbuf.b = c.hbuf.b[:0]
}

// field encodes one response field.
func (c *conn) field(name, value string) {
	_ = c.enc.WriteField(hpack.HeaderField{Name: name, Value: value})
}

// fields encodes a response's (or trailers') fields, leaving out the
// connection-specific ones (RFC 9113 §8.2.2) and invalid names or values,
// as net/http does. Values unique to one response are not indexed.
func (c *conn) fields(h http.Header, trailers bool) {
	for k, vs := range h {
		for _, v := range vs {
			c.encodeField(k, v, trailers)
		}
	}
}

// renderedFields encodes rendered fields (fields.Rendered) as fields
// encodes a map's.
func (c *conn) renderedFields(text string) {
	for k, v := range fields.Lines(text) {
		c.encodeField(k, v, false)
	}
}

// encodeField encodes one field of a response (or of its trailers), unless
// it is never sent: connection-specific, an invalid name or value, or
// framing in trailers.
func (c *conn) encodeField(k, v string, trailers bool) {
	n := c.wireName(k)
	if n.skip || trailers && n.notTrailer || !httpguts.ValidHeaderFieldValue(v) {
		return
	}
	_ = c.enc.WriteField(hpack.HeaderField{Name: n.name, Value: v, Sensitive: n.sensitive})
}

// wireField is how a response header key goes on the wire.
type wireField struct {
	name       string // lowercase
	skip       bool   // connection-specific or invalid: never sent
	notTrailer bool   // framing: not in trailers
	sensitive  bool   // unique to each response: not worth HPACK's table
}

// wireName describes header key k, cached per connection (bounded).
func (c *conn) wireName(k string) wireField {
	if n, ok := c.lower[k]; ok {
		return n
	}
	var n wireField
	switch {
	case !httpguts.ValidHeaderFieldName(k):
		n.skip = true
	default:
		n.name = strings.ToLower(k)
		switch n.name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			n.skip = true
		case "content-length", "trailer":
			n.notTrailer = true
		case "x-amz-cf-id":
			n.sensitive = true
		}
	}
	if len(c.lower) < 256 {
		// A copy: k may be part of a cached object's rendered header,
		// which the cache would otherwise keep alive.
		c.lower[strings.Clone(k)] = n
	}
	return n
}

// lowerName is the wire name of a header key; "" for one never sent.
func (c *conn) lowerName(k string) string {
	if n := c.wireName(k); !n.skip {
		return n.name
	}
	return ""
}

// writeInterim writes a 1xx response's HEADERS (c.mu held).
func (c *conn) writeInterim(st *stream, code int, h http.Header) {
	c.field(":status", statusText(code))
	if h != nil {
		c.fields(h, false)
	}
	c.writeHeaders(st.id, false)
}

// statusText is code in decimal, without allocating for common codes.
func statusText(code int) string {
	if code >= 100 && code < 600 {
		return statusCodes[code-100]
	}
	return strconv.Itoa(code)
}

// statusCodes are "100" … "599", never written after init.
var statusCodes = func() (t [500]string) {
	for i := range t {
		t[i] = strconv.Itoa(100 + i)
	}
	return t
}()

// sendData sends p on st as the windows allow (c.mu held). A writer in a
// handler goroutine waits for windows; one in the reader (wait false)
// queues what does not fit, copied, to go out as windows open. end ends
// the stream after p (unless trailers follow: the caller sends them).
func (c *conn) sendData(st *stream, p []byte, end, wait bool) error {
	var timer *time.Timer
	var stallAt time.Time // when the viewer has taken nothing for the stall limit
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	end = end && !st.malformed
	for {
		if st.reset || c.closed {
			return errClosed
		}
		if c.werr != nil {
			return c.werr
		}
		if len(st.queue) > 0 {
			st.queue = append(st.queue, p...)
			c.noteQueued(len(p))
			st.queueEnd = end
			return nil
		}
		for len(p) > 0 {
			n := min(int32(len(p)), st.sendWin, c.sendConnWin, int32(c.peerMaxFrame))
			if n <= 0 {
				break
			}
			_ = c.fr.WriteData(st.id, end && int(n) == len(p), p[:n])
			st.sendWin -= n
			c.sendConnWin -= n
			p = p[n:]
			if len(p) == 0 && end {
				c.endSend(st)
			}
		}
		if len(p) == 0 {
			if end && !st.sentEnd {
				_ = c.fr.WriteData(st.id, true, nil)
				c.endSend(st)
			}
			if wait {
				return c.waitPending()
			}
			return nil
		}
		if !wait {
			st.queue = append(st.queue, p...)
			c.noteQueued(len(p))
			st.queueEnd = end
			return nil
		}
		// Blocked on a window: what is written goes out, then wait for
		// the viewer to open it — not past the stall limit nor the
		// handler's write deadline.
		c.flushLocked()
		now := time.Now()
		if stallAt.IsZero() {
			stallAt = now.Add(c.lim.stall)
		}
		limit := stallAt
		if !st.writeDeadline.IsZero() && st.writeDeadline.Before(limit) {
			limit = st.writeDeadline
		}
		if timer == nil {
			timer = time.AfterFunc(limit.Sub(now), c.broadcast)
		} else {
			timer.Reset(limit.Sub(now))
		}
		if !now.Before(limit) {
			if limit.Equal(st.writeDeadline) {
				c.resetStream(st.id, http2.ErrCodeInternal, true)
				return os.ErrDeadlineExceeded
			}
			c.srv.logf("h2: closing connection from %s: response stalled on a flow-control window", c.remote)
			c.closed = true
			_ = c.nc.Close()
			c.cond.Broadcast()
			return os.ErrDeadlineExceeded
		}
		if st.sendWin > 0 && c.sendConnWin > 0 {
			continue
		}
		c.cond.Wait()
	}
}

// drainQueues sends what the reader's answers left waiting, as far as the
// windows now allow (c.mu held).
func (c *conn) drainQueues() {
	if c.queued == 0 {
		return
	}
	for _, st := range c.streams {
		if len(st.queue) == 0 || c.sendConnWin <= 0 {
			continue
		}
		q := st.queue
		sent := 0
		for sent < len(q) {
			n := min(int32(len(q)-sent), st.sendWin, c.sendConnWin, int32(c.peerMaxFrame))
			if n <= 0 {
				break
			}
			last := sent+int(n) == len(q)
			_ = c.fr.WriteData(st.id, last && st.queueEnd && !st.rw.hasTrailers(), q[sent:sent+int(n)])
			st.sendWin -= n
			c.sendConnWin -= n
			sent += int(n)
		}
		c.queued -= sent
		if sent > 0 {
			c.queueMoved = time.Now()
		}
		st.queue = st.queue[:copy(st.queue, q[sent:])]
		if len(st.queue) == 0 && st.queueEnd {
			st.queueEnd = false
			if st.rw.hasTrailers() {
				st.rw.writeTrailers()
			} else {
				c.endSend(st)
			}
			c.releaseIfDone(st)
		}
	}
}

// noteQueued adds n bytes to what the reader's answers left waiting for
// windows (c.mu held); the stall clock starts when the queue does.
func (c *conn) noteQueued(n int) {
	if c.queued == 0 {
		c.queueMoved = time.Now()
	}
	c.queued += n
}
