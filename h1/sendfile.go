package h1

import (
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"syscall"
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

// SendsFiles reports whether SendFile would send with sendfile(2) now
// (cache.FileSender): false on a TLS connection, for a HEAD, a chunked
// body, or no Content-Length, where it would read the file and write it —
// a body also in memory is better written from there.
func (r *response) SendsFiles() bool {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	_, ok := r.sendfileConn()
	return ok
}

// sendfileConn is the connection SendFile sends with sendfile(2) on, and
// whether it may now.
func (r *response) sendfileConn() (*net.TCPConn, bool) {
	tc, plain := r.c.nc.(*net.TCPConn)
	return tc, plain && !r.head && !r.chunked && r.bodyAllowed() && r.contentLength >= 0
}

// SendfileWrites reports how many response bodies (or ranges of them) the
// server handed to sendfile(2) (response.ReadFrom) since it started.
func (s *Server) SendfileWrites() int64 { return s.sendfiles.Load() }

// SendFile sends n bytes of f from offset off as body bytes, without
// moving f's position, so that one descriptor can serve concurrent
// responses (the disk cache's open files, cache.FileSender): on a plain
// TCP connection with a Content-Length it is sendfile(2) with an explicit
// offset, waiting for the socket through the runtime's poller; otherwise
// the bytes are read with pread and written as Write does. A file shorter
// than off+n leaves the response short (the connection closes after it).
func (r *response) SendFile(f *os.File, off, n int64) (int64, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	tc, ok := r.sendfileConn()
	if !ok || n <= 0 {
		return io.Copy(writeOnly{r}, io.NewSectionReader(f, off, max(n, 0)))
	}
	if r.c.werr != nil {
		return 0, r.c.werr
	}
	if r.written+n > r.contentLength {
		return 0, http.ErrContentLength
	}
	if !r.committed {
		r.commit()
	}
	// The head (and whatever else is buffered) goes out with MSG_MORE,
	// so that the kernel sends it in one segment with the body's first
	// bytes, not a small packet of its own.
	r.c.srv.sendfiles.Add(1)
	head := r.c.wbuf
	r.c.wbuf = r.c.wbuf[:0]
	written, err := r.c.sendfileAt(tc, head, f, off, n)
	r.written += written
	if err != nil {
		return written, r.c.fail(err)
	}
	if written < n {
		return written, io.ErrUnexpectedEOF
	}
	return written, nil
}

// sendfileOp is one sendfileAt: its state, and the step the socket's
// RawConn.Write runs until the socket would block. A connection keeps one
// (conn.sf), with step bound once, so that a response sent with sendfile
// allocates nothing.
type sendfileOp struct {
	head         []byte
	src          int
	off, n, done int64
	err          error
	step         func(fd uintptr) bool
}

// run sends what is left of the head, then of the file, to the socket dst;
// it returns false to wait until dst is writable again.
func (o *sendfileOp) run(dst uintptr) bool {
	for len(o.head) > 0 {
		k, err := syscall.SendmsgN(int(dst), o.head, nil, nil, syscall.MSG_MORE)
		if k > 0 {
			o.head = o.head[k:]
		}
		switch {
		case err == syscall.EAGAIN:
			return false
		case err == syscall.EINTR:
			continue
		case err != nil:
			o.err = err
			return true
		}
	}
	for o.done < o.n {
		chunk := min(o.n-o.done, 1<<30)
		k, err := syscall.Sendfile(int(dst), o.src, &o.off, int(chunk))
		if k > 0 {
			o.done += int64(k)
		}
		switch {
		case err == syscall.EAGAIN:
			return false // wait until writable
		case err == syscall.EINTR:
			continue
		case err != nil:
			o.err = err
			return true
		case k == 0:
			return true // the file ended
		}
	}
	return true
}

// sendfileAt sends head (with MSG_MORE), then n bytes of f from off with
// sendfile(2), retrying when the socket is full once the poller says it
// is writable. It stops early (written < n, no error) at the end of the
// file; written counts f's bytes only.
func (c *conn) sendfileAt(tc *net.TCPConn, head []byte, f *os.File, off, n int64) (int64, error) {
	if c.raw == nil {
		raw, err := tc.SyscallConn()
		if err != nil {
			return 0, err
		}
		c.raw = raw
		c.sf.step = c.sf.run
	}
	o := &c.sf
	// Fd, not SyscallConn: no allocation, and a regular file's descriptor
	// is not in the poller (the blocking mode Fd sets changes nothing).
	o.head, o.src, o.off, o.n, o.done, o.err = head, int(f.Fd()), off, n, 0, nil
	err := c.raw.Write(o.step)
	runtime.KeepAlive(f) // (f's descriptor is used past Fd)
	written := o.done
	if err == nil {
		err = o.err
	}
	o.head, o.err = nil, nil
	if err != nil {
		return written, os.NewSyscallError("sendfile", err)
	}
	return written, nil
}
