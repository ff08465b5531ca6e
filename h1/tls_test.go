package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// connMark is a context value the test gives each connection.
type connMark struct{}

// tlsServer serves h over TLS on a loopback port: each connection is
// handshaken, then served by ServeConn with a context marked "conn"; the
// general server restores the mark and r.TLS through HandedOver.
func tlsServer(t *testing.T, h http.Handler, opts ...func(*Server)) (*Server, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	ts.Close()
	general := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0), MaxHeaderBytes: 64 << 10,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			parent, st, ok := HandedOver(c)
			if !ok {
				t.Errorf("the general server got a connection h1 did not hand over")
				return ctx
			}
			return context.WithValue(context.WithValue(ctx, connMark{}, parent.Value(connMark{})), tlsKey{}, st)
		}}
	s := &Server{Handler: h, General: general, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: log.New(io.Discard, "", 0), TooLarge: func() []byte {
			return []byte("HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		}}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tc := tls.Server(nc, cfg)
				if tc.Handshake() != nil {
					nc.Close()
					return
				}
				s.ServeConn(context.WithValue(context.Background(), connMark{}, "conn"), tc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		_ = s.Close()
		wg.Wait()
	})
	return s, ln.Addr().String()
}

// tlsKey carries, on handed-over requests, the state HandedOver gave.
type tlsKey struct{}

// TestServeConnTLS: over TLS, h1 answers a request without a body itself
// with r.TLS the connection's state and the connection context's values;
// a POST is handed over with its body whole, and the general server learns
// the same state and values from HandedOver; a head past the general
// server's limit gets TooLarge's answer.
func TestServeConnTLS(t *testing.T) {
	type seen struct {
		method, body, mark string
		tls                *tls.ConnectionState
		h1                 bool
	}
	got := make(chan seen, 4)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, h1 := r.Context().(*connContext)
		st := r.TLS
		if !h1 {
			st, _ = r.Context().Value(tlsKey{}).(*tls.ConnectionState)
		}
		mark, _ := r.Context().Value(connMark{}).(string)
		got <- seen{r.Method, string(b), mark, st, h1}
		io.WriteString(w, "ok")
	})
	s, addr := tlsServer(t, h)
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	want := c.ConnectionState()
	body := strings.Repeat("p", 10000)
	io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n"+body+
		"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	for _, w := range []seen{{"GET", "", "conn", nil, true}, {"POST", body, "conn", nil, false}, {"GET", "", "conn", nil, false}} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		g := <-got
		if g.method != w.method || g.body != w.body || g.mark != w.mark || g.h1 != w.h1 {
			t.Errorf("%s: body %d bytes, mark %q, by h1 %v; want %s, %d bytes, %q, %v", g.method, len(g.body), g.mark, g.h1, w.method, len(w.body), w.mark, w.h1)
		}
		if g.tls == nil || g.tls.Version != want.Version || g.tls.CipherSuite != want.CipherSuite || !g.tls.HandshakeComplete {
			t.Errorf("%s (by h1 %v): TLS state %+v, want the connection's", g.method, g.h1, g.tls)
		}
	}
	if n := s.Answered(); n != 1 {
		t.Errorf("Answered() = %d, want 1 (the GET before the handover)", n)
	}

	// A head over MaxHeaderBytes: TooLarge's answer, then the close,
	// whether net/http (just over) or the guard (far over) sees it first.
	for _, size := range []int{70000, 80 << 10, 300 << 10} {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		go io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", size)+"\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("head of %d bytes: %d, want TooLarge's 413", size, resp.StatusCode)
		}
		if _, err := br.ReadByte(); err == nil {
			t.Errorf("head of %d bytes: more after TooLarge's answer, want the connection closed", size)
		}
	}
}

// TestShutdownTLS: Shutdown closes an idle TLS connection served by
// ServeConn and returns once it is gone; one that connects after is closed
// at once.
func TestShutdownTLS(t *testing.T) {
	s, addr := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("the idle connection is still open after Shutdown")
	}
	c2, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err == nil {
		defer c2.Close()
		_ = c2.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := http.ReadResponse(bufio.NewReader(c2), nil); err == nil {
			t.Error("a connection served after Shutdown")
		}
	}
}

// TestSlowBodyCutOffTLS: over TLS too, a request body trickling in more
// slowly than BodyTimeout allows is cut off and the connection closed.
func TestSlowBodyCutOffTLS(t *testing.T) {
	const bodyTimeout = 200 * time.Millisecond
	_, addr := tlsServer(t, echo, func(s *Server) { s.BodyTimeout = bodyTimeout })
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	begin := time.Now()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a byte every 50 ms: 100 bytes would take 5 s
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("not closed: %v", err)
	}
	if took := time.Since(begin); took < bodyTimeout*3/4 || took > 2*time.Second {
		t.Fatalf("closed after %v (%v); want after about %v", took, err, bodyTimeout)
	}
}

// TestViewerLeavesTLS: over TLS too, a viewer that closes its connection
// while the handler waits cancels the request's context, and a viewer that
// pipelines its next request meanwhile does not (the byte the watch read
// is kept for it).
func TestViewerLeavesTLS(t *testing.T) {
	waiting := make(chan struct{}, 2)
	ended := make(chan error, 2)
	release := make(chan struct{})
	_, addr := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast" {
			io.WriteString(w, "ok")
			return
		}
		done := r.Context().Done() // starts the watch
		waiting <- struct{}{}
		select {
		case <-done:
			ended <- r.Context().Err()
		case <-release:
			ended <- nil
			io.WriteString(w, "released")
		}
	}))
	dialTLS := func() (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}

	// Leaves: the context is cancelled.
	c, _ := dialTLS()
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n")
	<-waiting
	c.Close()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("viewer gone: the handler's context ended with %v, want canceled", err)
	}

	// Pipelines: not cancelled, and the next request is answered whole.
	c, br := dialTLS()
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n")
	<-waiting
	io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: h\r\n\r\n")
	// The watch reads the next request's first byte, or the handler is
	// released first: either way the context must not end.
	close(release)
	if err := <-ended; err != nil {
		t.Errorf("viewer pipelining: the handler's context ended with %v", err)
	}
	for _, want := range []string{"released", "ok"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("got %q, want %q", b, want)
		}
	}
}

// BenchmarkServe1KTLS is BenchmarkServe1K over TLS (ServeConn on a
// handshaken *tls.Conn); allocs/op includes the server's TLS record work
// and the client's.
func BenchmarkServe1KTLS(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	cl := []string{"1024"}
	ct := []string{"application/octet-stream"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Length"] = cl
		w.Header()["Content-Type"] = ct
		w.Write(body)
	})
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	ts.Close()
	s := &Server{Handler: h, General: &http.Server{Handler: h}}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		tc := tls.Server(nc, &tls.Config{Certificates: []tls.Certificate{cert}})
		if tc.Handshake() == nil {
			s.ServeConn(context.Background(), tc)
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	benchRequests(b, c, len(body))
}
