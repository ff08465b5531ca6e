package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go/http3"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/edgetls"
	"github.com/edgefront/edgefront/proxy"
)

// h3Edge is a real proxy with one distribution in front of a counting
// origin, and the TLS provider built for that distribution.
type h3Edge struct {
	proxy *proxy.Server
	certs *edgetls.Provider
	hits  *atomic.Int64
}

func newH3Edge(t *testing.T, httpVersion string) *h3Edge {
	t.Helper()
	hits := new(atomic.Int64)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello over "+r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	yaml := `
distributions:
  - id: EH3TEST
    domainName: d111111abcdef8.cloudfront.net
    originEndpoints: {app: "` + origin.URL + `"}
    config:
      CallerReference: h3
      Enabled: true
      HttpVersion: ` + httpVersion + `
      Origins:
        Items:
          - Id: app
            DomainName: app.example.com
            CustomOriginConfig: {OriginProtocolPolicy: http-only}
      DefaultCacheBehavior:
        TargetOriginId: app
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
`
	cfg, err := config.Parse("h3.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.New(cache.Options{MaxBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry(), NodeID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Load(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); store.Close() })
	var ds []edgetls.Distribution
	for _, d := range cfg.Distributions {
		ds = append(ds, edgetls.DistributionOf(d))
	}
	certs, err := edgetls.New(cfg.TLS, nil, edgetls.WithDistributions(ds...))
	if err != nil {
		t.Fatal(err)
	}
	return &h3Edge{proxy: p, certs: certs, hits: hits}
}

// h3Client is quic-go's HTTP/3 client, certificate not checked.
func h3Client(t *testing.T) *http.Client {
	t.Helper()
	tr := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestHTTP3ServesTheProxy(t *testing.T) {
	e := newH3Edge(t, "http2and3")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := serveHTTP3(pc, e.certs.QUICConfig(), e.proxy, newHTTP3Guard(viewerLimits{}, slog.New(slog.DiscardHandler)))
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	c := h3Client(t)
	url := "https://" + pc.LocalAddr().String() + "/index.html"

	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hello over /index.html" {
			t.Errorf("request %d: %d %q", i, resp.StatusCode, body)
		}
		if resp.Proto != "HTTP/3.0" || resp.ProtoMajor != 3 {
			t.Errorf("request %d: proto %q, want HTTP/3.0", i, resp.Proto)
		}
		if got := resp.Header.Get("X-Cache"); got != want {
			t.Errorf("request %d: X-Cache %q, want %q", i, got, want)
		}
		if resp.Header.Get("Alt-Svc") != "" {
			t.Errorf("request %d: Alt-Svc on an HTTP/3 response: %q", i, resp.Header.Get("Alt-Svc"))
		}
	}
	if n := e.hits.Load(); n != 1 {
		t.Errorf("origin hits = %d, want 1 (the second request is a hit)", n)
	}
}

// TestHTTP3RefusedWithoutHTTPVersion3: a distribution whose HttpVersion does
// not enable HTTP/3 refuses the QUIC handshake.
func TestHTTP3RefusedWithoutHTTPVersion3(t *testing.T) {
	e := newH3Edge(t, "http2")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := serveHTTP3(pc, e.certs.QUICConfig(), e.proxy, newHTTP3Guard(viewerLimits{}, slog.New(slog.DiscardHandler)))
	t.Cleanup(func() { _ = stop() })
	resp, err := h3Client(t).Get("https://" + pc.LocalAddr().String() + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("HTTP/3 request answered %d; want the handshake refused", resp.StatusCode)
	}
	if e.hits.Load() != 0 {
		t.Errorf("origin hits = %d, want 0", e.hits.Load())
	}
}

func TestStartHTTP3(t *testing.T) {
	if _, err := startHTTP3("127.0.0.1:notaport", &tls.Config{}, http.NotFoundHandler(), newHTTP3Guard(viewerLimits{}, slog.New(slog.DiscardHandler))); err == nil || !strings.HasPrefix(err.Error(), "http3 listener: ") {
		t.Errorf("startHTTP3 on a bad address: %v, want an http3 listener error", err)
	}
	e := newH3Edge(t, "http3")
	stop, err := startHTTP3("127.0.0.1:0", e.certs.QUICConfig(), e.proxy, newHTTP3Guard(viewerLimits{}, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestAltSvc(t *testing.T) {
	for _, tc := range []struct {
		httpVersion string
		tls         bool
		want        string
	}{
		{"http2and3", true, `h3=":8443"; ma=86400`},
		{"http3", true, `h3=":8443"; ma=86400`},
		{"http2", true, ""},
		{"http1.1", true, ""},
		{"http2and3", false, ""}, // plain http: nothing advertised
	} {
		t.Run(tc.httpVersion, func(t *testing.T) {
			e := newH3Edge(t, tc.httpVersion)
			srv := httptest.NewUnstartedServer(altSvc(e.proxy, "8443", e.certs.HTTP3))
			if tc.tls {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + "/a")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "hello over /a" {
				t.Errorf("GET /a = %d %q", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Alt-Svc"); got != tc.want {
				t.Errorf("Alt-Svc %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHTTP3RapidReset: an HTTP/3 viewer that cancels more requests than the
// limit before their answers, and more than it lets complete, has its
// connection closed (CVE-2023-44487 over QUIC); one that completes more
// than it cancels keeps it.
func TestHTTP3RapidReset(t *testing.T) {
	e := newH3Edge(t, "http3")
	arrived := make(chan struct{}, 64)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			arrived <- struct{}{}
			<-r.Context().Done() // answers only when the viewer cancels
			return
		}
		fmt.Fprintf(w, "%p", r.Context().Value(http3ConnKey{})) // which connection
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := newHTTP3Guard(viewerLimits{Resets: 5}, slog.New(slog.DiscardHandler))
	stop := serveHTTP3(pc, e.certs.QUICConfig(), h, g)
	t.Cleanup(func() { _ = stop() })
	c := h3Client(t)
	base := "https://" + pc.LocalAddr().String()
	cancelOne := func(i int) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/slow/%d", base, i), nil)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		<-arrived
		cancel()
		<-done
	}
	conn := func() string {
		resp, err := c.Get(base + "/ok")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	first := conn()
	for range 9 {
		conn()
	}
	for i := range 8 {
		cancelOne(i) // 8 > 5 cancelled, but 10 completed
	}
	if n := g.closed.Load(); n != 0 || conn() != first {
		t.Fatalf("a viewer that completed more than it cancelled lost its connection (%d closed)", n)
	}
	for i := 8; i < 12; i++ {
		cancelOne(i) // 12 cancelled, more than the 11 completed
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.closed.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if g.closed.Load() != 1 {
		t.Fatalf("rapid reset over HTTP/3: %d connections closed, want 1", g.closed.Load())
	}
	if conn() == first {
		t.Error("the connection was not closed: the next request went over it")
	}
}
