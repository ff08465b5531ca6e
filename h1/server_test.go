package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// served records which server answered: the handler sees the general
// server's requests through their non-nil TLS-free conn-local marker.
type testServer struct {
	*Server
	addr    string
	general atomic.Int64 // requests the general server served
}

// start serves h on a loopback port through a Server and its general
// net/http server.
func start(t *testing.T, h http.Handler) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String()}
	general := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ts.general.Add(1)
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	ts.Server = &Server{Handler: h, General: general, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ln) }()
	t.Cleanup(func() {
		_ = ts.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ts
}

// dial opens a connection to addr that is closed with the test and whose
// reads and writes fail after 10 s, so that no test can hang on it.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// exchange writes raw on a new connection and reads n responses.
func exchange(t *testing.T, addr, raw string, n int, method string) ([]*http.Response, []string) {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var resps []*http.Response
	var bodies []string
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		resps, bodies = append(resps, resp), append(bodies, string(b))
	}
	return resps, bodies
}

// echo answers with the request as the handler saw it.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s path=%s raw=%s query=%s host=%s proto=%s body=%s x=%s",
		r.Method, r.RequestURI, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Host, r.Proto, body, r.Header.Get("X"))
})

// TestServe: requests the fast server answers and those it hands over both
// reach the handler as net/http would give them, on one connection.
func TestServe(t *testing.T) {
	ts := start(t, echo)
	tests := []struct {
		name, raw, want string
		general         bool
	}{
		{"GET", "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX: 1\r\n\r\n",
			"GET /a?b=1 path=/a raw= query=b=1 host=example.com proto=HTTP/1.1 body= x=1", false},
		{"escaped", "GET /a%20b HTTP/1.1\r\nHost: h\r\n\r\n",
			"GET /a%20b path=/a b raw= query= host=h proto=HTTP/1.1 body= x=", false},
		{"POST with a body", "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
			"POST /p path=/p raw= query= host=h proto=HTTP/1.1 body=hello x=", true},
		{"HTTP/1.0", "GET /old HTTP/1.0\r\nHost: h\r\n\r\n",
			"GET /old path=/old raw= query= host=h proto=HTTP/1.0 body= x=", true},
		{"big head", "GET /big HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 6000) + "\r\n\r\n",
			"GET /big path=/big raw= query= host=h proto=HTTP/1.1 body= x=" + strings.Repeat("v", 6000), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.general.Load()
			resps, bodies := exchange(t, ts.addr, tt.raw, 1, "GET")
			if resps[0].StatusCode != 200 || bodies[0] != tt.want {
				t.Fatalf("got %d %q, want 200 %q", resps[0].StatusCode, bodies[0], tt.want)
			}
			if got := ts.general.Load() > before; got != tt.general {
				t.Errorf("served by the general server: %v, want %v", got, tt.general)
			}
			// net/http sends longer bodies of unknown length chunked.
			if resps[0].Header.Get("Date") == "" || len(tt.want) < 2048 && resps[0].ContentLength != int64(len(tt.want)) {
				t.Errorf("Date %q, Content-Length %d", resps[0].Header.Get("Date"), resps[0].ContentLength)
			}
		})
	}
}

// TestPipelineAndHandover: pipelined requests are answered in order, also
// when one in the middle hands the connection over.
func TestPipelineAndHandover(t *testing.T) {
	ts := start(t, echo)
	raw := "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" +
		"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n" +
		"POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi" +
		"GET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
	resps, bodies := exchange(t, ts.addr, raw, 4, "GET")
	for i, want := range []string{"GET /1 ", "GET /2 ", "POST /3 ", "GET /4 "} {
		if !strings.HasPrefix(bodies[i], want) {
			t.Errorf("response %d = %q, want %q…", i, bodies[i], want)
		}
	}
	if !strings.Contains(bodies[2], "body=hi") || !resps[3].Close {
		t.Errorf("body %q, last response Close=%v", bodies[2], resps[3].Close)
	}
	if got := ts.general.Load(); got != 2 {
		t.Errorf("general server served %d requests, want 2 (from the POST on)", got)
	}
}

// TestMalformed: a malformed request gets net/http's answer, not a hang.
func TestMalformed(t *testing.T) {
	ts := start(t, echo)
	for _, tt := range []struct {
		raw    string
		status int
	}{
		{"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", http.StatusBadRequest},
		{"GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", http.StatusBadRequest},
		{"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented},
	} {
		resps, _ := exchange(t, ts.addr, tt.raw, 1, "GET")
		if resps[0].StatusCode != tt.status {
			t.Errorf("%q: status %d, want %d", tt.raw, resps[0].StatusCode, tt.status)
		}
	}
}

// TestResponseFraming: Content-Length when known or when the handler ends
// within the buffer, chunked otherwise, no body for HEAD/204/304, header
// values cannot inject lines, Connection: close from the handler closes.
func TestResponseFraming(t *testing.T) {
	big := strings.Repeat("x", 3*pendLimit)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cl":
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case "/small":
			io.WriteString(w, "<html>hi</html>")
		case "/big":
			io.WriteString(w, big)
		case "/204":
			w.WriteHeader(http.StatusNoContent)
			if _, err := io.WriteString(w, "no"); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic("a 204 body was accepted")
			}
		case "/304":
			w.Header().Set("ETag", `"a"`)
			w.WriteHeader(http.StatusNotModified)
		case "/inject":
			w.Header()["X-Bad"] = []string{"a\r\nSet-Cookie: evil=1"}
			w.Header().Set("Date", "") // explicitly set: kept as given
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/short":
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "abc")
		}
	}))
	tests := []struct {
		path, method string
		status       int
		cl           int64
		chunked      bool
		body         string
		check        func(*http.Response) string
	}{
		{"/cl", "GET", 200, 5, false, "hello", nil},
		{"/cl", "HEAD", 200, 5, false, "", nil},
		{"/small", "GET", 200, 15, false, "<html>hi</html>", func(r *http.Response) string {
			if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				return "sniffed Content-Type " + ct
			}
			return ""
		}},
		{"/big", "GET", 200, -1, true, big, nil},
		{"/204", "GET", 204, 0, false, "", nil},
		{"/304", "GET", 304, 0, false, "", nil},
		{"/inject", "GET", 200, 0, false, "", func(r *http.Response) string {
			if len(r.Header["Set-Cookie"]) > 0 || r.Header.Get("X-Bad") != "a  Set-Cookie: evil=1" {
				return fmt.Sprintf("header injection: %q", r.Header)
			}
			return ""
		}},
		{"/close", "GET", 200, 3, false, "bye", func(r *http.Response) string {
			if !r.Close {
				return "connection not closed"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			resps, bodies := exchange(t, ts.addr, tt.method+" "+tt.path+" HTTP/1.1\r\nHost: h\r\n\r\n", 1, tt.method)
			r := resps[0]
			chunked := len(r.TransferEncoding) > 0
			if r.StatusCode != tt.status || r.ContentLength != tt.cl || chunked != tt.chunked || bodies[0] != tt.body {
				t.Fatalf("got %d CL %d chunked %v body %d bytes; want %d CL %d chunked %v body %d bytes",
					r.StatusCode, r.ContentLength, chunked, len(bodies[0]), tt.status, tt.cl, tt.chunked, len(tt.body))
			}
			if tt.check != nil {
				if msg := tt.check(r); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
	t.Run("short body closes", func(t *testing.T) {
		c := dial(t, ts.addr)
		io.WriteString(c, "GET /short HTTP/1.1\r\nHost: h\r\n\r\n")
		all, err := io.ReadAll(c) // ends: the server closed the connection
		if err != nil || !strings.HasSuffix(string(all), "\r\n\r\nabc") {
			t.Fatalf("read %q, %v", all, err)
		}
	})
}

// TestStreaming: a flushed response reaches the viewer before the handler
// ends.
func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second")
	}))
	c := dial(t, ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("first part %q, %v", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" {
		t.Fatalf("rest %q", rest)
	}
}

// TestAnsweredBeforeTheViewerHasIt: a request is counted (Answered) by the
// time its viewer has the whole answer, even while the handler has not
// returned yet (a cache storing what it streamed). Counted after, a test
// reading the count right after the body (cmd/edgefront's
// TestHTTPSThroughH1) saw 0 now and then.
func TestAnsweredBeforeTheViewerHasIt(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4")
		io.WriteString(w, "body")
		w.(http.Flusher).Flush()
		<-release
	}))
	c := dial(t, ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "body" {
		t.Fatalf("body %q, %v", b, err)
	}
	if n := ts.Answered(); n != 1 {
		t.Errorf("Answered() = %d once the viewer has the answer, want 1", n)
	}
}

// TestViewerLeaves: a viewer closing its connection cancels the context a
// waiting handler watches; a handler that does not wait is never watched.
func TestViewerLeaves(t *testing.T) {
	canceled := make(chan error, 1)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast" {
			io.WriteString(w, "ok")
			return
		}
		select {
		case <-r.Context().Done():
			canceled <- r.Context().Err()
		case <-time.After(5 * time.Second):
			canceled <- nil
		}
	}))
	c := dial(t, ts.addr)
	// A fast request first, then one that waits, on the same connection.
	io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	c.Close()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler's context: %v, want canceled", err)
	}
}

// TestWatchKeepsNextRequest: a request that arrives while a handler waits
// on its context is read by the watch and then served.
func TestWatchKeepsNextRequest(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		io.WriteString(w, r.URL.Path)
	}))
	c := dial(t, ts.addr)
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // the handler is waiting now
	io.WriteString(c, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"/wait", "/next"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
}

// TestPanic: a panicking handler ends its connection, not the server.
func TestPanic(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "alive")
	}))
	c := dial(t, ts.addr)
	io.WriteString(c, "GET /panic HTTP/1.1\r\nHost: h\r\n\r\n")
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("a panicking handler sent %q", b)
	}
	c.Close()
	_, bodies := exchange(t, ts.addr, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 1, "GET")
	if bodies[0] != "alive" {
		t.Fatalf("after a panic: %q", bodies[0])
	}
}

// TestShutdown: idle connections are closed at once, a request under way
// finishes (with Connection: close), new connections are refused.
func TestShutdown(t *testing.T) {
	inHandler, release := make(chan struct{}), make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(inHandler)
			<-release
		}
		io.WriteString(w, "done")
	})
	s := &Server{Handler: h, General: &http.Server{Handler: h}, IdleTimeout: time.Minute, ReadHeaderTimeout: time.Second}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	addr := ln.Addr().String()

	idle := dial(t, addr)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	busy := dial(t, addr)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-inHandler

	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("idle connection still open after Shutdown")
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "done" || !resp.Close {
		t.Fatalf("request under way: %q, Close=%v", b, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("new connections accepted after Shutdown")
	}
}

// BenchmarkServe1K measures a keep-alive connection answering 1 KiB
// responses with Content-Length, as cache hits are answered; allocs/op is
// the server's per-request allocations (the raw client allocates nothing).
func BenchmarkServe1K(b *testing.B) { benchServe(b, false) }

// BenchmarkServe1KNetHTTP is the same through net/http's server, for
// comparison.
func BenchmarkServe1KNetHTTP(b *testing.B) { benchServe(b, true) }

func benchServe(b *testing.B, netHTTP bool) {
	body := []byte(strings.Repeat("x", 1024))
	cl := []string{strconv.Itoa(len(body))}
	ct := []string{"application/octet-stream"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Length"] = cl
		w.Header()["Content-Type"] = ct
		w.Write(body)
	})
	if netHTTP {
		s := &http.Server{Handler: h}
		go s.Serve(ln)
		defer s.Close()
	} else {
		s := &Server{Handler: h, General: &http.Server{Handler: h}}
		go s.Serve(ln)
		defer s.Close()
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	benchRequests(b, c, len(body))
}

// benchRequests sends b.N keep-alive requests on c, each read back whole:
// responses of a bodyLen-byte body, whose size it learns from the first
// (the Date header has a fixed width).
func benchRequests(b *testing.B, c net.Conn, bodyLen int) {
	req := []byte("GET /obj HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	c.Write(req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	var size int
	for k, vs := range resp.Header {
		for _, v := range vs {
			size += len(k) + 2 + len(v) + 2
		}
	}
	size += len("HTTP/1.1 200 OK\r\n") + 2 + bodyLen
	buf := make([]byte, size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTimeouts: a head that stops arriving and an idle connection are both
// closed after their timeouts, so slow clients cannot hold connections.
func TestTimeouts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: echo, General: &http.Server{Handler: echo},
		ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	for _, tt := range []struct {
		name, send string
		min        time.Duration
	}{
		{"partial head", "GET / HTTP/1.1\r\nHost: h\r\n", 250 * time.Millisecond},
		{"idle after a request", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 550 * time.Millisecond},
		{"a byte at a time", "", 250 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ln.Addr().String())
			start := time.Now()
			io.WriteString(c, tt.send)
			if tt.send == "" {
				// Slowloris: a header byte every 100 ms never extends the
				// header timeout.
				go func() {
					for i := 0; i < 20; i++ {
						if _, err := c.Write([]byte("G")); err != nil {
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
				}()
			}
			// ReadAll returns when the server closes (a reset when the
			// slow writer's bytes were still unread).
			_, err := io.ReadAll(c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("not closed: %v", err)
			}
			if took := time.Since(start); took < tt.min || took > time.Second+tt.min {
				t.Fatalf("closed after %v (%v); want after at least %v", took, err, tt.min)
			}
		})
	}
}
