package proxy

import (
	"maps"
	"net/http"
	"sync"
)

// interimWriter passes an origin's informational responses (103 Early
// Hints, 102…; origin.Request.Interim) on to the one viewer whose request
// the origin is answering — a pass-through request, or the leader of a
// flight — while its handler waits for the final answer (RFC 9110 §15.2: a
// proxy forwards 1xx responses; CloudFront's guide is silent on them).
// They are never stored, and viewers collapsed onto the leader's fetch do
// not get them: they did not cause the origin request. The origin's fetch
// calls write on its own goroutine; once the handler takes the response
// writer back (close), nothing more is written.
type interimWriter struct {
	mu   sync.Mutex
	w    http.ResponseWriter
	done bool
}

// newInterim returns the interim writer for x's viewer, or nil when it
// cannot be sent 1xx responses (HTTP/1.0, RFC 9110 §15.2).
func newInterim(x *exchange) *interimWriter {
	if !x.r.ProtoAtLeast(1, 1) {
		return nil
	}
	return &interimWriter{w: x.w}
}

// write sends one informational response with exactly header h: whatever
// the handler had already put in the header stays for the final response.
func (iw *interimWriter) write(status int, h http.Header) {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	if iw.done {
		return
	}
	dst := iw.w.Header()
	var kept http.Header
	if len(dst) > 0 {
		kept = maps.Clone(dst)
		clear(dst)
	}
	maps.Copy(dst, h)
	iw.w.WriteHeader(status)
	clear(dst)
	maps.Copy(dst, kept)
}

// close hands the response writer back to the handler.
func (iw *interimWriter) close() {
	if iw == nil {
		return
	}
	iw.mu.Lock()
	iw.done = true
	iw.mu.Unlock()
}

// interimFunc is iw.write for origin.Request.Interim (nil for no writer).
func (iw *interimWriter) interimFunc() func(int, http.Header) {
	if iw == nil {
		return nil
	}
	return iw.write
}
