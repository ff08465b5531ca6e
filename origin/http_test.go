package origin

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

func TestHTTPForwardsRequest(t *testing.T) {
	tests := []struct {
		name   string
		origin func(o *config.Origin)
		req    *Request
		check  func(t *testing.T, got received)
	}{
		{
			name:   "origin path, query and the origin's own host",
			origin: func(o *config.Origin) { o.OriginPath = "/prod" },
			req: &Request{Method: "GET", Path: "/a/b.txt", RawQuery: "x=1&y=%2F",
				Header: http.Header{"Accept": {"text/html"}}},
			check: func(t *testing.T, got received) {
				want(t, "RequestURI", got.RequestURI, "/prod/a/b.txt?x=1&y=%2F")
				want(t, "Host", got.Host, "origin.example.com")
				want(t, "Accept", got.Header.Get("Accept"), "text/html")
				want(t, "User-Agent", got.Header.Get("User-Agent"), "Amazon CloudFront")
			},
		},
		{
			name: "escaped path passes as sent",
			req:  &Request{Method: "GET", Path: "/a%20b/c%2Fd"},
			check: func(t *testing.T, got received) {
				want(t, "RequestURI", got.RequestURI, "/a%20b/c%2Fd")
			},
		},
		{
			name: "viewer's Host when forwarded",
			req:  &Request{Method: "GET", Path: "/", Host: "www.example.com", Header: http.Header{"Host": {"ignored"}}},
			check: func(t *testing.T, got received) {
				want(t, "Host", got.Host, "www.example.com")
			},
		},
		{
			name: "custom headers replace the viewer's of the same name",
			origin: func(o *config.Origin) {
				o.CustomHeaders = []config.Header{{Name: "X-Origin-Secret", Value: "s3cr3t"}, {Name: "X-Env", Value: "prod"}}
			},
			req: &Request{Method: "GET", Path: "/", Header: http.Header{
				"X-Origin-Secret": {"forged", "twice"}, "X-Other": {"kept"}}},
			check: func(t *testing.T, got received) {
				wantSlice(t, "X-Origin-Secret", got.Header["X-Origin-Secret"], []string{"s3cr3t"})
				want(t, "X-Env", got.Header.Get("X-Env"), "prod")
				want(t, "X-Other", got.Header.Get("X-Other"), "kept")
			},
		},
		{
			name: "Accept-Encoding untouched",
			req:  &Request{Method: "GET", Path: "/", Header: http.Header{"Accept-Encoding": {"br"}, "User-Agent": {"curl/8"}}},
			check: func(t *testing.T, got received) {
				want(t, "Accept-Encoding", got.Header.Get("Accept-Encoding"), "br")
				want(t, "User-Agent", got.Header.Get("User-Agent"), "curl/8")
			},
		},
		{
			name: "no Accept-Encoding added",
			req:  get("/"),
			check: func(t *testing.T, got received) {
				wantSlice(t, "Accept-Encoding", got.Header["Accept-Encoding"], nil)
			},
		},
		{
			name: "POST body with its length",
			req: &Request{Method: "POST", Path: "/form", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Body: strings.NewReader("a=1&b=2"), ContentLength: 7},
			check: func(t *testing.T, got received) {
				want(t, "Method", got.Method, "POST")
				want(t, "Body", got.Body, "a=1&b=2")
				want(t, "ContentLength", got.ContentLength, int64(7))
			},
		},
		{
			name: "PUT body of unknown length goes chunked",
			req:  &Request{Method: "PUT", Path: "/up", Body: strings.NewReader("streamed"), ContentLength: -1},
			check: func(t *testing.T, got received) {
				want(t, "Body", got.Body, "streamed")
				wantSlice(t, "TransferEncoding", got.TransferEncoding, []string{"chunked"})
			},
		},
		{
			name: "PATCH body",
			req:  &Request{Method: "PATCH", Path: "/x", Body: strings.NewReader(`{"a":1}`), ContentLength: 7},
			check: func(t *testing.T, got received) {
				want(t, "Method", got.Method, "PATCH")
				want(t, "Body", got.Body, `{"a":1}`)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestOrigin(t, false, nil)
			o := customOrigin(srv.URL)
			if tt.origin != nil {
				tt.origin(o)
			}
			f := newFetcher(t, o)
			resp, body, err := fetchAll(context.Background(), f, tt.req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want(t, "status", resp.StatusCode, 200)
			want(t, "body", body, "ok")
			want(t, "hits", srv.hits.Load(), int32(1))
			tt.check(t, srv.last(t))
		})
	}
}

func TestHTTPSendsInvalidEscapesAsTheyCame(t *testing.T) {
	lines := make(chan string, 1)
	raw := newRawOrigin(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		lines <- line
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	o := customOrigin(raw.URL())
	o.OriginPath = "/p"
	f := newFetcher(t, o)
	resp, _, err := fetchAll(context.Background(), f, get("/a%zz"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	want(t, "status", resp.StatusCode, 400)
	want(t, "request line", <-lines, "GET /p/a%zz HTTP/1.1\r\n")
}

func TestHTTPResponse(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantLength int64
		wantHeader http.Header
	}{
		{
			name:       "body streams with its length",
			handler:    func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
			wantStatus: 200, wantBody: "hello", wantLength: 5,
		},
		{
			name: "redirects are answers, not followed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			wantStatus: 302, wantLength: -2,
			wantHeader: http.Header{"Location": {"/elsewhere"}},
		},
		{
			name: "origin errors are responses",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "4")
				w.WriteHeader(503)
				io.WriteString(w, "busy")
			},
			wantStatus: 503, wantBody: "busy", wantLength: 4,
		},
		{
			name: "Content-Encoding is not undone",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				io.WriteString(w, "\x1f\x8bnot-really")
			},
			wantStatus: 200, wantBody: "\x1f\x8bnot-really", wantLength: 12,
			wantHeader: http.Header{"Content-Encoding": {"gzip"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestOrigin(t, false, tt.handler)
			f := newFetcher(t, customOrigin(srv.URL))
			resp, body, err := fetchAll(context.Background(), f, get("/"))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want(t, "status", resp.StatusCode, tt.wantStatus)
			if tt.wantLength != -2 {
				want(t, "body", body, tt.wantBody)
				want(t, "ContentLength", resp.ContentLength, tt.wantLength)
			}
			for k, v := range tt.wantHeader {
				wantSlice(t, k, resp.Header[k], v)
			}
			want(t, "hits", srv.hits.Load(), int32(1))
		})
	}
}

func TestHTTPRemovesHopByHopHeaders(t *testing.T) {
	raw := newRawOrigin(t, func(c net.Conn) {
		if readRequest(c) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n"+
				"Content-Length: 5\r\n"+
				"Content-Type: text/plain\r\n"+
				"Connection: keep-alive, X-Conn-Only\r\n"+
				"X-Conn-Only: 1\r\n"+
				"Keep-Alive: timeout=5\r\n"+
				"Proxy-Connection: keep-alive\r\n"+
				"Upgrade: websocket\r\n"+
				"TE: trailers\r\n"+
				"Trailer: X-Sum\r\n"+
				"X-Kept: yes\r\n"+
				"\r\n"+
				"hello")
		}
	})
	f := newFetcher(t, customOrigin(raw.URL()))
	resp, body, err := fetchAll(context.Background(), f, get("/"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	want(t, "body", body, "hello")
	var names []string
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	wantSlice(t, "header names", names, []string{"Content-Length", "Content-Type", "X-Kept"})
}

func TestHTTPFailures(t *testing.T) {
	tests := []struct {
		name           string
		method         string
		endpoint       func(t *testing.T) (url string, conns func() int32)
		attempts       int
		connectTimeout time.Duration
		readTimeout    time.Duration
		ctxTimeout     time.Duration
		wantKind       Kind
		wantStatus     int    // the viewer's status, Error.StatusCode
		guide          string // the Developer Guide page of the status
		wantConns      int32  // -1: not counted
		minElapsed     time.Duration
		maxElapsed     time.Duration
	}{
		{
			name:   "refused: every attempt, then Connect",
			method: "GET",
			endpoint: func(t *testing.T) (string, func() int32) {
				return closedPortURL(t), nil
			},
			attempts: 3, wantStatus: 502, guide: "http-502-bad-gateway",
			wantKind: Connect, wantConns: -1,
		},
		{
			name:     "closed without answer: GET tries every attempt",
			method:   "GET",
			endpoint: raw(acceptAndClose),
			attempts: 3, wantStatus: 502, guide: "http-502-bad-gateway",
			wantKind: Connect, wantConns: 3,
		},
		{
			name:     "closed without answer: POST is not repeated",
			method:   "POST",
			endpoint: raw(acceptAndClose),
			attempts: 3, wantStatus: 502, guide: "http-502-bad-gateway",
			wantKind: Connect, wantConns: 1,
		},
		{
			name:     "reset after the request",
			method:   "GET",
			endpoint: raw(resetAfterRequest),
			attempts: 2, wantStatus: 502, guide: "http-502-bad-gateway",
			wantKind: Connect, wantConns: 2,
		},
		{
			name:     "no headers within the read timeout: GET tries again",
			method:   "GET",
			endpoint: raw(stallHeaders),
			attempts: 2, readTimeout: 300 * time.Millisecond,
			wantStatus: 504, guide: "http-504-gateway-timeout",
			wantKind: Timeout, wantConns: 2,
			minElapsed: 600 * time.Millisecond, maxElapsed: 3 * time.Second,
		},
		{
			name:     "no headers within the read timeout: HEAD tries again",
			method:   "HEAD",
			endpoint: raw(stallHeaders),
			attempts: 3, readTimeout: 200 * time.Millisecond,
			wantStatus: 504, guide: "http-504-gateway-timeout",
			wantKind: Timeout, wantConns: 3,
			minElapsed: 600 * time.Millisecond, maxElapsed: 3 * time.Second,
		},
		{
			name:     "no headers within the read timeout: POST gives up at once",
			method:   "POST",
			endpoint: raw(stallHeaders),
			attempts: 3, readTimeout: 300 * time.Millisecond,
			wantStatus: 504, guide: "http-504-gateway-timeout",
			wantKind: Timeout, wantConns: 1,
			minElapsed: 300 * time.Millisecond, maxElapsed: 2 * time.Second,
		},
		{
			name:     "garbage instead of HTTP",
			method:   "GET",
			endpoint: raw(answerGarbage),
			attempts: 3, wantStatus: 502, guide: "http-502-bad-gateway",
			wantKind: Protocol, wantConns: 1,
		},
		{
			name:   "connect timeout on every attempt",
			method: "GET",
			endpoint: func(t *testing.T) (string, func() int32) {
				return "http://" + unanswerableAddr(t), nil
			},
			attempts: 2, connectTimeout: 300 * time.Millisecond,
			wantStatus: 504, guide: "http-504-gateway-timeout",
			wantKind: Connect, wantConns: -1,
			minElapsed: 600 * time.Millisecond, maxElapsed: 3 * time.Second,
		},
		{
			name:     "caller gives up first",
			method:   "GET",
			endpoint: raw(stallHeaders),
			attempts: 3, readTimeout: 5 * time.Second, ctxTimeout: 200 * time.Millisecond,
			wantStatus: 502, guide: "(no viewer waits)",
			wantKind: Canceled, wantConns: 1,
			maxElapsed: 2 * time.Second,
		},
		{
			name:   "untrusted certificate is refused, not retried",
			method: "GET",
			endpoint: func(t *testing.T) (string, func() int32) {
				srv := newTestOrigin(t, true, nil)
				return srv.URL, srv.conns.Load
			},
			attempts: 3, wantStatus: 502, guide: "http-502-bad-gateway",
			wantKind: Connect, wantConns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			endpoint, conns := tt.endpoint(t)
			o := customOrigin(endpoint)
			o.ConnectionAttempts = tt.attempts
			if tt.connectTimeout > 0 {
				o.ConnectionTimeout = tt.connectTimeout
			}
			if tt.readTimeout > 0 {
				o.Custom.ReadTimeout = tt.readTimeout
			}
			f := newFetcher(t, o)
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			r := get("/x")
			r.Method = tt.method
			if tt.method == "POST" {
				r.Body, r.ContentLength = strings.NewReader("payload"), 7
			}
			start := time.Now()
			resp, err := f.Fetch(ctx, r)
			elapsed := time.Since(start)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("Fetch: status %d, want an error", resp.StatusCode)
			}
			if got := kindOf(err); got != tt.wantKind {
				t.Fatalf("Kind = %v (%v), want %v", got, err, tt.wantKind)
			}
			if e := err.(*Error); e.OriginID != "web" {
				t.Errorf("OriginID = %q", e.OriginID)
			}
			if got := StatusOf(err); got != tt.wantStatus {
				t.Errorf("StatusOf = %d (%v), want %d (%s)", got, err, tt.wantStatus, tt.guide)
			}
			if tt.wantConns >= 0 {
				// The origin may see the last connection a moment after the
				// client gave up on it.
				waitFor(t, func() bool { return conns() == tt.wantConns })
				want(t, "connections", conns(), tt.wantConns)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("failed after %v, want at least %v", elapsed, tt.minElapsed)
			}
			if tt.maxElapsed > 0 && elapsed > tt.maxElapsed {
				t.Errorf("failed after %v, want at most %v", elapsed, tt.maxElapsed)
			}
		})
	}
}

// raw makes a rawOrigin endpoint for a failure table.
func raw(serve func(net.Conn)) func(t *testing.T) (string, func() int32) {
	return func(t *testing.T) (string, func() int32) {
		o := newRawOrigin(t, serve)
		return o.URL(), o.conns.Load
	}
}

func TestHTTPBodyTimeouts(t *testing.T) {
	chunks := func(n int, gap time.Duration) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(n))
			for range n {
				io.WriteString(w, "x")
				w.(http.Flusher).Flush()
				time.Sleep(gap)
			}
		}
	}
	stallMidBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "0123456789")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		serve       func(net.Conn) // a raw origin instead of handler
		readTimeout time.Duration
		read        func(ctx context.Context, cancel context.CancelFunc, body io.Reader) (string, error)
		wantBody    string
		wantKind    Kind // 0: the whole body arrives
		maxElapsed  time.Duration
	}{
		{
			name:        "stall mid-body fails the read",
			handler:     stallMidBody,
			readTimeout: 300 * time.Millisecond,
			wantBody:    "0123456789", wantKind: Timeout, maxElapsed: 3 * time.Second,
		},
		{
			name:        "slow but every gap within the timeout",
			handler:     chunks(6, 100*time.Millisecond),
			readTimeout: 400 * time.Millisecond,
			wantBody:    "xxxxxx",
		},
		{
			name:        "a slow reader is not the origin's fault",
			handler:     func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "abcdef") },
			readTimeout: 200 * time.Millisecond,
			read: func(_ context.Context, _ context.CancelFunc, body io.Reader) (string, error) {
				first := make([]byte, 3)
				if _, err := io.ReadFull(body, first); err != nil {
					return "", err
				}
				time.Sleep(500 * time.Millisecond)
				rest, err := io.ReadAll(body)
				return string(first) + string(rest), err
			},
			wantBody: "abcdef",
		},
		{
			name:        "reset mid-body",
			serve:       resetMidBody,
			readTimeout: 2 * time.Second,
			wantBody:    "0123456789", wantKind: Connect,
		},
		{
			name:        "caller cancels mid-body",
			handler:     stallMidBody,
			readTimeout: 5 * time.Second,
			read: func(ctx context.Context, cancel context.CancelFunc, body io.Reader) (string, error) {
				first := make([]byte, 10)
				if _, err := io.ReadFull(body, first); err != nil {
					return "", err
				}
				time.AfterFunc(100*time.Millisecond, cancel)
				rest, err := io.ReadAll(body)
				return string(first) + string(rest), err
			},
			wantBody: "0123456789", wantKind: Canceled, maxElapsed: 3 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var endpoint string
			if tt.serve != nil {
				endpoint = newRawOrigin(t, tt.serve).URL()
			} else {
				endpoint = newTestOrigin(t, false, tt.handler).URL
			}
			o := customOrigin(endpoint)
			o.Custom.ReadTimeout = tt.readTimeout
			f := newFetcher(t, o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			resp, err := f.Fetch(ctx, get("/"))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			defer resp.Body.Close()
			read := tt.read
			if read == nil {
				read = func(_ context.Context, _ context.CancelFunc, body io.Reader) (string, error) {
					b, err := io.ReadAll(body)
					return string(b), err
				}
			}
			body, err := read(ctx, cancel, resp.Body)
			elapsed := time.Since(start)
			want(t, "body", body, tt.wantBody)
			if got := kindOf(err); got != tt.wantKind {
				t.Errorf("read error %v: Kind = %v, want %v", err, got, tt.wantKind)
			}
			if tt.wantKind == 0 && err != nil {
				t.Errorf("read error %v", err)
			}
			if tt.maxElapsed > 0 && elapsed > tt.maxElapsed {
				t.Errorf("took %v, want at most %v", elapsed, tt.maxElapsed)
			}
		})
	}
}

func TestHTTPKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		keepalive time.Duration
		pause     time.Duration
		fetches   int
		wantConns int32
	}{
		{name: "sequential fetches share one connection", keepalive: 5 * time.Second, fetches: 5, wantConns: 1},
		{name: "idle past the keep-alive timeout: a new connection", keepalive: 200 * time.Millisecond,
			pause: 600 * time.Millisecond, fetches: 2, wantConns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestOrigin(t, false, nil)
			o := customOrigin(srv.URL)
			o.Custom.KeepaliveTimeout = tt.keepalive
			f := newFetcher(t, o)
			for i := range tt.fetches {
				if i > 0 {
					time.Sleep(tt.pause)
				}
				if _, _, err := fetchAll(context.Background(), f, get("/")); err != nil {
					t.Fatalf("fetch %d: %v", i, err)
				}
			}
			want(t, "hits", srv.hits.Load(), int32(tt.fetches))
			want(t, "connections", srv.conns.Load(), tt.wantConns)
		})
	}
}

func TestHTTPTargets(t *testing.T) {
	plain := newTestOrigin(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") })
	secure := newTestOrigin(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") })
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	port := func(s *testOrigin) int {
		u, _ := url.Parse(s.URL)
		p, _ := strconv.Atoi(u.Port())
		return p
	}
	tests := []struct {
		name        string
		policy      string
		endpoint    string
		viewerHTTPS bool
		wantBody    string
		wantHost    string
	}{
		{name: "http-only", policy: config.HTTPOnly, viewerHTTPS: true, wantBody: "plain", wantHost: "127.0.0.1"},
		{name: "https-only", policy: config.HTTPSOnly, wantBody: "secure", wantHost: "127.0.0.1"},
		{name: "match-viewer over http", policy: config.MatchViewer, wantBody: "plain", wantHost: "127.0.0.1"},
		{name: "match-viewer over https", policy: config.MatchViewer, viewerHTTPS: true, wantBody: "secure", wantHost: "127.0.0.1"},
		{name: "https endpoint answers to the domain name", policy: config.HTTPOnly, endpoint: secure.URL,
			wantBody: "secure", wantHost: "origin.example.com"},
		{name: "http endpoint wins over the policy", policy: config.HTTPSOnly, endpoint: plain.URL, viewerHTTPS: true,
			wantBody: "plain", wantHost: "origin.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := customOrigin(tt.endpoint)
			if tt.endpoint == "" {
				o.DomainName = "127.0.0.1"
				o.Custom.HTTPPort, o.Custom.HTTPSPort = port(plain), port(secure)
			}
			o.Custom.ProtocolPolicy = tt.policy
			f := newFetcher(t, o, WithRootCAs(pool))
			r := get("/")
			r.ViewerHTTPS = tt.viewerHTTPS
			_, body, err := fetchAll(context.Background(), f, r)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want(t, "body", body, tt.wantBody)
			srv := plain
			if tt.wantBody == "secure" {
				srv = secure
			}
			want(t, "Host", srv.last(t).Host, tt.wantHost)
		})
	}
}

func TestTLSConfig(t *testing.T) {
	tests := []struct {
		protocols []string
		min, max  uint16
		wantErr   bool
	}{
		{protocols: nil, min: 0, max: 0},
		{protocols: []string{"TLSv1.2"}, min: tls.VersionTLS12, max: 0},
		{protocols: []string{"TLSv1.1", "TLSv1.2"}, min: tls.VersionTLS11, max: 0},
		{protocols: []string{"SSLv3", "TLSv1"}, min: tls.VersionTLS10, max: tls.VersionTLS10},
		{protocols: []string{"TLSv1", "TLSv1.1"}, min: tls.VersionTLS10, max: tls.VersionTLS11},
		{protocols: []string{"SSLv3"}, wantErr: true},
		{protocols: []string{"TLSv1.3x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.protocols, ","), func(t *testing.T) {
			c, err := tlsConfig(tt.protocols, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want(t, "MinVersion", c.MinVersion, tt.min)
			want(t, "MaxVersion", c.MaxVersion, tt.max)
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		origin func() *config.Origin
	}{
		{"neither S3 nor custom", func() *config.Origin { return &config.Origin{ID: "x", DomainName: "a"} }},
		{"endpoint with a path", func() *config.Origin { return customOrigin("http://127.0.0.1:1/prefix") }},
		{"endpoint without scheme", func() *config.Origin { return customOrigin("127.0.0.1:1") }},
		{"unknown protocol policy", func() *config.Origin {
			o := customOrigin("")
			o.Custom.ProtocolPolicy = "gopher"
			return o
		}},
		{"SSLv3 alone", func() *config.Origin {
			o := customOrigin("")
			o.Custom.SSLProtocols = []string{"SSLv3"}
			return o
		}},
		{"S3 without bucket", func() *config.Origin {
			return &config.Origin{ID: "b", S3: &config.S3Origin{}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := New(tt.origin()); err == nil {
				f.(io.Closer).Close()
				t.Fatal("New succeeded")
			}
		})
	}
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantSlice[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// waitFor polls cond for up to a second.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !cond(); {
		time.Sleep(10 * time.Millisecond)
	}
}
