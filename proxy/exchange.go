package proxy

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/edgefront/edgefront/config"
)

// exchange is one viewer request on its way through the phases. Exchanges
// are pooled: a hit allocates as little as possible.
type exchange struct {
	w     http.ResponseWriter
	r     *http.Request
	start time.Time
	id    string // X-Amz-Cf-Id, also sent to the origin
	pop   []string

	ds   *distState
	b    *config.Behavior
	path string // URI path after DefaultRootObject: what behaviours and the origin see
	sub  bool   // an internal request (a custom error page)

	keyBuf []byte
}

var exchangePool = sync.Pool{New: func() any { return &exchange{keyBuf: make([]byte, 0, 256)} }}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request) *exchange {
	x := exchangePool.Get().(*exchange)
	x.w, x.r, x.start = w, r, s.now()
	x.id = newRequestID()
	return x
}

func (x *exchange) release() {
	kb := x.keyBuf[:0]
	*x = exchange{keyBuf: kb}
	exchangePool.Put(x)
}

func (x *exchange) https() bool { return x.r.TLS != nil }

// viewerRules applies the behaviour's viewer protocol policy and allowed
// methods; it answers the viewer itself and returns false when the request
// goes no further.
func (s *Server) viewerRules(x *exchange) bool {
	switch x.b.ViewerProtocolPolicy {
	case config.RedirectToHTTPS:
		// CloudFront answers any HTTP request with 301 to the HTTPS URL
		// (CacheBehavior.ViewerProtocolPolicy in the API reference).
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
		s.sendError(x, http.StatusForbidden, msgMethodNotAllowed)
		return false
	}
	return true
}

// redirectToHTTPS sends 301 to the same URL on https. When the viewer used a
// port (edgefront listening on a non-standard one), the https listener's
// port replaces it, so the redirect lands on this node.
func (s *Server) redirectToHTTPS(x *exchange) {
	host := x.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
		if st := s.state.Load(); st != nil {
			if _, port, err := net.SplitHostPort(st.cfg.Listen.HTTPS); err == nil && port != "443" {
				host += ":" + port
			}
		}
	}
	h := x.w.Header()
	h.Set("Location", "https://"+host+x.r.URL.RequestURI())
	s.cloudFrontHeaders(x, h, resultRedirect)
	h.Set("Server", "CloudFront")
	h.Set("Content-Type", "text/html")
	x.w.WriteHeader(http.StatusMovedPermanently)
	s.account(x, resultRedirect, http.StatusMovedPermanently)
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
