package cache

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// diskBody is the body of a file-backed entry: n bytes at off, the end of
// the object's file, as written with generation gen. hot, when set, is
// the open-file cache's descriptor of that version (diskhot.go), which
// Open shares while the cache keeps it.
type diskBody struct {
	t   *diskTier
	id  objectID
	gen uint64
	n   int64
	off int64
	crc uint32
	hot *hotFile // set once, under the tier's mutex, before the entry is shared
}

// errReplaced is the error of opening a body whose file was replaced or
// removed since the entry was read.
var errReplaced = errors.New("cache: the object's file was replaced or removed")

// open opens the body's file and returns it with the body's offset, after
// checking that the file still holds this generation, or the same body.
func (d *diskBody) open() (*os.File, int64, error) {
	f, err := os.Open(d.t.path(d.id))
	if err != nil {
		return nil, 0, err
	}
	r, err := d.t.readRecord(f, true)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	// Another version of the file serves if its body is the same (a 304
	// refresh rewrites the file with new headers and the same body): same
	// length and CRC-32C.
	if r.gen != d.gen && (r.bodyLen != d.n || r.bodyCRC != d.crc) {
		f.Close()
		return nil, 0, errReplaced
	}
	return f, r.bodyOffset(), nil
}

// readInto reads the whole body into b (len(b) == d.n), checking its
// checksum (from the open-file cache's descriptor when it has one:
// positioned reads share it).
func (d *diskBody) readInto(b []byte) error {
	if int64(len(b)) != d.n {
		return fmt.Errorf("cache: reading a %d-byte body into %d bytes", d.n, len(b))
	}
	var f *os.File
	off := d.off
	if h := d.hot; h != nil && d.t.acquire(h) {
		defer d.t.release(h)
		f = h.f
	} else {
		var err error
		if f, off, err = d.open(); err != nil {
			return err
		}
		defer f.Close()
	}
	if _, err := f.ReadAt(b, off); err != nil {
		d.t.fail(DiskOpRead, err)
		return err
	}
	if crc32.Checksum(b, castagnoli) != d.crc {
		err := fmt.Errorf("%s: %w: body checksum", d.t.path(d.id), errRecord)
		d.t.fail(DiskOpVerify, err)
		d.t.drop(d.id, d.gen)
		return err
	}
	return nil
}

// BodyLen is the length of the entry's body, in hand, in the arena or on
// disk.
func (e *Entry) BodyLen() int64 {
	if e.mem != nil {
		return e.mem.len()
	}
	if d := e.disk(); d != nil {
		return d.n
	}
	return int64(len(e.Body()))
}

// InStore reports whether the entry's body is the store's — in the RAM
// tier's arena or in a disk tier file — rather than in hand (Body is then
// nil): it is read with Open, which may fail once the store let it go.
func (e *Entry) InStore() bool { return e.mem != nil || e.disk() != nil }

// OnDisk reports whether the entry's body is in a file of the disk tier
// rather than in hand (Body is then nil).
func (e *Entry) OnDisk() bool { return e.disk() != nil }

// inMemory returns a copy of the file-backed e with body b in memory.
func (e *Entry) inMemory(b []byte) *Entry {
	c := *e
	c.mem = nil
	return newEntry(c, entryMore{Extra: e.Extra(), body: b})
}

// errReleased is the error of opening a body the RAM tier let go of
// (evicted, replaced, deleted) since the entry was looked up.
var errReleased = errors.New("cache: the object left the RAM tier")

// Open opens the entry's body for one response; the caller closes it when
// the response is written. A body in hand never fails to open; a body in
// the arena fails when the store let it go since the lookup, and a body on
// disk when its file was removed or replaced (the caller treats the entry
// as not found). A body from the arena is held — its block not reused —
// until Close.
func (e *Entry) Open() (Body, error) {
	if m := e.mem; m != nil {
		if !m.acquire() {
			return Body{}, errReleased
		}
		b := m.bytes()
		return Body{b: b, f: m.a.file, off: m.off, n: int64(len(b)), mem: m}, nil
	}
	d := e.disk()
	if d == nil {
		b := e.Body()
		return Body{b: b, n: int64(len(b))}, nil
	}
	if h := d.hot; h != nil && d.t.acquire(h) {
		d.t.hits.Add(1)
		return Body{f: h.f, off: d.off, n: d.n, hot: h, t: d.t}, nil
	}
	f, off, err := d.open()
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errReplaced) {
			d.t.fail(DiskOpRead, err)
		}
		d.t.drop(d.id, d.gen)
		return Body{}, err
	}
	d.t.hits.Add(1)
	return Body{f: f, off: off, n: d.n}, nil
}

// BytesBody is a Body of b, for a response made from bytes in hand.
func BytesBody(b []byte) Body { return Body{b: b, n: int64(len(b))} }

// Body is an entry's body opened for one response: bytes in memory, a
// section of an open file, or both for a body in the RAM tier's arena (its
// mapping and its memory file), which WriteRange sends with sendfile(2)
// where the writer can (an io.ReaderFrom or FileSender over a plain TCP
// connection).
type Body struct {
	b   []byte
	f   *os.File
	off int64
	n   int64
	// hot: f is the open-file cache's, shared (never seeked): released to
	// t on Close.
	hot *hotFile
	t   *diskTier
	// mem: b is the arena block's, held until Close; f is the arena's
	// memory file, shared like hot's.
	mem *memBlock
}

// sendfileMin is the smallest body from the arena that WriteRange sends
// with sendfile(2) rather than writes from the mapping: below it, the
// copy costs less than the extra system call (with sendfile the head goes
// in one of its own; written, head and body go in one writev).
const sendfileMin = 16 << 10

// Len is the body's length.
func (b Body) Len() int64 { return b.n }

// File reports whether the body is best sent from a file: a disk tier's,
// or a large body of the RAM tier's arena.
func (b Body) File() bool { return b.f != nil && (b.mem == nil || b.n >= sendfileMin) }

// Bytes returns the body in memory (an arena body's mapping too), or nil,
// false for a disk tier file.
func (b Body) Bytes() ([]byte, bool) { return b.b, b.f == nil || b.mem != nil }

// WriteRange writes n bytes of the body from first to w. A file's bytes go
// through w's ReadFrom when it has one, with an *io.LimitedReader over the
// *os.File (positioned at the range), the form net.TCPConn.ReadFrom sends
// with sendfile(2). An error means w got fewer than n bytes: the caller
// must not present the response as complete.
func (b Body) WriteRange(w io.Writer, first, n int64) error {
	if first < 0 || n < 0 || first+n > b.n {
		return fmt.Errorf("cache: range %d+%d of a %d-byte body", first, n, b.n)
	}
	if fs, ok := w.(FileSender); ok && b.mem != nil && b.File() && n > 0 && sendsFiles(fs) {
		// A large body from the arena: sent from its memory file
		// (sendfile(2) on a plain TCP connection).
		return sendShared(w, b.f, b.off+first, n)
	}
	if b.f == nil || b.mem != nil {
		// In memory (an arena body too: written from the mapping, with no
		// read into a buffer first).
		_, err := w.Write(b.b[first : first+n])
		return err
	}
	if n == 0 {
		return nil
	}
	if b.hot != nil {
		return sendShared(w, b.f, b.off+first, n)
	}
	if _, err := b.f.Seek(b.off+first, io.SeekStart); err != nil {
		return err
	}
	lr := &io.LimitedReader{R: b.f, N: n}
	var written int64
	var err error
	if rf, ok := w.(io.ReaderFrom); ok {
		written, err = rf.ReadFrom(lr)
	} else {
		written, err = io.Copy(w, lr)
	}
	if err == nil && written != n {
		err = fmt.Errorf("cache: body file ended after %d of %d bytes: %w", written, n, io.ErrUnexpectedEOF)
	}
	return err
}

// FileSender is a writer that sends n bytes of f from off itself, without
// moving f's position (h1's response: sendfile(2) with an offset), so one
// descriptor serves concurrent responses.
type FileSender interface {
	SendFile(f *os.File, off, n int64) (int64, error)
}

// sendsFiles reports whether fs would send with sendfile(2) (it says so
// with a SendsFiles method; one that does not is taken to).
func sendsFiles(fs FileSender) bool {
	c, ok := fs.(interface{ SendsFiles() bool })
	return !ok || c.SendsFiles()
}

// sendShared writes n bytes of the shared f from off to w: through its
// SendFile, else with positioned reads (io.SectionReader).
func sendShared(w io.Writer, f *os.File, off, n int64) error {
	var written int64
	var err error
	if fs, ok := w.(FileSender); ok {
		written, err = fs.SendFile(f, off, n)
	} else {
		written, err = io.Copy(w, io.NewSectionReader(f, off, n))
	}
	if err == nil && written != n {
		err = fmt.Errorf("cache: body file ended after %d of %d bytes: %w", written, n, io.ErrUnexpectedEOF)
	}
	return err
}

// Close releases the body's block or file.
func (b Body) Close() error {
	switch {
	case b.mem != nil:
		b.mem.release()
	case b.hot != nil:
		b.t.release(b.hot)
	case b.f != nil:
		return b.f.Close()
	}
	return nil
}
