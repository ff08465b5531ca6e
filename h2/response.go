package h2

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"

	"github.com/edgefront/edgefront/fields"
)

// pendLimit is how much body a handler may write before the response's
// HEADERS must go out; a handler that ends within it gets a
// content-length.
const pendLimit = 4096

// responseWriter is the http.ResponseWriter of a stream; streams reuse it
// and its header map.
type responseWriter struct {
	st     *stream
	header http.Header

	fast          bool // answering in the reader: writes never wait
	head          bool // a HEAD request: no body
	status        int
	wroteHeader   bool
	committed     bool // HEADERS written
	done          bool // the handler returned
	contentLength int64
	written       int64
	pend          []byte // body written before the commit
	first         []byte // the Write that commits (sniffed for a content type)
	trailers      []string
	// rendered is the fields sent after the header map's (SetRendered).
	rendered fields.Rendered
}

// reset readies w for a request.
func (w *responseWriter) reset(head bool) {
	clear(w.header)
	*w = responseWriter{st: w.st, header: w.header, pend: w.pend[:0], trailers: w.trailers[:0],
		head: head, contentLength: -1}
}

// Header implements http.ResponseWriter.
func (w *responseWriter) Header() http.Header { return w.header }

// SetRendered implements fields.RenderedWriter: f's fields are encoded
// after the header map's (those not valid in HTTP/2 left out, as for the
// map), and n is the content-length.
func (w *responseWriter) SetRendered(f fields.Rendered, n int64) {
	if w.wroteHeader {
		return
	}
	w.rendered, w.contentLength = f, n
}

// WriteHeader implements http.ResponseWriter. An informational status
// (1xx but 101) goes out at once with the header as it is then; any number
// may precede the final one. Below 100 and 101 are ignored.
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader || code < 200 {
		if !w.wroteHeader && code >= 100 && code != http.StatusSwitchingProtocols {
			c := w.st.c
			c.mu.Lock()
			if !w.st.reset && !c.closed {
				c.writeInterim(w.st, code, w.header)
				c.flushLocked()
			}
			c.mu.Unlock()
		}
		return
	}
	if code > 999 {
		code = http.StatusInternalServerError
	}
	w.wroteHeader, w.status = true, code
	if vs := w.header["Content-Length"]; len(vs) == 1 {
		if n, err := strconv.ParseInt(vs[0], 10, 64); err == nil && n >= 0 {
			w.contentLength = n
		}
	}
}

// bodyAllowed reports whether the status permits a body (RFC 9110 §6.4.1).
func (w *responseWriter) bodyAllowed() bool {
	return w.status != http.StatusNoContent && w.status != http.StatusNotModified
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if w.contentLength >= 0 && w.written+int64(len(p)) > w.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.head {
		return len(p), nil
	}
	if !w.committed {
		if w.contentLength < 0 && len(w.pend)+len(p) <= pendLimit {
			w.pend = append(w.pend, p...)
			return len(p), nil
		}
	}
	c := w.st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !w.committed {
		w.first = p // for sniffing the content type
		err := w.commit(false)
		w.first = nil
		if err != nil {
			return 0, err
		}
	}
	// The last of a declared length ends the stream with it — a frame
	// saved on every cached answer — unless trailers are declared or set
	// by then (http.TrailerPrefix keys set after the last write of a
	// declared length are not sent).
	end := w.contentLength >= 0 && w.written == w.contentLength && len(w.declaredTrailers()) == 0 && !w.hasPrefixTrailers()
	if err := c.sendData(w.st, p, end, !w.fast); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteString implements io.StringWriter.
func (w *responseWriter) WriteString(s string) (int, error) {
	if !w.committed && w.contentLength < 0 && len(w.pend)+len(s) <= pendLimit && w.wroteHeader && w.bodyAllowed() && !w.head {
		w.written += int64(len(s))
		w.pend = append(w.pend, s...)
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// commit writes the response's HEADERS, and the body written so far
// (c.mu held).
func (w *responseWriter) commit(final bool) error {
	st, c := w.st, w.st.c
	w.committed = true
	if st.reset || c.closed {
		return errClosed
	}
	h := w.header
	sendsBody := w.bodyAllowed() && !w.head
	if final && w.contentLength < 0 && w.bodyAllowed() && (len(w.pend) > 0 || !w.head) {
		w.contentLength = int64(len(w.pend))
	}
	if w.head && final && w.contentLength < 0 && w.written > 0 {
		w.contentLength = w.written
	}
	if _, ok := h["Content-Type"]; !ok && !w.rendered.ContentType && w.bodyAllowed() {
		// As net/http: sniffed from the first bytes written.
		if len(w.pend) > 0 {
			h["Content-Type"] = []string{http.DetectContentType(w.pend)}
		} else if len(w.first) > 0 {
			h["Content-Type"] = []string{http.DetectContentType(w.first)}
		}
	}
	for _, v := range h["Trailer"] {
		for k := range strings.SplitSeq(v, ",") {
			if k = http.CanonicalHeaderKey(strings.TrimSpace(k)); k != "" {
				w.trailers = append(w.trailers, k)
			}
		}
	}
	c.field(":status", statusText(w.status))
	c.fields(h, false)
	c.renderedFields(w.rendered.Text)
	if _, ok := h["Date"]; !ok && !w.rendered.Date {
		if w.fast {
			c.field("date", c.srv.dateNow.At(c.batchAt)) // answered as the batch came
		} else {
			c.field("date", c.srv.dateNow.Now())
		}
	}
	if w.contentLength >= 0 && w.bodyAllowed() {
		if _, ok := h["Content-Length"]; !ok {
			v := w.rendered.Length
			if v == "" {
				v = strconv.FormatInt(w.contentLength, 10)
			}
			c.field("content-length", v)
		}
	}
	trailers := final && w.hasTrailers()
	endNow := final && (!sendsBody || len(w.pend) == 0) && !trailers && !st.malformed
	c.writeHeaders(st.id, endNow)
	if endNow {
		c.endSend(st)
		return nil
	}
	if len(w.pend) > 0 && sendsBody {
		end := final && !trailers
		p := w.pend
		w.pend = w.pend[:0]
		if err := c.sendData(st, p, end, !w.fast); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError sends the HEADERS and the body written so far
// (http.ResponseController).
func (w *responseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	c := w.st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !w.committed {
		if err := w.commit(false); err != nil {
			return err
		}
	}
	if w.fast {
		return nil // the reader flushes once per batch
	}
	c.flushLocked()
	if w.st.reset {
		return errClosed
	}
	return c.werr
}

// SetWriteDeadline bounds how long writes may wait for the viewer
// (http.ResponseController); past it a write fails and the stream is reset.
func (w *responseWriter) SetWriteDeadline(t time.Time) error {
	c := w.st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	w.st.writeDeadline = t
	c.cond.Broadcast()
	return nil
}

// SetReadDeadline bounds how long reading the request body may wait
// (http.ResponseController).
func (w *responseWriter) SetReadDeadline(t time.Time) error {
	c := w.st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	w.st.bodyDeadline = t
	c.cond.Broadcast()
	return nil
}

// EnableFullDuplex implements http.ResponseController's: HTTP/2 always
// is.
func (w *responseWriter) EnableFullDuplex() error { return nil }

// declaredTrailers are the trailers the handler announced.
func (w *responseWriter) declaredTrailers() []string { return w.trailers }

// hasPrefixTrailers reports a trailer set with http.TrailerPrefix.
func (w *responseWriter) hasPrefixTrailers() bool {
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// hasTrailers reports whether trailers follow the body.
func (w *responseWriter) hasTrailers() bool {
	if len(w.trailers) > 0 {
		for _, k := range w.trailers {
			if len(w.header[k]) > 0 {
				return true
			}
		}
	}
	return w.hasPrefixTrailers()
}

// writeTrailers sends the trailers, ending the stream (c.mu held).
func (w *responseWriter) writeTrailers() {
	st, c := w.st, w.st.c
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			if name := c.lowerName(k); name != "" {
				c.field(name, v)
			}
		}
	}
	for k, vs := range w.header {
		if rest, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if name := c.lowerName(http.CanonicalHeaderKey(rest)); name != "" {
				for _, v := range vs {
					c.field(name, v)
				}
			}
		}
	}
	c.writeHeaders(st.id, true)
	c.endSend(st)
}

// finish completes the response once the handler returned.
func (w *responseWriter) finish() {
	st, c := w.st, w.st.c
	w.done = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.reset || c.closed || st.sentEnd {
		return
	}
	if !w.committed {
		_ = w.commit(true)
		if st.sentEnd || st.reset {
			return
		}
	}
	if st.sentEnd || st.reset {
		return
	}
	if len(st.queue) > 0 {
		st.queueEnd = true
		return
	}
	if w.hasTrailers() {
		w.writeTrailers()
		return
	}
	if w.contentLength >= 0 && w.written < w.contentLength && w.bodyAllowed() && !w.head {
		// Fewer bytes than announced: the stream is broken off.
		c.resetStream(st.id, http2.ErrCodeInternal, true)
		return
	}
	if !st.malformed {
		_ = c.sendData(st, nil, true, false)
	}
}
