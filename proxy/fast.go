package proxy

import (
	"net/http"
	"unsafe"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
)

// maxFastBody is the largest cached body ServeFast answers with: a front
// end may have to hold what the viewer's flow-control window does not
// admit yet (h2.FastHandler), so larger objects stream from ServeHTTP.
const maxFastBody = 64 << 10

// ServeFast answers a request that needs no waiting — a fresh (or
// stale-if-error) hit, a redirect to HTTPS, an error edgefront makes —
// through the same phases as ServeHTTP, without blocking; it returns false,
// having written nothing and left r as it was, for any request that might
// wait: a body, edge code at the viewer points, a custom error page (it is
// fetched), a miss or a refresh, a pass-through, a key made of
// CloudFront-* headers, a distribution under RFC 9111 semantics. The HTTP/2 front end calls it from a connection's
// reader goroutine (h2.FastHandler), then ServeHTTP in a goroutine when it
// returns false.
func (s *Server) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	st := s.state.Load()
	if st == nil || st.hooks[ViewerRequest] != nil || st.hooks[ViewerResponse] != nil {
		return false
	}
	if r.Body != nil && r.Body != http.NoBody {
		return false
	}
	if ds, _ := st.distribution(r); ds != nil && hasErrorPages(ds.dist) {
		return false
	}
	host := r.Host // viewerRequest names the distribution's domain for local viewers
	x := s.newExchange(w, r)
	served := true
	defer func() {
		if served {
			s.account(x)
		} else {
			r.Host = host
		}
		x.release()
	}()
	x.st, x.pop, x.signer = st, st.pop, st.signer
	if !s.limits(x) || !s.distribution(x) {
		return true
	}
	s.normalize(x)
	s.behavior(x)
	// RFC 9111 semantics read the request's own directives and variants:
	// those distributions are served by ServeHTTP alone.
	if x.ds.dist.RFC9111() || !x.cacheable() || keysCloudFrontHeaders(x.b.CachePolicy) {
		served = false
		return false
	}
	if !s.viewerRules(x) || !s.viewerRequest(x) {
		return true
	}
	e, p := s.lookupFast(x)
	if e == nil {
		served = false
		return false
	}
	if !s.serveEntry(x, e, p) { // the store let the body go since the lookup
		served = false
		return false
	}
	return true
}

// lookupFast is serveCached's lookup for ServeFast: the entry and its
// phase when it can be served as it is (fresh, or stale while the origin is
// failing), else nil.
func (s *Server) lookupFast(x *exchange) (*cache.Entry, phase) {
	p := x.b.CachePolicy
	enc := ""
	if (p.EnableAcceptEncodingGzip || p.EnableAcceptEncodingBrotli) && x.r.ProtoAtLeast(1, 1) {
		enc = cache.NormalizeEncoding(x.r.Header.Get("Accept-Encoding"), p)
	}
	x.keyBuf = cache.AppendKey(x.keyBuf[:0], x.ds.dist.ID, escapedPath(x), x.r, p, enc)
	if x.r.Method == http.MethodOptions {
		x.keyBuf = append(x.keyBuf, "\x00OPTIONS"...)
	}
	now := x.start
	e, ok := s.store.GetAt(unsafe.String(unsafe.SliceData(x.keyBuf), len(x.keyBuf)), now)
	switch {
	case !ok || e.BodyLen() > maxFastBody:
		return nil, phaseNone
	case e.Fresh(now):
		return e, hitPhase(e)
	case e.ServeStale(now):
		return e, phaseStale
	}
	return nil, phaseNone
}

// hasErrorPages reports whether a distribution answers some status with a
// custom error page (which is fetched: not for ServeFast).
func hasErrorPages(d *config.Distribution) bool {
	for _, er := range d.ErrorResponses {
		if er != nil && er.ResponsePagePath != "" {
			return true
		}
	}
	return false
}
