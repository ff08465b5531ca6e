package front

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"
)

// testCert is httptest's certificate, for a loopback TLS listener.
func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	defer ts.Close()
	return ts.TLS.Certificates[0]
}

// ctxKey marks the contexts ConnContext made.
type ctxKey struct{}

// recorder is a ConnServer that notes which connections it got, with
// their ALPN protocol and context mark, and closes them.
type recorder struct {
	name string
	got  chan served
	mu   sync.Mutex
	shut int
}

type served struct {
	server, proto string
	mark          any
}

func (r *recorder) ServeConn(ctx context.Context, c net.Conn) {
	r.got <- served{r.name, c.(*tls.Conn).ConnectionState().NegotiatedProtocol, ctx.Value(ctxKey{})}
	_ = c.Close()
}

func (r *recorder) Shutdown(context.Context) error {
	r.mu.Lock()
	r.shut++
	r.mu.Unlock()
	return nil
}

func (r *recorder) Close() error { return r.Shutdown(context.Background()) }

// startFront serves a Server with the two recorders on a loopback port.
func startFront(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ln.Addr().String()
}

// TestDispatchByALPN: each connection goes, after its handshake, to the
// server of the protocol ALPN chose — h2 to HTTP2, http/1.1, none and any
// other to HTTP1 (as net/http serves them) — with the context ConnContext
// made, under which the handshake ran too.
func TestDispatchByALPN(t *testing.T) {
	h1, h2 := &recorder{name: "HTTP1", got: make(chan served, 1)}, &recorder{name: "HTTP2", got: make(chan served, 1)}
	var sawHello sync.Map
	cfg := &tls.Config{
		Certificates: []tls.Certificate{testCert(t)},
		NextProtos:   []string{"h2", "http/1.1", "other/1"},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			sawHello.Store(hello.Context().Value(ctxKey{}), true)
			return nil, nil
		},
	}
	n := 0
	var mu sync.Mutex
	s := &Server{TLSConfig: cfg, HTTP1: h1, HTTP2: h2, ErrorLog: log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if _, ok := c.(*tls.Conn); !ok {
				t.Errorf("ConnContext got a %T, want the *tls.Conn", c)
			}
			mu.Lock()
			defer mu.Unlock()
			n++
			return context.WithValue(ctx, ctxKey{}, n)
		}}
	addr := startFront(t, s)
	cases := []struct {
		offer  []string
		server string
		proto  string
	}{
		{[]string{"h2", "http/1.1"}, "HTTP2", "h2"},
		{[]string{"http/1.1"}, "HTTP1", "http/1.1"},
		{nil, "HTTP1", ""},
		{[]string{"other/1"}, "HTTP1", "other/1"},
	}
	for i, c := range cases {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: c.offer})
		if err != nil {
			t.Fatal(err)
		}
		var got served
		select {
		case got = <-h1.got:
		case got = <-h2.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("offer %v: no server got the connection", c.offer)
		}
		conn.Close()
		if got.server != c.server || got.proto != c.proto || got.mark != i+1 {
			t.Errorf("offer %v: %s got it with ALPN %q and context %v, want %s, %q, %d", c.offer, got.server, got.proto, got.mark, c.server, c.proto, i+1)
		}
		if _, ok := sawHello.Load(i + 1); !ok {
			t.Errorf("offer %v: the handshake did not run under the connection's context", c.offer)
		}
	}
}

// TestHandshakeTimeout: a viewer that sends nothing, or stops within its
// ClientHello, is closed once HandshakeTimeout has passed, and no server
// gets its connection.
func TestHandshakeTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	h1, h2 := &recorder{name: "HTTP1", got: make(chan served, 1)}, &recorder{name: "HTTP2", got: make(chan served, 1)}
	s := &Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{testCert(t)}}, HandshakeTimeout: timeout,
		HTTP1: h1, HTTP2: h2, ErrorLog: log.New(io.Discard, "", 0)}
	addr := startFront(t, s)
	for _, sent := range []string{"", "\x16\x03\x01\x02\x00"} { // nothing; a record header promising 512 bytes
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		io.WriteString(c, sent)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, c)
		took := time.Since(start)
		c.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("sent %q: still open after %v", sent, took)
		}
		if took < timeout {
			t.Errorf("sent %q: closed after %v, before the handshake timeout %v", sent, took, timeout)
		}
	}
	select {
	case got := <-h1.got:
		t.Errorf("%s got a connection whose handshake never finished", got.server)
	case got := <-h2.got:
		t.Errorf("%s got a connection whose handshake never finished", got.server)
	default:
	}
}

// TestShutdownClosesHandshakes: Shutdown closes a connection still in its
// handshake at once, makes Serve return ErrServerClosed and shuts both
// servers down, each once.
func TestShutdownClosesHandshakes(t *testing.T) {
	h1 := &recorder{name: "HTTP1", got: make(chan served, 1)}
	h2 := &recorder{name: "HTTP2", got: make(chan served, 1)}
	s := &Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{testCert(t)}}, HandshakeTimeout: time.Minute,
		HTTP1: h1, HTTP2: h2, ErrorLog: log.New(io.Discard, "", 0)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A partial record: the handshake is under way on the server.
	io.WriteString(c, "\x16\x03\x01")
	for {
		s.mu.Lock()
		n := len(s.handshaking)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ne net.Error
	if _, err := io.Copy(io.Discard, c); errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the connection in its handshake was not closed")
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
	if h1.shut != 1 || h2.shut != 1 {
		t.Errorf("HTTP1 shut down %d times, HTTP2 %d, want once each", h1.shut, h2.shut)
	}
}

// TestNetHTTP: NetHTTP serves given connections as ServeTLS would — h2 by
// ALPN with the server's HTTP/2, HTTP/1.1 otherwise, r.TLS set — and its
// server's ConnContext finds the context each was given with.
func TestNetHTTP(t *testing.T) {
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{testCert(t)}, NextProtos: []string{"h2", "http/1.1"}}}
	nh := &NetHTTP{Server: srv}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		parent, ok := nh.Context(c)
		if !ok {
			t.Errorf("no context for %v", c.RemoteAddr())
			return ctx
		}
		return context.WithValue(ctx, ctxKey{}, parent.Value(ctxKey{}))
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			t.Errorf("%s request without r.TLS", r.Proto)
		}
		io.WriteString(w, r.Proto+" "+r.Context().Value(ctxKey{}).(string))
	})
	s := &Server{TLSConfig: srv.TLSConfig, HTTP1: nh, HTTP2: nh, ErrorLog: srv.ErrorLog,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, "from the front end")
		}}
	addr := startFront(t, s)
	for _, h2 := range []bool{true, false} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		want := "HTTP/1.1 from the front end"
		if h2 {
			want = "HTTP/2.0 from the front end"
		}
		if string(b) != want {
			t.Errorf("got %q, want %q", b, want)
		}
	}
}
