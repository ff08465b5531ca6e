package proxy

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
)

// customError answers an error status with the distribution's
// CustomErrorResponse for it, when one names a ResponsePagePath: the page is
// requested through the distribution itself (so it is matched to its own
// cache behaviour and cached like any object) and sent with the configured
// ResponseCode. When the page's own request fails, the viewer gets that
// failure (its status and body) instead of the original error. It returns
// false, and the caller sends the original error, when no page is
// configured or the viewer left before the page came.
func (s *Server) customError(x *exchange, status int) bool {
	if x.sub {
		return false
	}
	er, ok := x.ds.dist.ErrorResponses[status]
	if !ok || er.ResponsePagePath == "" {
		return false
	}
	rec := &recorder{header: make(http.Header)}
	sub := x.r.Clone(x.r.Context())
	sub.Method = http.MethodGet
	sub.URL = &url.URL{Path: er.ResponsePagePath}
	sub.RequestURI = er.ResponsePagePath
	sub.Body = http.NoBody
	sub.ContentLength = 0
	for name := range conditionalHeaders {
		sub.Header.Del(name)
	}

	sx := s.newExchange(rec, sub)
	defer sx.release()
	sx.sub, sx.st, sx.ds, sx.pop = true, x.st, x.ds, x.pop
	sx.path = er.ResponsePagePath
	sx.b = x.ds.dist.Match(sx.path)
	if sx.cacheable() {
		s.serveCached(sx)
	} else {
		s.passThrough(sx)
	}
	if rec.status == 0 {
		return false
	}
	code := status
	if er.ResponseCode != 0 {
		code = er.ResponseCode
	}
	if rec.status >= 400 {
		// The page could not be had: the viewer gets the status of that
		// failed request (custom-error-pages-expiration, "If CloudFront
		// can't get the custom error page").
		s.log.Warn("custom error page unavailable; sending the page request's failure",
			"distribution", x.ds.dist.ID, "page", er.ResponsePagePath, "status", rec.status)
		code = rec.status
	}
	h := x.w.Header()
	for k, v := range rec.header {
		switch k {
		case "X-Cache", "Via", "X-Amz-Cf-Pop", "X-Amz-Cf-Id", "Age":
			continue
		}
		h[k] = v
	}
	h["Content-Length"] = []string{strconv.Itoa(rec.body.Len())}
	s.respond(x, answer{status: code, phase: phaseError}, rec.body.Bytes())
	return true
}

// recorder is the ResponseWriter of an internal request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
