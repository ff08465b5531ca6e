package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Client is a raw HTTP/2 connection over TLS whose frames the test
// writes one by one.
type h2Client struct {
	t    *testing.T
	conn *tls.Conn
	bw   *bufio.Writer
	mu   sync.Mutex // guards writes: fr's write side, bw, enc
	fr   *http2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer
}

// dialH2 connects to addr with ALPN h2, sends the preface and settings.
func dialH2(t *testing.T, addr string, settings ...http2.Setting) *h2Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	c := &h2Client{t: t, conn: conn, bw: bufio.NewWriterSize(conn, 64<<10)}
	c.fr = http2.NewFramer(c.bw, conn)
	c.enc = hpack.NewEncoder(&c.hbuf)
	err = c.write(func() error {
		if _, err := c.bw.WriteString(http2.ClientPreface); err != nil {
			return err
		}
		return c.fr.WriteSettings(settings...)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The server's SETTINGS come first; acknowledge them now, so that no
	// acknowledgement lands inside a header block a test leaves open.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := c.fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
		t.Fatalf("first frame %v, want the server's SETTINGS", f)
	}
	if err := c.write(c.fr.WriteSettingsAck); err != nil {
		t.Fatal(err)
	}
	return c
}

// write runs w (frame writes) under the lock and flushes; it reports a
// write error, which happens once the server has closed the connection.
func (c *h2Client) write(w func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := w(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// headerBlock encodes a request's header block (c.mu held).
func (c *h2Client) headerBlock(method, path string) []byte {
	c.hbuf.Reset()
	for _, f := range [][2]string{{":method", method}, {":scheme", "https"}, {":authority", "localhost"}, {":path", path}} {
		_ = c.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return bytes.Clone(c.hbuf.Bytes())
}

// request writes HEADERS opening stream id (without END_STREAM when a body
// follows).
func (c *h2Client) request(id uint32, method, path string, body bool) error {
	return c.write(func() error {
		return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.headerBlock(method, path),
			EndStream: !body, EndHeaders: true})
	})
}

// closed is how the server ended a connection.
type closed struct {
	open   bool // still open at the deadline
	after  time.Duration
	goAway bool  // a GOAWAY arrived
	err    error // the read error when there was no GOAWAY
}

// awaitClose reads frames until the server closes the connection (EOF, a
// reset or GOAWAY), answering PINGs when answerPings, or until within has
// passed (then open is set).
func (c *h2Client) awaitClose(within time.Duration, answerPings bool) closed {
	start := time.Now()
	_ = c.conn.SetReadDeadline(start.Add(within))
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return closed{open: true, after: time.Since(start)}
			}
			return closed{after: time.Since(start), err: err}
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			return closed{after: time.Since(start), goAway: true}
		case *http2.PingFrame:
			if answerPings && !f.IsAck() {
				_ = c.write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		}
	}
}

// viewerEdge starts the edge in quick mode in front of origin with the
// HTTP/2 limits l.
func viewerEdge(t *testing.T, origin http.Handler, l viewerLimits) *edge {
	t.Helper()
	o := httptest.NewServer(origin)
	t.Cleanup(o.Close)
	return testEdge(t, serveFlags{origin: o.URL, viewer: l})
}

// TestHTTP2UnfinishedHeaderBlock: a viewer that sends HEADERS without
// END_HEADERS and never the CONTINUATION is closed after Silent+Ping (it
// cannot answer the PING without breaking the header block).
func TestHTTP2UnfinishedHeaderBlock(t *testing.T) {
	l := viewerLimits{Silent: 200 * time.Millisecond, Ping: 200 * time.Millisecond}
	e := viewerEdge(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), l)
	c := dialH2(t, e.addrs["https"])
	err := c.write(func() error {
		block := c.headerBlock("GET", "/never")
		return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:len(block)/2], EndStream: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := c.awaitClose(5*time.Second, false)
	if got.open {
		t.Fatalf("connection still open after %v", got.after)
	}
	if got.after < l.Silent {
		t.Errorf("closed after %v, before the %v of silence that starts the PING", got.after, l.Silent)
	}
}

// TestHTTP2TrickledBody: a request body trickled a byte at a time (the
// viewer answering PINGs, so it is never silent) closes the connection
// once the body has taken longer than Body.
func TestHTTP2TrickledBody(t *testing.T) {
	l := viewerLimits{Body: 300 * time.Millisecond}
	var got atomic.Int64
	e := viewerEdge(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Add(n)
		io.WriteString(w, "ok")
	}), l)
	c := dialH2(t, e.addrs["https"])
	sent := time.Now() // the body limit counts from the headers' arrival, later
	if err := c.request(1, "POST", "/upload", true); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond) // the trickle's pace, far faster than the limits
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if c.write(func() error { return c.fr.WriteData(1, false, []byte{'x'}) }) != nil {
				return
			}
		}
	}()
	res := c.awaitClose(5*time.Second, true)
	if res.open {
		t.Fatalf("connection still open after %v", res.after)
	}
	if after := time.Since(sent); after < l.Body {
		t.Errorf("closed after %v, before the body limit %v", after, l.Body)
	}
}

// TestHTTP2ShutWindow: a viewer that opens no flow-control window
// (SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE) while answering PINGs
// has its connection closed once a response has waited WriteStall — whether
// the handler is blocked in Write (large body) or the response waits in the
// final flush after it (small body).
func TestHTTP2ShutWindow(t *testing.T) {
	for _, size := range []int{100, 256 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			l := viewerLimits{WriteStall: 300 * time.Millisecond}
			e := viewerEdge(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store")
				w.Write(bytes.Repeat([]byte("z"), size))
			}), l)
			c := dialH2(t, e.addrs["https"], http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			if err := c.request(1, "GET", "/big", false); err != nil {
				t.Fatal(err)
			}
			res := c.awaitClose(5*time.Second, true)
			if res.open {
				t.Fatalf("connection still open after %v", res.after)
			}
			if res.after < l.WriteStall {
				t.Errorf("closed after %v, before the stall limit %v", res.after, l.WriteStall)
			}
		})
	}
}

// TestHTTP2RapidReset: a viewer sending HEADERS then RST_STREAM for
// thousands of streams has its connection closed after about Resets of
// them, and the origin sees at most 2×Resets+MaxStreams requests (those
// whose handler was under way when their reset arrived), far fewer than
// were sent.
func TestHTTP2RapidReset(t *testing.T) {
	const sent = 5000
	l := viewerLimits{}.withDefaults()
	var hits atomic.Int64
	e := viewerEdge(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "origin")
	}), viewerLimits{})
	c := dialH2(t, e.addrs["https"])
	done := make(chan closed, 1)
	go func() { done <- c.awaitClose(10*time.Second, false) }()
	var wrote int
	for id := uint32(1); wrote < sent; wrote += 50 {
		// 50 pairs per write, a path each so no two requests share a fetch.
		err := c.write(func() error {
			for i := 0; i < 50; i, id = i+1, id+2 {
				p := http2.HeadersFrameParam{StreamID: id, BlockFragment: c.headerBlock("GET", fmt.Sprintf("/r/%d", id)), EndStream: true, EndHeaders: true}
				if err := c.fr.WriteHeaders(p); err != nil {
					return err
				}
				if err := c.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			break // the server closed the connection
		}
	}
	res := <-done
	if res.open {
		t.Errorf("connection still open %v after %d reset requests", res.after, wrote)
	}
	max := int64(2*l.Resets + l.MaxStreams)
	if n := hits.Load(); n > max {
		t.Errorf("origin saw %d of the %d reset requests, want at most %d", n, wrote, max)
	}
	t.Logf("%d pairs written, origin saw %d, closed after %v (GOAWAY %v)", wrote, hits.Load(), res.after, res.goAway)
}

// TestViewerLimitsDocumented: serve --help and the README state the default
// HTTP/2 limits the code applies.
func TestViewerLimitsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	want := []string{
		fmt.Sprintf("nothing for %d s is PINGed", int(defaultViewerSilent.Seconds())),
		fmt.Sprintf("not answered within %d s", int(defaultViewerPing.Seconds())),
		// (h2's header-block bound: the listener's 10 s header timeout, or
		// a PING and its answer if shorter: ownHTTP2)
		fmt.Sprintf("lasts at most %d s", int(min(10*time.Second, defaultViewerSilent+defaultViewerPing).Seconds())),
		fmt.Sprintf("arrive within %d s", int(defaultViewerBody.Seconds())),
		fmt.Sprintf("for %d s (its flow-control window", int(defaultViewerWriteStall.Seconds())),
		fmt.Sprintf("%d concurrent streams", defaultViewerMaxStreams),
		fmt.Sprintf("more than %d requests were cancelled", defaultViewerResets),
	}
	for _, w := range want {
		if !strings.Contains(norm(serveHelp), w) {
			t.Errorf("serve --help lacks %q", w)
		}
	}
	for _, w := range []string{
		fmt.Sprintf("silent for %d s", int(defaultViewerSilent.Seconds())),
		fmt.Sprintf("unanswered %d s", int(defaultViewerPing.Seconds())),
		fmt.Sprintf("within %d s of its headers", int(defaultViewerBody.Seconds())),
		fmt.Sprintf("data of for %d s", int(defaultViewerWriteStall.Seconds())),
		fmt.Sprintf("%d concurrent streams; more than %d requests", defaultViewerMaxStreams, defaultViewerResets),
	} {
		if !strings.Contains(norm(string(readme)), w) {
			t.Errorf("README lacks %q", w)
		}
	}
}

// TestRapidResetRule: a connection is closed once more than Resets requests
// were cancelled and more were cancelled than completed — a busy
// connection's occasional cancellations are not an attack.
func TestRapidResetRule(t *testing.T) {
	cases := []struct {
		completed, cancelled int
		closed               bool
	}{
		{0, 10, false},
		{0, 11, true},
		{20, 11, false},
		{20, 21, true},
		{1000, 500, false},
	}
	for _, c := range cases {
		g := newViewerGuard(http.NotFoundHandler(), viewerLimits{Resets: 10}, slog.New(slog.DiscardHandler))
		server, client := net.Pipe()
		defer client.Close()
		vc := &viewerConn{conn: server}
		vc.completed.Store(int64(c.completed))
		for i := 0; i < c.cancelled; i++ {
			g.noteCancelled(vc)
		}
		_ = server.SetWriteDeadline(time.Now()) // no reader: the write fails at once, closed or not
		_, err := server.Write([]byte{0})
		if closed := errors.Is(err, io.ErrClosedPipe); closed != c.closed || vc.closed.Load() != c.closed {
			t.Errorf("%d completed, %d cancelled: closed %v, want %v", c.completed, c.cancelled, closed, c.closed)
		}
	}
}
