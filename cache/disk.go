package cache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// This file is the disk tier: one file per object (diskrecord.go) in one
// of 256 hashed directories, named by the SHA-256 of its cache key,
// and an index in memory (size, retention end, recency) built from the
// files themselves.
//
// The files are the index. There is no separate index file to keep in step
// with them, so nothing can disagree after a crash: a start scans the
// files' metadata in the background (removing temporary files left by a
// crash, damaged records, expired and invalidated objects) while the node
// serves; until the scan is done, a lookup that the index cannot answer
// opens the object's file by its name, so the first hits do not wait for
// the scan. Measured (this repository's 2-core VM, 10,000 objects): the
// scan takes 334 ms, an object's write 159 us; an embedded index would
// rebuild in 19 ms (pebble) or 1.2 ms (bbolt) but add 1.4 us / 17 us per
// write unsynced — and then lose or invent entries in a crash, needing
// this scan anyway — or 203 us / 277 us synced.
//
// Every object stored in RAM is also written here (write-through, off the
// request path, by one writer goroutine fed through a bounded queue whose
// entries lookups find meanwhile), so both an eviction from RAM and a
// restart — graceful or kill -9 — find it on disk. A disk hit is served
// from its file (sendfile on plain connections) and, on its second lookup
// (then its 4th, 8th and every 16th while it stays on disk), offered to
// the RAM tier, whose admission policy decides.
//
// Files are unlinked while responses may still be reading them (eviction,
// invalidation, replacement): on Linux (and every POSIX system) an
// unlinked file stays readable through the descriptors open on it, and its
// blocks are freed when the last one closes. A response reads either a
// descriptor of its own (Entry.Open) or one of the open-file cache's,
// reference-counted so that it is closed only when its last reader is
// done (diskhot.go).

// DiskOptions configures the disk tier of a Store.
type DiskOptions struct {
	Path string // directory of the cache files, created if missing
	// MaxBytes bounds the files' total size; the least recently used go
	// first.
	MaxBytes int64
	// MaxObjectSize is the largest object stored on disk (default 1 GiB).
	MaxObjectSize int64
}

// DefaultDiskMaxObjectSize is DiskOptions.MaxObjectSize's default.
const DefaultDiskMaxObjectSize = 1 << 30

// Disk error operations, the op label of edgefront_cache_disk_errors_total.
const (
	DiskOpOpen   = "open"   // the directory at start
	DiskOpWrite  = "write"  // writing an object (disk full, unwritable)
	DiskOpRead   = "read"   // reading an object's metadata or body
	DiskOpVerify = "verify" // a body whose checksum did not match
	DiskOpRemove = "remove" // unlinking an object
	DiskOpScan   = "scan"   // the start-up scan
	DiskOpBans   = "bans"   // saving or loading the invalidation bans
)

// DiskOps lists the disk error operations.
func DiskOps() []string {
	return []string{DiskOpOpen, DiskOpWrite, DiskOpRead, DiskOpVerify, DiskOpRemove, DiskOpScan, DiskOpBans}
}

// writeQueue bounds the writes waiting for the writer: in objects, and in
// bytes of bodies they keep alive (the fixed margin over --cache-size). A
// write that does not fit is dropped (counted): the object then lives in
// RAM only.
const (
	writeQueue      = 16384
	writeQueueBytes = 64 << 20
)

// objectID is the SHA-256 (first 16 bytes) of a cache key.
type objectID [16]byte

func idOf(key string) objectID {
	sum := sha256.Sum256([]byte(key))
	return objectID(sum[:16])
}

// diskItem is one object in the index.
type diskItem struct {
	id    objectID
	size  int64 // the file's length
	until int64 // end of retention, Unix nanoseconds
	gen   uint64
	// verified: the body's checksum was checked (or this process wrote
	// it), so it is served without reading it first.
	verified bool
	// hits counts the lookups since the object was last offered to RAM:
	// it is offered on its second (a doorkeeper, as TinyLFU's, against
	// reading one-hit objects for an admission they would not get), then,
	// while it is still looked up on disk, on its 4th, 8th and from then
	// on every 16th (offers counts the offers, up to 3): an object RAM's
	// policy refused (or soon evicted) is read again only once it has
	// been asked for more. Under the bench's disk scenario (a full RAM
	// tier, 17 % disk hits), offering on every second lookup read 71,000
	// bodies in 10 s for 10,500 admissions.
	hits, offers uint8
	hot          *hotFile  // its open file and decoded entry (diskhot.go)
	prev, next   *diskItem // recency list, most recent at head
}

// diskTier is the persistent tier of a Store.
type diskTier struct {
	dir       string
	max       int64
	maxObject int64
	now       func() time.Time
	log       *slog.Logger

	mu    sync.Mutex
	items map[objectID]*diskItem
	head  *diskItem // most recently used
	tail  *diskItem
	bytes int64
	dirs  map[string]bool // directories known to exist
	// tmpPrefix starts the names of this process's temporary files: the
	// scan removes only other processes' (a crash's leftovers).
	tmpPrefix string
	scanDone  atomic.Bool
	closed    atomic.Bool   // lookups miss once the store is closed
	scanned   chan struct{} // closed when the scan is over

	queue   chan diskWrite
	pending atomic.Int64 // body bytes in queue
	// queued holds the entries waiting for the writer (under mu): a
	// lookup finds an object evicted from RAM before it reached the disk,
	// and a Delete cancels its write.
	queued  map[objectID]*Entry
	promote chan promotion
	stop    chan struct{}
	wg      sync.WaitGroup

	hits, drops atomic.Int64
	errs        map[string]*atomic.Int64
	logged      sync.Map // op + cause → struct{}: logged once

	lock *os.File // held locked while the tier is open (nil: no lock)

	// The open-file cache (diskhot.go), under mu.
	hotHead, hotTail *hotFile
	hotCount, maxHot int
	// recBufs holds the buffers lookups read metadata into.
	recBufs sync.Pool

	// writeFile writes one record's bytes to f; tests replace it to
	// simulate a full disk.
	writeFile func(f *os.File, p []byte) (int, error)
}

// diskWrite is one object waiting for the writer.
type diskWrite struct {
	key  string
	e    *Entry
	done chan struct{} // a barrier (flush): closed when reached
}

// promotion is a disk hit offered to the RAM tier.
type promotion struct {
	key  string
	e    *Entry
	done chan struct{} // a barrier (waitPromotions): closed when reached
}

// openDisk opens (creating) the tier's directory. It fails for bad options
// and for a directory another process uses; a directory it cannot create
// or write is logged and counted, and the tier keeps trying (every write
// fails until it can), the node serving from RAM meanwhile.
func openDisk(o DiskOptions, now func() time.Time, log *slog.Logger) (*diskTier, error) {
	if o.Path == "" {
		return nil, errors.New("cache: disk: Path is required")
	}
	if o.MaxBytes <= 0 {
		return nil, errors.New("cache: disk: MaxBytes must be positive")
	}
	if o.MaxObjectSize <= 0 {
		o.MaxObjectSize = DefaultDiskMaxObjectSize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &diskTier{
		dir: o.Path, max: o.MaxBytes, maxObject: min(o.MaxObjectSize, o.MaxBytes), now: now, log: log,
		items: map[objectID]*diskItem{}, dirs: map[string]bool{}, queued: map[objectID]*Entry{},
		queue: make(chan diskWrite, writeQueue), promote: make(chan promotion, 64), stop: make(chan struct{}), scanned: make(chan struct{}),
		errs:      map[string]*atomic.Int64{},
		writeFile: (*os.File).Write,
		tmpPrefix: fmt.Sprintf("%d-%x-", os.Getpid(), randomGen()),
		maxHot:    maxHot(),
	}
	for _, op := range DiskOps() {
		t.errs[op] = new(atomic.Int64)
	}
	if err := os.MkdirAll(o.Path, 0o755); err != nil {
		t.fail(DiskOpOpen, err)
		return t, nil
	}
	// One process per directory: another's scan would take this one's
	// temporary files for a crash's leftovers. The lock goes with the
	// process (kill -9 included).
	lock, err := os.OpenFile(filepath.Join(o.Path, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.fail(DiskOpOpen, err)
		return t, nil
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("cache: disk %s: another process uses it", o.Path)
		}
		t.fail(DiskOpOpen, err)
		return t, nil
	}
	t.lock = lock
	return t, nil
}

// lockFile is the file a tier holds locked in its directory.
const lockFile = "lock"

// fail counts an error of op and logs it the first time its cause is seen.
func (t *diskTier) fail(op string, err error) {
	t.errs[op].Add(1)
	cause := err.Error()
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		cause = errno.Error() // one line per cause, not per file
	case errors.Is(err, errRecord):
		cause = errRecord.Error()
	}
	if _, seen := t.logged.LoadOrStore(op+"\x00"+cause, struct{}{}); !seen {
		t.log.Warn("disk cache: serving from memory and the origin where the disk fails (logged once per cause)",
			"op", op, "dir", t.dir, "err", err)
	}
}

// path is the file of id: dir/ab/abcd…. One level of 256 directories
// (created as first needed) keeps a directory to a few thousand files for
// a 50 GiB disk of 100 KiB objects; a second level would cost a mkdir on
// nearly every write until there are millions of objects.
func (t *diskTier) path(id objectID) string {
	h := hex.EncodeToString(id[:])
	return filepath.Join(t.dir, h[:2], h)
}

// --- the recency list; the caller holds mu.

func (t *diskTier) unlink(it *diskItem) {
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		t.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		t.tail = it.prev
	}
	it.prev, it.next = nil, nil
}

func (t *diskTier) pushFront(it *diskItem) {
	it.prev, it.next = nil, t.head
	if t.head != nil {
		t.head.prev = it
	}
	t.head = it
	if t.tail == nil {
		t.tail = it
	}
}

// insert puts it in the index (replacing what was there) and returns the
// items to remove to stay under the size bound.
func (t *diskTier) insertLocked(it *diskItem) (victims []*diskItem) {
	if old := t.items[it.id]; old != nil {
		t.unlink(old)
		t.bytes -= old.size
		t.releaseHotLocked(old)
	}
	t.items[it.id] = it
	t.pushFront(it)
	t.bytes += it.size
	for t.bytes > t.max && t.tail != nil && t.tail != it {
		v := t.tail
		t.removeLocked(v)
		victims = append(victims, v)
	}
	return victims
}

func (t *diskTier) removeLocked(it *diskItem) {
	t.releaseHotLocked(it)
	t.unlink(it)
	delete(t.items, it.id)
	t.bytes -= it.size
}

// drop removes id's file if the index still holds it at gen (0: any).
func (t *diskTier) drop(id objectID, gen uint64) {
	t.mu.Lock()
	if gen == 0 {
		delete(t.queued, id) // a Delete: cancel its write too
	}
	it := t.items[id]
	if it == nil || gen != 0 && it.gen != gen {
		t.mu.Unlock()
		return
	}
	t.removeLocked(it)
	t.mu.Unlock()
	t.remove(it)
}

// remove unlinks victims' files (responses reading them keep their
// descriptors).
func (t *diskTier) remove(victims ...*diskItem) {
	for _, v := range victims {
		if err := os.Remove(t.path(v.id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.fail(DiskOpRemove, err)
		}
	}
}

// free is the bytes the tier can take before it evicts.
func (t *diskTier) free() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.max - t.bytes
}

// stats reports the objects and bytes in the index.
func (t *diskTier) stats() (items, bytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.items)), t.bytes
}

// --- writing

// enqueue hands e, stored under key, to the writer; it reports false when
// the queue is full (the object then lives in RAM only).
func (t *diskTier) enqueue(key string, e *Entry) bool {
	n := int64(len(e.Body()))
	if e.BodyLen() > t.maxObject {
		return false
	}
	if t.pending.Add(n) > writeQueueBytes && n > 0 {
		t.pending.Add(-n)
		t.drops.Add(1)
		return false
	}
	id := idOf(key)
	t.mu.Lock()
	t.queued[id] = e
	t.mu.Unlock()
	select {
	case t.queue <- diskWrite{key: key, e: e}:
		return true
	default:
		t.unqueue(id, e)
		t.pending.Add(-n)
		t.drops.Add(1)
		return false
	}
}

// unqueue forgets e's queued write if it is still the one for id; it
// reports whether it was.
func (t *diskTier) unqueue(id objectID, e *Entry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.queued[id] != e {
		return false
	}
	delete(t.queued, id)
	return true
}

// flush returns once the writes queued before it are done.
func (t *diskTier) flush() {
	done := make(chan struct{})
	select {
	case t.queue <- diskWrite{done: done}:
	case <-t.stop:
		return
	}
	select {
	case <-done:
	case <-t.stop:
	}
}

// writer writes queued objects until stop, then what is still queued.
func (t *diskTier) writer() {
	defer t.wg.Done()
	for {
		select {
		case w := <-t.queue:
			t.write(w)
		case <-t.stop:
			for {
				select {
				case w := <-t.queue:
					t.write(w)
				default:
					return
				}
			}
		}
	}
}

// write stores one object: metadata and body to a temporary file in the
// object's directory, renamed over the object's name.
func (t *diskTier) write(w diskWrite) {
	if w.done != nil {
		close(w.done)
		return
	}
	defer t.pending.Add(-int64(len(w.e.Body())))
	id := idOf(w.key)
	t.mu.Lock()
	current := t.queued[id] == w.e
	t.mu.Unlock()
	if !current {
		return // deleted, or superseded by a later write of the key
	}
	err := t.writeRecord(w.key, w.e)
	t.unqueue(id, w.e) // (after the index has it: no lookup misses between)
	if err != nil {
		t.fail(DiskOpWrite, err)
	}
}

func (t *diskTier) writeRecord(key string, e *Entry) error {
	id := idOf(key)
	final := t.path(id)
	dir := filepath.Dir(final)
	if !t.knownDir(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		t.mu.Lock()
		t.dirs[dir] = true
		t.mu.Unlock()
	}
	var src *os.File // the body of a file-backed entry (a refreshed header)
	var srcOff int64
	bodyLen := int64(len(e.Body()))
	bodyCRC := crc32.Checksum(e.Body(), castagnoli)
	if e.disk() != nil {
		f, off, err := e.disk().open()
		if err != nil {
			return err
		}
		defer f.Close()
		src, srcOff, bodyLen, bodyCRC = f, off, e.disk().n, e.disk().crc
	}
	gen := randomGen()
	rec := encodeRecord(key, e, bodyLen, bodyCRC, gen)
	tmp, err := os.CreateTemp(dir, t.tmpPrefix+"*.tmp")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := t.writeFile(tmp, rec); err != nil {
		return err
	}
	if src != nil {
		if _, err := src.Seek(srcOff, io.SeekStart); err != nil {
			return err
		}
		// (copy_file_range on Linux: the kernel copies.)
		if n, err := tmp.ReadFrom(&io.LimitedReader{R: src, N: bodyLen}); err != nil || n != bodyLen {
			return fmt.Errorf("copying the body: %d of %d bytes: %w", n, bodyLen, err)
		}
	} else if _, err := t.writeFile(tmp, e.Body()); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return err
	}
	ok = true
	it := &diskItem{id: id, size: int64(len(rec)) + bodyLen, until: e.until(), gen: gen, verified: true}
	t.mu.Lock()
	victims := t.insertLocked(it)
	t.mu.Unlock()
	t.remove(victims...)
	return nil
}

func (t *diskTier) knownDir(dir string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dirs[dir]
}

func randomGen() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1 // never 0 ("any")
}

// --- reading

// get returns the entry of key waiting for the writer (queued), else its
// file-backed entry, or false. It reads the object's metadata (and, the
// first time this process serves an object it did not write, its whole
// body, to check it) unless the open-file cache has it. promote says the
// object is due for an offer to RAM (diskItem.hits). One hash
// of the key and one hold of the mutex answer a hit in the open-file
// cache.
func (t *diskTier) get(key string, now time.Time) (e *Entry, queued, promote, ok bool) {
	id := idOf(key)
	t.mu.Lock()
	if q := t.queued[id]; q != nil {
		t.mu.Unlock()
		return q, true, false, true
	}
	if t.closed.Load() {
		t.mu.Unlock()
		return nil, false, false, false
	}
	e, promote, ok = t.getLocked(key, id, now)
	return e, false, promote, ok
}

// getLocked is get past the writer's queue; it is called with mu held
// and unlocks it.
func (t *diskTier) getLocked(key string, id objectID, now time.Time) (*Entry, bool, bool) {
	// Read before the index: a scan that ends after this lookup found
	// nothing may have indexed the object since (it says it is done only
	// after its last insertion), and the file is then opened by name.
	scanned := t.scanDone.Load()
	it := t.items[id]
	verified, promote := false, false
	var hot *Entry
	if it != nil {
		t.unlink(it)
		t.pushFront(it)
		verified = it.verified
		if it.hits++; it.hits >= 2<<it.offers {
			it.hits, promote = 0, true
			it.offers = min(it.offers+1, 3)
		}
		if now.UnixNano() < it.until {
			hot = t.hotGetLocked(it)
		}
	}
	t.mu.Unlock()
	if hot != nil {
		return hot, promote, true // no system call
	}
	if it == nil && scanned {
		return nil, false, false
	}
	if it != nil && now.UnixNano() >= it.until {
		t.drop(id, it.gen)
		return nil, false, false
	}
	f, err := os.Open(t.path(id))
	if err != nil {
		if it != nil {
			// Deleted under the tier: forget it.
			if !errors.Is(err, fs.ErrNotExist) {
				t.fail(DiskOpRead, err)
			}
			t.drop(id, it.gen)
		}
		return nil, false, false
	}
	kept := false // f goes with the entry, for its first response
	defer func() {
		if !kept {
			f.Close()
		}
	}()
	r, err := t.readRecord(f, !verified)
	switch {
	case errors.Is(err, errRecord):
		t.fail(DiskOpVerify, fmt.Errorf("%s: %w", t.path(id), err))
	case err != nil:
		t.fail(DiskOpRead, err)
	case r.key != key:
		err = errors.New("another key under this name") // a SHA-256 prefix collision: not served
	case it != nil && it.gen != r.gen && verified:
		// Rewritten since it was indexed by another writer than ours:
		// take the file as it is now.
		it = nil
	}
	if err != nil {
		if it != nil {
			t.drop(id, it.gen)
		}
		return nil, false, false
	}
	e := r.entry
	until := e.until()
	if now.UnixNano() >= until {
		t.drop(id, 0)
		os.Remove(t.path(id))
		return nil, false, false
	}
	if it == nil || it.gen != r.gen {
		verified = false
		it = &diskItem{id: id, size: r.size(), until: until, gen: r.gen, hits: 1}
		t.mu.Lock()
		victims := t.insertLocked(it)
		t.mu.Unlock()
		t.remove(victims...)
	}
	if !verified {
		if err := verifyBody(f, r); err != nil {
			t.fail(DiskOpVerify, fmt.Errorf("%s: %w", t.path(id), err))
			t.drop(id, r.gen)
			return nil, false, false
		}
		t.mu.Lock()
		it.verified = true
		t.mu.Unlock()
	}
	ep := e.withDisk(&diskBody{t: t, id: id, gen: r.gen, n: r.bodyLen, crc: r.bodyCRC, off: r.bodyOffset()})
	kept = t.makeHot(it, f, ep)
	return ep, promote, true
}

// readRecord reads and decodes the metadata at the start of f, and, with
// checkSize, checks that the file is as long as the record says. A file
// this process wrote or has checked is not fstat'ed again on every hit: if
// something outside cut it short since, sendfile comes up short and the
// response is cut (never presented as complete).
func (t *diskTier) readRecord(f *os.File, checkSize bool) (*record, error) {
	bp, _ := t.recBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
		*bp = make([]byte, recordRead)
	}
	defer t.recBufs.Put(bp)
	return readRecord(f, *bp, checkSize)
}

// recordRead is how much of a file a lookup reads at first: the prefix
// and a typical object's metadata in one read.
const recordRead = 4096

// readRecord is diskTier.readRecord reading into buf (whose contents the
// record does not keep).
func readRecord(f *os.File, buf []byte, checkSize bool) (*record, error) {
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	metaLen, err := recordMetaLen(buf)
	if err != nil {
		return nil, err
	}
	if need := recordPrefix + metaLen; need > len(buf) {
		buf = append(buf, make([]byte, need-len(buf))...)
		if _, err := f.ReadAt(buf[n:], int64(n)); err != nil {
			return nil, fmt.Errorf("%w: %w", errRecord, err)
		}
	}
	r, err := decodeRecord(buf)
	if err != nil || !checkSize {
		return r, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != r.size() {
		return nil, fmt.Errorf("%w: file of %d bytes, record of %d", errRecord, st.Size(), r.size())
	}
	return r, nil
}

// verifyBody checks the body's checksum.
func verifyBody(f *os.File, r *record) error {
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, io.NewSectionReader(f, r.bodyOffset(), r.bodyLen))
	if err != nil {
		return err
	}
	if n != r.bodyLen || h.Sum32() != r.bodyCRC {
		return fmt.Errorf("%w: body checksum", errRecord)
	}
	return nil
}

// --- the start-up scan

// scan indexes the files already in the directory, removing what cannot
// be served: temporary files of writes a crash cut short, damaged records,
// objects past their retention or banned by an invalidation. keep decides
// the last.
func (t *diskTier) scan(banned func(*Entry) bool) {
	defer t.wg.Done()
	defer close(t.scanned)
	defer t.scanDone.Store(true)
	now := t.now().UnixNano()
	err := filepath.WalkDir(t.dir, func(path string, d fs.DirEntry, err error) error {
		select {
		case <-t.stop:
			return filepath.SkipAll
		default:
		}
		if err != nil {
			if path == t.dir {
				return err
			}
			t.fail(DiskOpScan, err)
			return nil
		}
		if d.IsDir() {
			// Objects are at dir/ab/name: deeper directories are not ours.
			switch rel, _ := filepath.Rel(t.dir, path); {
			case rel == ".":
			case !strings.ContainsRune(rel, filepath.Separator):
				t.mu.Lock()
				t.dirs[path] = true
				t.mu.Unlock()
			default:
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".tmp") && !strings.HasPrefix(name, t.tmpPrefix) && !strings.HasPrefix(name, "bans-"+t.tmpPrefix) {
			t.removeFile(path)
			return nil
		}
		raw, err := hex.DecodeString(name)
		if err != nil || len(raw) != len(objectID{}) {
			return nil // not ours (the bans file, an operator's file)
		}
		id := objectID(raw)
		if filepath.Dir(path) != filepath.Dir(t.path(id)) {
			return nil
		}
		t.mu.Lock()
		_, known := t.items[id]
		t.mu.Unlock()
		if known {
			return nil // looked up or rewritten since the start
		}
		t.scanFile(path, id, now, banned)
		return nil
	})
	if err != nil {
		t.fail(DiskOpScan, err)
	}
}

func (t *diskTier) scanFile(path string, id objectID, now int64, banned func(*Entry) bool) {
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.fail(DiskOpScan, err)
		}
		return
	}
	r, err := t.readRecord(f, true)
	f.Close()
	if err != nil || idOf(r.key) != id {
		if err != nil {
			t.fail(DiskOpVerify, fmt.Errorf("%s: %w", path, err))
		}
		t.removeFile(path)
		return
	}
	e := &r.entry
	until := e.Stored().Add(Retention(e)).UnixNano()
	if now >= until || banned(e) {
		t.removeFile(path)
		return
	}
	t.mu.Lock()
	var victims []*diskItem
	if _, known := t.items[id]; !known {
		victims = t.insertLocked(&diskItem{id: id, size: r.size(), until: until, gen: r.gen})
	}
	t.mu.Unlock()
	t.remove(victims...)
}

func (t *diskTier) removeFile(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.fail(DiskOpRemove, err)
	}
}

// --- promotion to RAM

// promoter hands the disk hits offered to RAM, one at a time, to promote
// (Store.promote: read into the arena and stored in RAM).
func (t *diskTier) promoter(promote func(key string, e *Entry)) {
	defer t.wg.Done()
	for {
		select {
		case <-t.stop:
			return
		case p := <-t.promote:
			if p.done != nil {
				close(p.done)
				continue
			}
			promote(p.key, p.e)
		}
	}
}

// offer queues a disk hit for promotion, unless the promoter is busy.
func (t *diskTier) offer(key string, e *Entry) {
	select {
	case t.promote <- promotion{key: key, e: e}:
	default:
	}
}

// waitPromotions returns once the promotions offered before it are done.
func (t *diskTier) waitPromotions() {
	done := make(chan struct{})
	select {
	case t.promote <- promotion{done: done}:
	case <-t.stop:
		return
	}
	select {
	case <-done:
	case <-t.stop:
	}
}

// close stops the scan and the promoter, and writes what is queued.
func (t *diskTier) close() {
	t.closed.Store(true)
	close(t.stop)
	t.wg.Wait()
	t.releaseAllHot()
}

// unlock lets another process use the directory.
func (t *diskTier) unlock() {
	if t.lock != nil {
		t.lock.Close() // (releases the lock)
	}
}
