package h1

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Request body pacing and refusal.
const (
	// DefaultBodyTimeout is Server.BodyTimeout when it is zero.
	DefaultBodyTimeout = 20 * time.Second
	// bodyWindow is the amount of body each BodyTimeout must bring.
	bodyWindow = 8 << 10
	// earlyBytes is how much of a request head is given to net/http before
	// the head is complete and checked: net/http waits for that many bytes
	// (Peek) before it reads a request, and a refusal is answered only
	// once it does. Four bytes cannot make a request: net/http reads on.
	earlyBytes = 4
	// lingerTime and lingerBytes bound the reading of what a refused viewer
	// still sends, so that closing does not reset the connection (and
	// destroy the 400) before the viewer read it.
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 64 << 10
)

// errBodyTimeout fails a request body that arrives too slowly.
var errBodyTimeout = fmt.Errorf("h1: request body arrived too slowly: %w", os.ErrDeadlineExceeded)

// Phases of a guarded connection.
const (
	phaseHead        uint8 = iota // reading a request head
	phaseLookahead                // checking a chunked body before the head goes out
	phaseLength                   // a Content-Length body
	phaseChunked                  // a chunked body
	phaseUnsupported              // after a head net/http refuses
)

// guardConn is a connection handed over to the general server. Every byte
// net/http reads passes through it, so that the requests after the first
// are held to the rules this server's own requests are: each head is read
// whole and checked (checkHead) before net/http sees more than its first
// earlyBytes, chunked bodies are checked as they pass (and, up to
// chunkLookahead, before their head goes out), and bodies must keep up
// with BodyTimeout. A refused request fails net/http's read, which answers
// 400 and closes; every read after it fails too.
//
// A handler that hijacks a handed-over connection would read through it
// too, and what follows a request would be held to HTTP's rules: none of
// edgefront's handlers hijacks (it tunnels no WebSocket).
type guardConn struct {
	net.Conn
	maxHead     int
	bodyTimeout time.Duration

	// buf[r0:c] is checked and may be given to net/http, except from hold
	// on (when hold >= 0); buf[c:r1] is read but not checked yet. In
	// phaseHead, buf[c:c+early] was given early.
	buf          []byte
	r0, c, r1    int
	hold         int
	early        int
	searched     int // phaseHead: bytes from c on already searched for the head's end
	phase        uint8
	left         int64 // phaseLength: body bytes left
	bodyStart    int   // phaseLookahead: where the body starts in buf
	headStart    int   // phaseLookahead: where its head starts in buf
	chunk        chunkScanner
	err          error       // sticky: after a refusal, every read fails
	refused      atomic.Bool // close lingers
	headTooLarge atomic.Bool // refused for a head over maxHead: net/http's 400 is TooLarge's answer
	waited       time.Duration
	windowBytes  int
	mu           sync.Mutex // guards the deadlines
	httpDeadline time.Time  // the read deadline net/http set
	bodyDeadline time.Time  // the body pacing deadline (zero: none)
	lookahead    bool       // in phaseLookahead (for SetReadDeadline)
	tooLarge     func() []byte

	// parent and tls are what the connection was served with (HandedOver).
	parent context.Context
	tls    *tls.ConnectionState
}

// HandedOver reports whether c is a connection a Server handed over to its
// General server and, if so, what its requests would have had from the
// Server: the context it was served with (ServeConn; nil when none) and,
// for a TLS connection, its state, which net/http — seeing a guard, not a
// *tls.Conn — leaves out of r.TLS. Call it from General.ConnContext, which
// receives c, to carry them over to the requests net/http serves on it.
func HandedOver(c net.Conn) (ctx context.Context, state *tls.ConnectionState, ok bool) {
	g, ok := c.(*guardConn)
	if !ok {
		return nil, nil, false
	}
	return g.parent, g.tls, true
}

// newGuardConn guards nc, handed over by s with pre — the bytes read from
// it and not consumed, from the start of the request h1 did not answer.
func newGuardConn(s *Server, nc net.Conn, pre []byte) *guardConn {
	maxHead := s.General.MaxHeaderBytes
	if maxHead <= 0 {
		maxHead = http.DefaultMaxHeaderBytes
	}
	buf := make([]byte, max(readBufSize, len(pre)))
	n := copy(buf, pre)
	return &guardConn{Conn: nc, maxHead: maxHead + 4096, bodyTimeout: s.bodyTimeout(), buf: buf, r1: n, hold: -1, tooLarge: s.TooLarge}
}

// status431 is how net/http starts its answer to a head over
// MaxHeaderBytes, written straight to the connection; status400 its answer
// to a read that failed, as the guard's reads fail for a head it refuses.
var status431, status400 = []byte("HTTP/1.1 431 "), []byte("HTTP/1.1 400 ")

// Write implements net.Conn for net/http: Server.TooLarge's response
// replaces net/http's own 431, and its 400 to a head the guard refused for
// its size (past what net/http reads, whether net/http or the guard sees
// that first depends on how the head arrives).
func (g *guardConn) Write(p []byte) (int, error) {
	if g.tooLarge != nil && (bytes.HasPrefix(p, status431) || g.headTooLarge.Load() && bytes.HasPrefix(p, status400)) {
		if _, err := g.Conn.Write(g.tooLarge()); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return g.Conn.Write(p)
}

// Read implements net.Conn for net/http.
func (g *guardConn) Read(p []byte) (int, error) {
	for {
		end := g.c
		if g.hold >= 0 {
			end = g.hold
		}
		if g.r0 < end {
			n := copy(p, g.buf[g.r0:end])
			g.r0 += n
			return n, nil
		}
		if g.err != nil {
			if n := g.giveEarly(p, true); n > 0 {
				return n, nil // so that net/http reads on, to the refusal
			}
			return 0, g.err
		}
		more, err := g.advance()
		if err != nil {
			g.err = err
			if errors.Is(err, errMalformed) {
				g.refused.Store(true)
			}
			continue
		}
		if !more {
			continue
		}
		if n := g.giveEarly(p, false); n > 0 {
			return n, nil
		}
		if err := g.fill(); err != nil {
			if !errors.Is(err, errBodyTimeout) {
				return 0, err
			}
			g.err = err
			g.refuseLookahead()
		}
	}
}

// giveEarly copies into p what net/http may have of a head before it is
// checked: its first earlyBytes bytes, with which it can do nothing but
// wait for the rest (or refuse them) — unless, while it is not refused, it
// may be an empty line, which is dropped.
func (g *guardConn) giveEarly(p []byte, refused bool) int {
	if g.phase != phaseHead || g.c == g.r1 || !refused && g.early == 0 && g.buf[g.c] == '\r' {
		return 0
	}
	i := g.c + g.early
	m := copy(p, g.buf[i:min(i+earlyBytes-g.early, g.r1)])
	g.early += m
	return m
}

// advance checks what is buffered; more means it needs more bytes.
func (g *guardConn) advance() (more bool, err error) {
	switch g.phase {
	case phaseHead:
		if g.early == 0 {
			// Empty lines between requests (RFC 9112 §2.2) are dropped.
			for g.r1-g.c >= 2 && g.buf[g.c] == '\r' && g.buf[g.c+1] == '\n' {
				g.c += 2
				g.r0, g.searched = g.c, 0
			}
		}
		b := g.buf[g.c:g.r1]
		from := max(g.searched-3, 0)
		i := bytes.Index(b[from:], crlfcrlf)
		if i < 0 {
			if badLineEnd(b, max(g.searched-1, 0)) {
				return false, malformed("line end")
			}
			if len(b) >= g.maxHead {
				g.headTooLarge.Store(true)
				return false, malformed("head too large")
			}
			g.searched = len(b)
			return true, nil
		}
		i += from
		g.searched = 0
		f, err := checkHead(string(b[:i+4]))
		if err != nil {
			return false, err
		}
		headStart := g.c
		g.r0 = headStart + g.early
		g.c = headStart + i + 4
		g.early = 0
		g.waited, g.windowBytes = 0, 0
		switch f.kind {
		case bodyLength:
			g.phase, g.left = phaseLength, f.length
		case bodyChunked:
			g.phase = phaseChunked
			if !f.expect {
				// The viewer sends the body unasked: check its framing
				// before net/http has the head.
				g.phase, g.hold, g.bodyStart, g.headStart = phaseLookahead, g.r0, g.c, headStart
				g.setLookahead(true)
			}
		case bodyUnsupported:
			g.phase = phaseUnsupported
		}
		return false, nil
	case phaseLength:
		m := min(g.left, int64(g.r1-g.c))
		g.c += int(m)
		g.left -= m
		if g.left == 0 {
			g.endBody()
			return false, nil
		}
		return m == 0, nil
	case phaseLookahead, phaseChunked:
		n, done, err := g.chunk.scan(g.buf[g.c:g.r1])
		g.c += n
		if err != nil {
			g.chunk = chunkScanner{}
			g.refuseLookahead()
			return false, err
		}
		if done {
			g.endBody()
			return false, nil
		}
		if g.phase == phaseLookahead && g.c-g.bodyStart >= chunkLookahead {
			g.phase, g.hold = phaseChunked, -1
			g.setLookahead(false)
			return false, nil
		}
		return g.phase == phaseLookahead || n == 0, nil
	default: // phaseUnsupported: net/http has refused the head
		return false, errors.New("h1: unsupported transfer coding")
	}
}

// refuseLookahead, in phaseLookahead, goes back to the head, as if it
// were refused: net/http may still take its first bytes, and then answers
// the refusal.
func (g *guardConn) refuseLookahead() {
	if g.phase != phaseLookahead {
		return
	}
	g.phase, g.hold, g.c, g.early = phaseHead, -1, g.headStart, g.r0-g.headStart
	g.setLookahead(false)
}

// endBody ends a body: the next head follows.
func (g *guardConn) endBody() {
	g.phase, g.hold = phaseHead, -1
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.bodyDeadline.IsZero() || g.lookahead {
		g.bodyDeadline, g.lookahead = time.Time{}, false
		_ = g.Conn.SetReadDeadline(g.httpDeadline)
	}
}

// setLookahead enters or leaves phaseLookahead's deadline: net/http's
// header deadline, counted for a head that is now complete, does not bound
// the look-ahead (BodyTimeout does), so that a slow but steady body is not
// cut off before its handler even runs; a deadline net/http sets in the
// past — aborting a read — still applies.
func (g *guardConn) setLookahead(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lookahead = on
	_ = g.Conn.SetReadDeadline(g.effectiveDeadline())
}

// fill reads more from the connection. While a body is read, the time spent
// waiting counts against BodyTimeout, which each bodyWindow bytes renew.
func (g *guardConn) fill() error {
	if g.phase == phaseHead && g.r0 == g.r1 && len(g.buf) > readBufSize {
		// Between requests: a buffer grown for a head or a look-ahead goes.
		g.buf, g.r0, g.c, g.r1 = make([]byte, readBufSize), 0, 0, 0
	}
	if g.r1 == len(g.buf) {
		drop := g.r0 // what was given
		if g.phase == phaseLookahead {
			drop = g.headStart // kept whole until the body is checked
		}
		if drop > 0 {
			n := copy(g.buf, g.buf[drop:g.r1])
			g.r0 -= drop
			g.c -= drop
			g.bodyStart -= drop
			g.headStart -= drop
			if g.hold >= 0 {
				g.hold -= drop
			}
			g.r1 = n
		}
		if g.r1 == len(g.buf) {
			g.buf = append(g.buf, make([]byte, len(g.buf))...)
		}
	}
	paced := g.phase != phaseHead && g.phase != phaseUnsupported && g.bodyTimeout > 0
	var start time.Time
	if paced {
		start = time.Now()
		g.mu.Lock()
		g.bodyDeadline = start.Add(g.bodyTimeout - g.waited)
		_ = g.Conn.SetReadDeadline(g.effectiveDeadline())
		g.mu.Unlock()
	}
	n, err := g.Conn.Read(g.buf[g.r1:])
	g.r1 += n
	if paced {
		g.waited += time.Since(start)
		if g.windowBytes += n; g.windowBytes >= bodyWindow {
			g.waited, g.windowBytes = 0, 0
		}
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && g.bodyTimedOut() {
			return errBodyTimeout
		}
	}
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// bodyTimedOut reports whether the body deadline, not net/http's, passed.
func (g *guardConn) bodyTimedOut() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.netHTTPDeadline()
	return !g.bodyDeadline.IsZero() && !time.Now().Before(g.bodyDeadline) &&
		(h.IsZero() || g.bodyDeadline.Before(h))
}

// netHTTPDeadline is the deadline net/http set, as it applies now (see
// setLookahead). g.mu must be held.
func (g *guardConn) netHTTPDeadline() time.Time {
	if g.lookahead && g.httpDeadline.After(time.Now()) {
		return time.Time{}
	}
	return g.httpDeadline
}

// effectiveDeadline is the earlier of net/http's read deadline and the
// body's. g.mu must be held.
func (g *guardConn) effectiveDeadline() time.Time {
	h := g.netHTTPDeadline()
	if g.bodyDeadline.IsZero() || !h.IsZero() && h.Before(g.bodyDeadline) {
		return h
	}
	return g.bodyDeadline
}

// SetReadDeadline implements net.Conn: net/http's deadline, within the
// body's.
func (g *guardConn) SetReadDeadline(t time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.httpDeadline = t
	return g.Conn.SetReadDeadline(g.effectiveDeadline())
}

// SetDeadline implements net.Conn.
func (g *guardConn) SetDeadline(t time.Time) error {
	if err := g.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return g.SetReadDeadline(t)
}

// CloseWrite half-closes the connection, for net/http's lingering close.
func (g *guardConn) CloseWrite() error {
	if cw, ok := g.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close implements net.Conn; after a refusal, it lingers (drain).
func (g *guardConn) Close() error {
	if g.refused.Load() {
		drain(g.Conn)
	}
	return g.Conn.Close()
}

// drain half-closes nc and reads what the viewer still sends, for a while,
// so that the close that follows does not reset the connection before the
// viewer read the last response.
func drain(nc net.Conn) {
	cw, ok := nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if nc.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, nc, lingerBytes)
}
