package proxy_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// hookLog records, in order, the points where hooks ran and what they saw.
type hookLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *hookLog) add(s string) {
	l.mu.Lock()
	l.seen = append(l.seen, s)
	l.mu.Unlock()
}

func (l *hookLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.seen, " ")
	l.seen = nil
	return s
}

// TestHookSeams: edge code installed at the four hook points runs where
// CloudFront runs it, in request order, with the request's data: the
// viewer-request hook on every request, before the cache key (a rewrite
// changes what is cached and fetched; a generated answer never reaches the
// origin); origin-request and origin-response once per origin fetch (not
// on hits), able to change the origin request and, before it is stored,
// the response; viewer-response on every answer from the cache or origin.
func TestHookSeams(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write([]byte("origin " + r.URL.Path + " " + r.Header.Get("X-From-Origin-Request")))
	})
	var log hookLog
	hooks := proxy.Hooks{
		proxy.ViewerRequest: func(_ context.Context, ev *proxy.Event) error {
			log.add("viewer-request:" + ev.Request.URL.Path + ":" + ev.Behavior.PathPattern)
			switch ev.Request.URL.Path {
			case "/old":
				ev.Request.URL.Path = "/new"
			case "/generated":
				ev.Response = &proxy.GeneratedResponse{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("from the edge")}
			case "/broken":
				return errors.New("edge code threw")
			case "/throws":
				return &proxy.HookError{Status: 503, Message: "The CloudFront function threw an error.", Result: "FunctionExecutionError", Err: errors.New("TypeError")}
			}
			return nil
		},
		proxy.OriginRequest: func(_ context.Context, ev *proxy.Event) error {
			log.add("origin-request:" + ev.OriginRequest.Path)
			ev.OriginRequest.Header.Set("X-From-Origin-Request", "yes")
			return nil
		},
		proxy.OriginResponse: func(_ context.Context, ev *proxy.Event) error {
			log.add("origin-response:" + http.StatusText(ev.Status))
			ev.Header.Set("X-Stored-By-Hook", "1")
			return nil
		},
		proxy.ViewerResponse: func(_ context.Context, ev *proxy.Event) error {
			log.add("viewer-response:" + http.StatusText(ev.Status))
			ev.Header.Set("X-Viewer-Response", "1")
			return nil
		},
	}
	e := newEdgeWith(t, oneOrigin, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Hooks = hooks })
	const host = "d111111abcdef8.cloudfront.net"

	r := e.do("GET", "/a/../old", "Host", host)
	if r.status != 200 || r.body != "origin /new yes" || r.xcache() != "Miss from cloudfront" ||
		r.header.Get("X-Stored-By-Hook") != "1" || r.header.Get("X-Viewer-Response") != "1" {
		t.Errorf("miss: %d %q %q %v", r.status, r.body, r.xcache(), r.header)
	}
	if got, want := log.take(), "viewer-request:/old:* origin-request:/new origin-response:OK viewer-response:OK"; got != want {
		t.Errorf("miss ran %q, want %q", got, want)
	}
	// The rewritten path is what was cached: /new is a hit, and what the
	// origin-response hook added was stored with it.
	r = e.do("GET", "/new", "Host", host)
	if r.xcache() != "Hit from cloudfront" || r.body != "origin /new yes" || r.header.Get("X-Stored-By-Hook") != "1" {
		t.Errorf("hit: %q %q %v", r.xcache(), r.body, r.header)
	}
	if got, want := log.take(), "viewer-request:/new:* viewer-response:OK"; got != want {
		t.Errorf("hit ran %q, want %q", got, want)
	}
	r = e.do("GET", "/generated", "Host", host)
	if r.status != 200 || r.body != "from the edge" || r.xcache() != "FunctionGeneratedResponse from cloudfront" || r.header.Get("X-Viewer-Response") != "" {
		t.Errorf("generated: %d %q %q", r.status, r.body, r.xcache())
	}
	if got, want := log.take(), "viewer-request:/generated:*"; got != want {
		t.Errorf("generated ran %q, want %q", got, want)
	}
	if r := e.do("GET", "/broken", "Host", host); r.status != 502 || r.xcache() != "Error from cloudfront" {
		t.Errorf("failing edge code: %d %q", r.status, r.xcache())
	}
	if r := e.do("GET", "/throws", "Host", host); r.status != 503 || !strings.Contains(r.body, "The CloudFront function threw an error.") ||
		r.xcache() != "FunctionExecutionError from cloudfront" {
		t.Errorf("a HookError: %d %q %q", r.status, r.xcache(), r.body)
	}
	log.take()
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin requests %d, want 1 (the miss)", n)
	}
}

// TestSetHooksAtLoad: hooks set with SetHooks take effect at the next Load
// (a reload can add or drop edge code), and each event carries the viewer
// request's ID, the X-Amz-Cf-Id it is answered with.
func TestSetHooksAtLoad(t *testing.T) {
	o := newOrigin(t, static("page", "Cache-Control", "max-age=60"))
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	const host = "d111111abcdef8.cloudfront.net"
	var seen []string
	var mu sync.Mutex
	e.srv.SetHooks(proxy.Hooks{proxy.ViewerRequest: func(_ context.Context, ev *proxy.Event) error {
		mu.Lock()
		seen = append(seen, ev.RequestID)
		mu.Unlock()
		return nil
	}})
	if r := e.do("GET", "/a", "Host", host); r.status != 200 || len(seen) != 0 {
		t.Fatalf("before Load: %d, hook ran %d times", r.status, len(seen))
	}
	reload := func() {
		t.Helper()
		if err := e.srv.Load(e.srv.Config()); err != nil {
			t.Fatal(err)
		}
	}
	reload()
	r := e.do("GET", "/a", "Host", host)
	if len(seen) != 1 || seen[0] != r.header.Get("X-Amz-Cf-Id") {
		t.Errorf("after Load: hook saw request IDs %q, the response's is %q", seen, r.header.Get("X-Amz-Cf-Id"))
	}
	e.srv.SetHooks(nil)
	reload()
	e.do("GET", "/a", "Host", host)
	if len(seen) != 1 {
		t.Errorf("after SetHooks(nil) and Load the hook still ran (%d)", len(seen))
	}
}

// twoOrigins is a distribution with two origins, web (cached) and api
// (/api/*, not cached), each answering with its own name.
const twoOrigins = `
distributions:
  - id: ETESTDIST0001
    originEndpoints: {web: "{{web}}", api: "{{api}}"}
    config:
      CallerReference: test
      Enabled: true
      Origins:
        Items:
          - {Id: web, DomainName: web.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: api, DomainName: api.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      CacheBehaviors:
        Items:
          - {PathPattern: "/api/*", TargetOriginId: api, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`

// TestHookOriginOverride: edge code chooses the origin of one request — at
// viewer-request (CloudFront Functions' cf.updateRequestOrigin: a changed
// copy of the target; cf.selectRequestOriginById: another of the
// distribution's origins) and at origin-request (a Lambda@Edge function
// changing request.origin, which sees the origin about to be asked) — and
// the request is really fetched from there, cached under its usual key.
func TestHookOriginOverride(t *testing.T) {
	web := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/group" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		static("web", "Cache-Control", "max-age=600")(w, r)
	})
	api := newOrigin(t, static("api", "Cache-Control", "max-age=600"))
	var mu sync.Mutex
	var sawAtOriginRequest []string
	hooks := proxy.Hooks{
		proxy.ViewerRequest: func(_ context.Context, ev *proxy.Event) error {
			switch ev.Request.URL.Path {
			case "/moved", "/api/moved":
				o := *ev.Distribution.Origins[ev.Behavior.TargetOriginID]
				o.Endpoints = []string{api.URL}
				if ev.Behavior.TargetOriginID == "api" {
					o.Endpoints = []string{web.URL}
				}
				ev.Origin = &o
			case "/selected":
				ev.Origin = ev.Distribution.Origins["api"]
			case "/group":
				ev.OriginGroup = &config.OriginGroup{ID: "made-for-this-request", Members: []string{"web", "api"}, FailoverCodes: []int{500}}
			}
			return nil
		},
		proxy.OriginRequest: func(_ context.Context, ev *proxy.Event) error {
			mu.Lock()
			sawAtOriginRequest = append(sawAtOriginRequest, ev.OriginRequest.Path+"@"+ev.Origin.ID)
			mu.Unlock()
			if ev.OriginRequest.Path == "/lambda" {
				ev.Origin = ev.Distribution.Origins["api"]
			}
			return nil
		},
	}
	e := newEdgeWith(t, twoOrigins, map[string]string{"web": web.URL, "api": api.URL}, func(opts *proxy.Options) { opts.Hooks = hooks })
	cases := []struct {
		path, body string
		cached     bool
	}{
		{"/plain", "web", true},
		{"/moved", "api", true},    // a changed copy of the target: its own fetcher
		{"/selected", "api", true}, // another origin of the distribution
		{"/lambda", "api", true},   // changed at origin-request
		{"/group", "api", true},    // an origin group made for the request: web fails over to api
		{"/api/plain", "api", false},
		{"/api/moved", "web", false}, // a request that is not cached goes there too
	}
	for _, c := range cases {
		r := e.do("GET", c.path)
		if r.status != 200 || r.body != c.body {
			t.Errorf("%s: %d %q, want the %s origin's answer", c.path, r.status, r.body, c.body)
		}
		if !c.cached {
			continue
		}
		if r := e.do("GET", c.path); r.xcache() != "Hit from cloudfront" || r.body != c.body {
			t.Errorf("%s again: %q %q, want a hit of the %s origin's answer", c.path, r.xcache(), r.body, c.body)
		}
	}
	if n := api.pathHits("/moved") + api.pathHits("/selected") + api.pathHits("/lambda"); n != 3 {
		t.Errorf("the api origin had %d requests for the moved paths, want 3", n)
	}
	if n := web.pathHits("/moved") + web.pathHits("/selected") + web.pathHits("/lambda"); n != 0 {
		t.Errorf("the web origin had %d requests for the moved paths, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "/plain@web /moved@web /selected@api /lambda@web /group@web /api/plain@api /api/moved@api"
	if got := strings.Join(sawAtOriginRequest, " "); got != want {
		t.Errorf("origin-request saw %q, want %q", got, want)
	}
}

// TestHookResponseChanges: a viewer-response hook may change the status the
// viewer gets (a CloudFront Function's statusCode), on misses and hits
// alike, without changing what is cached; an origin-response hook may
// replace the origin's answer, body included, and the replacement is what
// is cached.
func TestHookResponseChanges(t *testing.T) {
	o := newOrigin(t, static("from the origin", "Cache-Control", "max-age=600"))
	hooks := proxy.Hooks{
		proxy.OriginRequest: func(_ context.Context, ev *proxy.Event) error {
			if ev.OriginRequest.Path == "/lambda-fails" {
				return &proxy.HookError{Status: 503, Message: "The Lambda function returned an error.", Result: "LambdaExecutionError", Err: errors.New("handler threw")}
			}
			return nil
		},
		proxy.OriginResponse: func(_ context.Context, ev *proxy.Event) error {
			if ev.OriginRequest.Path == "/replaced" {
				ev.Response = &proxy.GeneratedResponse{Status: 200, Body: []byte("replaced at origin-response"),
					Header: http.Header{"Cache-Control": {"max-age=600"}, "Content-Type": {"text/plain"}}}
			}
			return nil
		},
		proxy.ViewerResponse: func(_ context.Context, ev *proxy.Event) error {
			if ev.Request.URL.Path == "/gone" {
				ev.Status = http.StatusGone
			}
			return nil
		},
	}
	e := newEdgeWith(t, oneOrigin, map[string]string{"web": o.URL}, func(opts *proxy.Options) { opts.Hooks = hooks })
	const host = "d111111abcdef8.cloudfront.net"
	for _, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		if r := e.do("GET", "/gone", "Host", host); r.status != http.StatusGone || r.body != "from the origin" || r.xcache() != want {
			t.Errorf("/gone: %d %q %q, want 410 with the origin's body (%s)", r.status, r.body, r.xcache(), want)
		}
		if r := e.do("GET", "/replaced", "Host", host); r.status != 200 || r.body != "replaced at origin-response" || r.xcache() != want {
			t.Errorf("/replaced: %d %q %q, want the replacement (%s)", r.status, r.body, r.xcache(), want)
		}
	}
	if r := e.do("GET", "/lambda-fails", "Host", host); r.status != 503 || r.xcache() != "LambdaExecutionError from cloudfront" ||
		!strings.Contains(r.body, "The Lambda function returned an error.") {
		t.Errorf("/lambda-fails: %d %q %q, want 503 LambdaExecutionError", r.status, r.xcache(), r.body)
	}
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin requests %d, want 2", n)
	}
}

// TestHookKeepsDefaultRootObject: with viewer-request edge code installed,
// a request for "/" that the code leaves as it is still gets the
// distribution's DefaultRootObject.
func TestHookKeepsDefaultRootObject(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("origin " + r.URL.Path)) })
	e := newEdgeWith(t, webSettings("", `      DefaultRootObject: index.html
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
`), map[string]string{"web": o.URL}, func(opts *proxy.Options) {
		opts.Hooks = proxy.Hooks{proxy.ViewerRequest: func(context.Context, *proxy.Event) error { return nil }}
	})
	if r := e.do("GET", "/"); r.status != 200 || r.body != "origin /index.html" {
		t.Errorf("/ with viewer-request code: %d %q, want the default root object", r.status, r.body)
	}
}
