package h2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// echo answers with what the request was, for table tests.
func echo() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-Tls", fmt.Sprint(r.TLS != nil))
		w.Header().Set("X-Uri", r.RequestURI)
		_, _ = io.WriteString(w, "hello, "+r.URL.Query().Get("name"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("X-Len", fmt.Sprint(len(b)))
		w.Header().Set("X-Content-Length", fmt.Sprint(r.ContentLength))
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(bytes.Repeat([]byte("0123456789abcdef"), 1<<16)) // 1 MiB
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Declared")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Declared", "d")
		w.Header().Set(http.TrailerPrefix+"X-Prefixed", "p")
	})
	mux.HandleFunc("/length", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "12345")
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func TestRequests(t *testing.T) {
	ts := newTestServer(t, echo())
	c := ts.client()
	big := strings.Repeat("x", 3<<20)
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // body
		header                   map[string]string
		trailer                  map[string]string
	}{
		{name: "GET", method: "GET", path: "/hello?name=viewer", status: 200, want: "hello, viewer",
			header: map[string]string{"X-Proto": "HTTP/2.0", "X-Tls": "true", "X-Uri": "/hello?name=viewer",
				"Content-Length": "13", "Content-Type": "text/plain; charset=utf-8"}},
		{name: "HEAD", method: "HEAD", path: "/hello", status: 200, want: "",
			header: map[string]string{"Content-Length": "7"}},
		{name: "POST body", method: "POST", path: "/echo", body: "payload", status: 200, want: "payload",
			header: map[string]string{"X-Len": "7", "X-Content-Length": "7"}},
		{name: "POST body over the windows", method: "POST", path: "/echo", body: big, status: 200, want: big,
			header: map[string]string{"X-Len": fmt.Sprint(len(big))}},
		{name: "large response over the windows", method: "GET", path: "/big", status: 200,
			want: strings.Repeat("0123456789abcdef", 1<<16)},
		{name: "streaming", method: "GET", path: "/stream", status: 200, want: "chunk 0\nchunk 1\nchunk 2\n"},
		{name: "trailers", method: "GET", path: "/trailers", status: 200, want: "body",
			trailer: map[string]string{"X-Declared": "d", "X-Prefixed": "p"}},
		{name: "declared length", method: "GET", path: "/length", status: 200, want: "12345",
			header: map[string]string{"Content-Length": "5", "Content-Type": "text/plain; charset=utf-8"}},
		{name: "204", method: "GET", path: "/nocontent", status: 204, want: ""},
		{name: "404", method: "GET", path: "/nowhere", status: 404, want: "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequest(tt.method, ts.url(tt.path), body)
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || string(got) != tt.want {
				t.Fatalf("got %d %.80q, want %d %.80q", res.StatusCode, got, tt.status, tt.want)
			}
			for k, v := range tt.header {
				if g := res.Header.Get(k); g != v {
					t.Errorf("%s: %q, want %q", k, g, v)
				}
			}
			for k, v := range tt.trailer {
				if g := res.Trailer.Get(k); g != v {
					t.Errorf("trailer %s: %q, want %q", k, g, v)
				}
			}
			if res.Header.Get("Date") == "" && tt.status != 0 {
				t.Errorf("no Date")
			}
		})
	}
}

func TestConcurrentStreams(t *testing.T) {
	ts := newTestServer(t, echo())
	c := ts.client()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Get(ts.url(fmt.Sprintf("/hello?name=%d", i)))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != fmt.Sprintf("hello, %d", i) {
				errs <- fmt.Errorf("stream %d: %q", i, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestShutdownInFlight: Shutdown sends GOAWAY, lets the stream in progress
// finish, refuses none of it, and returns once the connection closed.
func TestShutdownInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	}))
	rc := ts.dial(t)
	rc.get(1, "/slow")
	<-started
	done := make(chan error)
	go func() { done <- ts.Shutdown(context.Background()) }()
	l := rc.read(untilGoAway)
	if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeNo || l.goAway.LastStreamID != 1 {
		t.Fatalf("GOAWAY: %+v", l.goAway)
	}
	close(release)
	l = rc.read(untilEnded(1))
	if r := l.streams[1]; r.status != "200" || string(r.body) != "finished" {
		t.Fatalf("stream 1: %+v", r)
	}
	rc.nc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestWriteDeadline: a handler's write deadline (http.ResponseController)
// bounds a write blocked on a window the viewer keeps shut: the write
// fails with os.ErrDeadlineExceeded and the stream is reset, while the
// connection goes on.
func TestWriteDeadline(t *testing.T) {
	werr := make(chan error, 1)
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/deadline" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			werr <- err
			return
		}
		_, err := w.Write(bytes.Repeat([]byte("w"), 64<<10))
		werr <- err
	}))
	rc := ts.dialRaw(t)
	_, _ = io.WriteString(rc.nc, http2.ClientPreface)
	_ = rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	rc.get(1, "/deadline")
	if err := <-werr; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write error %v", err)
	}
	l := rc.read(untilEnded(1))
	if r := l.streams[1]; !r.wasReset || r.status != "200" {
		t.Fatalf("stream 1: %+v", r)
	}
	_ = rc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
	rc.get(3, "/")
	l = rc.read(untilEnded(3))
	if r := l.streams[3]; r.status != "200" || string(r.body) != "ok" {
		t.Fatalf("stream 3: %+v", r)
	}
}

type ctxKey struct{}

// TestServeConnContext: requests see the values of the connection's
// context, http.LocalAddrContextKey, and a context cancelled when they
// end.
func TestServeConnContext(t *testing.T) {
	got := make(chan string, 1)
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := r.Context().Value(ctxKey{}).(string)
		_, hasLocal := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		got <- fmt.Sprint(v, " ", hasLocal, " ", r.Context().Err())
	}), ErrorLog: discardLog(t)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		if c, err := ln.Accept(); err == nil {
			s.ServeConnContext(context.WithValue(context.Background(), ctxKey{}, "hello"), c)
		}
	}()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cli.Close()
		<-served
	}()
	tr := &http2.Transport{AllowHTTP: true}
	cc, err := tr.NewClientConn(cli)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://x/", nil)
	res, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if g := <-got; g != "hello true <nil>" {
		t.Fatalf("context: %q", g)
	}
}

// TestRequestOutlivesHandler: work a handler leaves behind with its
// request's body and context (a transport still sending the body, a
// background refresh) reads an error, never a later request's body, and
// sees a cancelled context whose values still answer.
func TestRequestOutlivesHandler(t *testing.T) {
	type leftover struct {
		body io.Reader
		ctx  context.Context
	}
	left := make(chan leftover, 1)
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/leave" {
			left <- leftover{r.Body, r.Context()}
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	c := ts.client()
	res, err := c.Post(ts.url("/leave"), "text/plain", strings.NewReader(strings.Repeat("a", 100)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	l := <-left
	// Another request with a body reuses the stream.
	res, err = c.Post(ts.url("/echo"), "text/plain", strings.NewReader("second request's body"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "second request's body" {
		t.Fatalf("echo: %q", b)
	}
	if n, err := l.body.Read(make([]byte, 64)); n != 0 || !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Errorf("left-over body read %d, %v", n, err)
	}
	if l.ctx.Err() == nil {
		t.Error("left-over context not cancelled")
	}
	if _, ok := l.ctx.Value(http.LocalAddrContextKey).(net.Addr); !ok {
		t.Error("left-over context lost its values")
	}
}

// goroutineID is the calling goroutine's number (from its stack header).
func goroutineID() string {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	f := strings.Fields(string(b[:n]))
	return f[1]
}

// TestFastOnReader: requests a FastHandler answers are all answered by the
// connection's one reader goroutine — no goroutine per request — and
// those it declines by handler goroutines.
func TestFastOnReader(t *testing.T) {
	var mu sync.Mutex
	fastIDs := map[string]int{}
	slowIDs := map[string]int{}
	ts := newTestServer(t, fastFunc{
		fast: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/slow" {
				return false
			}
			mu.Lock()
			fastIDs[goroutineID()]++
			mu.Unlock()
			_, _ = io.WriteString(w, "fast")
			return true
		},
		slow: func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			slowIDs[goroutineID()]++
			mu.Unlock()
			_, _ = io.WriteString(w, "slow")
		},
	})
	rc := ts.dial(t)
	var ids []uint32
	for i := range 100 {
		id := uint32(2*i + 1)
		path := "/fast"
		if i%10 == 0 {
			path = "/slow"
		}
		rc.get(id, path)
		ids = append(ids, id)
	}
	l := rc.read(untilEnded(ids...))
	for i, id := range ids {
		want := "fast"
		if i%10 == 0 {
			want = "slow"
		}
		if r := l.streams[id]; r.status != "200" || string(r.body) != want {
			t.Fatalf("stream %d: %+v", id, r)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fastIDs) != 1 {
		t.Errorf("fast answers from %d goroutines, want the reader alone: %v", len(fastIDs), fastIDs)
	}
	for id := range slowIDs {
		if _, ok := fastIDs[id]; ok {
			t.Errorf("a declined request ran on the reader")
		}
	}
}

// TestShutdownIdle: Shutdown closes a connection with nothing in progress
// after telling it GOAWAY, and returns; a connection arriving after it is
// refused.
func TestShutdownIdle(t *testing.T) {
	ts := newTestServer(t, echo())
	rc := ts.dial(t)
	rc.get(1, "/hello")
	rc.read(untilEnded(1))
	if err := ts.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := rc.read(untilEOF)
	if l.goAway == nil || l.goAway.ErrCode != http2.ErrCodeNo || l.goAway.LastStreamID != 1 {
		t.Fatalf("GOAWAY %+v", l.goAway)
	}
	rc2 := ts.dialRaw(t)
	_, _ = io.WriteString(rc2.nc, http2.ClientPreface) // may fail: refused
	if l := rc2.read(untilEOF); l.frames != 0 {
		t.Errorf("a connection after Shutdown got %d frames", l.frames)
	}
}

// TestExpectContinue: a request with "expect: 100-continue" gets 100
// (Continue) once its handler reads the body (RFC 9110 §10.1.1), then
// its answer; the handler does not see Expect.
func TestExpectContinue(t *testing.T) {
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s expect=%q", b, r.Header.Get("Expect"))
	}))
	rc := ts.dial(t)
	_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
		BlockFragment: rc.block(":method", "POST", ":scheme", "https", ":path", "/", ":authority", "x",
			"expect", "100-continue", "content-length", "4")})
	// Wait for the 100 before sending the body.
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := f.(*http2.MetaHeadersFrame); ok {
			if s := h.PseudoValue("status"); s != "100" || h.StreamEnded() {
				t.Fatalf("first answer %q, want 100", s)
			}
			break
		}
	}
	_ = rc.fr.WriteData(1, true, []byte("body"))
	l := rc.read(untilEnded(1))
	if r := l.streams[1]; r.status != "200" || string(r.body) != `body expect=""` {
		t.Fatalf("%+v", r)
	}
}
