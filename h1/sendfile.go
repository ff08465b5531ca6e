package h1

import (
	"io"
	"net"
	"net/http"
	"os"
)

// ReadFrom implements io.ReaderFrom. A body read from a file — an
// *io.LimitedReader over an *os.File positioned at its first byte, as
// cache.Body.WriteRange passes it — on a plain TCP connection, with a
// Content-Length, goes to the socket with sendfile(2) through
// net.TCPConn.ReadFrom: the head is flushed first, then the kernel copies
// the file's pages to the socket without a pass through user space.
// Anything else (no length, chunked, HEAD, another reader, a connection
// that is not plain TCP, such as TLS) is copied through Write.
//
// A file shorter than the LimitedReader's N leaves the response short of
// its Content-Length: the connection is closed after it (finish), so the
// viewer never takes it for complete.
func (r *response) ReadFrom(src io.Reader) (int64, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	lr, limited := src.(*io.LimitedReader)
	tc, plain := r.c.nc.(*net.TCPConn)
	fileBody := false
	if limited {
		_, fileBody = lr.R.(*os.File)
	}
	if !fileBody || !plain || r.head || r.chunked || !r.bodyAllowed() || r.contentLength < 0 {
		return io.Copy(writeOnly{r}, src)
	}
	if r.c.werr != nil {
		return 0, r.c.werr
	}
	if r.written+lr.N > r.contentLength {
		return 0, http.ErrContentLength
	}
	if !r.committed {
		r.commit()
	}
	if err := r.c.flush(); err != nil {
		return 0, err
	}
	r.c.srv.sendfiles.Add(1)
	n, err := tc.ReadFrom(lr)
	r.written += n
	if err != nil {
		return n, r.c.fail(err)
	}
	if lr.N > 0 {
		return n, io.ErrUnexpectedEOF
	}
	return n, nil
}

// writeOnly hides response's ReadFrom from io.Copy.
type writeOnly struct{ r *response }

func (w writeOnly) Write(p []byte) (int, error) { return w.r.Write(p) }

// SendfileWrites reports how many response bodies (or ranges of them) the
// server handed to sendfile(2) (response.ReadFrom) since it started.
func (s *Server) SendfileWrites() int64 { return s.sendfiles.Load() }
