package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
)

// This file applies a behaviour's response headers policy to a viewer
// response, as the CloudFront Developer Guide describes it in "Understand
// response headers policies": the Remove headers section first, then the
// CORS, security and custom headers, then Server-Timing. Every header a
// section adds is kept from the origin unless that section overrides it.
//
// The header maps handled here share their value slices with cached entries
// (serveEntry copies slices, not strings), so a value is only ever replaced
// by a new slice, never appended to or edited in place.

// applyResponseHeaders mutates the viewer response header h for request r
// by policy p (nil: no policy, nothing changes); timing says what the proxy
// knows for the Server-Timing header.
func applyResponseHeaders(h http.Header, r *http.Request, p *config.ResponseHeadersPolicy, timing serverTiming) {
	if p == nil {
		return
	}
	// "CloudFront removes the headers first and then adds any headers that
	// are specified in other sections of the response headers policy."
	for _, name := range p.Remove {
		removeHeader(h, name)
	}
	if p.CORS != nil {
		applyCORS(h, r, p.CORS)
	}
	s := &p.Security
	setOverridable(h, "Content-Security-Policy", s.ContentSecurityPolicy)
	setOverridable(h, "X-Content-Type-Options", s.ContentTypeOptions)
	setOverridable(h, "X-Frame-Options", s.FrameOptions)
	setOverridable(h, "Referrer-Policy", s.ReferrerPolicy)
	setOverridable(h, "Strict-Transport-Security", s.StrictTransportSecurity)
	setOverridable(h, "X-Xss-Protection", s.XSSProtection)
	for _, c := range p.Custom {
		// A custom header may have an empty value: CloudFront adds it anyway.
		setHeader(h, c.Name, c.Value, c.Override)
	}
	if p.ServerTiming && timing.sampled(r, p.ServerTimingSampleRate) {
		h["Server-Timing"] = []string{timing.value(h)}
	}
}

// setOverridable applies one security header of a policy (nil: not set).
func setOverridable(h http.Header, name string, o *config.OverridableHeader) {
	if o != nil {
		setHeader(h, name, o.Value, o.Override)
	}
}

// setHeader sets name to value when the response lacks it, or when override
// is true; otherwise the origin's value is kept ("Origin override").
func setHeader(h http.Header, name, value string, override bool) {
	if _, ok := h[name]; ok && !override {
		return
	}
	h[name] = []string{value}
}

// removeHeader deletes a header of the Remove section, except the ones
// CloudFront does not let a policy remove (its API rejects them; see
// "Headers that you can't remove"). Server and Date may be removed, but
// CloudFront then sends its own: Server: CloudFront, and the Date net/http
// adds to every response that has none.
func removeHeader(h http.Header, name string) {
	name = http.CanonicalHeaderKey(name)
	if !removable(name) {
		return
	}
	delete(h, name)
	if name == "Server" {
		h["Server"] = []string{"CloudFront"}
	}
}

// removable reports whether a response headers policy may remove the
// canonical header name (config.UnremovableResponseHeader).
func removable(name string) bool { return !config.UnremovableResponseHeader(name) }

// corsAllMethods is what "ALL" in Access-Control-Allow-Methods stands for: every
// method CloudFront accepts, in the order of the managed policies.
const corsAllMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"

// applyCORS adds a policy's CORS headers to the response to a CORS request
// (one with an Origin header); other requests get none. A preflight (OPTIONS
// with Access-Control-Request-Method) also gets the preflight headers.
func applyCORS(h http.Header, r *http.Request, c *config.CORSConfig) {
	var add http.Header
	if isPreflight(r) {
		add = preflightHeaders(r, c)
	} else {
		add = corsHeaders(r, c)
	}
	for name, v := range add {
		if name == "Vary" {
			addVary(h, v[0])
			continue
		}
		if _, ok := h[name]; ok && !c.OriginOverride {
			// "When this setting is false and the origin response contains
			// a CORS header that's also in the policy, CloudFront includes
			// the CORS header it received from the origin."
			continue
		}
		h[name] = v
	}
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// preflightResponse returns the CORS headers of policy p for a preflight
// request r (OPTIONS with Origin and Access-Control-Request-Method); ok is
// false when r is not a preflight, p has no CORS section, or p does not
// allow r's Origin (then CloudFront adds no CORS header at all).
//
// CloudFront does not answer preflights by itself: a preflight is an OPTIONS
// request like any other (403 unless the behaviour allows OPTIONS), it goes
// to the cache or the origin, and the policy's headers are added to the
// response ("For preflight requests (using the HTTP OPTIONS method),
// CloudFront adds all three of the following headers to the response … If the
// response that CloudFront receives from the origin includes any of these
// headers, CloudFront uses the received header" — CORS-With-Preflight).
// applyResponseHeaders adds these headers itself; preflightResponse is for a
// caller that needs to know them on their own.
func preflightResponse(r *http.Request, p *config.ResponseHeadersPolicy) (http.Header, bool) {
	if p == nil || p.CORS == nil || !isPreflight(r) {
		return nil, false
	}
	h := preflightHeaders(r, p.CORS)
	return h, h != nil
}

// corsHeaders is what a CORS policy adds to the response to a CORS request
// that is not a preflight: Access-Control-Allow-Origin,
// Access-Control-Allow-Credentials and Access-Control-Expose-Headers (the
// others are "in responses to CORS preflight requests" only), plus
// Vary: Origin when the allowed origin is the request's own. nil when the
// request is not a CORS request or its origin is not allowed.
func corsHeaders(r *http.Request, c *config.CORSConfig) http.Header {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	allow, reflected := allowOrigin(origin, c)
	if allow == "" {
		return nil
	}
	h := http.Header{"Access-Control-Allow-Origin": {allow}}
	if reflected {
		h["Vary"] = []string{"Origin"}
	}
	if c.AllowCredentials {
		h["Access-Control-Allow-Credentials"] = []string{"true"}
	}
	if len(c.ExposeHeaders) > 0 {
		h["Access-Control-Expose-Headers"] = []string{strings.Join(c.ExposeHeaders, ", ")}
	}
	return h
}

// preflightHeaders is corsHeaders plus Access-Control-Allow-Methods,
// Access-Control-Allow-Headers and Access-Control-Max-Age.
func preflightHeaders(r *http.Request, c *config.CORSConfig) http.Header {
	h := corsHeaders(r, c)
	if h == nil {
		return nil
	}
	if len(c.AllowMethods) > 0 {
		h["Access-Control-Allow-Methods"] = []string{allowMethods(c.AllowMethods)}
	}
	if len(c.AllowHeaders) > 0 {
		h["Access-Control-Allow-Headers"] = []string{strings.Join(c.AllowHeaders, ", ")}
	}
	if c.MaxAgeSec >= 0 {
		h["Access-Control-Max-Age"] = []string{strconv.Itoa(c.MaxAgeSec)}
	}
	return h
}

// allowMethods renders Access-Control-Allow-Methods; "ALL" is every method.
func allowMethods(ms []string) string {
	for _, m := range ms {
		if m == "ALL" {
			return corsAllMethods
		}
	}
	return strings.Join(ms, ", ")
}

// allowOrigin returns the Access-Control-Allow-Origin value for a request
// from origin: "*" when the policy allows every origin, the request's origin
// when the policy lists it (reflected is then true), "" when it is not
// allowed. A wildcard policy that allows credentials reflects the origin
// too, since browsers refuse "*" on a credentialed response (the docs do
// not say what CloudFront sends there; reflecting is what makes the policy
// work).
func allowOrigin(origin string, c *config.CORSConfig) (allow string, reflected bool) {
	for _, o := range c.AllowOrigins {
		if o == "*" {
			if c.AllowCredentials && origin != "null" {
				return origin, true
			}
			return "*", false
		}
	}
	for _, o := range c.AllowOrigins {
		if originMatches(o, origin) {
			return origin, true
		}
	}
	return "", false
}

// originMatches reports whether a request Origin (scheme://host[:port])
// matches one AllowOrigins item: an origin compared case-insensitively, or a
// pattern whose leftmost host label is "*" ("https://*.example.org" or
// "*.example.org": one or more labels before example.org). An item without a
// scheme matches any scheme.
func originMatches(pattern, origin string) bool {
	if strings.EqualFold(pattern, origin) {
		return true
	}
	scheme, host, ok := strings.Cut(origin, "://")
	if !ok || host == "" {
		return false
	}
	pscheme, phost, hasScheme := strings.Cut(pattern, "://")
	if !hasScheme {
		phost = pattern
	} else if !strings.EqualFold(pscheme, scheme) {
		return false
	}
	if strings.EqualFold(phost, host) {
		return true
	}
	suffix, ok := strings.CutPrefix(phost, "*.")
	if !ok || suffix == "" || strings.Contains(suffix, "*") {
		return false
	}
	suffix = "." + suffix
	return len(host) > len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix) &&
		!strings.HasPrefix(host, ".")
}

// addVary adds name to the Vary header unless it is already listed (or
// Vary is "*"), with a new slice: the old one may be a cached entry's.
func addVary(h http.Header, name string) {
	old := h["Vary"]
	if fields.HasToken(old, "*") || fields.HasToken(old, name) {
		return
	}
	h["Vary"] = append(old[:len(old):len(old)], name)
}

// Server-Timing cache results (the cdn-cache-* metric).
const (
	timingHit     = "hit"     // served from the cache, no origin request
	timingRefresh = "refresh" // served from the cache after a 304 from the origin
	timingMiss    = "miss"    // the whole object came from the origin
)

// serverTiming is what the proxy knows about a response for CloudFront's
// Server-Timing header ("Server-Timing header metrics").
type serverTiming struct {
	cache     string // timingHit, timingRefresh, timingMiss, or "" (no cache result, e.g. a generated error)
	pop       string // cdn-pop
	requestID string // cdn-rid

	// hitLayer is cdn-hit-layer on a hit: "EDGE" (the default), "REC" or
	// "Origin Shield".
	hitLayer string
	// upstream is set when this response involved an origin request (a miss
	// or a refresh); the durations below are then reported.
	upstream        bool
	upstreamLayer   string        // cdn-upstream-layer, "EDGE" by default
	upstreamDNS     time.Duration // 0: cached DNS or a reused connection
	upstreamConnect time.Duration // 0: a reused connection
	upstreamFBL     time.Duration // origin first-byte latency
	// downstreamFBL is the time from the end of the viewer's request to the
	// first byte of the response: the caller measures it just before
	// writing the header.
	downstreamFBL time.Duration

	// roll draws a number in [0, 1) for sampling; nil never samples (only
	// a Pragma: server-timing request gets the header).
	roll func() float64
}

// sampled reports whether this response gets a Server-Timing header: a
// request with "Pragma: server-timing" always does, others at the policy's
// sampling rate (0–100, percent).
func (t serverTiming) sampled(r *http.Request, rate float64) bool {
	if fields.HasToken(r.Header["Pragma"], "server-timing") {
		return true
	}
	switch {
	case rate <= 0 || t.roll == nil:
		return false
	case rate >= 100:
		return true
	}
	return t.roll()*100 < rate
}

// value renders the Server-Timing header, in the order of the Developer
// Guide's examples. On a miss the origin's own Server-Timing (still in h) is
// kept, after CloudFront's metrics; on a hit it is dropped ("the value from
// the origin is not included").
func (t serverTiming) value(h http.Header) string {
	var b strings.Builder
	metric := func(name, param, v string) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		switch param {
		case "desc":
			b.WriteString(`;desc="`)
			b.WriteString(quotedString(v))
			b.WriteByte('"')
		case "dur":
			b.WriteString(";dur=")
			b.WriteString(v)
		}
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	if t.upstream {
		metric("cdn-upstream-layer", "desc", orDefault(t.upstreamLayer, "EDGE"))
		metric("cdn-upstream-dns", "dur", ms(t.upstreamDNS))
		metric("cdn-upstream-connect", "dur", ms(t.upstreamConnect))
		metric("cdn-upstream-fbl", "dur", ms(t.upstreamFBL))
	}
	switch t.cache {
	case timingHit:
		metric("cdn-cache-hit", "", "")
	case timingRefresh:
		metric("cdn-cache-refresh", "", "")
	case timingMiss:
		metric("cdn-cache-miss", "", "")
	}
	if t.pop != "" {
		metric("cdn-pop", "desc", t.pop)
	}
	if t.requestID != "" {
		metric("cdn-rid", "desc", t.requestID)
	}
	if t.cache == timingHit {
		metric("cdn-hit-layer", "desc", orDefault(t.hitLayer, "EDGE"))
	}
	metric("cdn-downstream-fbl", "dur", ms(t.downstreamFBL))
	if t.cache == timingMiss {
		for _, v := range h["Server-Timing"] {
			if v = strings.TrimSpace(v); v != "" {
				b.WriteByte(',')
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

// quotedString escapes s for an HTTP quoted-string.
func quotedString(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// timingOf maps an X-Cache result to its Server-Timing cache metric.
func timingOf(result string) string {
	switch result {
	case resultHit:
		return timingHit
	case resultRefreshHit:
		return timingRefresh
	case resultMiss:
		return timingMiss
	}
	return ""
}

// responseHeaders applies the behaviour's response headers policy, if any,
// to the viewer response a (whose Server-Timing reports its result, the
// cache layer of a hit, and whether the origin was asked for it).
func (s *Server) responseHeaders(x *exchange, h http.Header, a answer) {
	if x.b == nil || x.b.ResponseHeadersPolicy == nil {
		return
	}
	pop := ""
	if len(x.pop) > 0 {
		pop = x.pop[0]
	}
	applyResponseHeaders(h, x.r, x.b.ResponseHeadersPolicy, serverTiming{cache: timingOf(a.timing), pop: pop, requestID: x.id,
		hitLayer: a.hitLayer, upstream: a.upstream, downstreamFBL: s.now().Sub(x.start), roll: s.rand})
}
