package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// lazyCases are handler bodies (r is event.request, s event.response at
// viewer-response) that reach the event every way a function can: they
// must come out the same from the lazy event (records and lazy objects)
// and the eager one (ordinary objects).
var lazyCases = []string{
	// reading
	`return r;`,
	`r.uri = r.uri + 'index.html'; return r;`,
	`return {statusCode: 200, body: JSON.stringify(event)};`,
	`return {statusCode: 200, body: JSON.stringify(r.headers) + JSON.stringify(r.querystring) + JSON.stringify(r.cookies)};`,
	`return {statusCode: 200, body: JSON.stringify([Object.keys(r.headers), Object.keys(r.querystring), Object.keys(r.cookies), Object.keys(r), Object.keys(event), Object.keys(event.context)])};`,
	`var k = []; for (var n in r.headers) { k.push(n + '=' + r.headers[n].value); } for (var q in r.querystring) { k.push(q); } return {statusCode: 200, body: k.join(',')};`,
	`return {statusCode: 200, body: JSON.stringify(Object.entries(r.querystring)) + Object.getOwnPropertyNames(r.cookies).join()};`,
	`return {statusCode: 200, body: [('accept' in r.headers), r.headers.hasOwnProperty('host'), ('nope' in r.headers), r.headers.nope === undefined, typeof r.headers.toString, String(r.headers)].join()};`,
	`return {statusCode: 200, body: JSON.stringify(Object.getOwnPropertyDescriptor(r.headers, 'host')) + JSON.stringify(Object.getOwnPropertyDescriptor(r, 'uri'))};`,
	`return {statusCode: 200, body: JSON.stringify(event.context) + event.viewer.ip + event.version + r.method};`,
	`return {statusCode: 200, body: JSON.stringify(r.querystring.a) + (r.querystring.a && r.querystring.a.multiValue ? r.querystring.a.multiValue.length : -1)};`,
	`return {statusCode: 200, body: JSON.stringify({...r}) + JSON.stringify(Object.assign({}, r.headers))};`,
	// changing headers
	`r.headers['x-new'] = {value: 'n'}; return r;`,
	`r.headers.accept.value = 'text/plain'; return r;`,
	`delete r.headers.accept; delete r.headers['user-agent']; return r;`,
	`delete r.headers.accept; r.headers.accept = {value: 'again'}; return {statusCode: 200, body: Object.keys(r.headers).join()};`,
	`r.headers['x-multi'] = {value: 'a', multiValue: [{value: 'a'}, {value: 'b'}]}; return r;`,
	`r.headers.accept.multiValue = [{value: 'one'}, {value: 'two'}]; return r;`,
	`if (r.headers['x-multi']) { r.headers['x-multi'].multiValue.push({value: 'pushed'}); } return r;`,
	`r.headers['X-Upper'] = {value: 'u'}; return r;`,
	`r.headers['x-undefined'] = undefined; return r;`,
	`r.headers.accept = 'not an entry'; return r;`,
	`r.headers.host = {value: 'other.example'}; return r;`,
	`delete r.headers.host; return r;`,
	`r.headers['x-amz-cf-id'] = {value: 'x'}; return r;`,
	`r.headers = {host: r.headers.host, 'x-only': {value: '1'}}; return r;`,
	`r.headers = r.cookies; return r;`,
	`r.headers = event.context; return r;`,
	`r.headers.self = r.headers; return r;`,
	`r.headers['x-getter'] = {get value() { return 'from a getter'; }}; return r;`,
	// changing the query string and cookies
	`r.querystring.added = {value: 'yes'}; return r;`,
	`r.querystring['2'] = {value: 'two'}; r.querystring['10'] = {value: 'ten'}; r.querystring['1'] = {value: 'one'}; return r;`,
	`delete r.querystring.a; return r;`,
	`r.querystring = 'z=1&y=2'; return r;`,
	`r.querystring = {b: {value: '2'}, a: {value: '1', multiValue: [{value: '1'}, {value: '3'}]}}; return r;`,
	`r.querystring.a = {value: 'has space'}; return r;`,
	`r.cookies.session.value = 'changed'; return r;`,
	`r.cookies.added = {value: 'c'}; delete r.cookies.theme; return r;`,
	`r.cookies = {}; return r;`,
	// other results
	`return {method: r.method, uri: '/other', headers: r.headers, querystring: r.querystring, cookies: r.cookies};`,
	`return {uri: r.uri, headers: r.headers};`,
	`var copy = JSON.parse(JSON.stringify(r)); copy.uri = '/copied'; return copy;`,
	`return {statusCode: 302, headers: {location: {value: '/moved'}, 'x-req': r.headers.accept || {value: 'none'}}};`,
	`return {statusCode: 200, headers: r.headers, cookies: r.cookies, body: {data: 'b2s=', encoding: 'base64'}};`,
	`return {statusCode: 200, body: r.headers};`,
	`delete r.uri; return r;`,
	`r.uri = 42; return r;`,
	`r.method = 'POST'; return r;`,
	`delete r.headers; return r;`,
	`event.request = {uri: '/swapped'}; return event.request;`,
	`return event;`,
	`r.uri = '/' + 'x'.repeat(8200); return r;`,
	// the returned request read slot by slot, or not
	`r.method = 'GET'; return r;`,
	`r.method = 7; return r;`,
	`r.uri = '/\u20ac/' + r.uri; return r;`,
	`r.uri = new String('/boxed'); return r;`,
	`r.extra = {get x() { return 1; }}; r['0'] = 'zero'; return r;`,
	`r.statusCode = 200; r.body = 'from the request'; return r;`,
	`r.querystring = r.headers; r.cookies = r.headers; return r;`,
	`var a = r.headers.accept; return r;`,
	`r.headers = 'x'; return r;`,
	`r.querystring = 5; return r;`,
	`r.cookies = undefined; return r;`,
	`r.cookies = event.context; return r;`,
	`r.querystring = r; return r;`,
	// the context and viewer, made when first reached
	`delete event.viewer; event.context.extra = 1; return {statusCode: 200, body: JSON.stringify(event)};`,
	`var c = event.context; c.eventType = 'changed'; delete c.requestId; return {statusCode: 200, body: JSON.stringify(event) + Object.keys(c).join()};`,
	`event.viewer = {ip: 'replaced'}; return {statusCode: 200, body: JSON.stringify(event.viewer) + JSON.stringify(Object.getOwnPropertyDescriptor(event, 'context'))};`,
	`r.headers = event.viewer; return r;`,
	`return event.context;`,
}

// responseCases are viewer-response bodies.
var responseCases = []string{
	`return s;`,
	`return {statusCode: 200, body: JSON.stringify(event)};`,
	`s.headers['x-frame-options'] = {value: 'DENY'}; s.cookies.seen = {value: '1', attributes: 'Path=/'}; return s;`,
	`s.cookies.id.value = '8'; return s;`,
	`delete s.headers['content-type']; return s;`,
	`s.headers['content-length'] = {value: '1'}; return s;`,
	`s.statusCode = 404; s.statusDescription = 'Not Found'; return s;`,
	`s.headers = r.headers; return s;`,
	`return {statusCode: 200, headers: s.headers, cookies: s.cookies};`,
	`return {statusCode: 201, headers: {}};`,
	`s.statusCode = '404'; return s;`,
	`s.body = 'ignored'; return s;`,
	`s.body = 5; return s;`,
	`s.statusDescription = 5; return s;`,
	`s.statusCode = 201.5; return s;`,
	`s.headers = s.cookies; s.cookies = s.headers; return s;`,
	`var ct = s.headers['content-type']; return s;`,
	`s.extra = {get x() { return 1; }}; return s;`,
}

// outcome renders what a run did, for comparing the lazy and the eager
// event: the error, the generated response, the request (or response
// headers) after.
func outcome(r *http.Request, h http.Header, status int, resp *Response, err error) string {
	var b strings.Builder
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			fmt.Fprintf(&b, "error %s: %v\n", fe.Kind, fe.Err)
		} else {
			fmt.Fprintf(&b, "error %v\n", err)
		}
	}
	if resp != nil {
		fmt.Fprintf(&b, "response %d %q %s\n", resp.Status, resp.Body, headerString(resp.Header))
	}
	fmt.Fprintf(&b, "request %s %q %q %s\n", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, headerString(r.Header))
	if h != nil {
		fmt.Fprintf(&b, "status %d headers %s\n", status, headerString(h))
	}
	return b.String()
}

func headerString(h http.Header) string {
	var parts []string
	for _, k := range sortedKeys(h) {
		parts = append(parts, k+"="+strings.Join(h[k], "|"))
	}
	return strings.Join(parts, "; ")
}

// lazyRequest is the request the lazy tests run on.
func lazyRequest(target, header, cookie string) *http.Request {
	r := httptest.NewRequest("GET", "http://example.com/", nil)
	r.URL.Path, r.URL.RawQuery = target, ""
	if p, q, ok := strings.Cut(target, "?"); ok {
		r.URL.Path, r.URL.RawQuery = p, q
	}
	r.Header.Set("Accept", "text/html")
	r.Header.Set("User-Agent", "lazy-test")
	r.Header["X-Multi"] = []string{"1", header}
	r.Header.Set("Cookie", cookie)
	return r
}

// lazyAndEager returns a runtime of fns with lazy events and one with
// eager events.
func lazyAndEager(t testing.TB, fns ...*config.Function) (lazy, eager *Runtime) {
	lazy, eager = runtimeFor(t, nil, fns...), runtimeFor(t, nil, fns...)
	eager.eager = true
	return lazy, eager
}

// TestLazyEventMatchesEager: every way of reading and changing the event
// (reading entries, for…in, Object.keys, JSON.stringify of the event,
// mutation through the lazy objects, deleting and adding headers, a
// multiValue added or pushed to, objects replaced, nested, cyclic, with
// getters; the rule breakers) gives the same outcome — result, error
// and its message, request after — with the lazy event as with the eager
// one, at viewer-request and at viewer-response.
func TestLazyEventMatchesEager(t *testing.T) {
	requests := []struct{ target, header, cookie string }{
		{"/docs/?a=1&b=x%20y&a=2&flag", "2", "session=abc; theme=dark; theme=light"},
		{"/p?2=two&b=1&1=one&10=ten&01=lead", "", ""},
		{"/%E2%82%AC", "v\xff", "=; x"},
	}
	for i, body := range lazyCases {
		fn := inline(t, fmt.Sprintf("lazy%d", i), config.FunctionRuntime2, "function handler(event) { var r = event.request; "+body+" }")
		lazy, eager := lazyAndEager(t, fn)
		for _, rq := range requests {
			rl, re := lazyRequest(rq.target, rq.header, rq.cookie), lazyRequest(rq.target, rq.header, rq.cookie)
			respL, errL := generatedBy(lazy, fn, rl)
			respE, errE := generatedBy(eager, fn, re)
			if got, want := outcome(rl, nil, 0, respL, errL), outcome(re, nil, 0, respE, errE); got != want {
				t.Errorf("%s on %s:\nlazy  %s\neager %s", body, rq.target, got, want)
			}
		}
	}
	for i, body := range responseCases {
		fn := inline(t, fmt.Sprintf("lazyresp%d", i), config.FunctionRuntime1, "function handler(event) { var r = event.request, s = event.response; "+body+" }")
		lazy, eager := lazyAndEager(t, fn)
		run := func(rt *Runtime) string {
			r := lazyRequest("/page?q=1", "x", "a=1")
			h := http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"id=7; Path=/; Secure", "other=1"}, "Content-Length": {"12"}, "X-Multi": {"a", "b"}}
			status, err := rt.ViewerResponse(context.Background(), fn, testInfo, r, 200, h)
			return outcome(r, h, status, nil, err)
		}
		if got, want := run(lazy), run(eager); got != want {
			t.Errorf("%s:\nlazy  %s\neager %s", body, got, want)
		}
	}
}

// TestLazyFieldsKeys: the lazy objects list their keys as an ordinary
// object does: array indexes ascending first, then names as added; a
// deleted and re-added name goes last.
func TestLazyFieldsKeys(t *testing.T) {
	fn := inline(t, "keys", config.FunctionRuntime1, `function handler(event) {
	var q = event.request.querystring;
	var before = Object.keys(q).join();
	delete q.b; q.b = {value: 'again'}; q['3'] = {value: 'three'};
	return {statusCode: 200, body: before + '|' + Object.keys(q).join()};
}`)
	resp, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/?b=1&10=x&a=2&2=y&4294967295=big", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(resp.Body), "2,10,b,a,4294967295|2,3,10,a,4294967295,b"; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	if got := ordinaryOrder([]string{"b", "1", "a", "0"}); !slices.Equal(got, []string{"0", "1", "b", "a"}) {
		t.Errorf("ordinaryOrder %q", got)
	}
}

// TestLazyGetterUnderBudget: a getter the function leaves in a header entry
// runs while the result is read, under the run's budget: one that never
// returns is an execution error, not a goroutine stuck after the run.
func TestLazyGetterUnderBudget(t *testing.T) {
	fn := inline(t, "getter", config.FunctionRuntime1, `function handler(event) {
	event.request.headers['x-spin'] = {get value() { for (;;) {} }};
	return event.request;
}`)
	_, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/", nil))
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != ExecutionError || !errors.Is(err, errBudget) {
		t.Fatalf("err = %v, want the budget's execution error", err)
	}
}

// FuzzLazyEventMatchesEager: whatever the viewer sends, each of
// lazyCases comes out the same from the lazy and the eager event.
func FuzzLazyEventMatchesEager(f *testing.F) {
	fns := make([]*config.Function, len(lazyCases))
	for i, body := range lazyCases {
		fns[i] = inline(f, fmt.Sprintf("fz%d", i), config.FunctionRuntime1, "function handler(event) { var r = event.request; "+body+" }")
	}
	lazy, eager := lazyAndEager(f, fns...)
	f.Add(uint8(0), "/a/b", "x=1&y=%20&x=2", "v", "a=1; b=2")
	f.Add(uint8(4), "/", "1=a&0=b&01=c", "", "")
	f.Add(uint8(31), "/%E2%82%AC", "=&&=x", "multi, value", "=; ;x")
	f.Fuzz(func(t *testing.T, which uint8, path, query, header, cookie string) {
		if !strings.HasPrefix(path, "/") || len(path)+len(query) > maxURIAndQuery {
			return
		}
		fn := fns[int(which)%len(fns)]
		mk := func() *http.Request {
			r, _ := http.NewRequest("GET", "http://example.com/", nil)
			r.URL.Path, r.URL.RawQuery = path, query
			r.Header.Set("X-Value", header)
			r.Header.Set("Cookie", cookie)
			return r
		}
		rl, re := mk(), mk()
		respL, errL := generatedBy(lazy, fn, rl)
		respE, errE := generatedBy(eager, fn, re)
		if errors.Is(errL, errBudget) || errors.Is(errE, errBudget) {
			t.Skip() // a slow machine
		}
		if got, want := outcome(rl, nil, 0, respL, errL), outcome(re, nil, 0, respE, errE); got != want {
			t.Fatalf("%s:\nlazy  %s\neager %s", lazyCases[int(which)%len(fns)], got, want)
		}
	})
}

// TestEventKeptPastItsRun: an object of the event that a function keeps
// in a global (the VM, and its globals, serve the next run) reads the
// values of the run it came from (headers, cookies and query string read
// during that run: TestLazyObjectsEndWithTheRun), and changing it changes
// nothing of a later run's request: one run never sees nor changes
// another request through it.
func TestEventKeptPastItsRun(t *testing.T) {
	fn := inline(t, "keeper", config.FunctionRuntime1, `var kept;
function handler(event) {
	var r = event.request;
	if (!kept) {
		kept = {event: event, request: r, headers: r.headers, cookies: r.cookies, query: r.querystring};
		Object.keys(r.headers).length + Object.keys(r.cookies).length + Object.keys(r.querystring).length; // read during the run
		return r;
	}
	if (r.uri === '/second') {
		kept.request.uri = '/changed-through-kept';
		kept.request.headers['x-through-kept'] = {value: '1'};
		kept.cookies.first = {value: 'changed'};
		delete kept.query.q;
		return r;
	}
	return {statusCode: 200, body: [kept.request.uri, kept.event.context.requestId, kept.event.viewer.ip,
		JSON.stringify(kept.headers), JSON.stringify(kept.cookies), JSON.stringify(kept.query), r.uri].join(' ')};
}`)
	rt := runtimeFor(t, nil, fn)
	run := func(target, cookie, id string) (*http.Request, *Response) {
		t.Helper()
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("X-Run", id)
		r.Header.Set("Cookie", cookie)
		info := testInfo
		info.RequestID, info.ViewerIP = id, "192.0.2."+strings.TrimPrefix(id, "run-")
		out, err := rt.ViewerRequest(context.Background(), fn, info, r)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return r, out.Response
	}
	if _, resp := run("/first?q=1", "first=1", "run-1"); resp != nil {
		t.Fatalf("run-1 answered %+v", resp)
	}
	r2, resp := run("/second?q=2", "second=2", "run-2")
	if resp != nil || r2.URL.Path != "/second" || r2.URL.RawQuery != "q=2" || r2.Header.Get("X-Through-Kept") != "" || r2.Header.Get("Cookie") != "second=2" {
		t.Fatalf("run-2 changed through run-1's objects: %v %v %v", resp, r2.URL, r2.Header)
	}
	_, resp = run("/third", "", "run-3")
	want := `/changed-through-kept run-1 192.0.2.1 {"host":{"value":"example.com"},"x-run":{"value":"run-1"},"x-through-kept":{"value":"1"}}` +
		` {"first":{"value":"changed"}} {} /third`
	if resp == nil || string(resp.Body) != want {
		t.Fatalf("run-3 read %v, want %s", resp, want)
	}
}

// TestLazyObjectsEndWithTheRun: the front ends reuse a connection's
// request, URL and header map for its next request, maybe another
// viewer's. A headers, cookies or query string object that a function
// keeps past its run without having read it during the run must not read
// the message then (it would read another request's values, while the
// connection writes them): reading it in a later run throws a TypeError.
// One read during its run keeps its values for good.
func TestLazyObjectsEndWithTheRun(t *testing.T) {
	fn := inline(t, "keeper-unread", config.FunctionRuntime1, `var kept, read;
function handler(event) {
	var r = event.request;
	if (!kept) {
		kept = r;
		read = {headers: r.headers, q: r.querystring.q};
		return r;
	}
	if (r.uri === '/third') {
		r.headers = read.headers;
		return r;
	}
	var out = [];
	['headers', 'cookies', 'querystring'].forEach(function (k) {
		try { out.push(k + '=' + JSON.stringify(kept[k])); } catch (e) { out.push(k + ':' + e.name); }
	});
	try { out.push('x' in kept.cookies); } catch (e) { out.push(e.name); }
	return {statusCode: 200, body: out.join(' ') + ' ' + JSON.stringify(read.q)};
}`)
	rt := runtimeFor(t, nil, fn)
	r := httptest.NewRequest("GET", "/first?q=1", nil)
	r.Header.Set("X-Viewer", "first")
	r.Header.Set("Cookie", "a=1")
	if _, err := rt.ViewerRequest(context.Background(), fn, testInfo, r); err != nil {
		t.Fatal(err)
	}
	// The connection's next request, in the same objects.
	clear(r.Header)
	r.Header.Set("X-Viewer", "someone else")
	r.Header.Set("Cookie", "b=2")
	r.URL.RawQuery = "q=other"
	resp, err := generatedBy(rt, fn, httptest.NewRequest("GET", "/second", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `headers:TypeError cookies:TypeError querystring={"q":{"value":"1"}} TypeError {"value":"1"}`
	if resp == nil || string(resp.Body) != want {
		t.Fatalf("a later run read %q, want %s", resp.Body, want)
	}
	// Returned as a later request's headers, they are no headers at all.
	r3 := httptest.NewRequest("GET", "/third", nil)
	r3.Header.Set("X-Viewer", "third")
	_, err = generatedBy(rt, fn, r3)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != ValidationError || r3.Header.Get("X-Viewer") != "third" {
		t.Fatalf("a later run returning them: %v, X-Viewer %q; want a validation error, the request unchanged", err, r3.Header.Get("X-Viewer"))
	}
}
