package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
	"github.com/edgefront/edgefront/proxy"
)

// Test credentials: what the SDK client signs with.
const (
	testKeyID  = "AKIDEDGEFRONTTEST"
	testSecret = "edgefront-test-secret"
)

// env is a running edge (proxy + cache over a counting httptest origin) and
// the control API in front of it, reached with the real CloudFront client.
type env struct {
	t      *testing.T
	origin *origin
	proxy  *proxy.Server
	edge   *httptest.Server // the viewer-facing proxy
	api    *httptest.Server // the control API
	cf     *cloudfront.Client
}

// origin is an HTTP origin that counts its hits per path; every response
// is cacheable for an hour and says how many times the path was fetched.
type origin struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newOrigin(t *testing.T) *origin {
	o := &origin{hits: map[string]int{}}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.RequestURI()]++
		n := o.hits[r.URL.RequestURI()]
		o.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		fmt.Fprintf(w, "%s #%d", r.URL.RequestURI(), n)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

// newEnv starts an edge on the settings file testdata/<name> and the
// control API with opts.
func newEnv(t *testing.T, name string, opts control.Options) *env {
	t.Helper()
	o := newOrigin(t)
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), "{{origin}}", o.srv.URL))
	cfg, err := config.Parse(filepath.Join("testdata", name), data)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	store, err := cache.New(cache.Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry(), NodeID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &env{t: t, origin: o, proxy: srv}
	e.edge = httptest.NewServer(srv)
	e.api = httptest.NewServer(control.New(&control.ProxyBackend{Proxy: srv, Store: store}, opts))
	e.cf = newClient(e.api.URL, testKeyID, testSecret)
	t.Cleanup(func() {
		e.api.Close()
		e.edge.Close()
		srv.Close()
		store.Close()
	})
	return e
}

// newClient is the real CloudFront client pointed at the control API.
func newClient(url, keyID, secret string) *cloudfront.Client {
	return cloudfront.New(cloudfront.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// get requests path of the distribution served as host through the proxy
// and returns X-Cache and the body.
func (e *env) get(host, path string) (xcache, body string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.edge.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = host
	resp, err := e.edge.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Header.Get("X-Cache"), string(b)
}

// status requests path as host through the proxy and returns the status.
func (e *env) status(host, path string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.edge.URL+path, nil)
	req.Host = host
	resp, err := e.edge.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// ctx is a test context bounded in time.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// apiCode returns the API error code of err and its HTTP status ("" and 0
// when err is nil).
func apiCode(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", 0
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

// io_Copy copies a response body into b.
func io_Copy(b *strings.Builder, resp *http.Response) (int64, error) { return io.Copy(b, resp.Body) }
