package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// TestCommands runs the command line as a user would and checks exit codes
// and what is printed.
func TestCommands(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string
		stderrNone []string
	}{
		{"version", []string{"version"}, 0, []string{"edgefront "}, nil, nil},
		{"help", []string{"help"}, 0, []string{"edgefront validate --config FILE", "X-Cache: Hit from cloudfront", "--cache-size SIZE"}, nil, nil},
		{"--help lists the commands, then serve's flags, on stdout", []string{"--help"}, 0, []string{"edgefront [serve] [flags]", "edgefront validate", "edgefront sign-url",
			"edgefront sign-cookies", "edgefront test-function", "edgefront version", "--origin URL", "--access-log FILE"}, nil, []string{"edgefront"}},
		{"serve help", []string{"serve", "--help"}, 0, []string{"--origin URL", "--cache-policy NAME", "--origin-request-policy NAME", "--response-headers-policy NAME", "--cache-size SIZE", "--config FILE",
			"CloudFormation/CDK template", "--admin-insecure", "--pprof", "is PINGed and closed", "rapid reset"}, nil, []string{"Usage"}},
		{"validate help mentions templates", []string{"validate", "--help"}, 0, []string{"CloudFormation/CDK", "template", "--parameter NAME=VALUE"}, nil, []string{"Usage"}},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "Run 'edgefront --help'"}, []string{"Usage"}},
		{"bad flag: one line and a hint", []string{"serve", "--nope"}, 2, nil, []string{"flag provided but not defined: -nope", "Run 'edgefront serve --help' for usage."}, []string{"Usage", "--cache-size"}},
		{"bad flag value is the flag's", []string{"--https", "bad"}, 2, nil, []string{`invalid value "bad" for flag -https: not a host:port address`}, []string{"demo.yaml", "Usage"}},
		{"bad port is the flag's", []string{"serve", "--admin", "127.0.0.1:99999"}, 2, nil, []string{`invalid value "127.0.0.1:99999" for flag -admin: port "99999"`}, []string{"demo.yaml"}},
		{"bad access log format", []string{"--access-log-format", "csv"}, 2, nil, []string{`--access-log-format "csv": want standard or json`}, nil},
		{"validate needs a file", []string{"validate"}, 2, nil, []string{"--config FILE is required", "Run 'edgefront validate --help' for usage."}, []string{"Usage"}},
		{"validate a good file", []string{"validate", "--config", "../../config/testdata/distribution.json"}, 0,
			[]string{"distribution.json: ok"}, nil, nil},
		{"validate a broken file", []string{"validate", "--config", "../../config/testdata/broken.yaml"}, 1, nil, []string{
			"broken.yaml: distributions[0].config.CacheBehaviors.Items[0].PathPatern: unknown field (did you mean PathPattern?)",
			"broken.yaml: distributions[0].config.Origins.Items[0].ConnectionAttempts: must be between 1 and 3 (got 5)",
			"broken.yaml: distributions[0].config.DefaultCacheBehavior.TargetOriginId: \"missing\" names no origin or origin group",
			"problem(s) found",
		}, nil},
		{"validate the README examples", []string{"validate", "--config", "testdata/readme-origins.yaml"}, 0,
			[]string{"EMINIO0000001", "EALB000000001", "EAPI000000001", "readme-origins.yaml: ok"}, nil, nil},
		{"validate warns about what is not emulated", []string{"validate", "--config", "../../config/testdata/not-emulated.yaml"}, 0,
			[]string{"not-emulated.yaml: ok"}, []string{
				"warning: ../../config/testdata/not-emulated.yaml: DistributionConfig.WebACLId: accepted but not emulated: AWS WAF is not emulated",
				"warning: ../../config/testdata/not-emulated.yaml: DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations.Items[0].LambdaFunctionARN: accepted but not emulated: arn:aws:lambda:us-east-1:123456789012:function:rewrite:1 is not among the settings' lambdaFunctions",
				"warning: ../../config/testdata/not-emulated.yaml: DistributionConfig.CacheBehaviors.Items[0].GrpcConfig: accepted but not emulated: gRPC",
				"18 setting(s) accepted but not emulated",
			}, nil},
		{"test-function on the embedded demo", []string{"test-function", "--name", "demo-site", "--event-file", "../../demo/functions/about-event.json"}, 0,
			[]string{`\"uri\":\"/about/index.html\"`, `"FunctionErrorMessage": ""`}, nil, nil},
		{"test-function names the demo's functions", []string{"test-function", "--name", "nope", "--event-file", "../../demo/functions/about-event.json"}, 1,
			nil, []string{`the embedded demo has no function "nope" (functions: [demo-site])`}, nil},
		{"validate a template in the shape cdk synth writes", []string{"validate", "--config", "../../config/testdata/cdk/WebStack.template.json"}, 0,
			[]string{"distribution SiteDistribution3FF9535D", "WebStack.template.json: ok"}, nil, nil},
		{"validate a template missing a parameter", []string{"validate", "--config", "../../config/testdata/cdk/ApiStack.template.yaml"}, 1, nil,
			[]string{"Ref Env: the parameter has no Default, so its value is only known when the stack is created; give it (--parameter Env=VALUE)"}, nil},
		{"validate a template with --parameter", []string{"validate", "--config", "../../config/testdata/cdk/ApiStack.template.yaml", "--parameter", "Env=prod"}, 0,
			[]string{"distribution ApiDistribution", "ApiStack.template.yaml: ok"}, nil, nil},
		{"--parameter needs NAME=VALUE", []string{"validate", "--config", "x.yaml", "--parameter", "Env"}, 2, nil,
			[]string{`invalid value "Env" for flag -parameter: "Env" is not NAME=VALUE`}, nil},
		{"validate a missing file", []string{"validate", "--config", "testdata/nope.yaml"}, 1, nil, []string{"nope.yaml"}, nil},
		{"validate a template's functions", []string{"validate", "--config", "../../config/testdata/cloudformation/functions.yaml"}, 0,
			[]string{"functions.yaml: 2 CloudFront function(s), 1 key value store(s)", "functions.yaml: ok"}, nil, []string{"FunctionAssociations"}},
		{"test-function", []string{"test-function", "--config", "../../config/testdata/cloudformation/functions.yaml", "--name", "index-rewrite",
			"--event-file", "../../edge/testdata/event-viewer-request.json"}, 0,
			[]string{`"FunctionOutput": "{\"request\":{`, `\"uri\":\"/guide/index.html\"`, `"FunctionErrorMessage": ""`, `"Name": "index-rewrite"`}, nil, nil},
		{"test-function of no such function", []string{"test-function", "--config", "../../config/testdata/cloudformation/functions.yaml", "--name", "nope",
			"--event-file", "../../edge/testdata/event-viewer-request.json"}, 1, nil,
			[]string{`has no function "nope" (functions: [functions-redirect index-rewrite])`}, nil},
		{"test-function needs its flags", []string{"test-function", "--name", "x"}, 2, nil, []string{"--name and --event-file are required"}, nil},
		{"serve with both modes", []string{"serve", "--config", "x.yaml", "--origin", "http://127.0.0.1:1"}, 2, nil,
			[]string{"--config or --origin, not both"}, nil},
		{"policy flags are for quick mode", []string{"serve", "--config", "x.yaml", "--cache-policy", "CachingOptimized"}, 2, nil,
			[]string{"--cache-policy is for quick mode (--origin)"}, nil},
		{"quick mode with an unknown policy", []string{"serve", "--origin", "http://127.0.0.1:1", "--origin-request-policy", "Nope"}, 1, nil,
			[]string{`--origin-request-policy "Nope": no managed policy has that name or ID`}, nil},
		{"serve with a broken config", []string{"serve", "--config", "../../config/testdata/broken.yaml"}, 1, nil,
			[]string{"broken.yaml: tls.mode: must be one of self-signed, files, acme"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(c.args, &out, &errOut)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out.String(), errOut.String())
			}
			for _, s := range c.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut.String())
				}
			}
			for _, s := range c.stderrNone {
				if strings.Contains(errOut.String(), s) {
					t.Errorf("stderr has %q:\n%s", s, errOut.String())
				}
			}
		})
	}
}

// testEdge starts edgefront in-process on ephemeral loopback ports. Flags
// given as a serveFlags literal (f.set nil) get the binary's front ends,
// h1 on both listeners (--fast-http1, --fast-http2); parsed ones keep what
// they say.
func testEdge(t testing.TB, f serveFlags) *edge {
	t.Helper()
	if f.set == nil {
		f.fastHTTP1, f.fastHTTP2 = true, true
	}
	f.http, f.https, f.admin = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	f.set = map[string]bool{"http": true, "https": true, "admin": true}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := startEdge(context.Background(), f, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeQuickMode: --origin puts a distribution in front
// of an origin; http, https (HTTP/2) and the admin listener all answer.
func TestServeQuickMode(t *testing.T) {
	hits := 0
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "quick "+r.URL.Path)
	}))
	defer o.Close()
	e := testEdge(t, serveFlags{origin: o.URL + "/base"})

	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		resp, body := get(t, c, "http://"+e.addrs["http"]+"/page")
		if resp.StatusCode != 200 || body != "quick /base/page" || resp.Header.Get("X-Cache") != want {
			t.Errorf("request %d: %d %q %q", i, resp.StatusCode, body, resp.Header.Get("X-Cache"))
		}
	}
	tc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true, DisableCompression: true}}
	resp, body := get(t, tc, "https://"+e.addrs["https"]+"/page")
	if resp.Proto != "HTTP/2.0" || body != "quick /base/page" || resp.Header.Get("X-Cache") != "Hit from cloudfront" {
		t.Errorf("https: %s %q %q", resp.Proto, body, resp.Header.Get("X-Cache"))
	}
	if hits != 1 {
		t.Errorf("origin hits %d, want 1", hits)
	}

	_, health := get(t, c, "http://"+e.addrs["admin"]+"/healthz")
	if health != "ok\n" {
		t.Errorf("/healthz %q", health)
	}
	_, metrics := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	for _, want := range []string{
		`edgefront_requests_total{distribution="EQUICKSTART",result="Hit"} 2`,
		`edgefront_requests_total{distribution="EQUICKSTART",result="Miss"} 1`,
		`edgefront_origin_fetches_total{code="200",origin=`,
		`edgefront_cache_items 1`,
		`edgefront_origin_latency_seconds_count`,
		`edgefront_cache_hit_rate{window="1m"} 66.6`,
		`edgefront_cache_evictions_total{reason="size"} 0`,
		`edgefront_cache_evictions_total{reason="expired"} 0`,
		`edgefront_invalidation_bans_active 0`,
		`edgefront_bytes_downloaded_total`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestServeDemo: with no flags the embedded demo serves at once: the site
// from the in-process S3 bucket (Miss then Hit) and the API origin.
func TestServeDemo(t *testing.T) {
	e := testEdge(t, serveFlags{})
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	base := "http://" + e.addrs["http"]
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		resp, body := get(t, c, base+"/")
		if resp.StatusCode != 200 || !strings.Contains(body, "edgefront") || resp.Header.Get("X-Cache") != want {
			t.Errorf("GET / #%d: %d %q", i, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	for i := 0; i < 2; i++ {
		resp, body := get(t, c, base+"/api/time")
		if resp.StatusCode != 200 || !strings.Contains(body, "epochMillis") || resp.Header.Get("X-Cache") != "Miss from cloudfront" {
			t.Errorf("GET /api/time #%d: %d %q %q", i, resp.StatusCode, resp.Header.Get("X-Cache"), body)
		}
	}
	resp, body := get(t, c, base+"/missing")
	if resp.StatusCode != 404 || !strings.Contains(body, "<html") || resp.Header.Get("X-Cache") != "Error from cloudfront" {
		t.Errorf("GET /missing: %d %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	// The demo's CloudFront Function: directory indexes, and redirects
	// from its key value store.
	noRedirects := &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path, xcache, location, body string
		status                       int
	}{
		{"/about/", "Miss from cloudfront", "", "About edgefront", 200},
		{"/about", "Hit from cloudfront", "", "About edgefront", 200}, // the same object: /about/index.html
		{"/go/about", "FunctionGeneratedResponse from cloudfront", "/about/", "", 302},
		{"/go/nothing", "FunctionGeneratedResponse from cloudfront", "", `no redirect named "nothing"`, 404},
	} {
		resp, body := get(t, noRedirects, base+tc.path)
		if resp.StatusCode != tc.status || resp.Header.Get("X-Cache") != tc.xcache || resp.Header.Get("Location") != tc.location ||
			!strings.Contains(body, tc.body) {
			t.Errorf("GET %s: %d %q Location %q %q", tc.path, resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("Location"), body)
		}
	}
	var out bytes.Buffer
	e.printWelcome(&out)
	if !strings.Contains(out.String(), "curl -i "+base+"/") {
		t.Errorf("welcome text lacks the URLs to try:\n%s", out.String())
	}
}

// TestReload: a reload with a good file takes effect; a broken file is
// refused and the running configuration keeps serving.
func TestReload(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "origin")
	}))
	defer o.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "edgefront.yaml")
	write := func(policy string) {
		cfg := `
distributions:
  - id: ERELOAD000001
    originEndpoints: {web: "` + o.URL + `"}
    config:
      CallerReference: reload
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: ` + policy + `, CachePolicyId: CachingDisabled}
`
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("allow-all")
	e := testEdge(t, serveFlags{config: file})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	url := "http://" + e.addrs["http"] + "/x"
	if resp, _ := get(t, c, url); resp.StatusCode != 200 {
		t.Fatalf("before reload: %d", resp.StatusCode)
	}
	write("https-only")
	e.reload()
	if resp, _ := get(t, c, url); resp.StatusCode != 403 {
		t.Errorf("after reload to https-only: %d, want 403", resp.StatusCode)
	}
	if err := os.WriteFile(file, []byte("distributions: [{config: {Origins: 7}}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.reload()
	time.Sleep(10 * time.Millisecond)
	if resp, _ := get(t, c, url); resp.StatusCode != 403 {
		t.Errorf("after a refused reload: %d, want the previous configuration's 403", resp.StatusCode)
	}
}

// TestServeHTTP3: with --http3, https responses of a distribution whose
// HttpVersion is http2and3 advertise HTTP/3 with Alt-Svc, and the same port
// answers over QUIC.
func TestServeHTTP3(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "over quic")
	}))
	defer o.Close()
	file := filepath.Join(t.TempDir(), "h3.yaml")
	cfg := `
distributions:
  - id: EHTTP3000001
    originEndpoints: {web: "` + o.URL + `"}
    config:
      CallerReference: h3
      Enabled: true
      HttpVersion: http2and3
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file, http3: true})
	if e.addrs["http3"] == "" {
		t.Fatal("no HTTP/3 listener")
	}
	tc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	resp, body := get(t, tc, "https://"+e.addrs["https"]+"/")
	_, port, _ := net.SplitHostPort(e.addrs["https"])
	if body != "over quic" || resp.Header.Get("Alt-Svc") != `h3=":`+port+`"; ma=86400` {
		t.Errorf("https: %q Alt-Svc %q", body, resp.Header.Get("Alt-Svc"))
	}
	h3 := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer h3.Close()
	resp, body = get(t, &http.Client{Transport: h3}, "https://"+e.addrs["http3"]+"/")
	if resp.Proto != "HTTP/3.0" || body != "over quic" || resp.Header.Get("X-Cache") != "Hit from cloudfront" {
		t.Errorf("http3: %s %q %q", resp.Proto, body, resp.Header.Get("X-Cache"))
	}
}

// TestReloadUnderLoad: a client loop keeps requesting while the configuration
// is reloaded 20 times (alternating TTLs and a broken file in between); no
// request fails, and requests under way when a reload happens finish.
func TestReloadUnderLoad(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(30 * time.Millisecond)
		}
		io.WriteString(w, "ok")
	}))
	defer o.Close()
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	write := func(policy string) {
		cfg := `
distributions:
  - id: ERELOAD000002
    originEndpoints: {web: "` + o.URL + `"}
    config:
      CallerReference: reload
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: ` + policy + `}
`
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("CachingOptimized")
	e := testEdge(t, serveFlags{config: file})
	base := "http://" + e.addrs["http"]

	stop := make(chan struct{})
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/obj%d", i%50)
				if i%10 == 0 {
					path = "/slow"
				}
				resp, err := c.Get(base + path)
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != "ok" {
					failed.Add(1)
				}
			}
		}(w)
	}
	for i := 0; i < 20; i++ {
		time.Sleep(20 * time.Millisecond)
		if i%5 == 4 {
			if err := os.WriteFile(file, []byte("distributions: [{config: {Origins: 7}}]"), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			write([]string{"CachingOptimized", "CachingDisabled"}[i%2])
		}
		e.reload()
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() < 100 {
		t.Errorf("%d of %d requests failed during 20 reloads", failed.Load(), sent.Load())
	}
}

// TestConfigFileWatched: editing the --config file reloads it without a
// signal.
func TestConfigFileWatched(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer o.Close()
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	write := func(policy string) {
		cfg := `
listen: {http: 127.0.0.1:0, https: "", admin: ""}
distributions:
  - id: EWATCH0000001
    originEndpoints: {web: "` + o.URL + `"}
    config:
      CallerReference: watch
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: ` + policy + `, CachePolicyId: CachingDisabled}
`
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("allow-all")
	status, deadline := watchedServe(t, file)
	time.Sleep(20 * time.Millisecond) // a new modification time
	write("https-only")
	for time.Now().Before(deadline) && status() != 403 {
		time.Sleep(20 * time.Millisecond)
	}
	if s := status(); s != 403 {
		t.Errorf("after editing the file to https-only: %d, want 403", s)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAccessLog: with --access-log, every viewer request is written in
// CloudFront's standard format — the header lines, then 33 tab-separated
// fields in CloudFront's order — and the dropped-lines counter is exported.
func TestServeAccessLog(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "logged")
	}))
	defer o.Close()
	file := filepath.Join(t.TempDir(), "access.log")
	e := testEdge(t, serveFlags{origin: o.URL, accessLog: file, accessFormat: "standard", accessMaxSize: "10MiB", accessKeep: 2})
	c := &http.Client{}
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", "http://"+e.addrs["http"]+"/a/b.txt?x=1", nil)
		req.Header.Set("User-Agent", "test agent/1.0")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	_, metrics := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	if !strings.Contains(metrics, "edgefront_access_log_dropped_total 0") {
		t.Error("/metrics lacks edgefront_access_log_dropped_total")
	}
	e.close() // flushes the log
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 || lines[0] != "#Version: 1.0" || !strings.HasPrefix(lines[1], "#Fields: date time x-edge-location sc-bytes c-ip") {
		t.Fatalf("log:\n%s", data)
	}
	fields := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
	for i, want := range []string{"Miss", "Hit"} {
		vals := strings.Split(lines[2+i], "\t")
		if len(vals) != len(fields) || len(vals) != 33 {
			t.Fatalf("line %d has %d fields, header %d", i, len(vals), len(fields))
		}
		got := map[string]string{}
		for j, f := range fields {
			got[f] = vals[j]
		}
		checks := map[string]string{
			"cs-method": "GET", "cs-uri-stem": "/a/b.txt", "cs-uri-query": "x=1", "sc-status": "200",
			"x-edge-result-type": want, "x-edge-response-result-type": want, "cs-protocol": "http",
			"cs-protocol-version": "HTTP/1.1", "c-ip": "127.0.0.1", "x-edge-location": "LOCAL1-C1",
			"cs(User-Agent)": "test%20agent/1.0", "sc-content-type": "text/plain", "sc-content-len": "6",
		}
		for k, v := range checks {
			if got[k] != v {
				t.Errorf("line %d %s = %q, want %q", i, k, got[k], v)
			}
		}
		if len(got["x-edge-request-id"]) != 56 || got["cs(Host)"] == "" {
			t.Errorf("line %d: request id %q, host %q", i, got["x-edge-request-id"], got["cs(Host)"])
		}
	}
}

// watchedServe runs serve on the settings file, polling it for changes
// every 20 ms, until the test ends; it returns the http listener's base
// URL, a status getter for /x, and the deadline the test waits up to.
func watchedServe(t *testing.T, file string) (status func() int, deadline time.Time) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		done <- runServe(ctx, serveFlags{config: file, set: map[string]bool{}}, log, &out, io.Discard, 20*time.Millisecond)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var base string
	deadline = time.Now().Add(5 * time.Second)
	for base == "" && time.Now().Before(deadline) {
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "http" {
				base = f[1]
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("no http listener in:\n%s", out.String())
	}
	status = func() int {
		resp, err := http.Get(base + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(); s != 200 {
		t.Fatalf("before the edit: %d", s)
	}
	return status, deadline
}

// TestVersion: 'edgefront version' prints the version and the VCS revision
// Go recorded, else what -ldflags set, never "dev".
func TestVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	cases := []struct {
		name             string
		bi               *debug.BuildInfo
		ldVersion, ldRev string
		want             string
	}{
		{"go install of a release", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "", "", "v1.4.0"},
		{"a build in a git checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("8602a22abc", "false")}, "", "", "(devel) 8602a22abc"},
		{"uncommitted changes", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.1-0.20261127-8602a22abc+dirty"}, Settings: vcs("8602a22abc", "true")}, "", "",
			"v1.4.1-0.20261127-8602a22abc+dirty 8602a22abc+dirty"},
		{"the Dockerfile's -ldflags", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v1.4.0", "8602a22abc", "v1.4.0 8602a22abc"},
		{"no build information", nil, "", "", "(devel)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := versionOf(c.bi, c.ldVersion, c.ldRev); got != c.want {
				t.Errorf("versionOf = %q, want %q", got, c.want)
			}
		})
	}
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "edgefront ") || strings.Contains(out.String(), "dev\n") {
		t.Errorf("edgefront version: exit %d, %q", code, out.String())
	}
}
