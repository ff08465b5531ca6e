package h2

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// blocking is a handler that waits for release (or its request's end).
func blocking(release <-chan struct{}, started chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- struct{}{}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "late")
	})
}

// TestRapidReset: a viewer that opens streams and cancels them at once
// (CVE-2023-44487) is sent GOAWAY(ENHANCE_YOUR_CALM) past MaxResets, and
// the handlers of the reset streams see their context cancelled.
func TestRapidReset(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts := newTestServer(t, blocking(release, nil), func(s *Server) { s.MaxResets = 10 })
	rc := ts.dial(t)
	id := uint32(1)
	for range 50 {
		rc.get(id, "/")
		if err := rc.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
			break // the server closed the connection
		}
		id += 2
	}
	l := rc.read(untilGoAway)
	if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("GOAWAY %+v, want ENHANCE_YOUR_CALM", l.goAway)
	}
	if got := l.goAway.LastStreamID; got > 2*11+1 {
		t.Errorf("GOAWAY after stream %d, want no later than the 11th reset", got)
	}
	<-ts.conns // the connection ended
}

// TestFloods: frames that do no work — SETTINGS, PING, empty DATA, empty
// CONTINUATION, WINDOW_UPDATE with nothing to send, PRIORITY — end the
// connection past FloodFrames with ENHANCE_YOUR_CALM.
func TestFloods(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name string
		send func(rc *rawConn, i int) error
		pre  func(rc *rawConn)
	}{
		{name: "SETTINGS", send: func(rc *rawConn, i int) error { return rc.fr.WriteSettings() }},
		{name: "PING", send: func(rc *rawConn, i int) error { return rc.fr.WritePing(false, [8]byte{byte(i)}) }},
		{name: "empty DATA", pre: func(rc *rawConn) {
			_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
				BlockFragment: rc.block(":method", "POST", ":scheme", "https", ":path", "/", ":authority", "x")})
		}, send: func(rc *rawConn, i int) error { return rc.fr.WriteData(1, false, nil) }},
		{name: "empty CONTINUATION", pre: func(rc *rawConn) {
			_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1,
				BlockFragment: rc.block(":method", "GET", ":scheme", "https", ":path", "/", ":authority", "x")})
		}, send: func(rc *rawConn, i int) error { return rc.fr.WriteContinuation(1, false, nil) }},
		{name: "WINDOW_UPDATE", send: func(rc *rawConn, i int) error { return rc.fr.WriteWindowUpdate(0, 1) }},
		{name: "PRIORITY", send: func(rc *rawConn, i int) error {
			return rc.fr.WritePriority(uint32(2*i+1), http2.PriorityParam{StreamDep: 0, Weight: 1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, blocking(release, nil), func(s *Server) { s.FloodFrames = 100 })
			rc := ts.dial(t)
			if tt.pre != nil {
				tt.pre(rc)
			}
			// Read concurrently: the server answers PING and SETTINGS.
			rc.passive = true
			got := make(chan *frameLog)
			go func() { got <- rc.read(untilGoAway) }()
			for i := range 1000 {
				if tt.send(rc, i) != nil {
					break
				}
			}
			l := <-got
			if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeEnhanceYourCalm {
				t.Fatalf("GOAWAY %+v, want ENHANCE_YOUR_CALM", l.goAway)
			}
		})
	}
}

// TestContinuationFlood: a header block that never ends (CVE-2024-27316)
// is cut off — by size when its CONTINUATION frames carry fields, by the
// flood budget when they are empty (TestFloods), and by time when they
// trickle.
func TestContinuationFlood(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		ts := newTestServer(t, echo(), func(s *Server) { s.MaxHeaderBytes = 4 << 10 })
		rc := ts.dial(t)
		_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1,
			BlockFragment: rc.block(":method", "GET", ":scheme", "https", ":path", "/", ":authority", "x")})
		rc.passive = true
		got := make(chan *frameLog)
		go func() { got <- rc.read(untilGoAway) }()
		frag := rc.block("x-filler", strings.Repeat("a", 1000))
		for range 1000 {
			if rc.fr.WriteContinuation(1, false, frag) != nil {
				break
			}
		}
		l := <-got
		if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeProtocol ||
			!strings.Contains(string(l.goAway.DebugData()), "header block too large") {
			t.Fatalf("GOAWAY %+v, want PROTOCOL_ERROR for the block's size", l.goAway)
		}
	})
	t.Run("time", func(t *testing.T) {
		ts := newTestServer(t, echo(), func(s *Server) { s.PrefaceTimeout = 200 * time.Millisecond })
		rc := ts.dial(t)
		_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1,
			BlockFragment: rc.block(":method", "GET", ":scheme", "https", ":path", "/", ":authority", "x")})
		start := time.Now()
		l := rc.read(untilEOF)
		if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeProtocol {
			t.Fatalf("GOAWAY %+v, want PROTOCOL_ERROR", l.goAway)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("closed after %v", d)
		}
	})
}

// TestHeaderListTooLarge: a header list over MaxHeaderBytes — sent as it
// is, or as a small block of references to one large field in the HPACK
// table (a bomb) — is answered 431, as net/http answers it, and the
// connection stays usable.
func TestHeaderListTooLarge(t *testing.T) {
	tests := []struct {
		name  string
		block func(rc *rawConn) []byte
		small bool // the encoded block is far smaller than the list
	}{
		{name: "large fields", block: func(rc *rawConn) []byte {
			kv := []string{":method", "GET", ":scheme", "https", ":path", "/hello", ":authority", "x"}
			for i := range 10 {
				kv = append(kv, "x-big-"+string(rune('a'+i)), strings.Repeat("v", 1000))
			}
			return rc.block(kv...)
		}},
		{name: "HPACK bomb", small: true, block: func(rc *rawConn) []byte {
			// One 3000-byte field goes into the dynamic table on a first
			// request; the second refers to it 100 times, one byte each.
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, echo(), func(s *Server) { s.MaxHeaderBytes = 8 << 10 })
			rc := ts.dial(t)
			id := uint32(1)
			var frag []byte
			if tt.small {
				rc.get(id, "/hello", "x-bomb", strings.Repeat("b", 3000))
				rc.read(untilEnded(id))
				id += 2
				// Index 62 is the newest dynamic entry: x-bomb.
				frag = rc.block(":method", "GET", ":scheme", "https", ":path", "/hello", ":authority", "localhost")
				for range 100 {
					frag = append(frag, 0x80|62)
				}
				if len(frag) > 200 {
					t.Fatalf("bomb block is %d bytes", len(frag))
				}
			} else {
				frag = tt.block(rc)
			}
			_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag, EndStream: true, EndHeaders: true})
			l := rc.read(untilEnded(id))
			if r := l.streams[id]; r.status != "431" || !strings.Contains(string(r.body), "431") {
				t.Fatalf("stream %d: %+v", id, r)
			}
			// Still in step (HPACK state) and serving.
			rc.get(id+2, "/hello?name=again")
			l = rc.read(untilEnded(id + 2))
			if r := l.streams[id+2]; r.status != "200" || string(r.body) != "hello, again" {
				t.Fatalf("next request: %+v", r)
			}
		})
	}
}

var _ = hpack.HeaderField{}

// TestSlowReader: a viewer that never opens its flow-control window, or
// never reads the socket, holds a response only WriteStallTimeout; then
// the connection is closed and the handler's writes fail.
func TestSlowReader(t *testing.T) {
	tests := []struct {
		name     string
		settings []http2.Setting
		window   bool // open windows wide (then never read the socket)
	}{
		{name: "zero window", settings: []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 0}}},
		{name: "never reads", settings: []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1}}, window: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			werr := make(chan error, 1)
			ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				chunk := bytes.Repeat([]byte("z"), 64<<10)
				for {
					if _, err := w.Write(chunk); err != nil {
						werr <- err
						return
					}
				}
			}), func(s *Server) { s.WriteStallTimeout = 300 * time.Millisecond })
			rc := ts.dialRaw(t)
			_, _ = io.WriteString(rc.nc, http2.ClientPreface)
			_ = rc.fr.WriteSettings(tt.settings...)
			if tt.window {
				_ = rc.fr.WriteWindowUpdate(0, 1<<31-1-65535)
			}
			rc.get(1, "/")
			start := time.Now()
			select {
			case err := <-werr:
				if err == nil {
					t.Fatal("no write error")
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the stalled response was never given up")
			}
			<-ts.conns
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestSlowReaderFast: answers made in the reader that wait for a window
// the viewer never opens are held up to a bound (then requests go to
// handlers, which wait) and only for WriteStallTimeout, even when the
// viewer answers PINGs.
func TestSlowReaderFast(t *testing.T) {
	for _, tt := range []struct {
		name     string
		requests int
		handlers bool // some go to handlers
	}{
		{"within the bound", 10, false},
		{"over the bound", 40, true},
	} {
		t.Run(tt.name, func(t *testing.T) { testSlowReaderFast(t, tt.requests, tt.handlers) })
	}
}

func testSlowReaderFast(t *testing.T, requests int, handlers bool) {
	body := bytes.Repeat([]byte("f"), 16<<10)
	var fast, slow atomic.Int64
	ts := newTestServer(t, fastFunc{
		fast: func(w http.ResponseWriter, r *http.Request) bool {
			fast.Add(1)
			_, _ = w.Write(body)
			return true
		},
		slow: func(w http.ResponseWriter, r *http.Request) {
			slow.Add(1)
			_, _ = w.Write(body)
		},
	}, func(s *Server) {
		s.WriteStallTimeout = 300 * time.Millisecond
		s.PingAfter = 50 * time.Millisecond
	})
	rc := ts.dialRaw(t)
	_, _ = io.WriteString(rc.nc, http2.ClientPreface)
	_ = rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	for i := range requests {
		rc.get(uint32(2*i+1), "/")
	}
	// Answer PINGs until the end.
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			break
		}
		if p, ok := f.(*http2.PingFrame); ok && !p.IsAck() {
			_ = rc.fr.WritePing(true, p.Data)
		}
	}
	<-ts.conns
	if n := fast.Load(); n*int64(len(body)) > maxQueued+int64(len(body)) || (slow.Load() > 0) != handlers {
		t.Errorf("%d answered in the reader (%d KiB held), %d by handlers", n, n*16, slow.Load())
	}
}

// fastFunc is a FastHandler made of two functions.
type fastFunc struct {
	fast func(http.ResponseWriter, *http.Request) bool
	slow http.HandlerFunc
}

func (f fastFunc) ServeFast(w http.ResponseWriter, r *http.Request) bool { return f.fast(w, r) }
func (f fastFunc) ServeHTTP(w http.ResponseWriter, r *http.Request)      { f.slow(w, r) }

// TestTimeouts: a connection that never sends its preface, or sends
// nothing for IdleTimeout with no request in progress, is closed; one
// whose viewer stops answering PINGs during a long request is closed.
func TestTimeouts(t *testing.T) {
	t.Run("preface", func(t *testing.T) {
		ts := newTestServer(t, echo(), func(s *Server) { s.PrefaceTimeout = 100 * time.Millisecond })
		rc := ts.dialRaw(t)
		_, _ = io.WriteString(rc.nc, "PRI * HTTP/2.0\r\n") // half of it
		l := rc.read(untilEOF)
		if !l.eof {
			t.Fatal("connection still open")
		}
		<-ts.conns
	})
	t.Run("idle", func(t *testing.T) {
		ts := newTestServer(t, echo(), func(s *Server) { s.IdleTimeout = 100 * time.Millisecond })
		rc := ts.dial(t)
		rc.get(1, "/hello")
		l := rc.read(untilGoAway)
		if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeNo {
			t.Fatalf("GOAWAY %+v", l.goAway)
		}
		if r := l.streams[1]; r == nil || r.status != "200" {
			t.Fatalf("request before idling: %+v", r)
		}
		<-ts.conns
	})
	t.Run("unanswered ping", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		ts := newTestServer(t, blocking(release, nil), func(s *Server) {
			s.PingAfter, s.PingTimeout = 100*time.Millisecond, 100*time.Millisecond
		})
		rc := ts.dial(t)
		rc.get(1, "/")
		// Read without answering PINGs.
		pings := 0
		for {
			f, err := rc.fr.ReadFrame()
			if err != nil {
				break
			}
			if p, ok := f.(*http2.PingFrame); ok && !p.IsAck() {
				pings++
			}
		}
		if pings != 1 {
			t.Errorf("%d PINGs, want 1", pings)
		}
		<-ts.conns
	})
	t.Run("answered ping", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{}, 1)
		ts := newTestServer(t, blocking(release, started), func(s *Server) {
			s.PingAfter, s.PingTimeout = 50*time.Millisecond, 200*time.Millisecond
		})
		rc := ts.dial(t)
		rc.get(1, "/")
		<-started
		l := rc.read(func(l *frameLog) bool { return l.pings >= 3 || l.eof })
		if l.eof {
			t.Fatal("closed although PINGs were answered")
		}
		close(release)
		l = rc.read(untilEnded(1))
		if r := l.streams[1]; r.status != "200" || string(r.body) != "late" {
			t.Fatalf("%+v", r)
		}
	})
}

// TestBodyTimeout: a request body that does not arrive within BodyTimeout
// fails the handler's read, and the connection is closed.
func TestBodyTimeout(t *testing.T) {
	rerr := make(chan error, 1)
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		rerr <- err
	}), func(s *Server) { s.BodyTimeout = 200 * time.Millisecond })
	rc := ts.dial(t)
	_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
		BlockFragment: rc.block(":method", "POST", ":scheme", "https", ":path", "/", ":authority", "x")})
	_ = rc.fr.WriteData(1, false, []byte("part"))
	if err := <-rerr; err == nil || !errors.Is(err, errDeadline()) {
		t.Fatalf("read error %v", err)
	}
	<-ts.conns
}

// TestMaxConcurrentStreams: a stream over the limit is refused and the
// others are served.
func TestMaxConcurrentStreams(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	ts := newTestServer(t, blocking(release, started), func(s *Server) { s.MaxConcurrentStreams = 2 })
	rc := ts.dial(t)
	rc.read(func(l *frameLog) bool { return l.settingsAcks > 0 })
	rc.get(1, "/")
	rc.get(3, "/")
	<-started
	<-started
	rc.get(5, "/")
	l := rc.read(untilEnded(5))
	if r := l.streams[5]; !r.wasReset || r.rst != http2.ErrCodeProtocol && r.rst != http2.ErrCodeRefusedStream {
		t.Fatalf("stream 5: %+v", r)
	}
	close(release)
	l = rc.read(untilEnded(1, 3))
	for _, id := range []uint32{1, 3} {
		if r := l.streams[id]; r.status != "200" {
			t.Errorf("stream %d: %+v", id, r)
		}
	}
}

// TestMalformed: requests net/http refuses are refused the same way
// (RST_STREAM PROTOCOL_ERROR; for connection-specific fields net/http's
// 400 first, RFC 9113 §8.1.1), and the connection goes on.
func TestMalformed(t *testing.T) {
	base := []string{":method", "GET", ":scheme", "https", ":path", "/hello", ":authority", "x"}
	tests := []struct {
		name   string
		kv     []string
		status string // net/http's answer before the reset, if any
	}{
		{"uppercase name", append(base, "X-Upper", "1"), ""},
		{"connection", append(base, "connection", "keep-alive"), "400"},
		{"transfer-encoding", append(base, "transfer-encoding", "chunked"), "400"},
		{"upgrade", append(base, "upgrade", "websocket"), "400"},
		{"te gzip", append(base, "te", "gzip"), "400"},
		{"no path", []string{":method", "GET", ":scheme", "https", ":authority", "x"}, ""},
		{"empty path", []string{":method", "GET", ":scheme", "https", ":path", "", ":authority", "x"}, ""},
		{"relative path", []string{":method", "GET", ":scheme", "https", ":path", "hello", ":authority", "x"}, ""},
		{"bad scheme", []string{":method", "GET", ":scheme", "ftp", ":path", "/", ":authority", "x"}, ""},
		{"no method", []string{":scheme", "https", ":path", "/", ":authority", "x"}, ""},
		{"duplicate method", append(base[:2:2], append([]string{":method", "GET"}, base[2:]...)...), ""},
		{"response pseudo", append(base[:8:8], ":status", "200"), ""},
		{"unknown pseudo", append(base[:8:8], ":protocol", "websocket"), ""},
		{"pseudo after regular", append(append(base[:6:6], "accept", "*/*"), ":authority", "x"), ""},
		{"host differs", append(base, "host", "y"), ""},
		{"userinfo", []string{":method", "GET", ":scheme", "https", ":path", "/", ":authority", "u@x"}, ""},
		{"CONNECT with path", []string{":method", "CONNECT", ":scheme", "https", ":path", "/", ":authority", "x:443"}, ""},
		{"bad value", append(base, "x-bad", "a\x00b"), ""},
	}
	ts := newTestServer(t, echo())
	rc := ts.dial(t)
	id := uint32(1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.block(tt.kv...),
				EndStream: true, EndHeaders: true})
			l := rc.read(untilEnded(id))
			if r := l.streams[id]; !r.wasReset || r.rst != http2.ErrCodeProtocol || r.status != tt.status {
				t.Fatalf("stream %d: %+v, want %q then RST_STREAM PROTOCOL_ERROR", id, r, tt.status)
			}
			id += 2
		})
	}
	rc.get(id, "/hello?name=ok")
	l := rc.read(untilEnded(id))
	if r := l.streams[id]; r.status != "200" || string(r.body) != "hello, ok" {
		t.Fatalf("after the refusals: %+v", r)
	}
}

var _ atomic.Int64

func errDeadline() error { return osErrDeadlineExceeded }

var osErrDeadlineExceeded = os.ErrDeadlineExceeded

// TestIdleDespitePings: PINGs start no request: a connection that sends
// only PINGs is still closed after IdleTimeout.
func TestIdleDespitePings(t *testing.T) {
	ts := newTestServer(t, echo(), func(s *Server) { s.IdleTimeout = 300 * time.Millisecond })
	rc := ts.dial(t)
	rc.passive = true
	got := make(chan *frameLog)
	go func() { got <- rc.read(untilEOF) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if rc.fr.WritePing(false, [8]byte{'k'}) != nil {
			break
		}
	}
	l := <-got
	if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeNo {
		t.Fatalf("GOAWAY %+v", l.goAway)
	}
}
