package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/proxy"
)

// This file tests the memory bound of a flight whose body is not stored
// (issue 11, item 6): whatever the origin sends, the proxy reads it no more
// than proxy.FlightWindow bytes ahead of the slowest viewer, so a slow or
// idle viewer makes the origin's writes block instead of the proxy's memory
// grow.

const (
	// windowTotal is the size of the streamed test object: far more than
	// the window and every socket buffer on the way.
	windowTotal = 64 << 20
	// socketSlack is what the sockets and buffers between the origin's
	// writes and a viewer's reads hold besides the flight (send and
	// receive buffers, which Linux grows up to a few MiB, and the HTTP
	// clients' and servers' own buffers).
	socketSlack = 20 << 20
	// windowLimit is the largest object the test proxy stores: the test
	// object is 16 times as large, too large to store, and is streamed.
	windowLimit = windowTotal / 16
)

// windowSettings stores objects of up to windowLimit bytes.
var windowSettings = "cache: {size: 32MiB, maxObjectSize: 4MiB}\n" + oneOrigin

// aheadBound is how many bytes the origin (or a fast viewer) may get ahead
// of a viewer that reads nothing: the flight's window, the part of the
// body read before it was known to be too large (at most windowLimit), and
// the sockets.
const aheadBound = proxy.FlightWindow + windowLimit + socketSlack

// pattern is the byte at position p of the test object: never the same
// sequence twice within a window, so bytes served out of place show.
func pattern(p int) byte { return byte(p%251) ^ byte(p>>20) }

func fillPattern(b []byte, at int) {
	for i := range b {
		b[i] = pattern(at + i)
	}
}

// streamEnd is how an origin handler of streamOrigin ended.
type streamEnd struct {
	written  int64
	canceled bool // it saw its request's context done before the end
}

// streamOrigin is an origin whose answer to every request is the windowTotal
// bytes of pattern, without a Content-Length (chunked) unless withLength,
// written 32 KiB at a time. written counts the bytes its writes have taken:
// a write blocks once the proxy stops reading and the socket buffers (kept
// small) are full.
type streamOrigin struct {
	*httptest.Server
	hits    atomic.Int64
	written atomic.Int64
	ended   chan streamEnd
	release chan struct{} // closed to let the answers start (nil: at once)
}

func newStreamOrigin(t *testing.T, withLength, gated bool) *streamOrigin {
	t.Helper()
	o := &streamOrigin{ended: make(chan streamEnd, 8)}
	if gated {
		o.release = make(chan struct{})
	}
	o.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		if o.release != nil {
			select {
			case <-o.release:
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "application/octet-stream")
		if withLength {
			w.Header().Set("Content-Length", fmt.Sprint(windowTotal))
		}
		flusher := w.(http.Flusher)
		buf := make([]byte, 32<<10)
		n := 0
		for n < windowTotal {
			m := min(len(buf), windowTotal-n)
			fillPattern(buf[:m], n)
			if _, err := w.Write(buf[:m]); err != nil {
				break
			}
			flusher.Flush()
			n += m
			o.written.Add(int64(m))
		}
		end := streamEnd{written: int64(n)}
		if n < windowTotal {
			select {
			case <-r.Context().Done():
				end.canceled = true
			case <-time.After(10 * time.Second):
			}
		}
		o.ended <- end
	}))
	o.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			_ = c.(*net.TCPConn).SetWriteBuffer(64 << 10)
		}
	}
	o.Start()
	t.Cleanup(func() {
		if o.release != nil {
			select {
			case <-o.release:
			default:
				close(o.release)
			}
		}
		o.Close()
	})
	return o
}

// viewer is one viewer of the test object, on a connection of its own with
// a small receive buffer.
type viewer struct {
	resp *http.Response
	read int // bytes read so far
}

// openViewer sends GET path and returns once the response headers are in,
// reading none of the body.
func openViewer(t *testing.T, e *edge, path string) *viewer {
	t.Helper()
	v, err := dialViewer(t, e, path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// dialViewer is openViewer for a goroutine other than the test's: it
// returns what went wrong.
func dialViewer(t *testing.T, e *edge, path string) (*viewer, error) {
	d := &net.Dialer{}
	tr := &http.Transport{DisableCompression: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
		}
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 60 * time.Second}).Get(e.http.URL + path)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return &viewer{resp: resp}, nil
}

// readN reads n more bytes of the body (all of it when n < 0) and checks
// they are the object's; it reports whether the body is complete.
func (v *viewer) readN(n int) error {
	buf := make([]byte, 256<<10)
	want := make([]byte, len(buf))
	for n != 0 {
		b := buf
		if n > 0 && n < len(b) {
			b = b[:n]
		}
		m, err := v.resp.Body.Read(b)
		fillPattern(want[:m], v.read)
		if !bytes.Equal(b[:m], want[:m]) {
			return fmt.Errorf("bytes %d–%d are not the object's", v.read, v.read+m)
		}
		v.read += m
		if n > 0 {
			n -= m
		}
		if err == io.EOF {
			if v.read != windowTotal {
				return fmt.Errorf("body ended after %d bytes of %d", v.read, windowTotal)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", v.read, err)
		}
	}
	return nil
}

// readAll reads the rest of the body and checks it is the whole object.
func (v *viewer) readAll() error {
	if err := v.readN(-1); err != nil {
		return err
	}
	if v.read != windowTotal {
		return fmt.Errorf("read %d bytes of %d", v.read, windowTotal)
	}
	return nil
}

// settle waits until the counter n has stopped growing (what it counts is
// blocked) or has passed limit, and returns its value. It polls: a counter
// that stays the same for 300 ms is taken to have stopped.
func settle(t *testing.T, n func() int64, limit int64) int64 {
	t.Helper()
	defer func() { t.Logf("settled at %d", n()) }()
	deadline := time.Now().Add(30 * time.Second)
	last, still := n(), 0
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		cur := n()
		switch {
		case cur > limit:
			return cur
		case cur == last:
			if still++; still == 15 {
				return cur
			}
		default:
			last, still = cur, 0
		}
	}
	t.Fatalf("still growing after 30 s (%d)", last)
	return 0
}

// collapsedRequests reads edgefront_collapsed_requests_total.
func collapsedRequests(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "edgefront_collapsed_requests_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// openCollapsed opens n viewers of path that all join one flight: the
// origin answers only once all of them have.
func openCollapsed(t *testing.T, e *edge, reg *prometheus.Registry, o *streamOrigin, path string, n int) []*viewer {
	t.Helper()
	vs := make([]*viewer, n)
	opened := make(chan error, n)
	for i := range n {
		go func() {
			var err error
			vs[i], err = dialViewer(t, e, path)
			opened <- err
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for collapsedRequests(t, reg) < float64(n-1) {
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d viewers collapsed", collapsedRequests(t, reg), n-1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(o.release)
	for range n {
		if err := <-opened; err != nil {
			t.Fatal(err)
		}
	}
	return vs
}

func newWindowEdge(t *testing.T, o *streamOrigin) (*edge, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	e := newEdgeWith(t, windowSettings, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Registry = reg })
	return e, reg
}

// TestFlightWindowIdleViewer: a viewer that reads nothing of an object too
// large to store makes the proxy stop reading the origin once the window
// and the sockets are full — with or without a Content-Length — and then
// gets all of it, correct, when it reads.
func TestFlightWindowIdleViewer(t *testing.T) {
	for _, withLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("length %v", withLength), func(t *testing.T) {
			o := newStreamOrigin(t, withLength, false)
			e, _ := newWindowEdge(t, o)
			v := openViewer(t, e, "/huge.bin")
			if w := settle(t, o.written.Load, aheadBound); w > aheadBound {
				t.Fatalf("the origin wrote %d bytes to a viewer that read none (bound %d)", w, aheadBound)
			}
			if err := v.readAll(); err != nil {
				t.Fatal(err)
			}
			if got := v.resp.Header.Get("X-Cache"); got != "Miss from cloudfront" {
				t.Errorf("X-Cache %q", got)
			}
			if n := o.hits.Load(); n != 1 {
				t.Errorf("origin requests %d, want 1", n)
			}
		})
	}
}

// TestFlightWindowFastAndSlowViewer: of two viewers collapsed on one object
// too large to store, the fast one is served no more than the window (and
// the sockets) ahead of the slow one; it moves on as the slow one reads,
// and when the slow one leaves mid-way, it gets the rest, correct.
func TestFlightWindowFastAndSlowViewer(t *testing.T) {
	o := newStreamOrigin(t, false, true)
	e, reg := newWindowEdge(t, o)
	vs := openCollapsed(t, e, reg, o, "/huge.bin", 2)
	fast, slow := vs[0], vs[1]
	var fastRead atomic.Int64
	fastDone := make(chan error, 1)
	go func() {
		var err error
		for err == nil && fast.read < windowTotal {
			err = fast.readN(64 << 10)
			fastRead.Store(int64(fast.read))
		}
		fastDone <- err
	}()
	if n := settle(t, fastRead.Load, aheadBound); n > aheadBound {
		t.Fatalf("the fast viewer read %d bytes while the slow one read none (bound %d)", n, aheadBound)
	}
	if err := slow.readN(16 << 20); err != nil {
		t.Fatalf("slow viewer: %v", err)
	}
	n := settle(t, fastRead.Load, int64(slow.read)+aheadBound)
	if n > int64(slow.read)+aheadBound || n < int64(slow.read) {
		t.Fatalf("the fast viewer read %d bytes, the slow one %d (bound %d ahead)", n, slow.read, aheadBound)
	}
	slow.resp.Body.Close() // the slow viewer leaves
	select {
	case err := <-fastDone:
		if err != nil {
			t.Fatalf("fast viewer: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the fast viewer stalled at %d bytes once the slow one left", fastRead.Load())
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin requests %d, want 1 (collapsed)", n)
	}
}

// TestFlightWindowLateJoiner: a viewer that asks for an object too large to
// store once the flight streaming it has moved past its first byte gets the
// whole object, correct, from a fetch of its own; the first viewer's is not
// disturbed.
func TestFlightWindowLateJoiner(t *testing.T) {
	o := newStreamOrigin(t, false, false)
	e, _ := newWindowEdge(t, o)
	first := openViewer(t, e, "/huge.bin")
	if err := first.readN(windowLimit + 4*proxy.FlightWindow); err != nil {
		t.Fatal(err)
	}
	late := openViewer(t, e, "/huge.bin")
	lateDone := make(chan error, 1)
	go func() { lateDone <- late.readAll() }()
	if err := first.readAll(); err != nil {
		t.Fatalf("first viewer: %v", err)
	}
	if err := <-lateDone; err != nil {
		t.Fatalf("late viewer: %v", err)
	}
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin requests %d, want 2 (the late viewer's own fetch)", n)
	}
}

// TestFlightWindowAllViewersLeave: the origin request of a streaming flight
// goes on while one of its viewers reads, and is cancelled (the origin sees
// its context done) once the last one has left, with no more than the
// window and the sockets written.
func TestFlightWindowAllViewersLeave(t *testing.T) {
	o := newStreamOrigin(t, false, true)
	e, reg := newWindowEdge(t, o)
	vs := openCollapsed(t, e, reg, o, "/huge.bin", 2)
	if w := settle(t, o.written.Load, aheadBound); w > aheadBound {
		t.Fatalf("the origin wrote %d bytes to viewers that read none (bound %d)", w, aheadBound)
	}
	vs[0].resp.Body.Close()
	// The fetch goes on for the other viewer.
	if err := vs[1].readN(8 << 20); err != nil {
		t.Fatal(err)
	}
	vs[1].resp.Body.Close()
	select {
	case end := <-o.ended:
		if !end.canceled || end.written > int64(vs[1].read)+aheadBound {
			t.Errorf("origin: wrote %d bytes, saw its request cancelled: %v; want cancelled after at most %d",
				end.written, end.canceled, int64(vs[1].read)+aheadBound)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the origin request is still under way after every viewer left")
	}
	if o.hits.Load() != 1 {
		t.Errorf("origin requests %d, want 1", o.hits.Load())
	}
}

// TestFlightWindowCustomErrorPage: an origin error whose body is too large
// to cache is still replaced by the distribution's custom error page
// (CustomErrorResponses with a ResponsePagePath), although the flight does
// not hold that body whole.
func TestFlightWindowCustomErrorPage(t *testing.T) {
	chunk := strings.Repeat("e", 32<<10)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/errors/500.html" {
			w.Header().Set("Cache-Control", "max-age=300")
			io.WriteString(w, "custom page")
			return
		}
		w.WriteHeader(500)
		for range 32 { // 1 MiB, chunked
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	e := newEdge(t, "cache: {size: 16MiB, maxObjectSize: 16KiB}\n"+policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
	r := e.do("GET", "/e")
	if r.status != 200 || r.body != "custom page" || r.xcache() != "Error from cloudfront" {
		t.Errorf("%d %q (%d bytes) %q, want 200 %q", r.status, r.body[:min(len(r.body), 20)], len(r.body), r.xcache(), "custom page")
	}
}

// TestFlightWindowRange: a Range request for an object too large to cache,
// which the flight does not hold whole, is answered by the origin: 206 with
// the range asked for.
func TestFlightWindowRange(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 4<<10) // 64 KiB
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		http.ServeContent(w, r, "large.bin", time.Time{}, strings.NewReader(body))
	})
	e := newEdge(t, "cache: {size: 16MiB, maxObjectSize: 16KiB}\n"+oneOrigin, map[string]string{"web": o.URL})
	r := e.do("GET", "/large.bin", "Range", "bytes=16-25")
	if r.status != 206 || r.body != "0123456789" || r.header.Get("Content-Range") != "bytes 16-25/65536" {
		t.Errorf("%d %q %q, want 206 %q %q", r.status, r.body, r.header.Get("Content-Range"), "0123456789", "bytes 16-25/65536")
	}
}

// TestFlightWindowIdleViewerHoldsBackNoNewcomer: a viewer that reads
// nothing holds back the flight it is on, but not the viewers that ask for
// the object afterwards: they get all of it, correct, from a fetch of their
// own (which they share), while the idle viewer still reads nothing. The
// proxy stores objects of up to 16 MiB here, so the idle viewer is still at
// the first byte (the sockets take less than the 16 MiB read before the
// object was known to be too large): the flight holds that byte, and would
// take newcomers on.
func TestFlightWindowIdleViewerHoldsBackNoNewcomer(t *testing.T) {
	o := newStreamOrigin(t, false, false)
	e := newEdge(t, "cache: {size: 64MiB, maxObjectSize: 16MiB}\n"+oneOrigin, map[string]string{"web": o.URL})
	idle := openViewer(t, e, "/huge.bin")
	settle(t, o.written.Load, proxy.FlightWindow+16<<20+socketSlack)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			v, err := dialViewer(t, e, "/huge.bin")
			if err == nil {
				err = v.readAll()
			}
			done <- err
		}()
	}
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("newcomer: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a newcomer is held back by the idle viewer")
		}
	}
	if n := o.hits.Load(); n < 2 || n > 3 {
		t.Errorf("origin requests %d, want 2 or 3 (the idle viewer's, and the newcomers' own)", n)
	}
	if err := idle.readAll(); err != nil {
		t.Fatalf("idle viewer: %v", err)
	}
}

// TestFlightStalledViewerIsCut: a viewer that takes no bytes at all while
// the flight's window is full does not hold the other viewers back for
// ever: after the flight's stall time its response is cut (its body ends
// short) and the fast viewer gets the whole object, from one origin
// request.
func TestFlightStalledViewerIsCut(t *testing.T) {
	o := newStreamOrigin(t, false, true)
	reg := prometheus.NewRegistry()
	e := newEdgeWith(t, windowSettings, map[string]string{"web": o.URL}, func(opts *proxy.Options) {
		opts.Registry, opts.FlightStall = reg, 300*time.Millisecond
	})
	vs := openCollapsed(t, e, reg, o, "/huge.bin", 2)
	fast, stalled := vs[0], vs[1]
	done := make(chan error, 1)
	go func() { done <- fast.readAll() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("fast viewer: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the fast viewer is held at %d bytes by a viewer that reads nothing", fast.read)
	}
	if err := stalled.readAll(); err == nil {
		t.Error("the stalled viewer got the whole object: its response was not cut")
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin requests %d, want 1 (collapsed)", n)
	}
}
