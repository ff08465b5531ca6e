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
)

// countingOrigin counts what it was asked, by path, and answers with its
// name; when failing, a path under /fail/ is a 503.
type countingOrigin struct {
	name    string
	failing bool
	mu      sync.Mutex
	hits    map[string]int
	hdr     map[string]string // the X-Routed-By header each path came with
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	if o.hits == nil {
		o.hits, o.hdr = map[string]int{}, map[string]string{}
	}
	o.hits[r.URL.Path]++
	o.hdr[r.URL.Path] = r.Header.Get("X-Routed-By")
	o.mu.Unlock()
	if o.failing && strings.Contains(r.URL.Path, "/fail/") {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, o.name)
}

func (o *countingOrigin) count(path string) (int, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path], o.hdr[path]
}

// TestFunctionsChooseOrigin: a cloudfront-js-2.0 viewer-request function
// chooses the origin of a request (CloudFront Developer Guide, "Helper
// methods for origin modification"), end to end over real sockets with two
// loopback origins: updateRequestOrigin to the other origin's domain (its
// endpoints, the new origin path and custom header), selectRequestOriginById,
// createRequestOriginGroup failing over on a 503; an unknown origin ID is a
// 502 FunctionValidationError. A viewer-response function changes the
// status (410); a function that asks for 100 MB is a 503
// FunctionExecutionError and the edge keeps serving.
func TestFunctionsChooseOrigin(t *testing.T) {
	blue, green := &countingOrigin{name: "blue", failing: true}, &countingOrigin{name: "green"}
	blueSrv, greenSrv := httptest.NewServer(blue), httptest.NewServer(green)
	defer blueSrv.Close()
	defer greenSrv.Close()
	js, err := filepath.Abs("testdata/functions")
	if err != nil {
		t.Fatal(err)
	}
	arn := func(name string) string { return `"arn:aws:cloudfront::123456789012:function/` + name + `"` }
	settings := `
functions:
  - {name: route, runtime: cloudfront-js-2.0, codeFile: "` + js + `/route.js"}
  - {name: status, runtime: cloudfront-js-2.0, codeFile: "` + js + `/status.js"}
  - {name: hog, runtime: cloudfront-js-1.0, codeFile: "` + js + `/hog.js"}
distributions:
  - id: EFUNCORIGIN01
    originEndpoints: {blue: "` + blueSrv.URL + `", green: "` + greenSrv.URL + `"}
    config:
      CallerReference: functions-origin
      Enabled: true
      Origins:
        Items:
          - {Id: blue, DomainName: blue.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: green, DomainName: green.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      DefaultCacheBehavior:
        TargetOriginId: blue
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
        FunctionAssociations: {Items: [{EventType: viewer-request, FunctionARN: ` + arn("route") + `}, {EventType: viewer-response, FunctionARN: ` + arn("status") + `}]}
      CacheBehaviors:
        Items:
          - {PathPattern: "/hog/*", TargetOriginId: blue, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled,
             FunctionAssociations: {Items: [{EventType: viewer-request, FunctionARN: ` + arn("hog") + `}]}}
`
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	if err := os.WriteFile(file, []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	base := "http://" + e.addrs["http"]
	c := http.DefaultClient

	tests := []struct {
		path, wantBody                    string
		wantStatus                        int
		blueHits, greenHits               int
		greenPath, wantHeader, wantXCache string
	}{
		{"/plain/a", "blue", 200, 1, 0, "", "", ""},
		{"/by-domain/a", "green", 200, 0, 1, "/moved/by-domain/a", "function", ""},
		{"/by-id/a", "green", 200, 0, 1, "/by-id/a", "", ""},
		{"/group/a", "blue", 200, 1, 0, "", "", ""},
		{"/group/fail/a", "green", 200, 1, 1, "/group/fail/a", "", ""},
		{"/bad-id/a", "", 502, 0, 0, "", "", "FunctionValidationError from cloudfront"},
		{"/gone/a", "blue", 410, 1, 0, "", "", ""},
	}
	for _, tt := range tests {
		resp, body := get(t, c, base+tt.path)
		if resp.StatusCode != tt.wantStatus || (tt.wantBody != "" && body != tt.wantBody) {
			t.Errorf("%s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
		if tt.wantXCache != "" && resp.Header.Get("X-Cache") != tt.wantXCache {
			t.Errorf("%s: X-Cache %q, want %q", tt.path, resp.Header.Get("X-Cache"), tt.wantXCache)
		}
		greenPath := tt.path
		if tt.greenPath != "" {
			greenPath = tt.greenPath
		}
		bh, _ := blue.count(tt.path)
		gh, hdr := green.count(greenPath)
		if bh != tt.blueHits || gh != tt.greenHits {
			t.Errorf("%s: blue asked %d times, green %d (for %s), want %d and %d", tt.path, bh, gh, greenPath, tt.blueHits, tt.greenHits)
		}
		if hdr != tt.wantHeader {
			t.Errorf("%s: green got X-Routed-By %q, want %q", tt.path, hdr, tt.wantHeader)
		}
	}
	if resp, _ := get(t, c, base+"/gone/b"); resp.Header.Get("X-Status-By") != "function" {
		t.Errorf("/gone/b: the viewer-response function's header is %q", resp.Header.Get("X-Status-By"))
	}

	for i := range 2 {
		resp, body := get(t, c, base+"/hog/x")
		if resp.StatusCode != 503 || resp.Header.Get("X-Cache") != "FunctionExecutionError from cloudfront" || !strings.Contains(body, "CloudFront function") {
			t.Errorf("/hog/ #%d: %d %q, want 503 FunctionExecutionError", i, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	if n, _ := blue.count("/hog/x"); n != 0 {
		t.Errorf("the failed runs reached the origin %d times", n)
	}
	if resp, body := get(t, c, base+"/plain/after"); resp.StatusCode != 200 || body != "blue" {
		t.Errorf("after the failures: %d %q", resp.StatusCode, body)
	}
}
