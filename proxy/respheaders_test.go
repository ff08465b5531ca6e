package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// absent marks a header a row expects not to be in the response.
const absent = "<absent>"

// Managed response headers policy IDs ("Use managed response headers policies").
const (
	idSimpleCORS                    = "60669652-455b-4ae9-85a4-c4c02393f86c"
	idCORSWithPreflight             = "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
	idSecurityHeaders               = "67f7725c-6f97-4210-82d7-5512b31e9d03"
	idCORSAndSecurityHeaders        = "e61eb60c-9c35-4d20-a928-2b84e02af89c"
	idCORSWithPreflightAndSecurity  = "eaab4381-ed33-4a86-88ca-d9558dc6cd63"
	allMethods                      = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
	reqOrigin                       = "https://app.example.com"
	managedSecurityHeadersComment   = "SecurityHeadersPolicy: X-Content-Type-Options overrides, the others keep the origin's"
	corsRequestsOnlyComment         = "CORS headers go on responses to CORS requests (with Origin) only"
	preflightOnlyHeadersComment     = "Allow-Methods/-Headers/-Max-Age are for preflight responses only"
	originOverrideFalseKeepsComment = "OriginOverride false: the origin's CORS header is kept"
)

func managedPolicy(t *testing.T, id string) *config.ResponseHeadersPolicy {
	t.Helper()
	p, ok := config.ManagedResponseHeadersPolicy(id)
	if !ok {
		t.Fatalf("no managed response headers policy %s", id)
	}
	return p
}

// viewerRequest builds a request with header pairs.
func viewerRequest(method string, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, "http://d111111abcdef8.cloudfront.net/a.js", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// preflight is a CORS preflight from reqOrigin.
func preflight(hdr ...string) *http.Request {
	return viewerRequest(http.MethodOptions, append([]string{"Origin", reqOrigin, "Access-Control-Request-Method", "PUT"}, hdr...)...)
}

func headerOf(pairs ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Add(pairs[i], pairs[i+1])
	}
	return h
}

func checkHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for name, w := range want {
		vs, ok := h[http.CanonicalHeaderKey(name)]
		switch {
		case w == absent && ok:
			t.Errorf("%s = %q, want absent", name, vs)
		case w != absent && !ok:
			t.Errorf("%s absent, want %q", name, w)
		case w != absent && strings.Join(vs, ", ") != w:
			t.Errorf("%s = %q, want %q", name, strings.Join(vs, ", "), w)
		}
	}
}

func TestApplyResponseHeadersManaged(t *testing.T) {
	security := map[string]string{
		"Strict-Transport-Security": "max-age=31536000",
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "SAMEORIGIN",
		"X-XSS-Protection":          "1; mode=block",
		"Referrer-Policy":           "strict-origin-when-cross-origin",
		"Content-Security-Policy":   absent,
	}
	noSecurity := map[string]string{
		"Strict-Transport-Security": absent, "X-Content-Type-Options": absent, "X-Frame-Options": absent,
		"X-XSS-Protection": absent, "Referrer-Policy": absent,
	}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	cases := []struct {
		rule   string
		policy string
		req    *http.Request
		origin http.Header // the origin's response header
		want   map[string]string
	}{
		{"SimpleCORS: Access-Control-Allow-Origin: * on a simple CORS request", idSimpleCORS,
			viewerRequest("GET", "Origin", reqOrigin), nil,
			merge(noSecurity, map[string]string{"Access-Control-Allow-Origin": "*", "Vary": absent,
				"Access-Control-Allow-Methods": absent, "Access-Control-Allow-Credentials": absent,
				"Access-Control-Expose-Headers": absent})},
		{"SimpleCORS: " + corsRequestsOnlyComment, idSimpleCORS,
			viewerRequest("GET"), nil,
			map[string]string{"Access-Control-Allow-Origin": absent}},
		{"SimpleCORS: the origin's Access-Control-Allow-Origin is used (override origin: no)", idSimpleCORS,
			viewerRequest("GET", "Origin", reqOrigin), headerOf("Access-Control-Allow-Origin", "https://other.example"),
			map[string]string{"Access-Control-Allow-Origin": "https://other.example"}},
		{"SimpleCORS: a preflight gets the policy's methods (ALL) and headers (*)", idSimpleCORS,
			preflight(), nil,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": allMethods,
				"Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": absent}},
		{"CORS-With-Preflight: a preflight gets Allow-Origin, Allow-Methods, Allow-Headers", idCORSWithPreflight,
			preflight("Access-Control-Request-Headers", "x-api-key"), nil,
			merge(noSecurity, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": allMethods,
				"Access-Control-Allow-Headers": "*", "Access-Control-Expose-Headers": "*", "Access-Control-Max-Age": absent})},
		{"CORS-With-Preflight: " + preflightOnlyHeadersComment, idCORSWithPreflight,
			viewerRequest("GET", "Origin", reqOrigin), nil,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": absent,
				"Access-Control-Allow-Headers": absent, "Access-Control-Expose-Headers": "*"}},
		{"CORS-With-Preflight: " + originOverrideFalseKeepsComment + " (preflight)", idCORSWithPreflight,
			preflight(), headerOf("Access-Control-Allow-Methods", "GET"),
			map[string]string{"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Origin": "*"}},
		{"CORS-With-Preflight: OPTIONS without Access-Control-Request-Method is not a preflight", idCORSWithPreflight,
			viewerRequest("OPTIONS", "Origin", reqOrigin), nil,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": absent}},
		{"SecurityHeadersPolicy: every header added when the origin sends none", idSecurityHeaders,
			viewerRequest("GET"), nil, security},
		{"SecurityHeadersPolicy: no CORS headers, even for a CORS request", idSecurityHeaders,
			viewerRequest("GET", "Origin", reqOrigin), nil,
			merge(security, map[string]string{"Access-Control-Allow-Origin": absent})},
		{managedSecurityHeadersComment, idSecurityHeaders,
			viewerRequest("GET"), headerOf("X-Content-Type-Options", "sniff-me", "X-Frame-Options", "DENY",
				"Strict-Transport-Security", "max-age=60", "Referrer-Policy", "no-referrer", "X-XSS-Protection", "0"),
			map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
				"Strict-Transport-Security": "max-age=60", "Referrer-Policy": "no-referrer", "X-XSS-Protection": "0"}},
		{"CORS-and-SecurityHeadersPolicy: SimpleCORS plus the security headers", idCORSAndSecurityHeaders,
			viewerRequest("GET", "Origin", reqOrigin), nil,
			merge(security, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": absent})},
		{"CORS-and-SecurityHeadersPolicy: security headers without a CORS request", idCORSAndSecurityHeaders,
			viewerRequest("GET"), nil,
			merge(security, map[string]string{"Access-Control-Allow-Origin": absent})},
		{"CORS-With-Preflight-And-SecurityHeadersPolicy: a preflight gets both sets", idCORSWithPreflightAndSecurity,
			preflight(), nil,
			merge(security, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": allMethods,
				"Access-Control-Allow-Headers": "*"})},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			h := c.origin.Clone()
			if h == nil {
				h = http.Header{}
			}
			applyResponseHeaders(h, c.req, managedPolicy(t, c.policy), serverTiming{})
			checkHeaders(t, h, c.want)
		})
	}
}

func TestApplyResponseHeadersCustom(t *testing.T) {
	cors := func(mod func(*config.CORSConfig)) *config.ResponseHeadersPolicy {
		c := &config.CORSConfig{AllowOrigins: []string{reqOrigin}, AllowMethods: []string{"GET", "PUT"},
			AllowHeaders: []string{"X-Api-Key", "Authorization"}, MaxAgeSec: -1}
		if mod != nil {
			mod(c)
		}
		return &config.ResponseHeadersPolicy{Name: "custom", CORS: c}
	}
	cases := []struct {
		rule   string
		policy *config.ResponseHeadersPolicy
		req    *http.Request
		origin http.Header
		want   map[string]string
	}{
		{"a listed origin is reflected, with Vary: Origin added to the origin's Vary", cors(nil),
			viewerRequest("GET", "Origin", reqOrigin), headerOf("Vary", "Accept-Encoding"),
			map[string]string{"Access-Control-Allow-Origin": reqOrigin, "Vary": "Accept-Encoding, Origin"}},
		{"Vary: Origin is not repeated", cors(nil),
			viewerRequest("GET", "Origin", reqOrigin), headerOf("Vary", "accept-encoding, origin"),
			map[string]string{"Vary": "accept-encoding, origin"}},
		{"an origin not listed gets no CORS headers", cors(nil),
			viewerRequest("GET", "Origin", "https://evil.example"), nil,
			map[string]string{"Access-Control-Allow-Origin": absent, "Vary": absent}},
		{"origins compare case-insensitively", cors(nil),
			viewerRequest("GET", "Origin", "HTTPS://APP.example.com"), nil,
			map[string]string{"Access-Control-Allow-Origin": "HTTPS://APP.example.com"}},
		{"*.example.org: the leftmost label may be a wildcard", cors(func(c *config.CORSConfig) { c.AllowOrigins = []string{"https://*.example.org"} }),
			viewerRequest("GET", "Origin", "https://a.b.example.org"), nil,
			map[string]string{"Access-Control-Allow-Origin": "https://a.b.example.org", "Vary": "Origin"}},
		{"*.example.org does not match example.org itself", cors(func(c *config.CORSConfig) { c.AllowOrigins = []string{"https://*.example.org"} }),
			viewerRequest("GET", "Origin", "https://example.org"), nil,
			map[string]string{"Access-Control-Allow-Origin": absent}},
		{"https://*.example.org does not match another scheme", cors(func(c *config.CORSConfig) { c.AllowOrigins = []string{"https://*.example.org"} }),
			viewerRequest("GET", "Origin", "http://a.example.org"), nil,
			map[string]string{"Access-Control-Allow-Origin": absent}},
		{"*.example.org without a scheme matches any scheme", cors(func(c *config.CORSConfig) { c.AllowOrigins = []string{"*.example.org"} }),
			viewerRequest("GET", "Origin", "http://a.example.org"), nil,
			map[string]string{"Access-Control-Allow-Origin": "http://a.example.org"}},
		{"*.example.org does not match a look-alike domain", cors(func(c *config.CORSConfig) { c.AllowOrigins = []string{"*.example.org"} }),
			viewerRequest("GET", "Origin", "https://badexample.org"), nil,
			map[string]string{"Access-Control-Allow-Origin": absent}},
		{"Access-Control-Allow-Credentials: true when allowed", cors(func(c *config.CORSConfig) { c.AllowCredentials = true }),
			viewerRequest("GET", "Origin", reqOrigin), nil,
			map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Origin": reqOrigin}},
		{"credentials with *: the origin is reflected (a browser refuses * with credentials)",
			cors(func(c *config.CORSConfig) { c.AllowCredentials, c.AllowOrigins = true, []string{"*"} }),
			viewerRequest("GET", "Origin", reqOrigin), nil,
			map[string]string{"Access-Control-Allow-Origin": reqOrigin, "Vary": "Origin", "Access-Control-Allow-Credentials": "true"}},
		{"OriginOverride true: the policy's header replaces the origin's", cors(func(c *config.CORSConfig) { c.OriginOverride = true }),
			viewerRequest("GET", "Origin", reqOrigin), headerOf("Access-Control-Allow-Origin", "*"),
			map[string]string{"Access-Control-Allow-Origin": reqOrigin}},
		{"OriginOverride false: the origin's header is kept", cors(nil),
			viewerRequest("GET", "Origin", reqOrigin), headerOf("Access-Control-Allow-Origin", "*"),
			map[string]string{"Access-Control-Allow-Origin": "*"}},
		{"Access-Control-Max-Age on a preflight", cors(func(c *config.CORSConfig) { c.MaxAgeSec = 600 }),
			preflight(), nil,
			map[string]string{"Access-Control-Max-Age": "600", "Access-Control-Allow-Methods": "GET, PUT",
				"Access-Control-Allow-Headers": "X-Api-Key, Authorization"}},
		{"Access-Control-Max-Age not on a simple request", cors(func(c *config.CORSConfig) { c.MaxAgeSec = 600 }),
			viewerRequest("GET", "Origin", reqOrigin), nil,
			map[string]string{"Access-Control-Max-Age": absent}},
		{"Access-Control-Expose-Headers lists the policy's headers", cors(func(c *config.CORSConfig) { c.ExposeHeaders = []string{"X-Request-Id", "ETag"} }),
			viewerRequest("GET", "Origin", reqOrigin), nil,
			map[string]string{"Access-Control-Expose-Headers": "X-Request-Id, ETag"}},
		{"custom header: added when the origin lacks it, even with an empty value",
			&config.ResponseHeadersPolicy{Custom: []config.CustomResponseHeader{{Name: "X-Empty"}, {Name: "Cache-Control", Value: "max-age=60"}}},
			viewerRequest("GET"), nil,
			map[string]string{"X-Empty": "", "Cache-Control": "max-age=60"}},
		{"custom header: Override false keeps the origin's",
			&config.ResponseHeadersPolicy{Custom: []config.CustomResponseHeader{{Name: "Cache-Control", Value: "max-age=60"}}},
			viewerRequest("GET"), headerOf("Cache-Control", "no-store"),
			map[string]string{"Cache-Control": "no-store"}},
		{"custom header: Override true replaces the origin's",
			&config.ResponseHeadersPolicy{Custom: []config.CustomResponseHeader{{Name: "Cache-Control", Value: "max-age=60", Override: true}}},
			viewerRequest("GET"), headerOf("Cache-Control", "no-store"),
			map[string]string{"Cache-Control": "max-age=60"}},
		{"security header with Override true replaces the origin's",
			&config.ResponseHeadersPolicy{Security: config.SecurityHeaders{
				ContentSecurityPolicy: &config.OverridableHeader{Value: "default-src 'self'", Override: true},
				FrameOptions:          &config.OverridableHeader{Value: "DENY", Override: true}}},
			viewerRequest("GET"), headerOf("Content-Security-Policy", "default-src *", "X-Frame-Options", "SAMEORIGIN"),
			map[string]string{"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY"}},
		{"remove headers: X-Powered-By and Vary are removed",
			&config.ResponseHeadersPolicy{Remove: []string{"X-Powered-By", "Vary"}},
			viewerRequest("GET"), headerOf("X-Powered-By", "PHP", "Vary", "Accept-Encoding", "Content-Type", "text/plain"),
			map[string]string{"X-Powered-By": absent, "Vary": absent, "Content-Type": "text/plain"}},
		{"remove headers: Server removed is replaced by CloudFront's own",
			&config.ResponseHeadersPolicy{Remove: []string{"server"}},
			viewerRequest("GET"), headerOf("Server", "nginx"),
			map[string]string{"Server": "CloudFront"}},
		{"remove headers: headers that you can't remove stay",
			&config.ResponseHeadersPolicy{Remove: []string{"Via", "X-Cache", "X-Amz-Cf-Id", "X-Amz-Cf-Pop", "Content-Length", "X-Edge-Location"}},
			viewerRequest("GET"), headerOf("Via", "1.1 x.cloudfront.net (CloudFront)", "X-Cache", "Hit from cloudfront",
				"X-Amz-Cf-Id", "id", "X-Amz-Cf-Pop", "LOCAL1-C1", "Content-Length", "3", "X-Edge-Location", "x"),
			map[string]string{"Via": "1.1 x.cloudfront.net (CloudFront)", "X-Cache": "Hit from cloudfront",
				"X-Amz-Cf-Id": "id", "X-Amz-Cf-Pop": "LOCAL1-C1", "Content-Length": "3", "X-Edge-Location": "x"}},
		{"remove headers first: a removed header that another section adds is sent with the policy's value",
			&config.ResponseHeadersPolicy{Remove: []string{"Cache-Control"},
				Custom: []config.CustomResponseHeader{{Name: "Cache-Control", Value: "max-age=60"}}},
			viewerRequest("GET"), headerOf("Cache-Control", "no-store"),
			map[string]string{"Cache-Control": "max-age=60"}},
		{"no policy: nothing changes", nil,
			viewerRequest("GET", "Origin", reqOrigin), headerOf("X-Powered-By", "PHP"),
			map[string]string{"X-Powered-By": "PHP", "Access-Control-Allow-Origin": absent}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			h := c.origin.Clone()
			if h == nil {
				h = http.Header{}
			}
			applyResponseHeaders(h, c.req, c.policy, serverTiming{})
			checkHeaders(t, h, c.want)
		})
	}
}

// TestApplyResponseHeadersSharedSlices: viewer headers share their value
// slices with cached entries; adding Vary: Origin must not write into a
// cached slice's spare capacity.
func TestApplyResponseHeadersSharedSlices(t *testing.T) {
	cached := make([]string, 1, 4)
	cached[0] = "Accept-Encoding"
	h := http.Header{"Vary": cached}
	p := &config.ResponseHeadersPolicy{CORS: &config.CORSConfig{AllowOrigins: []string{reqOrigin}, MaxAgeSec: -1}}
	applyResponseHeaders(h, viewerRequest("GET", "Origin", reqOrigin), p, serverTiming{})
	if got := strings.Join(h["Vary"], ", "); got != "Accept-Encoding, Origin" {
		t.Fatalf("Vary = %q", got)
	}
	if spare := cached[:2][1]; spare != "" {
		t.Fatalf("the cached slice was written to: %q", spare)
	}
}

func TestPreflightResponse(t *testing.T) {
	withPreflight := managedPolicy(t, idCORSWithPreflight)
	cases := []struct {
		rule   string
		req    *http.Request
		policy *config.ResponseHeadersPolicy
		ok     bool
		want   map[string]string
	}{
		{"a preflight: the policy's preflight headers", preflight(), withPreflight, true,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": allMethods, "Access-Control-Allow-Headers": "*"}},
		{"GET is not a preflight", viewerRequest("GET", "Origin", reqOrigin, "Access-Control-Request-Method", "PUT"), withPreflight, false, nil},
		{"OPTIONS without Origin is not a preflight", viewerRequest("OPTIONS", "Access-Control-Request-Method", "PUT"), withPreflight, false, nil},
		{"a policy without CORS answers none", preflight(), managedPolicy(t, idSecurityHeaders), false, nil},
		{"no policy answers none", preflight(), nil, false, nil},
		{"an origin the policy does not allow", preflight(),
			&config.ResponseHeadersPolicy{CORS: &config.CORSConfig{AllowOrigins: []string{"https://other.example"}, MaxAgeSec: -1}}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			h, ok := preflightResponse(c.req, c.policy)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (%v)", ok, c.ok, h)
			}
			if ok {
				checkHeaders(t, h, c.want)
			}
		})
	}
}

func TestServerTiming(t *testing.T) {
	const rid = "yNPsyYn7skvTzwWkq3Wcc8Nj_foxUjQUe9H1ifslzWhb0w7aLbFvGg=="
	miss := serverTiming{cache: timingMiss, pop: "PHX50-C2", requestID: rid, upstream: true,
		upstreamConnect: 114 * time.Millisecond, upstreamFBL: 177 * time.Millisecond, downstreamFBL: 436 * time.Millisecond}
	hit := serverTiming{cache: timingHit, pop: "SEA19-C1", requestID: rid, hitLayer: "REC", downstreamFBL: 137 * time.Millisecond}
	always := func(rate float64) *config.ResponseHeadersPolicy {
		return &config.ResponseHeadersPolicy{ServerTiming: true, ServerTimingSampleRate: rate}
	}
	roll := func(v float64) func() float64 { return func() float64 { return v } }
	with := func(t serverTiming, f func() float64) serverTiming { t.roll = f; return t }
	cases := []struct {
		rule   string
		policy *config.ResponseHeadersPolicy
		req    *http.Request
		timing serverTiming
		origin http.Header
		want   string // absent: no header
	}{
		{"cache miss: the guide's example", always(100), viewerRequest("GET"), with(miss, roll(0.99)), nil,
			`cdn-upstream-layer;desc="EDGE",cdn-upstream-dns;dur=0,cdn-upstream-connect;dur=114,cdn-upstream-fbl;dur=177,cdn-cache-miss,cdn-pop;desc="PHX50-C2",cdn-rid;desc="` + rid + `",cdn-downstream-fbl;dur=436`},
		{"cache hit: the guide's example", always(100), viewerRequest("GET"), with(hit, roll(0)), nil,
			`cdn-cache-hit,cdn-pop;desc="SEA19-C1",cdn-rid;desc="` + rid + `",cdn-hit-layer;desc="REC",cdn-downstream-fbl;dur=137`},
		{"refresh hit: cdn-cache-refresh with the upstream metrics", always(100), viewerRequest("GET"),
			with(serverTiming{cache: timingRefresh, pop: "P", requestID: "r", upstream: true, upstreamFBL: 5 * time.Millisecond}, roll(0)), nil,
			`cdn-upstream-layer;desc="EDGE",cdn-upstream-dns;dur=0,cdn-upstream-connect;dur=0,cdn-upstream-fbl;dur=5,cdn-cache-refresh,cdn-pop;desc="P",cdn-rid;desc="r",cdn-downstream-fbl;dur=0`},
		{"miss: the origin's Server-Timing is kept after CloudFront's metrics", always(100), viewerRequest("GET"),
			with(serverTiming{cache: timingMiss, pop: "P", requestID: "r"}, roll(0)), headerOf("Server-Timing", "db;dur=53"),
			`cdn-cache-miss,cdn-pop;desc="P",cdn-rid;desc="r",cdn-downstream-fbl;dur=0,db;dur=53`},
		{"hit: the origin's Server-Timing is not included", always(100), viewerRequest("GET"),
			with(serverTiming{cache: timingHit, pop: "P", requestID: "r"}, roll(0)), headerOf("Server-Timing", "db;dur=53"),
			`cdn-cache-hit,cdn-pop;desc="P",cdn-rid;desc="r",cdn-hit-layer;desc="EDGE",cdn-downstream-fbl;dur=0`},
		{"sampling rate 0: no header", always(0), viewerRequest("GET"), with(hit, roll(0)), nil, absent},
		{"sampling rate 0 with Pragma: server-timing: the header", always(0), viewerRequest("GET", "Pragma", "no-cache, Server-Timing"), hit, nil,
			`cdn-cache-hit,cdn-pop;desc="SEA19-C1",cdn-rid;desc="` + rid + `",cdn-hit-layer;desc="REC",cdn-downstream-fbl;dur=137`},
		{"sampling rate 50, drawn 0.3: sampled", always(50), viewerRequest("GET"), with(serverTiming{cache: timingHit}, roll(0.3)), nil,
			`cdn-cache-hit,cdn-hit-layer;desc="EDGE",cdn-downstream-fbl;dur=0`},
		{"sampling rate 50, drawn 0.7: not sampled", always(50), viewerRequest("GET"), with(hit, roll(0.7)), nil, absent},
		{"sampling rate 12.5, drawn 0.125: not sampled (strictly below)", always(12.5), viewerRequest("GET"), with(hit, roll(0.125)), nil, absent},
		{"no random source: only Pragma requests are sampled", always(50), viewerRequest("GET"), hit, nil, absent},
		{"disabled: no header, even with Pragma", &config.ResponseHeadersPolicy{ServerTimingSampleRate: 100},
			viewerRequest("GET", "Pragma", "server-timing"), with(hit, roll(0)), nil, absent},
		{"disabled: the origin's header passes untouched", &config.ResponseHeadersPolicy{},
			viewerRequest("GET"), with(hit, roll(0)), headerOf("Server-Timing", "db;dur=53"), "db;dur=53"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			h := c.origin.Clone()
			if h == nil {
				h = http.Header{}
			}
			applyResponseHeaders(h, c.req, c.policy, c.timing)
			checkHeaders(t, h, map[string]string{"Server-Timing": c.want})
		})
	}
}

func TestServerTimingSamplingRate(t *testing.T) {
	// A deterministic sweep of the random source: rate 25 samples a quarter.
	p := &config.ResponseHeadersPolicy{ServerTiming: true, ServerTimingSampleRate: 25}
	n, sampled := 1000, 0
	for i := range n {
		v := float64(i) / float64(n)
		h := http.Header{}
		applyResponseHeaders(h, viewerRequest("GET"), p, serverTiming{cache: timingHit, roll: func() float64 { return v }})
		if _, ok := h["Server-Timing"]; ok {
			sampled++
		}
	}
	if sampled != 250 {
		t.Fatalf("sampled %d of %d, want 250", sampled, n)
	}
}
