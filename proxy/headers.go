package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"html"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"unsafe"

	"github.com/edgefront/edgefront/cache"
)

// X-Cache results, as CloudFront writes them (also the x-edge-result-type of
// its access logs, without the " from cloudfront").
const (
	resultHit        = "Hit"
	resultRefreshHit = "RefreshHit"
	resultMiss       = "Miss"
	resultError      = "Error"
	resultRedirect   = "Redirect"
	// resultGenerated is an answer made by edge code at viewer-request.
	resultGenerated = "FunctionGeneratedResponse"
)

// phase is what the cache did for a request. It is set once, when the
// response starts (begin), and gives X-Cache, the access log's result
// type, the metrics' result label and --debug-headers' Cache-Status.
type phase uint8

// The phases of a request.
const (
	phaseNone       phase = iota // not answered (the viewer left)
	phaseHit                     // a fresh cached object
	phaseRefreshHit              // a cached object the origin said (304) is still good
	phaseMiss                    // fetched from the origin for the cache
	phaseStale                   // a cached object served stale (stale-while-revalidate, origin failed)
	phaseError                   // an error answer (the origin's, or edgefront's)
	phaseRedirect                // the redirect to HTTPS
	phasePass                    // not cacheable: the origin's answer to this viewer alone
	phaseGenerated               // an answer edge code made
)

// result is CloudFront's name for a phase (X-Cache, x-edge-result-type):
// a stale object is a Hit, and a request that is not cached a Miss.
func (p phase) result() string {
	switch p {
	case phaseHit, phaseStale:
		return resultHit
	case phaseRefreshHit:
		return resultRefreshHit
	case phaseMiss, phasePass:
		return resultMiss
	case phaseError:
		return resultError
	case phaseRedirect:
		return resultRedirect
	case phaseGenerated:
		return resultGenerated
	}
	return ""
}

// xCache holds the X-Cache header values, shared by every response.
var xCache = map[string][]string{
	resultHit:        {"Hit from cloudfront"},
	resultRefreshHit: {"RefreshHit from cloudfront"},
	resultMiss:       {"Miss from cloudfront"},
	resultError:      {"Error from cloudfront"},
	resultRedirect:   {"Redirect from cloudfront"},
	resultGenerated:  {"FunctionGeneratedResponse from cloudfront"},
}

// answer is how a response to the viewer starts, for begin.
type answer struct {
	status int
	phase  phase
	// timing is the result the response headers policy's Server-Timing
	// reports (cdn-cache-hit, -miss, -refresh; "" for none); upstream, that
	// the origin was asked for this viewer.
	timing   string
	upstream bool
	// hitLayer is Server-Timing's cdn-hit-layer for a hit another cache
	// layer served ("" for this node's cache: EDGE).
	hitLayer string
	// page: the distribution's CustomErrorResponse page for status, if it
	// has one, replaces this response.
	page bool
	// bare: CloudFront's own headers only, no response headers policy
	// (the redirect to HTTPS).
	bare bool
	// served: an object from the cache or the origin, which the
	// viewer-response hook sees (not an answer CloudFront made itself).
	served bool
	// For --debug-headers: the cached entry answered from, the caching
	// decision on the origin's answer, and the endpoint that gave it.
	entry    *cache.Entry
	decision *cache.Decision
	endpoint string
}

// begin starts every response to the viewer, in one place. A status with
// a CustomErrorResponse page (a.page) is answered with the page instead:
// begin then returns 0 and the caller sends nothing. Otherwise the
// viewer-response hook runs (it may change the headers and the status), the
// headers the caller put in x.w.Header() get CloudFront's own (decorate),
// the outcome is recorded for account, and begin returns the status the
// caller writes before the body (respond, for a whole one).
func (s *Server) begin(x *exchange, a answer) int {
	h := x.w.Header()
	if a.page && a.status >= 400 && !x.sub && !x.peer && x.ds != nil {
		if er := x.ds.dist.ErrorResponses[a.status]; er != nil && er.ResponsePagePath != "" {
			kept := h.Clone()
			clear(h)
			if s.customError(x, a.status) {
				return 0
			}
			clear(h) // the page could not be had: the original answer goes out
			maps.Copy(h, kept)
		}
	}
	if a.served && !x.peer && x.st.hooks[ViewerResponse] != nil {
		x.ev = Event{RequestID: x.id, Distribution: x.ds.dist, Behavior: x.b, Request: x.r, Status: a.status, Header: h}
		ev := &x.ev
		if _, err := runHook(x.r.Context(), x.st.hooks, ViewerResponse, ev); err != nil {
			s.log.Warn("viewer-response edge code failed", "distribution", x.ds.dist.ID, "path", x.path, "err", err)
			clear(h)
			s.fail(x, failureOf(err))
			return 0
		}
		if ev.Status >= 100 && ev.Status <= 999 {
			a.status = ev.Status // a CloudFront Function may change it
		}
	}
	s.decorate(x, h, a)
	x.done(a.phase, a.status)
	return a.status
}

// decorate sets the headers CloudFront adds to every viewer response —
// X-Cache, Via, X-Amz-Cf-Pop and X-Amz-Cf-Id — and applies the behaviour's
// response headers policy.
func (s *Server) decorate(x *exchange, h http.Header, a answer) {
	h["X-Cache"] = xCache[a.phase.result()]
	if x.xcache != nil {
		h["X-Cache"] = x.xcache // edge code's failure, by CloudFront's name
	}
	h["Via"] = s.viaFor(x)
	h["X-Amz-Cf-Pop"] = x.pop
	h["X-Amz-Cf-Id"] = x.idHeader
	if !a.bare && !x.peer {
		// (A peer's answer is the object as stored: the asking node
		// applies the policy.)
		s.responseHeaders(x, h, a)
	}
	if s.debug {
		s.debugHeaders(x, h, a)
	}
}

// requestID is a request ID and its header value in one allocation.
type requestID struct {
	buf    [56]byte
	header [1]string
}

// newRequestID returns a request ID of CloudFront's shape — 40 random bytes
// in URL-safe base64, 56 characters ending in "==" — and the header value
// holding it. It identifies a request in logs, so it needs to be unique, not
// secret. Both share one allocation: net/http may still read the header
// after the handler returns, so it is never pooled.
func newRequestID() (string, []string) {
	var b [40]byte
	for i := 0; i < 40; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
	id := new(requestID)
	base64.URLEncoding.Encode(id.buf[:], b[:])
	id.header[0] = unsafe.String(&id.buf[0], len(id.buf))
	return id.header[0], id.header[:]
}

// ages holds the Age header values of the first hour, built once and only
// read: a hit needs no allocation for its Age.
var ages = func() [][]string {
	t := make([][]string, 3600)
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}()

// ageValue is the Age header value for seconds.
func ageValue(seconds int64) []string {
	if seconds < 0 {
		seconds = 0
	}
	if seconds < int64(len(ages)) {
		return ages[seconds]
	}
	return []string{strconv.FormatInt(seconds, 10)}
}

// defaultNodeID derives the 32 hex digits of the Via header from the host
// name, so that one node keeps its name across restarts.
func defaultNodeID() string {
	name, _ := os.Hostname()
	sum := sha256.Sum256([]byte("edgefront:" + name))
	return hex.EncodeToString(sum[:16])
}

// Messages of CloudFront's generated error pages.
const (
	msgBadRequestHost = "Bad request. We can't connect to the server for this app or website at this time. " +
		"There might be too much traffic or a configuration error. Try again later, or contact the app or website owner."
	msgMethodNotAllowed = "This distribution is not configured to allow the HTTP request method that was used for this request. " +
		"The distribution supports only cachable requests."
	msgHTTPSRequired   = "Bad request. This distribution is configured to accept only HTTPS requests."
	msgOriginConnect   = "We can't connect to the server for this app or website at this time. There might be too much traffic or a configuration error. Try again later, or contact the app or website owner."
	msgOriginTimeout   = "We can't connect to the server for this app or website at this time. There might be too much traffic or a configuration error. Try again later, or contact the app or website owner."
	msgNotConfigured   = "edgefront has no configuration loaded yet."
	msgDisabled        = "Bad request. This distribution is disabled."
	msgRequestTooLarge = "Bad request. The request is too large."
	msgBadRequestBody  = "Bad request. The request body could not be read."
	msgBodyOnGet       = "Bad request. A GET or HEAD request cannot have a body."
	msgOnlyIfCached    = "The requested object is not in the cache, and the request said only-if-cached."
	// msgFunctionFailed is CloudFront's text for edge code that failed
	// (LambdaExecutionError, 502).
	msgFunctionFailed = "The Lambda function associated with the CloudFront distribution is invalid or doesn't have the required permissions."
)

// errorPage renders CloudFront's generated error page.
func errorPage(status int, msg, requestID string) []byte {
	return fmt.Appendf(nil, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">
<TITLE>ERROR: The request could not be satisfied</TITLE>
</HEAD><BODY>
<H1>%d ERROR</H1>
<H2>The request could not be satisfied.</H2>
<HR noshade size="1px">
%s
<BR clear="all">
<HR noshade size="1px">
<PRE>
Generated by cloudfront (CloudFront) (edgefront)
Request ID: %s
</PRE>
<ADDRESS>
</ADDRESS>
</BODY></HTML>`, status, html.EscapeString(msg), requestID)
}

// sendError answers the viewer with a generated CloudFront error page.
func (s *Server) sendError(x *exchange, status int, msg string) {
	s.sendErrorPage(x, status, msg, false)
}

// sendErrorPage is sendError where, when page is set, the distribution's
// custom error page for status answers instead (an origin's failure, the
// geo restriction's 403).
func (s *Server) sendErrorPage(x *exchange, status int, msg string, page bool) {
	body := errorPage(status, msg, x.id)
	h := x.w.Header()
	h.Set("Server", "CloudFront")
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	s.respond(x, answer{status: status, phase: phaseError, page: page}, body)
}

// sendGenerated answers the viewer with a response edge code made.
func (s *Server) sendGenerated(x *exchange, g *GeneratedResponse) {
	h := x.w.Header()
	for k, v := range g.Header {
		h[k] = v
	}
	h["Content-Length"] = []string{strconv.Itoa(len(g.Body))}
	if g.Result != "" {
		x.detailed, x.xcache = g.Result, []string{g.Result + " from cloudfront"}
	}
	s.respond(x, answer{status: g.Status, phase: phaseGenerated}, g.Body)
}

// respond sends a whole answer: begin (which may answer with a custom
// error page instead), the status, and the body unless the request is a
// HEAD.
func (s *Server) respond(x *exchange, a answer, body []byte) {
	status := s.begin(x, a)
	if status == 0 {
		return
	}
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead && len(body) > 0 {
		_, _ = x.w.Write(body)
	}
}

// TooLarge is the whole HTTP/1.1 response CloudFront sends to a request
// whose head is over what the front end reads at all: 413 with its error
// page and headers, the connection closed ("Maximum length of a request",
// RequestAndResponseBehaviorCustomOrigin). The front end sends it in place
// of net/http's plain 431 (h1.Server.TooLarge).
func (s *Server) TooLarge() []byte {
	id, _ := newRequestID()
	body := errorPage(http.StatusRequestEntityTooLarge, msgRequestTooLarge, id)
	pop := "LOCAL1-C1"
	if st := s.state.Load(); st != nil && len(st.pop) > 0 {
		pop = st.pop[0]
	}
	b := fmt.Appendf(nil, "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: %d\r\n"+
		"Content-Type: text/html\r\nServer: CloudFront\r\nVia: %s\r\nX-Amz-Cf-Id: %s\r\nX-Amz-Cf-Pop: %s\r\n"+
		"X-Cache: Error from cloudfront\r\n\r\n", len(body), s.via[0][0], id, pop)
	return append(b, body...)
}
