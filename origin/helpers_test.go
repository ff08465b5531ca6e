package origin

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// received is what a test origin got.
type received struct {
	Method           string
	RequestURI       string
	Host             string
	Header           http.Header
	Body             string
	ContentLength    int64
	TransferEncoding []string
}

// testOrigin is an httptest origin that records every request, counts hits
// and new connections, then runs its handler.
type testOrigin struct {
	*httptest.Server
	hits  atomic.Int32
	conns atomic.Int32
	mu    sync.Mutex
	reqs  []received
}

func newTestOrigin(t *testing.T, useTLS bool, h http.HandlerFunc) *testOrigin {
	t.Helper()
	o := &testOrigin{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.reqs = append(o.reqs, received{
			Method:           r.Method,
			RequestURI:       r.RequestURI,
			Host:             r.Host,
			Header:           r.Header.Clone(),
			Body:             string(body),
			ContentLength:    r.ContentLength,
			TransferEncoding: r.TransferEncoding,
		})
		o.mu.Unlock()
		o.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			o.conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	o.Server = srv
	return o
}

func (o *testOrigin) last(t *testing.T) received {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.reqs) == 0 {
		t.Fatal("origin received no request")
	}
	return o.reqs[len(o.reqs)-1]
}

// rawOrigin is a TCP listener on 127.0.0.1 that misbehaves as serve says.
type rawOrigin struct {
	ln    net.Listener
	conns atomic.Int32
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  []net.Conn
}

func newRawOrigin(t *testing.T, serve func(c net.Conn)) *rawOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &rawOrigin{ln: ln}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.conns.Add(1)
			o.mu.Lock()
			o.open = append(o.open, c)
			o.mu.Unlock()
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		o.mu.Lock()
		for _, c := range o.open {
			c.Close()
		}
		o.mu.Unlock()
		o.wg.Wait()
	})
	return o
}

func (o *rawOrigin) URL() string { return "http://" + o.ln.Addr().String() }

// readRequest reads one request's head and body from c.
func readRequest(c net.Conn) bool {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	return true
}

// The misbehaviours of rawOrigin.

func acceptAndClose(net.Conn) {}

func stallHeaders(c net.Conn) {
	if readRequest(c) {
		_, _ = io.Copy(io.Discard, c) // until the client gives up
	}
}

func resetAfterRequest(c net.Conn) {
	if readRequest(c) {
		_ = c.(*net.TCPConn).SetLinger(0)
	}
}

func answerGarbage(c net.Conn) {
	if readRequest(c) {
		_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
	}
}

func resetMidBody(c net.Conn) {
	if readRequest(c) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
		time.Sleep(50 * time.Millisecond)
		_ = c.(*net.TCPConn).SetLinger(0)
	}
}

// closedPortURL returns an http URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// customOrigin is a custom origin reached at endpoint, with short timeouts.
func customOrigin(endpoint string) *config.Origin {
	o := &config.Origin{
		ID:                 "web",
		DomainName:         "origin.example.com",
		ConnectionAttempts: 3,
		ConnectionTimeout:  time.Second,
		Custom: &config.CustomOrigin{
			HTTPPort:         80,
			HTTPSPort:        443,
			ProtocolPolicy:   config.HTTPOnly,
			SSLProtocols:     []string{"TLSv1.2"},
			ReadTimeout:      2 * time.Second,
			KeepaliveTimeout: 5 * time.Second,
		},
	}
	if endpoint != "" {
		o.Endpoints = []string{endpoint}
	}
	return o
}

func newFetcher(t *testing.T, o *config.Origin, opts ...Option) Fetcher {
	t.Helper()
	f, err := New(o, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { f.(io.Closer).Close() })
	return f
}

// fetchAll fetches and reads the whole body.
func fetchAll(ctx context.Context, f Fetcher, r *Request) (*Response, string, error) {
	resp, err := f.Fetch(ctx, r)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func get(path string) *Request {
	return &Request{Method: http.MethodGet, Path: path, Header: http.Header{}}
}

// kindOf is the Kind of an *Error, or 0.
func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
