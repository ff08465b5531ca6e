package lambdaedge_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOriginEvents: origin-request and origin-response functions
// ("CloudFront events that can trigger a Lambda@Edge function"; "Lambda@Edge
// event structure", dynamic origin selection): a changed origin is really
// fetched from (a domain name of the distribution's reaches that origin's
// endpoints); an origin-request answer is cached like the origin's (the
// function runs once); an origin-response function runs before caching,
// for an origin's 404 too, and may replace the answer; a viewer-response
// function runs on hits and misses, cannot change the status, and does not
// run for an answer of 400 or more.
func TestOriginEvents(t *testing.T) {
	web, api := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, settings, web, api)

	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		r := e.do("GET", "/or/move", "")
		if r.status != 200 || r.body != "api /or/move" || r.xcache() != want {
			t.Errorf("/or/move #%d: %d %q %q, want the api origin's answer (%s)", i, r.status, r.body, r.xcache(), want)
		}
	}
	if web.count("/or/move") != 0 || api.count("/or/move") != 1 {
		t.Errorf("/or/move: web %d, api %d requests; want 0 and 1", web.count("/or/move"), api.count("/or/move"))
	}
	if req, _ := api.request("/or/move"); req == nil || req.Host != "api.example.com" {
		t.Errorf("the moved request's Host: %v", req)
	}

	before := e.invocations(arnCJS)
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		r := e.do("GET", "/or/generate", "")
		if r.status != 200 || r.body != "generated at origin-request" || r.xcache() != want {
			t.Errorf("/or/generate #%d: %d %q %q (%s)", i, r.status, r.body, r.xcache(), want)
		}
	}
	// The origin-request function ran once; the viewer-response function
	// (default behaviour only) did not run for /or/*.
	if n := e.invocations(arnCJS) - before; n != 1 {
		t.Errorf("the origin-request function ran %d times for a miss and a hit, want 1", n)
	}
	if web.count("/or/generate") != 0 {
		t.Errorf("the generated answer reached the origin")
	}

	r := e.do("GET", "/or/plain", "")
	if req, _ := web.request("/or/plain"); r.status != 200 || req == nil || req.Header.Get("X-Origin-Request") != "yes" {
		t.Errorf("/or/plain: %d, the origin saw %v", r.status, req)
	}

	var cf struct {
		Request struct {
			Origin map[string]map[string]any `json:"origin"`
		} `json:"request"`
	}
	r = e.do("GET", "/or/event", "")
	if err := json.Unmarshal([]byte(r.body), &cf); err != nil {
		t.Fatalf("/or/event: %q: %v", r.body, err)
	}
	if c := cf.Request.Origin["custom"]; c == nil || c["domainName"] != "web.example.com" || c["protocol"] != "http" || c["port"] != 80.0 ||
		c["readTimeout"] != 30.0 || c["keepaliveTimeout"] != 5.0 || c["path"] != "" {
		t.Errorf("request.origin %v", cf.Request.Origin)
	}

	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		r := e.do("GET", "/missing", "")
		if r.status != 200 || r.body != "the 404 replaced" || r.xcache() != want {
			t.Errorf("/missing #%d: %d %q %q, want the origin-response function's answer (%s)", i, r.status, r.body, r.xcache(), want)
		}
	}
	if web.count("/missing") != 1 {
		t.Errorf("/missing reached the origin %d times", web.count("/missing"))
	}

	for i := range 2 {
		r := e.do("GET", "/page", "")
		if r.status != 200 || r.header.Get("X-Viewer-Response") != "yes" {
			t.Errorf("/page #%d: %d X-Viewer-Response %q, want 200 (the status unchanged) and the header", i, r.status, r.header.Get("X-Viewer-Response"))
		}
	}
	// An origin's 404 on a behaviour with only a viewer-response
	// function: the function does not run.
	before = e.invocations(arnCJS)
	if r := e.do("GET", "/gone-missing", ""); r.status != 404 || r.header.Get("X-Viewer-Response") != "" {
		t.Errorf("/gone-missing: %d X-Viewer-Response %q, want 404 without the function's header", r.status, r.header.Get("X-Viewer-Response"))
	}
	if n := e.invocations(arnCJS) - before; n != 0 {
		t.Errorf("the viewer-response function ran %d times for a 404", n)
	}
}

// TestRunners: handlers in each style the runners load ("Lambda@Edge
// function" programming model): Node.js CommonJS (above), an ES module,
// a callback-style handler, Python; a handler's error is 503.
func TestRunners(t *testing.T) {
	web, api := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, settings, web, api)
	tests := []struct {
		path   string
		status int
		body   string
		header [2]string
	}{
		{"/esm/a", 200, "esm saw /esm/a", [2]string{"X-Module", "esm"}},
		{"/cb/a", 200, "callback saw /cb/a as callback", [2]string{}},
		{"/cb/fail", 503, "", [2]string{"X-Cache", "LambdaExecutionError from cloudfront"}},
		{"/py/a", 200, `{"uri": "/py/a", "function": "python"}`, [2]string{"X-Runtime", "python"}},
		{"/py/raise", 503, "", [2]string{"X-Cache", "LambdaExecutionError from cloudfront"}},
	}
	for _, tt := range tests {
		r := e.do("GET", tt.path, "")
		if r.status != tt.status || !strings.Contains(r.body, tt.body) || (tt.header[0] != "" && r.header.Get(tt.header[0]) != tt.header[1]) {
			t.Errorf("%s: %d %q %v, want %d %q %v", tt.path, r.status, r.body, r.header, tt.status, tt.body, tt.header)
		}
	}
}

// TestIncludeBody: with IncludeBody a viewer-request function sees a POST's
// body, base64-encoded, truncated at 40 KB (inputTruncated), and may
// replace it ("Lambda@Edge event structure", body).
func TestIncludeBody(t *testing.T) {
	web, api := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, settings, web, api)
	for _, size := range []int{11, 50 << 10} {
		sent := strings.Repeat("b", size)
		r := e.do("POST", "/vr/body", sent)
		var body struct {
			InputTruncated bool   `json:"inputTruncated"`
			Action         string `json:"action"`
			Encoding       string `json:"encoding"`
			Length         int    `json:"length"`
			Head           string `json:"head"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("%d: %q: %v", r.status, r.body, err)
		}
		if body.Length != min(size, 40<<10) || body.Head != sent[:8] || body.InputTruncated != (size > 40<<10) || body.Encoding != "base64" || body.Action != "read-only" {
			t.Errorf("a %d-byte body: the function saw %d bytes, truncated %v, %q %q", size, body.Length, body.InputTruncated, body.Encoding, body.Action)
		}
	}
	r := e.do("POST", "/vr/replace-body", "the viewer's body")
	if _, got := web.request("/vr/replace-body"); r.status != 200 || got != "replaced body" {
		t.Errorf("/vr/replace-body: %d, the origin got %q", r.status, got)
	}
	r = e.do("POST", "/vr/other", "kept whole")
	if _, got := web.request("/vr/other"); r.status != 200 || got != "kept whole" {
		t.Errorf("/vr/other: %d, the origin got %q, want the body the function read, whole", r.status, got)
	}
}

// TestHungHandler: a handler that does not answer within its timeout is
// 503 LambdaLimitExceeded ("HTTP 503 status code (Lambda limit exceeded)":
// the function exceeded the Lambda function timeout quota); its worker is
// killed and the next request is served by a fresh one.
func TestHungHandler(t *testing.T) {
	web, api := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, settings, web, api)
	r := e.do("GET", "/hang/ok", "")
	first := r.body
	if r.status != 200 || !strings.HasPrefix(first, "answered by ") {
		t.Fatalf("/hang/ok: %d %q", r.status, r.body)
	}
	r = e.do("GET", "/hang/forever", "")
	if r.status != 503 || r.xcache() != "LambdaLimitExceeded from cloudfront" {
		t.Errorf("/hang/forever: %d %q, want 503 LambdaLimitExceeded", r.status, r.xcache())
	}
	r = e.do("GET", "/hang/ok", "")
	if r.status != 200 || r.body == first {
		t.Errorf("after the timeout: %d %q (before: %q), want an answer from a fresh worker", r.status, r.body, first)
	}
}
