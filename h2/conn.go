package h2

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Sizes per connection.
const (
	readBufSize = 16 << 10
	// maxPending is how much output may wait for the socket before those
	// adding to it wait for it to drain (a viewer that does not read).
	maxPending = 256 << 10
	// maxQueued bounds the response bytes answers made in the reader
	// goroutine may leave waiting for flow-control windows; past it,
	// requests go to handler goroutines, which wait instead.
	maxQueued = 256 << 10
	// lingerTime is how long a closing connection keeps reading (and
	// discarding) so that its last frames reach the viewer before the
	// socket closes.
	lingerTime = time.Second
)

const clientPreface = http2.ClientPreface

// conn is one HTTP/2 connection. The reader goroutine owns the fields
// above mu; mu guards the rest.
type conn struct {
	srv    *Server
	lim    limits
	nc     net.Conn
	remote string
	tls    *tls.ConnectionState
	base   context.Context
	fast   FastHandler

	br  *bufio.Reader
	fr  *http2.Framer
	dec *hpack.Decoder
	hb  headerBlock

	maxClientID uint32 // written by the reader with mu held
	sawSettings bool
	pingOut     bool
	pingSent    time.Time
	lastFrame   time.Time // when frames last came in (to a batch's precision)
	idleSince   time.Time // since when nothing is in progress (zero: something is)
	tokens      float64   // flood budget
	tokensAt    time.Time
	canon       map[string]string // lowercase wire names → canonical keys
	unackedSet  int               // our SETTINGS not yet acknowledged
	linger      bool              // closing: read and discard until lingerUntil
	lingerUntil time.Time

	mu      sync.Mutex
	cond    sync.Cond // signalled on any change writers or body readers wait for
	wbuf    []byte
	wbox    *[]byte
	writing bool
	// wdeadline is the write deadline in force, set by the goroutine
	// writing (one at a time: writing).
	wdeadline time.Time
	werr      error
	fw        frameWriter
	enc       *hpack.Encoder
	hbuf      headerBuf
	lower     map[string]wireField // canonical keys → how they go on the wire
	streams   map[uint32]*stream
	open      int // streams open or half-closed (MAX_CONCURRENT_STREAMS)
	handlers  int // handler goroutines running
	queued    int // response bytes waiting for windows (answers made in the reader)
	// queueMoved is when queued last went out (or began): a queue that
	// does not move for the stall limit closes the connection.
	queueMoved time.Time

	deadline     time.Time // read deadline in force
	batchAt      time.Time // when the batch of frames being answered came (reader)
	recvConnWin  int32     // what the viewer may still send on the connection
	sendConnWin  int32
	peerInitWin  int32
	peerMaxFrame uint32
	connUnacked  int32 // body bytes consumed, not yet granted again (connection)

	goingAway bool   // GOAWAY sent
	lastID    uint32 // the GOAWAY's last stream ID
	closed    bool

	cancelled, completed int
}

// frameWriter is the Framer's io.Writer: it appends to the connection's
// write buffer (c.mu held).
type frameWriter struct{ c *conn }

func (w frameWriter) Write(p []byte) (int, error) {
	w.c.wbuf = append(w.c.wbuf, p...)
	return len(p), nil
}

// headerBuf collects an encoded header block (c.mu held).
type headerBuf struct{ b []byte }

func (h *headerBuf) Write(p []byte) (int, error) {
	h.b = append(h.b, p...)
	return len(p), nil
}

func newConn(s *Server, ctx context.Context, nc net.Conn) *conn {
	c := &conn{srv: s, lim: s.limits(), nc: nc, remote: nc.RemoteAddr().String()}
	c.cond.L = &c.mu
	c.base = ctx
	if tc, ok := nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	c.fast, _ = s.Handler.(FastHandler)
	c.br = bufio.NewReaderSize(nc, readBufSize)
	c.fw = frameWriter{c}
	c.fr = http2.NewFramer(c.fw, c.br)
	c.fr.SetMaxReadFrameSize(16384)
	c.fr.SetReuseFrames()
	c.dec = hpack.NewDecoder(4096, c.onField)
	c.dec.SetMaxStringLength(int(c.lim.maxHeaderList))
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.canon = make(map[string]string)
	c.lower = make(map[string]wireField)
	c.streams = make(map[uint32]*stream)
	c.recvConnWin = c.lim.connWindow
	c.sendConnWin = 65535
	c.peerInitWin = 65535
	c.peerMaxFrame = 16384
	c.tokens = float64(c.lim.flood)
	return c
}

// connError ends the connection with GOAWAY(code).
type connError struct {
	code   http2.ErrCode
	reason string
}

func (e connError) Error() string {
	return fmt.Sprintf("h2: connection error %v: %s", e.code, e.reason)
}

// streamError resets one stream with RST_STREAM(code).
type streamError struct {
	id     uint32
	code   http2.ErrCode
	reason string
}

func (e streamError) Error() string {
	return fmt.Sprintf("h2: stream %d error %v: %s", e.id, e.code, e.reason)
}

// serve runs the connection's reader until the connection ends.
func (c *conn) serve() {
	defer c.shut()
	// The preface first: a client sends it without waiting for ours
	// (RFC 9113 §3.4), and a peer that is not reading yet (net.Pipe)
	// must not block our SETTINGS.
	_ = c.nc.SetReadDeadline(time.Now().Add(c.lim.preface))
	var pre [len(clientPreface)]byte
	if _, err := io.ReadFull(c.br, pre[:]); err != nil || string(pre[:]) != clientPreface {
		return
	}
	c.mu.Lock()
	c.takeBuffer()
	settings := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: c.lim.maxStreams},
		{ID: http2.SettingInitialWindowSize, Val: uint32(c.lim.streamWindow)},
		{ID: http2.SettingMaxHeaderListSize, Val: c.lim.maxHeaderList},
	}
	_ = c.fr.WriteSettings(settings...)
	c.unackedSet++
	if d := c.lim.connWindow - 65535; d > 0 {
		_ = c.fr.WriteWindowUpdate(0, uint32(d))
	}
	c.flushLocked()
	c.mu.Unlock()

	c.deadline = time.Time{}
	c.lastFrame = time.Now()
	for {
		blocking, err := c.beforeRead()
		if err != nil {
			return
		}
		f, err := c.fr.ReadFrame()
		if blocking && err == nil {
			// One clock reading a batch: when its first frame came.
			c.batchAt = time.Now()
			c.lastFrame = c.batchAt
		}
		if err != nil {
			if !c.readError(err) {
				return
			}
			continue
		}
		if c.linger {
			continue
		}
		if err := c.process(f); err != nil {
			if !c.handleError(err) {
				return
			}
		}
	}
}

// beforeRead flushes what is rendered when the next read would block and
// sets the read deadline for the wait; blocking reports that case.
func (c *conn) beforeRead() (blocking bool, _ error) {
	if c.frameBuffered() && !c.hb.active() {
		return false, nil
	}
	c.mu.Lock()
	c.flushLocked()
	err := c.werr
	var want time.Time
	now := time.Now()

	switch {
	case c.linger:
		want = c.lingerUntil
	case c.closed:
		err = net.ErrClosed
	case c.hb.active():
		want = c.hb.started.Add(c.lim.preface)
	case !c.sawSettings:
		want = c.lastFrame.Add(c.lim.preface)
	case c.open == 0 && c.handlers == 0:
		if c.goingAway {
			c.startLinger(now)
			want = c.lingerUntil
			break
		}
		// Idle from the end of the last request: frames that start none
		// (PINGs) do not keep a connection.
		if c.idleSince.IsZero() {
			c.idleSince = now
		}
		want = c.idleSince.Add(c.lim.idle)
	case c.pingOut:
		want = c.pingSent.Add(c.lim.ping)
	default:
		want = c.lastFrame.Add(c.lim.pingAfter)
	}
	if c.queued > 0 {
		if at := c.queueMoved.Add(c.lim.stall); at.Before(want) {
			want = at
		}
	}
	if c.open == 0 && c.handlers == 0 && c.wbox != nil && len(c.wbuf) == 0 && !c.writing {
		c.releaseBuffer()
	}
	// A later deadline is moved only when it is well off, so that a busy
	// connection rarely pays for a timer update; an early wake-up costs a
	// loop through timeout.
	if err == nil && (want.Before(c.deadline) || want.Sub(c.deadline) > 500*time.Millisecond ||
		!now.Before(c.deadline) || c.linger) {
		// Under c.mu: a goAway or a last stream ending may set an earlier
		// one to wake the reader, which must not be overwritten.
		c.deadline = want
		if derr := c.nc.SetReadDeadline(want); derr != nil {
			err = fmt.Errorf("h2: read deadline: %w", derr)
		}
	}
	c.mu.Unlock()
	return true, err
}

// wakeReader makes the reader's blocked read return at once (c.mu held).
func (c *conn) wakeReader() {
	c.deadline = time.Unix(1, 0)
	_ = c.nc.SetReadDeadline(c.deadline)
}

// startLinger begins the end of a connection that has said GOAWAY and has
// nothing left to answer (c.mu held).
func (c *conn) startLinger(now time.Time) {
	if !c.linger {
		c.linger = true
		c.lingerUntil = now.Add(lingerTime)
	}
}

// readError handles a failed ReadFrame; false ends the connection.
func (c *conn) readError(err error) bool {
	var ce http2.ConnectionError
	var se http2.StreamError
	if c.linger {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return time.Now().Before(c.lingerUntil)
		}
		return errors.As(err, &se)
	}
	switch {
	case errors.As(err, &se):
		return c.handleError(streamError{id: se.StreamID, code: se.Code, reason: "framing"})
	case errors.As(err, &ce):
		reason := "framing"
		if d := c.fr.ErrorDetail(); d != nil {
			reason = d.Error()
		}
		return c.handleError(connError{code: http2.ErrCode(ce), reason: reason})
	case errors.Is(err, http2.ErrFrameTooLarge):
		return c.handleError(connError{code: http2.ErrCodeFrameSize, reason: "frame too large"})
	case errors.Is(err, os.ErrDeadlineExceeded):
		return c.timeout()
	}
	return false
}

// timeout handles a read deadline; false ends the connection.
func (c *conn) timeout() bool {
	if c.linger {
		return false
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queued > 0 && now.Sub(c.queueMoved) >= c.lim.stall {
		c.srv.logf("h2: closing connection from %s: responses stalled on flow-control windows for %v", c.remote, c.lim.stall)
		return false
	}
	switch {
	case c.closed:
		return false
	case c.hb.active(), !c.sawSettings:
		if now.Before(c.deadline) && c.deadline.Unix() != 1 {
			return true
		}
		c.goAwayLocked(http2.ErrCodeProtocol, "header block or preface timeout")
		return false
	case c.open == 0 && c.handlers == 0:
		if c.goingAway {
			c.startLinger(now)
			return true
		}
		if c.idleSince.IsZero() || now.Sub(c.idleSince) < c.lim.idle {
			return true
		}
		c.goAwayLocked(http2.ErrCodeNo, "idle")
		c.startLinger(now)
		return true
	case c.pingOut:
		if now.Sub(c.pingSent) < c.lim.ping {
			return true
		}
		c.srv.logf("h2: closing connection from %s: no answer to PING", c.remote)
		return false
	default:
		if now.Sub(c.lastFrame) < c.lim.pingAfter {
			return true
		}
		c.pingOut, c.pingSent = true, now
		_ = c.fr.WritePing(false, [8]byte{'e', 'd', 'g', 'e', 'p', 'i', 'n', 'g'})
		return true
	}
}

// handleError answers a protocol error; false ends the connection.
func (c *conn) handleError(err error) bool {
	var se streamError
	var ce connError
	switch {
	case errors.As(err, &se):
		c.mu.Lock()
		c.resetStream(se.id, se.code, true)
		c.mu.Unlock()
		return true
	case errors.As(err, &ce):
		c.mu.Lock()
		c.goAwayLocked(ce.code, ce.reason)
		c.startLinger(time.Now())
		c.closeStreamsLocked()
		c.mu.Unlock()
		return true
	}
	return false
}

// spend takes one frame from the flood budget; an error past it.
func (c *conn) spend() error {
	now := time.Now()
	rate := float64(c.lim.flood)
	if !c.tokensAt.IsZero() {
		c.tokens = min(rate, c.tokens+now.Sub(c.tokensAt).Seconds()*rate)
	}
	c.tokensAt = now
	c.tokens--
	if c.tokens < 0 {
		return connError{http2.ErrCodeEnhanceYourCalm, "flood of frames doing no work"}
	}
	return nil
}

// process handles one frame.
func (c *conn) process(f http2.Frame) error {
	if !c.sawSettings {
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			return connError{http2.ErrCodeProtocol, "first frame is not SETTINGS"}
		}
		c.sawSettings = true
	}
	switch f := f.(type) {
	case *http2.HeadersFrame:
		return c.onHeaders(f)
	case *http2.ContinuationFrame:
		return c.onContinuation(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.PingFrame:
		return c.onPing(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		return c.onReset(f)
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			return streamError{f.StreamID, http2.ErrCodeProtocol, "stream depends on itself"}
		}
		return c.spend()
	case *http2.GoAwayFrame:
		c.mu.Lock()
		if !c.goingAway {
			c.goAwayLocked(http2.ErrCodeNo, "")
		}
		c.mu.Unlock()
		return nil
	case *http2.PushPromiseFrame:
		return connError{http2.ErrCodeProtocol, "PUSH_PROMISE from a client"}
	}
	return nil // unknown frame types are ignored (RFC 9113 §5.5)
}

func (c *conn) onSettings(f *http2.SettingsFrame) error {
	if err := c.spend(); err != nil {
		return err
	}
	if f.IsAck() {
		if c.unackedSet > 0 {
			c.unackedSet--
		}
		return nil
	}
	if err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			var ce http2.ConnectionError
			if errors.As(err, &ce) {
				return connError{http2.ErrCode(ce), "invalid setting"}
			}
			return connError{http2.ErrCodeProtocol, "invalid setting"}
		}
		return nil
	}); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingHeaderTableSize:
			c.enc.SetMaxDynamicTableSizeLimit(s.Val)
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		case http2.SettingInitialWindowSize:
			// RFC 9113 §6.9.2: the change applies to every open stream.
			delta := int64(s.Val) - int64(c.peerInitWin)
			c.peerInitWin = int32(s.Val)
			for _, st := range c.streams {
				w := int64(st.sendWin) + delta
				if w > 1<<31-1 {
					return connError{http2.ErrCodeFlowControl, "window overflow"}
				}
				st.sendWin = int32(w)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_ = c.fr.WriteSettingsAck()
	c.drainQueues()
	c.cond.Broadcast()
	return nil
}

func (c *conn) onPing(f *http2.PingFrame) error {
	if err := c.spend(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.IsAck() {
		c.pingOut = false
		return nil
	}
	_ = c.fr.WritePing(true, f.Data)
	return nil
}

func (c *conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == 0 || f.StreamID != 0 && c.streams[f.StreamID] == nil {
		// Nothing is being sent it could be for: a frame doing no work.
		if err := c.spend(); err != nil {
			return err
		}
	}
	if f.StreamID == 0 {
		w := int64(c.sendConnWin) + int64(f.Increment)
		if w > 1<<31-1 {
			return connError{http2.ErrCodeFlowControl, "connection window overflow"}
		}
		c.sendConnWin = int32(w)
	} else {
		st := c.streams[f.StreamID]
		if st == nil {
			if c.idle(f.StreamID) {
				return connError{http2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream"}
			}
			return nil
		}
		w := int64(st.sendWin) + int64(f.Increment)
		if w > 1<<31-1 {
			return streamError{f.StreamID, http2.ErrCodeFlowControl, "stream window overflow"}
		}
		st.sendWin = int32(w)
	}
	c.drainQueues()
	c.cond.Broadcast()
	return nil
}

func (c *conn) onReset(f *http2.RSTStreamFrame) error {
	if c.idle(f.StreamID) {
		return connError{http2.ErrCodeProtocol, "RST_STREAM on an idle stream"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[f.StreamID]
	if st == nil {
		return c.spend()
	}
	if !st.sentEnd {
		c.cancelled++
	}
	c.resetStream(f.StreamID, f.ErrCode, false)
	if c.cancelled > c.lim.maxResets && c.cancelled > c.completed {
		c.srv.logf("h2: closing connection from %s: %d requests cancelled, %d completed (rapid reset)",
			c.remote, c.cancelled, c.completed)
		return connError{http2.ErrCodeEnhanceYourCalm, "rapid reset"}
	}
	return nil
}

func (c *conn) onData(f *http2.DataFrame) error {
	id := f.StreamID
	n := int32(f.Length)
	data := f.Data()
	if c.idle(id) || c.hb.active() {
		return connError{http2.ErrCodeProtocol, "DATA on an idle stream"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.recvConnWin {
		return connError{http2.ErrCodeFlowControl, "DATA beyond the connection window"}
	}
	c.recvConnWin -= n
	st := c.streams[id]
	if st == nil || st.recvEnded || st.reset {
		// Closed: the connection window is given back (RFC 9113 §6.9).
		c.grantConn(n)
		return streamError{id, http2.ErrCodeStreamClosed, "DATA on a closed stream"}
	}
	if n > st.recvWin {
		c.grantConn(n)
		return streamError{id, http2.ErrCodeFlowControl, "DATA beyond the stream window"}
	}
	st.recvWin -= n
	if pad := n - int32(len(data)); pad > 0 {
		// Padding is not body: given back at once.
		c.grantConn(pad)
		st.recvWin += pad
		_ = c.fr.WriteWindowUpdate(id, uint32(pad))
	}
	if len(data) == 0 && !f.StreamEnded() {
		if err := c.spend(); err != nil {
			return err
		}
	}
	st.bodyRecv += int64(len(data))
	if st.declared >= 0 && st.bodyRecv > st.declared {
		return streamError{id, http2.ErrCodeProtocol, "body longer than its content-length"}
	}
	if len(data) > 0 {
		st.body = append(st.body, data...)
	}
	if f.StreamEnded() {
		st.shortBody()
		st.bodyEOF = true
		c.endRecv(st)
	}
	c.cond.Broadcast()
	return nil
}

// grantConn gives n bytes of the connection window back (c.mu held).
func (c *conn) grantConn(n int32) {
	c.connUnacked += n
	if c.connUnacked >= min(c.lim.connWindow/4, 16<<10) {
		_ = c.fr.WriteWindowUpdate(0, uint32(c.connUnacked))
		c.recvConnWin += c.connUnacked
		c.connUnacked = 0
	}
}

// goAway starts a graceful shutdown (Server.Shutdown).
func (c *conn) goAway() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goingAway || c.closed {
		return
	}
	c.goAwayLocked(http2.ErrCodeNo, "")
	c.flushLocked()
	if c.open == 0 && c.handlers == 0 {
		// Nothing in progress: wake the reader to linger and close.
		c.wakeReader()
	}
}

// goAwayLocked writes GOAWAY (c.mu held). Streams above the last ID the
// viewer starts later are ignored.
func (c *conn) goAwayLocked(code http2.ErrCode, reason string) {
	if c.goingAway && code == http2.ErrCodeNo {
		return
	}
	c.goingAway = true
	c.lastID = c.maxClientID
	var debug []byte
	if code != http2.ErrCodeNo && reason != "" {
		debug = []byte(reason)
	}
	_ = c.fr.WriteGoAway(c.lastID, code, debug)
	c.flushLocked()
}

// closeStreamsLocked ends every stream (a connection error).
func (c *conn) closeStreamsLocked() {
	for id := range c.streams {
		c.resetStream(id, http2.ErrCodeCancel, false)
	}
}

// shut ends the connection: every stream is cancelled, the socket closed.
func (c *conn) shut() {
	c.mu.Lock()
	c.flushLocked()
	c.closed = true
	if c.werr == nil {
		c.werr = net.ErrClosed
	}
	for id := range c.streams {
		c.resetStream(id, http2.ErrCodeCancel, false)
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	_ = c.nc.Close()
	if c.hb.st != nil && !c.hb.trailers {
		// A request whose header block never ended (trailers belong to
		// a stream already in progress, released with it).
		c.hb.st.release()
	}
	c.hb = headerBlock{}
}

// idle reports whether stream id was never opened (RFC 9113 §5.1): an odd
// ID above the viewer's last, or any even one (this server pushes none).
func (c *conn) idle(id uint32) bool { return id%2 == 0 || id > c.maxClientID }

// frameBuffered reports whether a whole frame is buffered: reading it will
// not block, so what is rendered may wait for the rest of the batch.
func (c *conn) frameBuffered() bool {
	n := c.br.Buffered()
	if n < 9 {
		return false
	}
	h, _ := c.br.Peek(9)
	return n >= 9+(int(h[0])<<16|int(h[1])<<8|int(h[2]))
}
