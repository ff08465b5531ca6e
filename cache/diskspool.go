package cache

import (
	"errors"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
)

// A Spool writes one object to the disk tier as its body streams from the
// origin: an object too large for RAM (over Options.MaxObjectSize) that the
// disk takes. Write never fails — a disk error is counted and the rest of
// the body is ignored — so a viewer streaming the same body is never cut
// by the disk; Commit then stores nothing.
type Spool struct {
	t    *diskTier
	key  string
	e    Entry
	want int64
	f    *os.File
	n    int64
	crc  hash.Hash32
	gen  uint64
	err  error
}

// NewSpool starts writing key's object e (its metadata: Body is ignored)
// with a body of length bytes to the disk tier. It returns nil when there
// is no disk tier, the object is over its largest, past its retention,
// banned, or the temporary file cannot be created (counted).
func (s *Store) NewSpool(key string, e *Entry, length int64) *Spool {
	if s.disk == nil || length < 0 || length > s.disk.maxObject {
		return nil
	}
	until := e.Stored().Add(Retention(e))
	if !until.After(s.now()) || s.bans.banned(e) {
		return nil
	}
	t := s.disk
	sp := &Spool{t: t, key: key, e: *e, want: length, crc: crc32.New(castagnoli), gen: randomGen()}
	sp.e.dropBody()
	dir := filepath.Dir(t.path(idOf(key)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.fail(DiskOpWrite, err)
		return nil
	}
	f, err := os.CreateTemp(dir, t.tmpPrefix+"*.tmp")
	if err != nil {
		t.fail(DiskOpWrite, err)
		return nil
	}
	sp.f = f
	// The prefix's body checksum is written again at Commit.
	if _, err := t.writeFile(f, encodeRecord(key, &sp.e, length, 0, sp.gen)); err != nil {
		sp.fail(err)
		return nil
	}
	s.noteUntil(until.UnixNano())
	return sp
}

func (sp *Spool) fail(err error) {
	if sp.err == nil {
		sp.err = err
		sp.t.fail(DiskOpWrite, err)
		sp.f.Close()
		os.Remove(sp.f.Name())
	}
}

// Write writes p to the spool; it always reports success.
func (sp *Spool) Write(p []byte) (int, error) {
	if sp.err != nil {
		return len(p), nil
	}
	if sp.n+int64(len(p)) > sp.want {
		sp.fail(errShortOrLong)
		return len(p), nil
	}
	if _, err := sp.t.writeFile(sp.f, p); err != nil {
		sp.fail(err)
		return len(p), nil
	}
	sp.crc.Write(p)
	sp.n += int64(len(p))
	return len(p), nil
}

var (
	errShortOrLong = errors.New("cache: spooled body not as long as its Content-Length")
	errDone        = errors.New("cache: spool committed or aborted")
)

// Commit stores the object if its whole body was written; it reports
// whether it did.
func (sp *Spool) Commit() bool {
	if sp.err != nil {
		return false
	}
	if sp.n != sp.want {
		sp.fail(errShortOrLong)
		return false
	}
	rec := encodeRecord(sp.key, &sp.e, sp.want, sp.crc.Sum32(), sp.gen)
	if _, err := sp.f.WriteAt(rec, 0); err != nil {
		sp.fail(err)
		return false
	}
	if err := sp.f.Close(); err != nil {
		sp.err = err
		sp.t.fail(DiskOpWrite, err)
		os.Remove(sp.f.Name())
		return false
	}
	id := idOf(sp.key)
	if err := os.Rename(sp.f.Name(), sp.t.path(id)); err != nil {
		sp.err = err
		sp.t.fail(DiskOpWrite, err)
		os.Remove(sp.f.Name())
		return false
	}
	sp.err = errDone
	t := sp.t
	t.mu.Lock()
	victims := t.insertLocked(&diskItem{id: id, size: int64(len(rec)) + sp.want, until: sp.e.until(), gen: sp.gen, verified: true})
	t.mu.Unlock()
	t.remove(victims...)
	return true
}

// Abort discards what was written.
func (sp *Spool) Abort() {
	if sp.err == nil {
		sp.err = errDone
		sp.f.Close()
		os.Remove(sp.f.Name())
	}
}
