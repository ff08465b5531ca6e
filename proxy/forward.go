package proxy

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/origin"
)

// conditionalHeaders are forwarded on requests that are not cached, where the
// origin answers the viewer directly; on cached requests edgefront answers
// conditionals and ranges itself from the whole object.
var conditionalHeaders = map[string]bool{
	"If-Match": true, "If-None-Match": true, "If-Modified-Since": true, "If-Unmodified-Since": true,
	"If-Range": true, "Range": true,
}

// originRequest builds what is sent to the origin, as CloudFront does:
// headers, cookies and query strings in the cache key or chosen by the
// origin request policy; Via, X-Forwarded-For and X-Amz-Cf-Id added;
// User-Agent "Amazon CloudFront" and the origin's own Host unless the
// viewer's are forwarded. passThrough (a request that is not cached) also
// forwards the viewer's body, Content-Type, conditional and Range headers:
// the origin's answer goes to this viewer alone.
func (s *Server) originRequest(x *exchange, method, enc string, passThrough bool) *origin.Request {
	r, b := x.r, x.b
	cp, orp := b.CachePolicy, b.OriginRequestPolicy
	out := make(http.Header, len(r.Header)+4)

	hopByHop := fields.HopByHop(r.Header)
	for name, vals := range r.Header {
		switch {
		case hopByHop(name):
		case geo.IsCloudFrontHeader(name):
			// CloudFront-Viewer-* and CloudFront-Is-* are edgefront's to
			// set (below); a viewer cannot claim its own country.
		case neverForwarded(name):
		case name == "Cookie" || name == "Accept-Encoding":
			// Cookies are filtered below; Accept-Encoding is normalised.
		case name == "Content-Length":
			// Set by the transport from the body's length.
		case name == "Content-Type":
			if passThrough {
				out[name] = vals
			}
		case passThrough && conditionalHeaders[name]:
			out[name] = vals
		case name == "Authorization":
			// A cached request carries Authorization only when the cache
			// policy puts it in the key: otherwise one viewer's
			// authenticated answer would be served to the next. An origin
			// request policy forwards it only on requests that are not
			// cached (CloudFront refuses such a policy for cached
			// behaviours; "Configure CloudFront to forward the
			// Authorization header").
			if cp.Headers.Includes(name) || passThrough && orp.Headers.Includes(name) {
				out[name] = vals
			}
		case cp.Headers.Includes(name) || orp.Headers.Includes(name):
			out[name] = vals
		}
	}

	// Accept-Encoding: when the cache policy normalises it, the origin gets
	// exactly the encoding in the key, so what is cached under it suits
	// every viewer that maps to it; otherwise the header goes only when a
	// policy forwards it.
	// An HTTP/1.0 request loses its Accept-Encoding (ServingCompressedFiles).
	ae, sent := r.Header["Accept-Encoding"]
	sent = sent && r.ProtoAtLeast(1, 1)
	if cp.EnableAcceptEncodingGzip || cp.EnableAcceptEncodingBrotli {
		if !passThrough {
			if v, ok := cache.OriginAcceptEncoding(enc, sent); ok {
				out["Accept-Encoding"] = []string{v}
			}
		} else if sent {
			out["Accept-Encoding"] = ae
		}
	} else if sent && (cp.Headers.Includes("Accept-Encoding") || orp.Headers.Includes("Accept-Encoding")) {
		out["Accept-Encoding"] = ae
	}

	s.viewerHeaders(x, out, func(name string) bool {
		return named(cp.Headers, name) || named(orp.Headers, name)
	})

	if c := forwardedCookies(r, cp.Cookies, orp.Cookies); c != "" {
		out["Cookie"] = []string{c}
	}

	// Toward the origin CloudFront adds itself to Via, the viewer's address
	// to X-Forwarded-For, and its request ID.
	if prior := r.Header.Values("Via"); len(prior) > 0 {
		out["Via"] = []string{strings.Join(prior, ", ") + ", " + s.viaFor(x)[0]}
	} else {
		out["Via"] = s.viaFor(x)
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		out["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + ip}
	} else {
		out["X-Forwarded-For"] = []string{ip}
	}
	out["X-Amz-Cf-Id"] = x.idHeader
	// "CloudFront replaces this header with Connection: Keep-Alive"
	// (RequestAndResponseBehaviorCustomOrigin).
	out["Connection"] = keepAlive
	if _, ok := out["User-Agent"]; !ok {
		out["User-Agent"] = []string{"Amazon CloudFront"}
	}

	host := ""
	if cp.Headers.Includes("Host") || orp.Headers.Includes("Host") {
		host = r.Host
	}

	req := &origin.Request{
		Method:        method,
		Path:          escapedPath(x),
		RawQuery:      forwardedQuery(r.URL.RawQuery, cp.QueryStrings, orp.QueryStrings),
		Header:        out,
		Host:          host,
		ViewerHTTPS:   x.https(),
		ContentLength: 0,
	}
	if passThrough && r.Body != nil && r.Body != http.NoBody {
		req.Body = r.Body
		req.ContentLength = r.ContentLength
	}
	return req
}

// escapedPath is the request path toward the origin, after the default root
// object.
func escapedPath(x *exchange) string {
	if x.path != x.r.URL.Path {
		return (&url.URL{Path: x.path}).EscapedPath()
	}
	return x.r.URL.EscapedPath()
}

// forwardedQuery keeps the viewer's query parameters that either selection
// includes, in the viewer's order and spelling.
func forwardedQuery(raw string, a, b config.Selection) string {
	if raw == "" || a.Behavior == config.SelectAll || b.Behavior == config.SelectAll {
		return raw
	}
	if isNone(a) && isNone(b) {
		return ""
	}
	var kept []string
	for _, part := range strings.Split(raw, "&") {
		name := part
		if i := strings.IndexByte(part, '='); i >= 0 {
			name = part[:i]
		}
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if a.Includes(name) || b.Includes(name) {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "&")
}

// forwardedCookies returns the Cookie header value with the cookies either
// selection includes.
//
// "CloudFront sorts the cookies in natural order by cookie name before
// forwarding the request to your origin" (Cookies): the origin gets them as
// name=value pairs sorted by name (a stable sort: cookies of one name keep
// the viewer's order).
func forwardedCookies(r *http.Request, a, b config.Selection) string {
	if isNone(a) && isNone(b) {
		return ""
	}
	all := a.Behavior == config.SelectAll || b.Behavior == config.SelectAll
	var kept []*http.Cookie
	for _, c := range r.Cookies() {
		if all || a.Includes(c.Name) || b.Includes(c.Name) {
			kept = append(kept, c)
		}
	}
	slices.SortStableFunc(kept, func(x, y *http.Cookie) int { return strings.Compare(x.Name, y.Name) })
	var sb strings.Builder
	for i, c := range kept {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(c.Name)
		sb.WriteByte('=')
		sb.WriteString(c.Value)
	}
	return sb.String()
}

// keepAlive is the Connection header of every origin request.
var keepAlive = []string{"Keep-Alive"}

// neverForwarded reports whether CloudFront removes a viewer's request
// header whatever the policies say (RequestAndResponseBehaviorCustomOrigin,
// "HTTP request headers and CloudFront behavior": the headers it removes
// and cannot cache on). The hop-by-hop fields (Proxy-*, TE, Trailer,
// Upgrade…) are removed as such (fields.HopByHop).
func neverForwarded(name string) bool {
	switch name {
	case "Expect", "X-Forwarded-Proto", "X-Real-Ip":
		return true
	}
	return len(name) >= len("X-Edge-") && strings.EqualFold(name[:len("X-Edge-")], "X-Edge-")
}

// bodyReader remembers a failure to read the viewer's request body.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// named reports whether a selection lists name: CloudFront adds its own
// CloudFront-* headers only when a policy names them (allViewer forwards the
// viewer's headers, not CloudFront's).
func named(sel config.Selection, name string) bool {
	switch sel.Behavior {
	case config.SelectWhitelist, config.SelectAllViewerAndWhitelistCloudFront:
		for _, it := range sel.Items {
			if strings.EqualFold(it, name) {
				return true
			}
		}
	}
	return false
}

func isNone(s config.Selection) bool { return s.Behavior == "" || s.Behavior == config.SelectNone }

// passThrough sends a request that is not cached straight to the origin and
// streams the answer back.
func (s *Server) passThrough(x *exchange) {
	t := s.target(x)
	if t.fetcher == nil {
		s.sendError(x, http.StatusBadGateway, msgOriginConnect)
		return
	}
	if s.viewerGone(x) {
		return
	}
	req := s.originRequest(x, x.r.Method, "", true)
	var body *bodyReader
	if req.Body != nil {
		body = &bodyReader{r: req.Body}
		req.Body = body
	}
	interim := newInterim(x)
	req.Interim = interim.interimFunc()
	start := s.now()
	resp, err := s.fetch(x.r.Context(), &t, req)
	interim.close()
	if err != nil && body != nil && body.err != nil {
		// The viewer's own body could not be read (a malformed chunked
		// encoding): the viewer's fault, not the origin's.
		x.w.Header().Set("Connection", "close")
		s.sendError(x, http.StatusBadRequest, msgBadRequestBody)
		return
	}
	if err != nil {
		s.metrics.originFetch(t.originID(), origin.StatusOf(err), s.now().Sub(start))
		if x.r.Context().Err() != nil {
			return
		}
		s.log.Warn("origin fetch failed", "distribution", x.ds.dist.ID, "origin", t.originID(), "path", x.path, "err", err)
		s.fail(x, failureOf(err))
		return
	}
	s.metrics.originFetch(t.originID(), resp.StatusCode, s.now().Sub(start))
	defer resp.Body.Close()
	s.invalidateAfterUnsafe(x, resp)
	s.writeOriginResponse(x, resp, phasePass)
}

// invalidateAfterUnsafe invalidates, for a distribution under RFC 9111,
// what a successful POST, PUT, DELETE or PATCH may have changed: the
// target URI and the same-origin URIs its answer's Location and
// Content-Location name (RFC 9111 §4.4). Every cached variant of each path
// goes (all query strings and encodings: more than the RFC's minimum),
// through the store's invalidation index, so hits cost no more for it.
// CloudFront invalidates nothing on unsafe methods.
func (s *Server) invalidateAfterUnsafe(x *exchange, resp *origin.Response) {
	if !x.ds.dist.RFC9111() || resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return
	}
	switch x.r.Method {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
	default:
		return
	}
	paths := []string{escapedPath(x)}
	for _, name := range [...]string{"Location", "Content-Location"} {
		if p, ok := sameOriginPath(x, resp.Header.Get(name)); ok && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	s.store.InvalidateBatch(x.ds.dist.ID, paths, s.now())
}

// sameOriginPath resolves a Location or Content-Location value against the
// request and returns its escaped path when it names the request's own
// origin (scheme and host).
func sameOriginPath(x *exchange, v string) (string, bool) {
	if v == "" {
		return "", false
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	scheme := "http"
	if x.https() {
		scheme = "https"
	}
	if u.Scheme != "" && !strings.EqualFold(u.Scheme, scheme) || u.Host != "" && !strings.EqualFold(u.Host, x.r.Host) {
		return "", false
	}
	base := &url.URL{Path: x.r.URL.Path, RawPath: x.r.URL.RawPath}
	p := base.ResolveReference(&url.URL{Path: u.Path, RawPath: u.RawPath}).EscapedPath()
	return p, strings.HasPrefix(p, "/")
}

// viewerGone reports whether the viewer left before any origin work began —
// an HTTP/2 stream reset, a closed connection — and accounts for it: no
// origin fetch is started for a request nobody waits for (a rapid-reset
// flood must not become an origin flood).
func (s *Server) viewerGone(x *exchange) bool {
	if x.r.Context().Err() == nil {
		return false
	}
	s.metrics.viewerGone.Inc()
	return true
}
