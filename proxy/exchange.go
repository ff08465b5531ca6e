package proxy

import (
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/signed"
)

// exchange is one viewer request on its way through the phases. Exchanges
// are pooled: a hit allocates as little as possible.
type exchange struct {
	w        http.ResponseWriter
	r        *http.Request
	start    time.Time
	id       string   // X-Amz-Cf-Id, also sent to the origin
	idHeader []string // id as a header value
	pop      []string
	// viewerHost is the Host header as the viewer sent it (the access
	// log's x-host-header); r.Host may become the distribution's domain.
	viewerHost string

	// st is the configuration the request started with: every phase reads
	// it, never the server's current one, so one request never mixes two.
	st *state
	ds *distState
	b  *config.Behavior
	// origin is the origin viewer-request edge code chose (nil: the
	// behaviour's target).
	origin *config.Origin
	// originGroup is the origin group viewer-request edge code made (nil:
	// none); its members are origins of the distribution.
	originGroup *config.OriginGroup
	path        string // URI path after DefaultRootObject: what behaviours and the origin see
	sub         bool   // an internal request (a custom error page)
	// peer: a request from another node of the cluster for the key
	// peerKey (encoding peerEnc) this node owns (peer.go), for the scheme
	// peerHTTPS; peerApart: it fetches apart from this node's own flight
	// of the key.
	peer, peerHTTPS, peerApart bool
	peerKey, peerEnc           string
	// local: the viewer named this node (localhost, its address), which
	// stands for the distribution's domain name.
	local bool

	keyBuf []byte
	// rcc is the request's Cache-Control under httpSemantics: rfc9111
	// (zero otherwise, and without one): RFC 9111 §5.2.1.
	rcc cache.CacheControl
	// variantAt is where keyBuf's secondary key for Vary begins (vary.go;
	// 0 when it has none).
	variantAt int
	// ev is the event of the viewer-request and viewer-response hooks,
	// kept here so that a request with edge code allocates none.
	ev Event

	// cw counts what is written to the viewer; w points at it.
	cw countingWriter
	// detailed is the access log's x-edge-detailed-result-type when it is
	// more than the result type (an origin failure).
	detailed string
	// xcache replaces the phase's X-Cache (edge code's failure by
	// CloudFront's name, e.g. FunctionExecutionError); nil: the phase's.
	xcache []string

	viewerCountry string
	located       bool

	signer *signed.Verifier

	// rendered is the stored header sent as rendered (sendsRendered),
	// beside the header map's fields, for the access log.
	rendered cache.Header

	// phase and status are what the viewer was answered, set by done;
	// account reads them once the request ends.
	phase  phase
	status int
}

// done records what the viewer was answered, for account.
func (x *exchange) done(p phase, status int) { x.phase, x.status = p, status }

var exchangePool = sync.Pool{New: func() any { return &exchange{keyBuf: make([]byte, 0, 256)} }}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request) *exchange {
	x := exchangePool.Get().(*exchange)
	x.cw = countingWriter{ResponseWriter: w, timed: s.accessLog != nil}
	x.w, x.r, x.start, x.viewerHost = &x.cw, r, s.now(), r.Host
	x.id, x.idHeader = newRequestID()
	return x
}

func (x *exchange) release() {
	kb := x.keyBuf[:0]
	*x = exchange{keyBuf: kb}
	exchangePool.Put(x)
}

func (x *exchange) https() bool { return x.r.TLS != nil || x.peerHTTPS }

// countingWriter counts the body bytes written to the viewer and, for the
// access log (timed), notes when the first one went out. It passes Flush
// through.
type countingWriter struct {
	http.ResponseWriter
	status    int
	bytes     int64
	timed     bool
	firstByte time.Time
}

// bodyStarts notes a write of body bytes: the status is 200 unless one was
// written, and the first one's time is the time to first byte.
func (w *countingWriter) bodyStarts() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.timed && w.firstByte.IsZero() {
		w.firstByte = time.Now()
	}
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.bodyStarts()
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ReadFrom hands a body read from a file to the viewer's writer's
// ReadFrom (sendfile on a plain HTTP/1.1 connection), counting it as Write
// does.
func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	w.bodyStarts()
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(w.ResponseWriter, r)
	}
	w.bytes += n
	return n, err
}

// SendFile hands a section of a shared file (the disk cache's open files)
// to the viewer's writer's SendFile (sendfile with an offset on a plain
// HTTP/1.1 connection), else copies it with positioned reads; counted as
// Write is.
func (w *countingWriter) SendFile(f *os.File, off, n int64) (int64, error) {
	w.bodyStarts()
	var written int64
	var err error
	if fs, ok := w.ResponseWriter.(cache.FileSender); ok {
		written, err = fs.SendFile(f, off, n)
	} else {
		written, err = io.Copy(w.ResponseWriter, io.NewSectionReader(f, off, n))
	}
	w.bytes += written
	return written, err
}

// SendsFiles reports whether SendFile would send with sendfile(2): when
// the viewer's writer says it would (h1 on a plain connection).
func (w *countingWriter) SendsFiles() bool {
	c, ok := w.ResponseWriter.(interface{ SendsFiles() bool })
	return ok && c.SendsFiles()
}

// Unwrap lets http.ResponseController reach the connection.
// setRendered gives the viewer's writer a cached object's rendered fields
// and its body's length (fields.RenderedWriter); it reports false, having
// done nothing, when that writer does not take them.
func (w *countingWriter) setRendered(f fields.Rendered, n int64) bool {
	rw, ok := w.ResponseWriter.(fields.RenderedWriter)
	if ok {
		rw.SetRendered(f, n)
	}
	return ok
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// CloudFront's limits on a viewer request ("Quotas": maximum length of a
// URL, of the request headers): over them it answers 413 and closes the
// connection.
const (
	maxURLLength    = 8192
	maxHeaderLength = 20480
)

// limits enforces CloudFront's request limits (URL, headers) and
// request-smuggling hygiene; it answers the viewer itself and returns
// false when the request goes no further.
func (s *Server) limits(x *exchange) bool {
	r := x.r
	scheme := len("http://")
	if r.TLS != nil {
		scheme++
	}
	n := len(r.RequestURI)
	if !strings.HasPrefix(r.RequestURI, "/") {
		n = len(r.URL.RequestURI())
	}
	if scheme+len(r.Host)+n > maxURLLength || headerLength(r) > maxHeaderLength {
		x.w.Header().Set("Connection", "close")
		s.sendError(x, http.StatusRequestEntityTooLarge, msgRequestTooLarge)
		return false
	}
	if r.ProtoMajor == 1 && r.ProtoMinor == 0 && r.TLS != nil {
		// net/http ignores (and deletes) Transfer-Encoding on HTTP/1.0,
		// so a chunked body would be read as the next request on a kept
		// connection (RFC 9112 §6.1: a server MUST close after such a
		// message). h1 refuses it before any handler runs, on both
		// listeners; without h1 (--fast-http1=false) net/http serves the
		// TLS listener, and there no HTTP/1.0 connection is kept alive.
		x.w.Header().Set("Connection", "close")
	}
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// A chunked HTTP/1.1 request may have carried a Content-Length too
		// (net/http drops it); RFC 9112 §6.1 requires closing the
		// connection after such a message, so nothing smuggled behind its
		// body is read as a next request.
		x.w.Header().Set("Connection", "close")
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.ContentLength > 0 || len(r.TransferEncoding) > 0) {
		// "If a viewer GET request includes a body, CloudFront returns an
		// HTTP status code 403 (Forbidden)" (RequestAndResponseBehavior-
		// CustomOrigin, …S3Origin). The body is not read: the connection
		// closes after the answer.
		x.w.Header().Set("Connection", "close")
		s.sendError(x, http.StatusForbidden, msgBodyOnGet)
		return false
	}
	return true
}

// headerLength is the size of a request's header block: the request line,
// Host, and every header line.
func headerLength(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// viewerRules applies the behaviour's viewer protocol policy and allowed
// methods; it answers the viewer itself and returns false when the request
// goes no further.
func (s *Server) viewerRules(x *exchange) bool {
	switch x.b.ViewerProtocolPolicy {
	case config.RedirectToHTTPS:
		// CloudFront answers an HTTP request with a redirect to the HTTPS
		// URL (using-https-viewers-to-cloudfront): 301 for GET and HEAD,
		// 307 for other methods — 403 for them over HTTP/1.0, which has
		// no 307.
		if !x.https() {
			s.redirectToHTTPS(x)
			return false
		}
	case config.HTTPSOnly:
		if !x.https() {
			s.sendError(x, http.StatusForbidden, msgHTTPSRequired)
			return false
		}
	}
	if !x.b.AllowedMethods.Has(x.r.Method) {
		x.detailed = accesslog.InvalidRequestMethod
		s.sendError(x, http.StatusForbidden, msgMethodNotAllowed)
		return false
	}
	if signed.Required(x.b) && !x.sub {
		ip, _, _ := net.SplitHostPort(x.r.RemoteAddr)
		if d := x.signer.Check(x.r, x.b, ip, x.start); d != nil {
			s.sendDenial(x, d)
			return false
		}
		// The signature is neither part of the cache key nor forwarded to
		// the origin: from here on the request is seen without it.
		r := x.r.Clone(x.r.Context())
		r.URL.RawQuery = signed.StripQuery(r.URL.RawQuery)
		signed.StripCookieHeader(r.Header)
		x.r = r
	}
	if gr := x.ds.dist.GeoRestriction; gr.Type != "" && gr.Type != "none" {
		if !geo.Allowed(gr, x.country(s)) {
			x.detailed = accesslog.ClientGeoBlocked
			// A custom error page for 403 answers too
			// (georestrictions).
			s.sendErrorPage(x, http.StatusForbidden, geo.BlockedMessage, true)
			return false
		}
	}
	return true
}

// sendDenial answers a request whose signed URL or cookies are missing or
// invalid with CloudFront's 403 and XML body, or the distribution's custom
// error page for 403.
func (s *Server) sendDenial(x *exchange, d *signed.Denial) {
	x.detailed = accesslog.Error
	// Why, for the operator: the viewer sees only CloudFront's code.
	s.log.Debug("signed URL or cookies refused", "requestId", x.id, "distribution", x.ds.dist.ID,
		"path", x.r.URL.Path, "code", d.Code, "reason", d.Reason)
	body := d.Body()
	h := x.w.Header()
	h.Set("Server", "CloudFront")
	h.Set("Content-Type", signed.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	s.respond(x, answer{status: d.Status, phase: phaseError, page: true}, body)
}

// via is the Via value for x's viewer: its HTTP version, then this node.
func (s *Server) viaFor(x *exchange) []string {
	switch x.r.ProtoMajor {
	case 2:
		return s.via[1]
	case 3:
		return s.via[2]
	}
	return s.via[0]
}

// country is the viewer's country code ("" when unknown), looked up once.
func (x *exchange) country(s *Server) string {
	if !x.located {
		x.located = true
		if s.geo != nil {
			x.viewerCountry = s.geo.Country(x.r, nil)
		}
	}
	return x.viewerCountry
}

// viewerHeaders sets in dst the CloudFront-* headers include asks for,
// computed for x's viewer; the database's whole record (city, region,
// ASN…) is read only when include asks for one of those.
func (s *Server) viewerHeaders(x *exchange, dst http.Header, include func(string) bool) {
	country := x.country(s)
	loc := geo.Location{Country: country}
	if s.geo != nil && geo.WantsLocation(include) {
		loc = s.geo.Locate(x.r, nil)
		loc.Country = country
	}
	geo.ViewerHeadersAt(dst, x.r, &loc, include)
}

// redirectToHTTPS sends 301 (GET, HEAD) or 307 (other methods, which a 301
// may turn into a GET) to the same URL on https; other methods over
// HTTP/1.0 get 403. When the viewer used a port (edgefront listening on a
// non-standard one), the https listener's port replaces it, so the redirect
// lands on this node.
func (s *Server) redirectToHTTPS(x *exchange) {
	status := http.StatusMovedPermanently
	if m := x.r.Method; m != http.MethodGet && m != http.MethodHead {
		if !x.r.ProtoAtLeast(1, 1) {
			s.sendError(x, http.StatusForbidden, msgHTTPSRequired)
			return
		}
		status = http.StatusTemporaryRedirect
	}
	host := x.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
		if _, port, err := net.SplitHostPort(x.st.cfg.Listen.HTTPS); err == nil && port != "443" {
			host += ":" + port
		}
	}
	h := x.w.Header()
	h.Set("Location", "https://"+host+x.r.URL.RequestURI())
	h.Set("Server", "CloudFront")
	h.Set("Content-Type", "text/html")
	s.respond(x, answer{status: status, phase: phaseRedirect, bare: true}, nil)
}

// cacheable reports whether the request may be answered from the cache: its
// method is one of the behaviour's cached methods and the cache policy can
// cache at all.
func (x *exchange) cacheable() bool {
	switch x.r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return x.b.CachedMethods.Has(x.r.Method) && x.b.CachePolicy.Caching()
}
