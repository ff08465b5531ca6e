package edge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// fixture reads a function from testdata.
func fixture(t testing.TB, file, runtime string, kvs ...*config.KeyValueStore) *config.Function {
	t.Helper()
	code, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return inline(t, strings.TrimSuffix(file, ".js"), runtime, string(code), kvs...)
}

func inline(t testing.TB, name, runtime, code string, kvs ...*config.KeyValueStore) *config.Function {
	t.Helper()
	fn, err := config.NewFunction(name, runtime, code, kvs...)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// runtimeFor starts a Runtime for fns, logging to log (if not nil).
func runtimeFor(t testing.TB, log *slog.Logger, fns ...*config.Function) *Runtime {
	t.Helper()
	cfg := &config.Config{Functions: map[string]*config.Function{}}
	for _, fn := range fns {
		cfg.Functions[fn.ARN] = fn
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// A generous budget: -race slows goja down many times; TestBudget
	// proves the interruption with any budget.
	rt, err := New(cfg, Options{Logger: log, Budget: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// generatedBy runs fn on r and returns the response it generated, if any.
func generatedBy(rt *Runtime, fn *config.Function, r *http.Request) (*Response, error) {
	out, err := rt.ViewerRequest(context.Background(), fn, testInfo, r)
	if err != nil {
		return nil, err
	}
	return out.Response, nil
}

var testInfo = Info{DistributionDomainName: "d111111abcdef8.cloudfront.net", DistributionID: "EDFDVBD6EXAMPLE", RequestID: "req-1", ViewerIP: "198.51.100.7"}

// lookup returns the value at a dotted path of a JSON document, as JSON.
func lookup(t *testing.T, doc any, path string) string {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return "<none>"
		}
		if doc, ok = m[k]; !ok {
			return "<none>"
		}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// TestViewerRequestEvent: the event a viewer-request function gets
// (CloudFront Developer Guide, "CloudFront Functions event structure"):
// version 1.0, the context, the viewer's IP, the request with lower-case
// header names (Host among them), values as {value} and repeated ones as
// multiValue, cookies only under cookies, disallowed headers not exposed.
func TestViewerRequestEvent(t *testing.T) {
	rt := runtimeFor(t, nil, fixture(t, "echo-event.js", config.FunctionRuntime1))
	fn := rt.byARN[config.FunctionARN("echo-event")].cfg
	tests := []struct {
		name   string
		target string
		header map[string][]string
		want   map[string]string // path → JSON
	}{
		{"the envelope", "/a/b.html", nil, map[string]string{
			"version":                        `"1.0"`,
			"context.distributionDomainName": `"d111111abcdef8.cloudfront.net"`,
			"context.distributionId":         `"EDFDVBD6EXAMPLE"`,
			"context.eventType":              `"viewer-request"`,
			"context.requestId":              `"req-1"`,
			"viewer.ip":                      `"198.51.100.7"`,
			"request.method":                 `"GET"`,
			"request.uri":                    `"/a/b.html"`,
			"request.querystring":            `{}`,
			"request.cookies":                `{}`,
			"request.headers.host":           `{"value":"example.com"}`,
			"response":                       `<none>`,
		}},
		{"the uri as sent, percent-encoded", "/a%20b/%E2%82%AC", nil, map[string]string{
			"request.uri": `"/a%20b/%E2%82%AC"`,
		}},
		{"query string values as sent, repeats as multiValue", "/q?a=1&b=x%20y&a=2&flag", nil, map[string]string{
			"request.querystring.a":    `{"multiValue":[{"value":"1"},{"value":"2"}],"value":"1"}`,
			"request.querystring.b":    `{"value":"x%20y"}`,
			"request.querystring.flag": `{"value":""}`,
		}},
		{"headers lower-case, repeats as multiValue", "/", map[string][]string{"Accept-Language": {"en"}, "X-Multi": {"1", "2"}}, map[string]string{
			"request.headers.accept-language": `{"value":"en"}`,
			"request.headers.x-multi":         `{"multiValue":[{"value":"1"},{"value":"2"}],"value":"1"}`,
			"request.headers.Accept-Language": `<none>`,
		}},
		{"cookies under cookies, not headers", "/", map[string][]string{"Cookie": {"session=abc; theme=dark", "theme=light"}}, map[string]string{
			"request.cookies.session": `{"value":"abc"}`,
			"request.cookies.theme":   `{"multiValue":[{"value":"dark"},{"value":"light"}],"value":"dark"}`,
			"request.headers.cookie":  `<none>`,
		}},
		{"disallowed headers are not exposed", "/", map[string][]string{"X-Real-Ip": {"1.2.3.4"}, "X-Amz-Cf-Id": {"x"}, "X-Edge-Thing": {"y"}}, map[string]string{
			"request.headers.x-real-ip":    `<none>`,
			"request.headers.x-amz-cf-id":  `<none>`,
			"request.headers.x-edge-thing": `<none>`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.com"+tt.target, nil)
			for k, vs := range tt.header {
				r.Header[k] = vs
			}
			resp, err := generatedBy(rt, fn, r)
			if err != nil || resp == nil {
				t.Fatalf("%v %v", resp, err)
			}
			var doc any
			if err := json.Unmarshal(resp.Body, &doc); err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.want {
				if got := lookup(t, doc, path); got != want {
					t.Errorf("%s = %s, want %s", path, got, want)
				}
			}
		})
	}
}

// TestViewerRequestResult: what a viewer-request function returns and what
// edgefront makes of it: the request's URI, query string, headers
// (re-capitalised) and cookies change; a response is generated (Server:
// CloudFront); a thrown error or rejected promise is an execution error
// (503); a result breaking CloudFront's rules is a validation error (502):
// a disallowed or read-only header, a changed method, a query string with
// a space, a URI over 8,192 characters, no result.
func TestViewerRequestResult(t *testing.T) {
	tests := []struct {
		name, runtime, body string
		check               func(t *testing.T, r *http.Request, resp *Response)
		wantKind            string
	}{
		{"a new uri", "", `r.uri = '/x/index.html'; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.URL.Path != "/x/index.html" || r.URL.RawQuery != "keep=1" {
				t.Errorf("URL %q ? %q", r.URL.Path, r.URL.RawQuery)
			}
		}, ""},
		{"a changed query string, in the function's key order", "", `r.querystring = {b: {value: '2'}, a: {value: '1', multiValue: [{value: '1'}, {value: '3'}]}}; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.URL.RawQuery != "b=2&a=1&a=3" {
				t.Errorf("query %q", r.URL.RawQuery)
			}
		}, ""},
		{"a percent-encoded uri", "", `r.uri = '/a%20b/c%2Fd'; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.URL.Path != "/a b/c/d" || r.URL.EscapedPath() != "/a%20b/c%2Fd" {
				t.Errorf("path %q escaped %q", r.URL.Path, r.URL.EscapedPath())
			}
		}, ""},
		{"a uri with a bad escape", "", `r.uri = '/a%zz'; return r;`, nil, ValidationError},
		{"a query string as a string", "", `r.querystring = 'z=9'; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.URL.RawQuery != "z=9" {
				t.Errorf("query %q", r.URL.RawQuery)
			}
		}, ""},
		{"headers added, changed, removed", "", `r.headers['x-edge-added-by-test'] = undefined; delete r.headers['x-edge-added-by-test'];
			r.headers['x-custom-header-name'] = {value: 'v'}; r.headers['accept'] = {value: 'text/html'}; delete r.headers['user-agent']; return r;`,
			func(t *testing.T, r *http.Request, _ *Response) {
				if r.Header.Get("X-Custom-Header-Name") != "v" || r.Header.Get("Accept") != "text/html" || r.Header.Get("User-Agent") != "" {
					t.Errorf("headers %v", r.Header)
				}
			}, ""},
		{"cookies changed", "", `r.cookies = {a: {value: '1'}, b: {value: '2'}}; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if got := r.Header.Get("Cookie"); got != "a=1; b=2" {
				t.Errorf("Cookie %q", got)
			}
		}, ""},
		{"unchanged", "", `return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.URL.Path != "/p" || r.URL.RawQuery != "keep=1" || r.Header.Get("Cookie") != "s=1" || r.Header.Get("User-Agent") != "test" {
				t.Errorf("changed: %v %v", r.URL, r.Header)
			}
		}, ""},
		{"a generated response", "", `return {statusCode: 403, statusDescription: 'Forbidden', headers: {'content-type': {value: 'text/plain'}},
			cookies: {gone: {value: '', attributes: 'Max-Age=0'}}, body: {data: 'bm8=', encoding: 'base64'}};`,
			func(t *testing.T, _ *http.Request, resp *Response) {
				if resp == nil || resp.Status != 403 || string(resp.Body) != "no" || resp.Header.Get("Content-Type") != "text/plain" ||
					resp.Header.Get("Server") != "CloudFront" || resp.Header.Get("Set-Cookie") != "gone=; Max-Age=0" {
					t.Errorf("response %+v", resp)
				}
			}, ""},
		{"an async handler (2.0)", config.FunctionRuntime2, `const v = await Promise.resolve('/async'); r.uri = v; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.URL.Path != "/async" {
				t.Errorf("uri %q", r.URL.Path)
			}
		}, ""},
		{"throws", "", `throw new TypeError('bad');`, nil, ExecutionError},
		{"recursion without end", "", `var f = function (n) { return f(n + 1) + 1; }; return f(0);`, nil, ExecutionError},
		{"a rejected promise (2.0)", config.FunctionRuntime2, `await Promise.reject(new Error('no'));`, nil, ExecutionError},
		{"a disallowed header", "", `r.headers['x-amz-cf-id'] = {value: 'x'}; return r;`, nil, ValidationError},
		{"a read-only header", "", `r.headers['host'] = {value: 'other.example'}; return r;`, nil, ValidationError},
		{"a read-only header removed", "", `delete r.headers['host']; return r;`, nil, ValidationError},
		{"an upper-case header name counts as lower-case", "", `r.headers['X-Upper'] = {value: 'x'}; return r;`, func(t *testing.T, r *http.Request, _ *Response) {
			if r.Header.Get("X-Upper") != "x" {
				t.Errorf("headers %v", r.Header)
			}
		}, ""},
		{"an upper-case read-only header", "", `r.headers['Via'] = {value: '1.1 x'}; return r;`, nil, ValidationError},
		{"a changed method", "", `r.method = 'POST'; return r;`, nil, ValidationError},
		{"a query string with a space", "", `r.querystring = 'a=b c'; return r;`, nil, ValidationError},
		{"a uri too long", "", `r.uri = '/' + new Array(8200).join('x'); return r;`, nil, ValidationError},
		{"a result whose getter never returns", "", `return {method: 'GET', get uri() { for (;;) {} }};`, nil, ExecutionError},
		{"no result", "", `return;`, nil, ValidationError},
		{"a number", "", `return 7;`, nil, ValidationError},
		{"a status out of range", "", `return {statusCode: 700};`, nil, ValidationError},
		{"a uri that is not a path", "", `r.uri = 'x'; return r;`, nil, ValidationError},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime, prefix := config.FunctionRuntime1, "function"
			if tt.runtime != "" {
				runtime, prefix = tt.runtime, "async function"
			}
			fn := inline(t, "case"+string(rune('a'+i)), runtime, prefix+" handler(event) { var r = event.request; "+tt.body+" }")
			rt := runtimeFor(t, nil, fn)
			r := httptest.NewRequest("GET", "http://example.com/p?keep=1", nil)
			r.Header.Set("Cookie", "s=1")
			r.Header.Set("User-Agent", "test")
			resp, err := generatedBy(rt, fn, r)
			if tt.wantKind != "" {
				var fe *Error
				if !errors.As(err, &fe) || fe.Kind != tt.wantKind {
					t.Fatalf("err = %v, want a %s", err, tt.wantKind)
				}
				if want := map[string]int{ExecutionError: 503, ValidationError: 502}[tt.wantKind]; fe.Status() != want {
					t.Errorf("status %d, want %d", fe.Status(), want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r, resp)
		})
	}
}

// TestViewerResponse: the event a viewer-response function gets (the
// request and the response, Set-Cookie as cookies with attributes) and
// what it may change: headers, cookies and the status ("Your function can
// generate or modify the statusCode": an integer, not a string, 200–599),
// not read-only headers.
func TestViewerResponse(t *testing.T) {
	echo := fixture(t, "echo-response.js", config.FunctionRuntime1)
	h := http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"id=7; Path=/; Secure"}, "Content-Length": {"12"}}
	r := httptest.NewRequest("GET", "http://example.com/page", nil)
	if _, err := runtimeFor(t, nil, echo).ViewerResponse(context.Background(), echo, testInfo, r, 200, h); err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal([]byte(h.Get("X-Event")), &doc); err != nil {
		t.Fatalf("%v: %q", err, h.Get("X-Event"))
	}
	for path, want := range map[string]string{
		"context.eventType":                   `"viewer-response"`,
		"request.uri":                         `"/page"`,
		"response.statusCode":                 `200`,
		"response.statusDescription":          `"OK"`,
		"response.headers.content-type":       `{"value":"text/html"}`,
		"response.headers.set-cookie":         `<none>`,
		"response.cookies.id":                 `{"attributes":"Path=/; Secure","value":"7"}`,
		"response.headers.content-length":     `{"value":"12"}`,
		"response.headers.x-event":            `<none>`,
		"request.headers.host":                `{"value":"example.com"}`,
		"response.cookies.id.multiValue":      `<none>`,
		"response.headers.content-type.value": `"text/html"`,
	} {
		if got := lookup(t, doc, path); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}

	tests := []struct {
		name, body string
		check      func(t *testing.T, h http.Header)
		wantStatus int
		wantKind   string
	}{
		{"a header and a cookie", `s.headers['x-frame-options'] = {value: 'DENY'}; s.cookies['seen'] = {value: '1', attributes: 'Path=/'}; return s;`,
			func(t *testing.T, h http.Header) {
				if h.Get("X-Frame-Options") != "DENY" || strings.Join(h.Values("Set-Cookie"), "|") != "id=7; Path=/; Secure|seen=1; Path=/" {
					t.Errorf("headers %v", h)
				}
			}, 200, ""},
		{"a new status with its description", `s.statusCode = 404; s.statusDescription = 'Not Found'; s.headers['x-tried'] = {value: '1'}; return s;`,
			func(t *testing.T, h http.Header) {
				if h.Get("X-Tried") != "1" {
					t.Errorf("headers %v", h)
				}
			}, 404, ""},
		{"a redirect made of an answer", `s.statusCode = 302; s.headers['location'] = {value: '/elsewhere'}; return s;`,
			func(t *testing.T, h http.Header) {
				if h.Get("Location") != "/elsewhere" {
					t.Errorf("headers %v", h)
				}
			}, 302, ""},
		{"no statusCode keeps the status", `delete s.statusCode; return s;`, func(*testing.T, http.Header) {}, 200, ""},
		{"a status as a string", `s.statusCode = '404'; return s;`, nil, 0, ValidationError},
		{"a status out of range", `s.statusCode = 99; return s;`, nil, 0, ValidationError},
		{"a status that is not an integer", `s.statusCode = 200.5; return s;`, nil, 0, ValidationError},
		{"a description that is not a string", `s.statusDescription = 7; return s;`, nil, 0, ValidationError},
		{"a read-only header", `s.headers['content-length'] = {value: '99'}; return s;`, nil, 0, ValidationError},
		{"a disallowed header", `s.headers['x-cache'] = {value: 'Hit'}; return s;`, nil, 0, ValidationError},
		{"throws", `throw new Error('no');`, nil, 0, ExecutionError},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := inline(t, "resp"+string(rune('a'+i)), config.FunctionRuntime1, "function handler(event) { var s = event.response; "+tt.body+" }")
			h := http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"id=7; Path=/; Secure"}, "Content-Length": {"12"}}
			status, err := runtimeFor(t, nil, fn).ViewerResponse(context.Background(), fn, testInfo, r, 200, h)
			if tt.wantKind != "" {
				var fe *Error
				if !errors.As(err, &fe) || fe.Kind != tt.wantKind {
					t.Fatalf("err = %v, want a %s", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
			tt.check(t, h)
		})
	}
}

// TestHelpers: the crypto module (md5, sha1, sha256, HMAC; hex, base64,
// base64url), the querystring module, and Date frozen for the whole run.
func TestHelpers(t *testing.T) {
	fn := fixture(t, "helpers.js", config.FunctionRuntime1)
	resp, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	md5Sum := md5.Sum([]byte("edge"))
	sha1Sum := sha1.Sum([]byte("edge"))
	sha256Sum := sha256.Sum256([]byte("edge"))
	mac := hmac.New(sha256.New, []byte("key"))
	mac.Write([]byte("edge"))
	want := map[string]string{
		"md5":    `"` + hex.EncodeToString(md5Sum[:]) + `"`,
		"sha1":   `"` + base64.StdEncoding.EncodeToString(sha1Sum[:]) + `"`,
		"sha256": `"` + base64.RawURLEncoding.EncodeToString(sha256Sum[:]) + `"`,
		"hmac":   `"` + hex.EncodeToString(mac.Sum(nil)) + `"`,
		"parsed": `{"a":["1","2"],"b":"x y"}`,
		"built":  `"q=a+b\u0026n=3"`,
	}
	for k, w := range want {
		if g := lookup(t, got, k); g != w {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
	if got["t1"] != got["t2"] || got["t1"] != got["t3"] || got["t1"] == nil {
		t.Errorf("Date moved during the run: %v %v %v", got["t1"], got["t2"], got["t3"])
	}
}

// syncBuffer is a log sink safe for the runtime's goroutines.
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

// TestSandbox: no eval, no Function constructor (by name or through a
// function's constructor), no timers; instanceof Function still works;
// console.log goes to edgefront's log with the request ID.
func TestSandbox(t *testing.T) {
	var logs syncBuffer
	fn := fixture(t, "sandbox.js", config.FunctionRuntime1)
	rt := runtimeFor(t, slog.New(slog.NewTextHandler(&logs, nil)), fn)
	resp, err := generatedBy(rt, fn, httptest.NewRequest("GET", "/sandboxed", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(resp.Body), `{"evalType":"undefined","fn":"refused","ctor":"refused","timers":"undefined","isFunction":true}`; got != want {
		t.Errorf("sandbox %s, want %s", got, want)
	}
	if l := logs.String(); !strings.Contains(l, `line="sandbox checked /sandboxed"`) || !strings.Contains(l, "requestId=req-1") || !strings.Contains(l, "function=sandbox") {
		t.Errorf("log %q", l)
	}
}

// TestBudget: a run that goes past the budget is interrupted (503); the
// interrupted VM is dropped, so the same function's next run works.
func TestBudget(t *testing.T) {
	fn := inline(t, "sometimes-spins", config.FunctionRuntime1,
		`function handler(event) { if (event.request.uri === '/spin') { for (;;) {} } return {statusCode: 200, body: 'ok'}; }`)
	rt := runtimeFor(t, nil, fn)
	for i, path := range []string{"/ok", "/spin", "/ok", "/spin", "/ok"} {
		resp, err := generatedBy(rt, fn, httptest.NewRequest("GET", path, nil))
		if path == "/spin" {
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != ExecutionError || !errors.Is(err, errBudget) {
				t.Errorf("#%d %s: err %v, want the budget's execution error", i, path, err)
			}
			continue
		}
		if err != nil || string(resp.Body) != "ok" {
			t.Errorf("#%d %s: %v %v", i, path, resp, err)
		}
	}
}

// TestKeyValueStore: cf.kvs() of a 2.0 function reads its store: get as
// string, json and bytes; exists; meta; a missing key rejects.
func TestKeyValueStore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "themes.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := config.ParseKeyValueStore(data)
	if err != nil {
		t.Fatal(err)
	}
	store := &config.KeyValueStore{Name: "themes", ID: "kvs-1", Data: m, Modified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	fn := inline(t, "kv", config.FunctionRuntime2, `import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
	const out = {};
	out.str = await kvs.get('theme:blog');
	out.json = (await kvs.get('theme:shop', {format: 'json'})).name;
	out.bytes = (await kvs.get('theme:blog', {format: 'bytes'})).length;
	out.exists = [await kvs.exists('theme:blog'), await kvs.exists('nope')];
	const meta = await kvs.meta();
	out.count = meta.keyCount;
	out.updated = meta.lastUpdatedDateTime;
	try { await kvs.get('nope'); out.missing = 'found'; } catch (e) { out.missing = 'rejected'; }
	return {statusCode: 200, body: JSON.stringify(out)};
}`, store)
	resp, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(resp.Body), `{"str":"{\"name\":\"dark\"}","json":"bright","bytes":15,"exists":[true,false],"count":2,"updated":"2026-01-02T03:04:05.000Z","missing":"rejected"}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// FuzzViewerRequestRoundTrip: a function that returns the request as it
// got it changes nothing of it, whatever the viewer sent.
func FuzzViewerRequestRoundTrip(f *testing.F) {
	fn := inline(f, "pass", config.FunctionRuntime1, "function handler(event) { return event.request; }")
	rt := runtimeFor(f, nil, fn)
	f.Add("/a/b", "x=1&y=%20&x=2", "v", "a=1; b=2")
	f.Add("/", "", "", "")
	f.Add("/%E2%82%AC", "=&&=x", "multi, value", "=; ;x")
	f.Fuzz(func(t *testing.T, path, query, header, cookie string) {
		// The bound is on the URI as the viewer sent it, escaped: a
		// longer one never reaches a function.
		if !strings.HasPrefix(path, "/") || len((&url.URL{Path: path}).EscapedPath())+len(query) > maxURIAndQuery {
			return
		}
		r, err := http.NewRequest("GET", "http://example.com/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.Path, r.URL.RawQuery = path, query
		r.Header.Set("X-Value", header)
		r.Header.Set("Cookie", cookie)
		before := r.Header.Clone()
		if _, err := generatedBy(rt, fn, r); err != nil {
			var fe *Error
			if errors.As(err, &fe) && fe.Kind == ExecutionError && errors.Is(err, errBudget) {
				t.Skip() // a slow machine
			}
			t.Fatalf("%q %q: %v", path, query, err)
		}
		if r.URL.Path != path || r.URL.RawQuery != query || r.Header.Get("X-Value") != before.Get("X-Value") || r.Header.Get("Cookie") != before.Get("Cookie") {
			t.Fatalf("changed: %q %q %v, was %q %q %v", r.URL.Path, r.URL.RawQuery, r.Header, path, query, before)
		}
	})
}

// BenchmarkViewerRequestRewrite: one run of a typical URI-rewrite function
// (testdata/index-html.js) on a request with a few headers.
func BenchmarkViewerRequestRewrite(b *testing.B) {
	fn := fixture(b, "index-html.js", config.FunctionRuntime1)
	rt := runtimeFor(b, nil, fn)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "http://example.com/docs/", nil)
			r.Header.Set("User-Agent", "bench")
			r.Header.Set("Accept", "*/*")
			if _, err := generatedBy(rt, fn, r); err != nil || r.URL.Path != "/docs/index.html" {
				b.Fatal(err, r.URL.Path)
			}
		}
	})
}

// TestBuffer: cloudfront-js-2.0's Buffer decodes Basic credentials
// (base64 to utf8) and encodes hex; a 1.0 function has no Buffer.
func TestBuffer(t *testing.T) {
	fn := fixture(t, "basic-auth.js", config.FunctionRuntime2)
	rt := runtimeFor(t, nil, fn)
	tests := []struct {
		auth     string
		wantUser string // X-User the function sets; "" means a 401
	}{
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("ada:lovelace")), hex.EncodeToString([]byte("ada"))},
		{"Basic " + base64.RawURLEncoding.EncodeToString([]byte("ada:lovelace")), hex.EncodeToString([]byte("ada"))},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("ada:babbage")), ""},
		{"", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/private", nil)
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		resp, err := generatedBy(rt, fn, r)
		if err != nil {
			t.Fatalf("%q: %v", tt.auth, err)
		}
		switch {
		case tt.wantUser == "" && (resp == nil || resp.Status != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="edge"`):
			t.Errorf("%q: %+v, want a 401", tt.auth, resp)
		case tt.wantUser != "" && (resp != nil || r.Header.Get("X-User") != tt.wantUser):
			t.Errorf("%q: %+v X-User %q, want %q", tt.auth, resp, r.Header.Get("X-User"), tt.wantUser)
		}
	}
	one := inline(t, "no-buffer", config.FunctionRuntime1, "function handler(event) { return {statusCode: 200, body: typeof Buffer}; }")
	resp, err := generatedBy(runtimeFor(t, nil, one), one, httptest.NewRequest("GET", "/", nil))
	if err != nil || string(resp.Body) != "undefined" {
		t.Errorf("1.0 Buffer: %v %v", resp, err)
	}
}

// TestTest: TestFunction's answer for a test event: the output as
// {"request": …} or {"response": …}, the console lines, the compute
// utilization, and the function's error message when it fails.
func TestTest(t *testing.T) {
	event, err := os.ReadFile(filepath.Join("testdata", "event-viewer-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	logsURI := fixture(t, "logs-uri.js", config.FunctionRuntime1)
	moved := fixture(t, "moved.js", config.FunctionRuntime1)
	throws := fixture(t, "throws.js", config.FunctionRuntime1)
	rt := runtimeFor(t, nil, logsURI, moved, throws)
	tests := []struct {
		fn         *config.Function
		wantOutput string // a substring
		wantLogs   string
		wantError  string
	}{
		{logsURI, `{"request":{"cookies":{},"headers":{"host":{"value":"www.example.com"}},"method":"GET","querystring":{},"uri":"/guide/index.html"}}`, "rewriting /guide/", ""},
		{moved, `{"response":{"headers":{"cache-control":{"value":"no-store"},"location":{"value":"/new/e/"}}`, "", ""},
		{throws, "", "", "no route for /guide/"},
	}
	for _, tt := range tests {
		res, err := rt.Test(context.Background(), tt.fn, event)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Output, tt.wantOutput) || strings.Join(res.Logs, "\n") != tt.wantLogs ||
			!strings.Contains(res.ErrorMessage, tt.wantError) || (tt.wantError == "") != (res.ErrorMessage == "") ||
			res.Utilization < 0 || res.Utilization > 100 {
			t.Errorf("%s: %+v", tt.fn.Name, res)
		}
	}
	if _, err := rt.Test(context.Background(), logsURI, []byte(`{"context": {"eventType": "origin-request"}}`)); err == nil {
		t.Error("an origin-request test event was accepted")
	}
}

// TestByteStrings: cloudfront-js-1.0's String helpers (bytesFrom, toUTF8,
// fromUTF8, toBytes) and a digest without encoding as a byte string; in
// 2.0 the helpers are absent and such a digest is a Buffer.
func TestByteStrings(t *testing.T) {
	fn := fixture(t, "byte-strings.js", config.FunctionRuntime1)
	resp, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"fromArray":"hi","fromHex":"hi","fromBase64":"hi","euroBytes":3,"euroBack":"€","notBytes":null,"range":"bc","badUTF8":null,"digestLength":32}`
	if string(resp.Body) != want {
		t.Errorf("got  %s\nwant %s", resp.Body, want)
	}
	two := inline(t, "two", config.FunctionRuntime2, `const crypto = require('crypto');
function handler(event) {
	const d = crypto.createHash('md5').update('x').digest();
	return {statusCode: 200, body: [typeof ''.toUTF8, typeof String.bytesFrom, Buffer.isBuffer(d), d.length].join(',')};
}`)
	resp, err = generatedBy(runtimeFor(t, nil, two), two, httptest.NewRequest("GET", "/", nil))
	if err != nil || string(resp.Body) != "undefined,undefined,true,16" {
		t.Errorf("2.0: %v %v", resp, err)
	}
}

// TestConcurrentRuns: runs of one function from many goroutines share its
// pool safely, and interrupted runs among them leave the others' results
// intact.
func TestConcurrentRuns(t *testing.T) {
	fn := inline(t, "mixed", config.FunctionRuntime1,
		`function handler(event) { if (event.request.uri === '/spin') { for (;;) {} } event.request.uri += 'index.html'; return event.request; }`)
	rt := runtimeFor(t, nil, fn)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				path := "/d" + string(rune('a'+g)) + "/"
				if i%10 == 9 {
					path = "/spin"
				}
				r := httptest.NewRequest("GET", path, nil)
				_, err := generatedBy(rt, fn, r)
				switch {
				case path == "/spin" && !errors.Is(err, errBudget):
					errs <- errors.New("a spinning run was not interrupted: " + fmt.Sprint(err))
					return
				case path != "/spin" && (err != nil || r.URL.Path != path+"index.html"):
					errs <- fmt.Errorf("%s: %v %q", path, err, r.URL.Path)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzViewerRequestResult: whatever a function returns (here any JSON),
// edgefront either applies it — a request whose path starts with / or a
// response with a status of 200 to 599 — or fails the run with a
// CloudFront error; it never panics.
func FuzzViewerRequestResult(f *testing.F) {
	fn := inline(f, "returns", config.FunctionRuntime1,
		"function handler(event) { return JSON.parse(event.request.headers['x-result'].value); }")
	rt := runtimeFor(f, nil, fn)
	f.Add(`{"method":"GET","uri":"/x","querystring":{"a":{"value":"1"}},"headers":{"host":{"value":"example.com"}},"cookies":{"c":{"value":"v"}}}`)
	f.Add(`{"statusCode":301,"headers":{"location":{"value":"/y"}},"body":{"data":"aGk=","encoding":"base64"}}`)
	f.Add(`{"uri":"/z","headers":{"host":{"value":"example.com","multiValue":[{"value":"example.com"}]}}}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, result string) {
		r := httptest.NewRequest("GET", "http://example.com/p", nil)
		r.Header.Set("X-Result", result)
		resp, err := generatedBy(rt, fn, r)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || (fe.Status() != 502 && fe.Status() != 503) {
				t.Fatalf("%q: %v", result, err)
			}
			return
		}
		if resp != nil {
			if resp.Status < 200 || resp.Status > 599 || resp.Header.Get("Server") != "CloudFront" {
				t.Fatalf("%q: response %+v", result, resp)
			}
			return
		}
		if !strings.HasPrefix(r.URL.EscapedPath(), "/") {
			t.Fatalf("%q: path %q", result, r.URL.EscapedPath())
		}
	})
}
