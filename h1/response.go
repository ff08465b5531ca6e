package h1

import (
	"net/http"
	"strconv"
	"time"

	"github.com/edgefront/edgefront/fields"
)

// pendLimit is how much body a handler may write before the response head
// must go out; a handler that ends within it gets a Content-Length, a
// longer one without Content-Length is sent chunked (as net/http does).
const pendLimit = 4096

// response is the http.ResponseWriter of one request; each connection
// reuses one, and its header map.
type response struct {
	c      *conn
	header http.Header

	status        int
	wroteHeader   bool
	committed     bool // the head is in the write buffer
	chunked       bool
	head          bool // a HEAD request: no body
	close         bool // close the connection after this response
	contentLength int64
	written       int64
	pend          []byte // body written before the head was committed
	handlerDone   bool
	// rendered is the fields sent after the header map's (SetRendered).
	rendered fields.Rendered
}

// reset prepares r for the next request.
func (r *response) reset(head, close bool) {
	clear(r.header)
	*r = response{c: r.c, header: r.header, pend: r.pend[:0], head: head, close: close, contentLength: -1}
}

// Header implements http.ResponseWriter.
func (r *response) Header() http.Header { return r.header }

// SetRendered implements fields.RenderedWriter: f's fields go out after
// the header map's, as they are, and n is the Content-Length.
func (r *response) SetRendered(f fields.Rendered, n int64) {
	if r.wroteHeader {
		return
	}
	r.rendered, r.contentLength = f, n
}

// WriteHeader implements http.ResponseWriter. An informational status
// (1xx other than 101) goes out at once, with the header as it is then,
// which stays for the final response (RFC 8297's Early Hints use, as
// net/http does it); any number of them may precede the final status.
// Below 100, and 101 (this server upgrades nothing), are ignored.
func (r *response) WriteHeader(code int) {
	if r.wroteHeader || code < 200 {
		if !r.wroteHeader && code >= 100 && code != http.StatusSwitchingProtocols {
			r.interim(code)
		}
		return
	}
	if code > 999 {
		code = http.StatusInternalServerError
	}
	r.wroteHeader, r.status = true, code
	if vs := r.header["Content-Length"]; len(vs) == 1 {
		if n, err := strconv.ParseInt(vs[0], 10, 64); err == nil && n >= 0 {
			r.contentLength = n
		}
	}
}

// interim writes an informational response head and flushes it (RFC 9110
// §15.2: it has no body and is followed by the final response).
func (r *response) interim(code int) {
	c := r.c
	if c.werr != nil {
		return
	}
	c.takeWriteBuffer()
	b := append(c.wbuf, "HTTP/1.1 "...)
	b = r.appendStatus(b, code)
	b = appendFields(b, r.header)
	c.wbuf = append(b, "\r\n"...)
	_ = c.flush()
}

// appendFields appends the header's fields but the framing ones, which are
// this writer's, and those with invalid names (net/http drops them too).
func appendFields(b []byte, h http.Header) []byte {
	for k, vs := range h {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		if !isToken(k) {
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = fields.AppendValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// appendStatus appends "code reason\r\n".
func (r *response) appendStatus(b []byte, code int) []byte {
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if t := http.StatusText(code); t != "" {
		b = append(b, t...)
	} else {
		b = append(b, "status code "...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	return append(b, "\r\n"...)
}

// bodyAllowed reports whether the status permits a body (RFC 9110 §6.4.1).
func (r *response) bodyAllowed() bool {
	return r.status != http.StatusNoContent && r.status != http.StatusNotModified
}

// Write implements http.ResponseWriter.
func (r *response) Write(p []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if !r.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if r.c.werr != nil {
		return 0, r.c.werr
	}
	if r.contentLength >= 0 && r.written+int64(len(p)) > r.contentLength {
		return 0, http.ErrContentLength
	}
	r.written += int64(len(p))
	if r.head {
		return len(p), nil
	}
	if !r.committed {
		if r.contentLength < 0 && len(r.pend)+len(p) <= pendLimit {
			r.pend = append(r.pend, p...)
			return len(p), nil
		}
		r.commit()
	}
	if err := r.body(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush implements http.Flusher: the head and what is buffered go out now.
// SetWriteDeadline sets the connection's write deadline
// (http.ResponseController): a write blocked past it fails and the
// connection is closed.
func (r *response) SetWriteDeadline(t time.Time) error { return r.c.nc.SetWriteDeadline(t) }

func (r *response) Flush() {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if !r.committed {
		r.commit()
	}
	_ = r.c.flush()
}

// body writes p as body bytes, in a chunk when the response is chunked.
func (r *response) body(p []byte) error {
	if len(p) == 0 {
		return r.c.werr
	}
	if !r.chunked {
		return r.c.write(p)
	}
	c := r.c
	c.wbuf = strconv.AppendInt(c.wbuf, int64(len(p)), 16)
	c.wbuf = append(c.wbuf, "\r\n"...)
	if err := c.write(p); err != nil {
		return err
	}
	c.wbuf = append(c.wbuf, "\r\n"...)
	return nil
}

// commit renders the status line and header into the write buffer, then
// the body written so far.
func (r *response) commit() {
	r.committed = true
	c := r.c
	c.takeWriteBuffer()
	h := r.header
	sendsBody := r.bodyAllowed()
	if sendsBody && !r.head && r.contentLength < 0 {
		if r.handlerDone {
			r.contentLength = int64(len(r.pend))
		} else {
			r.chunked = true
		}
	}
	if r.head && r.contentLength < 0 && r.handlerDone && r.written > 0 {
		r.contentLength = r.written
	}
	if _, ok := h["Content-Type"]; !ok && !r.rendered.ContentType && sendsBody && len(r.pend) > 0 {
		h["Content-Type"] = []string{http.DetectContentType(r.pend)}
	}
	if vs := h["Connection"]; len(vs) > 0 && fields.HasToken(vs, "close") {
		r.close = true
	}

	b := c.wbuf
	b = append(b, "HTTP/1.1 "...)
	b = r.appendStatus(b, r.status)
	b = appendFields(b, h)
	b = append(b, r.rendered.Text...)
	if _, ok := h["Date"]; !ok && !r.rendered.Date {
		b = append(b, "Date: "...)
		b = append(b, c.srv.dateNow.Now()...)
		b = append(b, "\r\n"...)
	}
	switch {
	case !sendsBody:
	case r.chunked:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	case r.contentLength >= 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, r.contentLength, 10)
		b = append(b, "\r\n"...)
	}
	if r.close || c.srv.shuttingDown() {
		r.close = true
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.wbuf = b
	if len(r.pend) > 0 && !r.head {
		_ = r.body(r.pend)
	}
	r.pend = r.pend[:0]
}

// finish completes the response after the handler returned.
func (r *response) finish() {
	r.handlerDone = true
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if !r.committed {
		r.commit()
	}
	if r.chunked {
		r.c.wbuf = append(r.c.wbuf, "0\r\n\r\n"...)
	}
	if r.contentLength >= 0 && r.written < r.contentLength && r.bodyAllowed() && !r.head {
		// Fewer bytes than announced: the framing is broken, end here.
		r.close = true
	}
}
