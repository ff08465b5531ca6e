package proxy_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/front"
	"github.com/edgefront/edgefront/h1"
	"github.com/edgefront/edgefront/h2"
	"github.com/edgefront/edgefront/proxy"
)

// clock is a test clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// edge is an edgefront proxy under test, on real http and https listeners.
type edge struct {
	t       *testing.T
	srv     *proxy.Server
	store   *cache.Store
	clock   *clock
	http    *plainServer // HTTP/1.1 through h1, as edgefront serves it
	https   *tlsServer
	client  *http.Client // no redirects followed, keep-alive
	tclient *http.Client // https, HTTP/2, certificate not checked
}

// plainServer serves a handler on a loopback port as edgefront's plain
// HTTP listener does: h1 in front, net/http for what h1 hands over.
type plainServer struct {
	URL      string
	Listener net.Listener
	srv      *h1.Server
	served   chan error
}

func newPlainServer(t *testing.T, h http.Handler) *plainServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &plainServer{URL: "http://" + ln.Addr().String(), Listener: ln, served: make(chan error, 1),
		srv: &h1.Server{Handler: h, General: &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0), MaxHeaderBytes: 64 << 10},
			ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}}
	if ps, ok := h.(*proxy.Server); ok {
		p.srv.TooLarge = ps.TooLarge // as edgefront serves it (cmd/edgefront)
	}
	go func() { p.served <- p.srv.Serve(ln) }()
	return p
}

// Close closes every connection and waits for Serve to return.
func (p *plainServer) Close() {
	_ = p.srv.Close()
	<-p.served
}

// tlsServer serves a handler on a loopback port as edgefront's https
// listener does: its front end handshakes, h1 serves HTTP/1.1 (net/http
// what h1 hands over, with the TLS state h1 would have given), h2 serves
// HTTP/2 (hits from the connection's reader goroutine).
type tlsServer struct {
	URL      string
	Listener net.Listener
	fe       *front.Server
	served   chan error
}

// handedOverTLS is the context key of a handed-over connection's TLS state.
type handedOverTLS struct{}

func newTLSServer(t *testing.T, h http.Handler) *tlsServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// httptest's certificate for 127.0.0.1 (clients here do not check it).
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	conf := ts.TLS.Clone()
	ts.Close()
	conf.NextProtos = []string{"h2", "http/1.1"}

	quiet := log.New(io.Discard, "", 0)
	general := &http.Server{ErrorLog: quiet, MaxHeaderBytes: 64 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if st, ok := r.Context().Value(handedOverTLS{}).(*tls.ConnectionState); ok && r.TLS == nil {
				r.TLS = st
			}
			h.ServeHTTP(w, r)
		}),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if _, st, ok := h1.HandedOver(c); ok && st != nil {
				return context.WithValue(ctx, handedOverTLS{}, st)
			}
			return ctx
		},
	}
	one := &h1.Server{Handler: h, General: general, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, ErrorLog: quiet}
	if ps, ok := h.(*proxy.Server); ok {
		one.TooLarge = ps.TooLarge
	}
	two := h2Server{&h2.Server{Handler: h, ErrorLog: quiet}}
	s := &tlsServer{URL: "https://" + ln.Addr().String(), Listener: ln, served: make(chan error, 1),
		fe: &front.Server{TLSConfig: conf, HTTP1: one, HTTP2: two, ErrorLog: quiet}}
	go func() { s.served <- s.fe.Serve(ln) }()
	return s
}

// h2Server is an h2.Server as a front.ConnServer.
type h2Server struct{ *h2.Server }

func (s h2Server) ServeConn(ctx context.Context, c net.Conn) { s.ServeConnContext(ctx, c) }

// Close closes every connection and waits for Serve to return.
func (s *tlsServer) Close() {
	_ = s.fe.Close()
	<-s.served
}

// newEdge starts a proxy on the configuration in settings (edgefront
// settings YAML); "{{name}}" placeholders are replaced from endpoints.
func newEdge(t *testing.T, settings string, endpoints map[string]string) *edge {
	t.Helper()
	return newEdgeWith(t, settings, endpoints, nil)
}

// newEdgeWith is newEdge with a hook that adjusts the proxy's options.
func newEdgeWith(t *testing.T, settings string, endpoints map[string]string, opts func(*proxy.Options)) *edge {
	t.Helper()
	for k, v := range endpoints {
		settings = strings.ReplaceAll(settings, "{{"+k+"}}", v)
	}
	cfg, err := config.Parse("test.yaml", []byte(settings))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	clk := newClock()
	store, err := cache.New(cache.Options{MaxBytes: 64 << 20, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	o := proxy.Options{Store: store, Registry: prometheus.NewRegistry(), Now: clk.Now, NodeID: "0123456789abcdef0123456789abcdef"}
	if opts != nil {
		opts(&o)
	}
	srv, err := proxy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		t.Fatal(err)
	}
	e := &edge{t: t, srv: srv, store: store, clock: clk}
	e.http = newPlainServer(t, srv)
	e.https = newTLSServer(t, srv)
	e.client = &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		Timeout:       30 * time.Second,
	}
	e.tclient = &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			TLSClientConfig:    &tls.Config{InsecureSkipVerify: true},
			ForceAttemptHTTP2:  true,
			DisableCompression: true,
		},
		Timeout: 30 * time.Second,
	}
	t.Cleanup(func() {
		e.http.Close()
		e.https.Close()
		e.client.CloseIdleConnections()
		e.tclient.CloseIdleConnections()
		srv.Close()
		store.Close()
	})
	return e
}

// response is what a test reads back.
type response struct {
	status int
	header http.Header
	body   string
	proto  string
}

func (r response) xcache() string { return r.header.Get("X-Cache") }

// do sends a request over plain HTTP with optional headers.
func (e *edge) do(method, path string, hdr ...string) response {
	e.t.Helper()
	return e.send(e.client, e.http.URL, method, path, nil, hdr...)
}

// doTLS sends a request over HTTPS (HTTP/2 when negotiated).
func (e *edge) doTLS(method, path string, hdr ...string) response {
	e.t.Helper()
	return e.send(e.tclient, e.https.URL, method, path, nil, hdr...)
}

func (e *edge) send(c *http.Client, base, method, path string, body io.Reader, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), proto: resp.Proto}
}

// origin is a real HTTP origin that counts the requests it gets and records
// the last one.
type origin struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	last    *http.Request
	lastBdy string
	byPath  map[string]int
}

func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	return newOriginOn(t, nil, h)
}

// newOriginOn is newOrigin on a given listener (nil: a new one).
func newOriginOn(t *testing.T, ln net.Listener, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{byPath: map[string]int{}}
	o.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.last = r.Clone(r.Context())
		o.lastBdy = string(b)
		o.byPath[r.URL.Path]++
		o.mu.Unlock()
		h(w, r)
	}))
	if ln != nil {
		o.Listener.Close()
		o.Listener = ln
	}
	o.Start()
	t.Cleanup(o.Close)
	return o
}

func (o *origin) lastRequest() (*http.Request, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last, o.lastBdy
}

func (o *origin) pathHits(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.byPath[p]
}

// static answers every request with body and the given header pairs.
func static(body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		_, _ = io.WriteString(w, body)
	}
}

// newS3 starts an S3-compatible server (gofakes3) on loopback with bucket
// created, and returns its URL and a real AWS SDK client for it.
func newS3(t *testing.T, bucket string) (url string, client *s3.Client) {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	client = s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return srv.URL, client
}

// cachePolicy is the settings YAML of one custom cache policy, a
// `cachePolicies:` entry: MinTTL minTTL, DefaultTTL 60, MaxTTL 600, no
// compressed-object keys, no query strings, and the given HeadersConfig and
// CookiesConfig flow mappings.
func cachePolicy(id, name string, minTTL int, headers, cookies string) string {
	return fmt.Sprintf(`  - Id: %s
    CachePolicyConfig:
      Name: %s
      MinTTL: %d
      DefaultTTL: 60
      MaxTTL: 600
      ParametersInCacheKeyAndForwardedToOrigin:
        EnableAcceptEncodingGzip: false
        HeadersConfig: %s
        CookiesConfig: %s
        QueryStringsConfig: {QueryStringBehavior: none}
`, id, name, minTTL, headers, cookies)
}

// revalidatingOrigin serves bodies[path] with Cache-Control max-age=60 and
// ETag "v1", and answers a request for "v1" (If-None-Match) with 304; it
// counts the requests and the revalidations among them.
func revalidatingOrigin(t *testing.T, bodies map[string][]byte) (o *origin, requests, revalidations *atomic.Int64) {
	requests, revalidations = new(atomic.Int64), new(atomic.Int64)
	o = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			revalidations.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(bodies[r.URL.Path])
	})
	return o, requests, revalidations
}
