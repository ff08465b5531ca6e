package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pathOrigin records the paths it was asked for; /missing is a 404.
type pathOrigin struct {
	mu    sync.Mutex
	paths []string
}

func (o *pathOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.paths = append(o.paths, r.URL.RequestURI())
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=600")
	if strings.HasPrefix(r.URL.Path, "/missing") {
		w.WriteHeader(http.StatusNotFound)
	}
	io.WriteString(w, "origin "+r.URL.RequestURI())
}

func (o *pathOrigin) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.paths
	o.paths = nil
	return p
}

// functionsSettings is a distribution whose behaviours run the functions
// of edge/testdata.
func functionsSettings(t *testing.T, originURL string) string {
	t.Helper()
	js, err := filepath.Abs("../../edge/testdata")
	if err != nil {
		t.Fatal(err)
	}
	arn := func(name string) string { return `"arn:aws:cloudfront::123456789012:function/` + name + `"` }
	behavior := func(pattern, cache string, assoc ...string) string {
		s := `        - {PathPattern: "` + pattern + `", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: ` + cache
		if len(assoc) > 0 {
			s += `, FunctionAssociations: {Items: [` + strings.Join(assoc, ", ") + `]}`
		}
		return s + "}\n"
	}
	vreq := func(name string) string { return `{EventType: viewer-request, FunctionARN: ` + arn(name) + `}` }
	vresp := func(name string) string { return `{EventType: viewer-response, FunctionARN: ` + arn(name) + `}` }
	return `
keyValueStores:
  - {name: themes, file: "` + js + `/themes.json"}
functions:
  - {name: index-html, runtime: cloudfront-js-1.0, codeFile: "` + js + `/index-html.js"}
  - {name: moved, codeFile: "` + js + `/moved.js"}
  - {name: theme, runtime: cloudfront-js-2.0, codeFile: "` + js + `/theme.js", keyValueStores: [themes]}
  - {name: secure-headers, codeFile: "` + js + `/secure-headers.js"}
  - {name: throws, codeFile: "` + js + `/throws.js"}
  - {name: spin, codeFile: "` + js + `/spin.js"}
  - {name: via, codeFile: "` + js + `/via.js"}
distributions:
  - id: EFUNCTIONS0001
    originEndpoints: {web: "` + originURL + `"}
    config:
      CallerReference: functions
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
        FunctionAssociations: {Items: [` + vresp("secure-headers") + `]}
      CacheBehaviors:
        Items:
` + behavior("/docs/*", "CachingOptimized", vreq("index-html"), vresp("secure-headers")) +
		behavior("/old/*", "CachingDisabled", vreq("moved")) +
		behavior("/themes/*", "CachingDisabled", vreq("theme")) +
		behavior("/throws/*", "CachingDisabled", vreq("throws")) +
		behavior("/spin/*", "CachingDisabled", vreq("spin")) +
		behavior("/via/*", "CachingDisabled", vreq("via")) +
		behavior("/plain/*", "CachingDisabled")
}

// TestFunctionsServe: CloudFront Functions from the settings run on the
// request path through real sockets, with CloudFront's rules (CloudFront
// Developer Guide: "CloudFront Functions event structure", "Restrictions on
// all edge functions"): a viewer-request rewrite changes what is fetched
// and cached; a generated redirect never reaches the origin; a 2.0
// function reads its key value store; a viewer-response function adds
// headers on hits and misses but does not run for an origin's 404; a
// thrown exception and a run over the compute budget are 503, and the
// next request still works; a changed read-only header is 502.
func TestFunctionsServe(t *testing.T) {
	var o pathOrigin
	srv := httptest.NewServer(&o)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	if err := os.WriteFile(file, []byte(functionsSettings(t, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + e.addrs["http"]

	// The rewrite: the origin sees /docs/index.html; the second request is a hit.
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		resp, body := get(t, c, base+"/docs/")
		if resp.StatusCode != 200 || body != "origin /docs/index.html" || resp.Header.Get("X-Cache") != want {
			t.Errorf("/docs/ #%d: %d %q %q, want 200 %q", i, resp.StatusCode, body, resp.Header.Get("X-Cache"), want)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
			t.Errorf("/docs/ #%d: the viewer-response function's header is %q", i, got)
		}
	}
	if got := o.take(); len(got) != 1 || got[0] != "/docs/index.html" {
		t.Errorf("the origin was asked for %q, want [/docs/index.html]", got)
	}

	// The redirect, made at the edge.
	resp, _ := get(t, c, base+"/old/a/b?x=1")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/new/a/b?x=1" ||
		resp.Header.Get("X-Cache") != "FunctionGeneratedResponse from cloudfront" || resp.Header.Get("Server") != "CloudFront" {
		t.Errorf("/old/: %d Location %q X-Cache %q Server %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Cache"), resp.Header.Get("Server"))
	}

	// A 2.0 function reads the key value store.
	for path, want := range map[string]string{"/themes/blog/x": "dark", "/themes/shop/": "bright", "/themes/other": "plain"} {
		resp, body := get(t, c, base+path)
		if resp.StatusCode != 200 || resp.Header.Get("X-Theme") != want || body != "theme "+want {
			t.Errorf("%s: %d X-Theme %q %q, want %q", path, resp.StatusCode, resp.Header.Get("X-Theme"), body, want)
		}
	}
	if got := o.take(); len(got) != 0 {
		t.Errorf("generated answers reached the origin: %q", got)
	}

	// viewer-response: on a miss and a hit of the default behaviour, not on a 404.
	for i := range 2 {
		resp, _ := get(t, c, base+"/page")
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("/page #%d: no security header: %v", i, resp.Header)
		}
	}
	if resp, _ := get(t, c, base+"/missing"); resp.StatusCode != 404 || resp.Header.Get("X-Content-Type-Options") != "" {
		t.Errorf("/missing: %d, security header %q (CloudFront does not run viewer-response for >= 400)", resp.StatusCode, resp.Header.Get("X-Content-Type-Options"))
	}

	// Failures: CloudFront's statuses; a failed run leaves the next one working.
	if resp, body := get(t, c, base+"/throws/x"); resp.StatusCode != 503 || !strings.Contains(body, "CloudFront function") ||
		resp.Header.Get("X-Cache") != "FunctionExecutionError from cloudfront" {
		t.Errorf("/throws/: %d %q %q, want 503 FunctionExecutionError", resp.StatusCode, resp.Header.Get("X-Cache"), body)
	}
	for i := range 2 {
		start := time.Now()
		resp, _ := get(t, c, base+"/spin/x")
		if resp.StatusCode != 503 {
			t.Errorf("/spin/ #%d: %d, want 503", i, resp.StatusCode)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("/spin/ #%d took %v", i, d)
		}
	}
	if resp, _ := get(t, c, base+"/docs/guide"); resp.StatusCode != 200 {
		t.Errorf("after the failures: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, base+"/via/x"); resp.StatusCode != 502 || resp.Header.Get("X-Cache") != "FunctionValidationError from cloudfront" {
		t.Errorf("/via/: %d %q, want 502 FunctionValidationError (a read-only header changed)", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	if resp, body := get(t, c, base+"/plain/x"); resp.StatusCode != 200 || body != "origin /plain/x" {
		t.Errorf("/plain/ (no function): %d %q", resp.StatusCode, body)
	}

	// The function metrics, by function.
	_, metrics := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	for _, want := range []string{
		`edgefront_function_invocations_total{function="index-html"} 3`,
		`edgefront_function_execution_errors_total{function="spin"} 2`,
		`edgefront_function_execution_errors_total{function="throws"} 1`,
		`edgefront_function_validation_errors_total{function="via"} 1`,
		`edgefront_function_compute_utilization_count{function="moved"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestFunctionsReload: a reload that changes a function's code runs the
// new code on the next request; a reload whose function does not compile
// is refused and the running function keeps serving.
func TestFunctionsReload(t *testing.T) {
	var o pathOrigin
	srv := httptest.NewServer(&o)
	defer srv.Close()
	dir := t.TempDir()
	file, code := filepath.Join(dir, "edgefront.yaml"), filepath.Join(dir, "answer.js")
	settings := `
functions:
  - {name: answer, codeFile: answer.js}
distributions:
  - id: EFUNCRELOAD01
    originEndpoints: {web: "` + srv.URL + `"}
    config:
      CallerReference: functions-reload
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
        FunctionAssociations: {Items: [{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::123456789012:function/answer"}]}
`
	writeCode := func(body string) {
		js := "function handler(event) { return {statusCode: 200, body: '" + body + "'}; }\n"
		if body == "" {
			js = "function handler(event) { return {statusCode: 200 }\n" // a syntax error
		}
		if err := os.WriteFile(code, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	writeCode("first")
	e := testEdge(t, serveFlags{config: file})
	url := "http://" + e.addrs["http"] + "/x"
	if _, body := get(t, http.DefaultClient, url); body != "first" {
		t.Fatalf("before reload: %q", body)
	}
	writeCode("second")
	e.reload()
	if _, body := get(t, http.DefaultClient, url); body != "second" {
		t.Errorf("after reload: %q, want second", body)
	}
	writeCode("")
	e.reload()
	if _, body := get(t, http.DefaultClient, url); body != "second" {
		t.Errorf("after a refused reload: %q, want the running function's second", body)
	}
}

// TestFunctionsAddedByReload: an edge started without any function runs
// the functions a reloaded configuration brings (and stops when a reload
// drops them) — no restart needed.
func TestFunctionsAddedByReload(t *testing.T) {
	var o pathOrigin
	srv := httptest.NewServer(&o)
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "edgefront.yaml")
	if err := os.WriteFile(filepath.Join(dir, "answer.js"), []byte("function handler(event) { return {statusCode: 200, body: 'from the function'}; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := func(functions, association string) string {
		return functions + `
distributions:
  - id: EFUNCRELOAD02
    originEndpoints: {web: "` + srv.URL + `"}
    config:
      CallerReference: functions-added
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
` + association
	}
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(settings("", ""))
	e := testEdge(t, serveFlags{config: file})
	url := "http://" + e.addrs["http"] + "/x"
	_, before := get(t, http.DefaultClient, url)
	if before == "from the function" {
		t.Fatal("a function ran before any was configured")
	}
	write(settings("functions:\n  - {name: answer, codeFile: answer.js}",
		`        FunctionAssociations: {Items: [{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::123456789012:function/answer"}]}
`))
	e.reload()
	if _, body := get(t, http.DefaultClient, url); body != "from the function" {
		t.Errorf("after a reload that adds a function: %q", body)
	}
	write(settings("", ""))
	e.reload()
	if _, body := get(t, http.DefaultClient, url); body != before {
		t.Errorf("after a reload that drops it: %q, want %q", body, before)
	}
}
