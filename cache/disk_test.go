package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// diskStore opens a store with a disk tier in dir; RAM holds ramBytes.
func diskStore(t testing.TB, dir string, ramBytes, diskBytes int64, clk *clock) *Store {
	t.Helper()
	s, err := New(Options{MaxBytes: ramBytes, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: diskBytes}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// body returns n bytes that differ per key, so a body served for the wrong
// key (or a wrong range) shows.
func body(key string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = key[i%len(key)] + byte(i/len(key))
	}
	return b
}

// readBody opens e's body and reads it whole through WriteRange.
func readBody(t *testing.T, e *Entry) []byte {
	t.Helper()
	b, err := e.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if err := b.WriteRange(&buf, 0, b.Len()); err != nil {
		t.Fatalf("WriteRange: %v", err)
	}
	return buf.Bytes()
}

func stored(t *testing.T, s *Store, key string, e *Entry) {
	t.Helper()
	if !s.Set(key, e) {
		t.Fatalf("Set(%q) refused", key)
	}
}

// TestDiskRestartKeepsHits: what was stored is found after the store is
// closed and opened again on the same directory, with its body, headers,
// validators and freshness — both before the start-up scan is over (the
// file is found by its name) and after.
func TestDiskRestartKeepsHits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		waitScan bool
	}{{"during the scan", false}, {"after the scan", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, clk := t.TempDir(), newClock()
			s := diskStore(t, dir, 1<<20, 1<<30, clk)
			e := NewEntry(Entry{Status: 200, Header: NewHeader(hdr("Etag", `"v1"`, "Last-Modified", "Fri, 02 Jan 2026 00:00:00 GMT")),
				Distribution: "E1", Path: "/a", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body("/a", 5000),
				Extra{Query: "v=1", InitialAge: 7 * time.Second, StaleWhileRevalidate: time.Minute, StaleIfError: 2 * time.Minute})
			stored(t, s, "key-a", e)
			s.Close()

			clk.Advance(10 * time.Minute)
			s2 := diskStore(t, dir, 1<<20, 1<<30, clk)
			if tc.waitScan {
				s2.WaitDiskScan()
			}
			got, ok := s2.Get("key-a")
			if !ok {
				t.Fatal("miss after restart")
			}
			if !got.OnDisk() {
				t.Error("the first hit after a restart is not from disk")
			}
			if got.Status != 200 || got.StoredNano != e.StoredNano || got.TTL != e.TTL || got.Extra() != e.Extra() ||
				got.Distribution != "E1" || got.Path != "/a" || got.Query() != "v=1" {
				t.Errorf("entry after restart = %+v, want the stored fields of %+v", got, e)
			}
			if got.Header.Get("ETag") != `"v1"` || got.Header.Get("Last-Modified") == "" {
				t.Errorf("headers after restart = %q", got.Header)
			}
			if age := got.Age(clk.Now()); age != 10*time.Minute+7*time.Second {
				t.Errorf("Age = %v, want 10m7s", age)
			}
			if !got.Fresh(clk.Now()) {
				t.Error("not fresh 10 minutes into a 1 h TTL")
			}
			if !bytes.Equal(readBody(t, got), e.Body()) {
				t.Error("body differs after restart")
			}
			if _, ok := s2.Get("key-b"); ok {
				t.Error("a key never stored is a hit")
			}
			if st := s2.DiskStats(); st.Hits != 1 {
				t.Errorf("disk hits = %d, want 1", st.Hits)
			}
		})
	}
}

// TestDiskPromotion: an object hit twice on disk, small enough for RAM, is
// offered to it; the next lookup is a RAM hit.
func TestDiskPromotion(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s := diskStore(t, dir, 1<<20, 1<<30, clk)
	stored(t, s, "k", entry("/k", 1000, clk.Now(), time.Hour))
	s.Close()
	s2 := diskStore(t, dir, 1<<20, 1<<30, clk)
	for i := range 2 { // offered on the second disk hit (the doorkeeper)
		if e, ok := s2.Get("k"); !ok || !e.OnDisk() {
			t.Fatalf("Get %d after restart = %v, %v; want a disk hit", i, e, ok)
		}
		s2.disk.waitPromotions()
		s2.c.Wait()
	}
	s2.c.Wait() // (a promotion does not wait for ristretto's buffers)
	e, ok := s2.Get("k")
	if !ok || e.OnDisk() || e.BodyLen() != 1000 {
		t.Fatalf("Get after promotion: ok %v, on disk %v; want a RAM hit", ok, ok && e.OnDisk())
	}
	if st := s2.RAMStats(); st.Items != 1 || st.Hits != 1 {
		t.Errorf("RAM stats = %+v, want 1 item, 1 hit", st)
	}
}

// TestDiskTornWritesDiscarded: a damaged file is never served, and the
// start-up scan removes it (and a temporary file a crash left).
func TestDiskTornWritesDiscarded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated body", func(t *testing.T, path string) { truncateBy(t, path, 100) }},
		{"truncated metadata", func(t *testing.T, path string) { truncateTo(t, path, 20) }},
		{"flipped body byte", func(t *testing.T, path string) { flip(t, path, -10) }},
		{"flipped metadata byte", func(t *testing.T, path string) { flip(t, path, recordPrefix+3) }},
		{"zeroed", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			writeFile(t, path, make([]byte, fi.Size()))
		}},
		{"empty", func(t *testing.T, path string) { writeFile(t, path, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, scan := range []bool{false, true} {
				dir, clk := t.TempDir(), newClock()
				s := diskStore(t, dir, 1<<20, 1<<30, clk)
				stored(t, s, "k", entry("/k", 3000, clk.Now(), time.Hour))
				s.Close()
				path := s.disk.path(idOf("k"))
				tc.damage(t, path)
				tmp := filepath.Join(filepath.Dir(path), "123.tmp")
				writeFile(t, tmp, []byte("half a write"))

				s2 := diskStore(t, dir, 1<<20, 1<<30, clk)
				if scan {
					s2.WaitDiskScan()
				}
				if e, ok := s2.Get("k"); ok {
					b, err := e.Open()
					if err == nil {
						var buf bytes.Buffer
						err = b.WriteRange(&buf, 0, b.Len())
						b.Close()
					}
					t.Fatalf("scan %v: a damaged file is a hit (read: %v)", scan, err)
				}
				s2.WaitDiskScan()
				if n := s2.DiskErrors(DiskOpVerify); n == 0 {
					t.Errorf("scan %v: the damaged file was not counted", scan)
				}
				if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("scan %v: the temporary file is still there (%v)", scan, err)
				}
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("scan %v: the damaged file is still there (%v)", scan, err)
				}
			}
		})
	}
}

func truncateBy(t *testing.T, path string, n int64) {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	truncateTo(t, path, fi.Size()-n)
}

func truncateTo(t *testing.T, path string, n int64) {
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, at int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at += int64(len(b))
	}
	b[at] ^= 0xff
	writeFile(t, path, b)
}

func writeFile(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiskInvalidationAcrossRestart: an invalidation made before a restart
// still holds after it, for objects on disk; an object stored after the
// invalidation is served.
func TestDiskInvalidationAcrossRestart(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s := diskStore(t, dir, 1<<20, 1<<30, clk)
	stored(t, s, "old-a", entry("/img/a", 100, clk.Now(), time.Hour))
	stored(t, s, "old-b", entry("/css/b", 100, clk.Now(), time.Hour))
	clk.Advance(time.Second)
	s.Invalidate("E1", "/img/*", clk.Now())
	clk.Advance(time.Second)
	stored(t, s, "new-c", entry("/img/c", 100, clk.Now(), time.Hour))
	s.Close()

	for _, scan := range []bool{false, true} {
		s2 := diskStore(t, dir, 1<<20, 1<<30, clk)
		if scan {
			s2.WaitDiskScan()
		}
		for key, want := range map[string]bool{"old-a": false, "old-b": true, "new-c": true} {
			if _, ok := s2.Get(key); ok != want {
				t.Errorf("scan %v: Get(%s) = %v, want %v", scan, key, ok, want)
			}
		}
		if n := s2.Bans(); n != 1 {
			t.Errorf("bans after restart = %d, want 1", n)
		}
		s2.Close()
	}
}

// TestDiskUnreadableBans: a bans file that cannot be read makes every
// object already on disk unservable (an invalidation may be unknown).
func TestDiskUnreadableBans(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s := diskStore(t, dir, 1<<20, 1<<30, clk)
	stored(t, s, "k", entry("/k", 100, clk.Now(), time.Hour))
	s.Close()
	writeFile(t, filepath.Join(dir, bansFile), []byte("{not json"))
	clk.Advance(time.Second)
	s2 := diskStore(t, dir, 1<<20, 1<<30, clk)
	if _, ok := s2.Get("k"); ok {
		t.Error("served from disk with the bans unreadable")
	}
	if s2.DiskErrors(DiskOpBans) == 0 {
		t.Error("no bans error counted")
	}
}

// TestDiskFileDeletedUnderIt: a response reading a file keeps reading it
// when the file is removed (eviction, invalidation, an operator); a lookup
// after that is a miss, not an error.
func TestDiskFileDeletedUnderIt(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s := diskStore(t, dir, 1<<20, 1<<30, clk)
	want := body("k", 200_000)
	stored(t, s, "k", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/k", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, want, Extra{}))
	s.Close()
	// (RAM takes nothing over 1000 bytes: the object stays on disk only.)
	s2, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 1000, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.WaitDiskScan()
	e, ok := s2.Get("k")
	if !ok {
		t.Fatal("miss")
	}
	b, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s2.disk.path(idOf("k"))); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.WriteRange(&buf, 0, b.Len()); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("reading a removed file: %v, %d bytes", err, buf.Len())
	}
	b.Close()
	// The open-file cache still reads the removed file's data (the
	// object as it was stored) until the object leaves the index.
	if e2, ok := s2.Get("k"); ok && !bytes.Equal(readBody(t, e2), want) {
		t.Error("a hit on a removed file's open descriptor serves other bytes")
	}
	s2.disk.drop(idOf("k"), 0) // (eviction, invalidation)
	if _, err := e.Open(); err == nil {
		t.Error("Open of a removed file succeeded once it left the index")
	}
	if _, ok := s2.Get("k"); ok {
		t.Error("hit after the removed file left the index")
	}
	if n := s2.DiskErrors(DiskOpRead); n != 0 {
		t.Errorf("a removed file counted %d read errors", n)
	}
}

// TestDiskFull: when the disk is full, writes fail (counted), RAM keeps
// serving, and nothing partial is ever served from disk. It mounts a
// 64 KiB tmpfs when it can (root); otherwise the tier's write is replaced
// by one failing with ENOSPC after 20,000 bytes, as a full disk does.
func TestDiskFull(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	mounted := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k") == nil
	if mounted {
		t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	} else {
		t.Log("no tmpfs (not root?): simulating ENOSPC in the tier's write")
	}
	s := diskStore(t, dir, 1<<22, 1<<30, clk)
	if !mounted {
		var written int
		s.disk.writeFile = func(f *os.File, p []byte) (int, error) {
			if written+len(p) > 20_000 {
				n, _ := f.Write(p[:max(0, 20_000-written)])
				written += n
				return n, syscall.ENOSPC
			}
			written += len(p)
			return f.Write(p)
		}
	}
	const n = 20
	for i := range n {
		key := "k" + strconv.Itoa(i)
		stored(t, s, key, NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/" + key, StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body(key, 10_000), Extra{}))
	}
	s.WaitDisk()
	if s.DiskErrors(DiskOpWrite) == 0 {
		t.Fatal("no write error counted on a full disk")
	}
	for i := range n {
		key := "k" + strconv.Itoa(i)
		e, ok := s.Get(key)
		if !ok || !bytes.Equal(readBody(t, e), body(key, 10_000)) {
			t.Errorf("RAM does not serve %s on a full disk", key)
		}
	}
	onDisk := s.DiskStats().Items
	s.Close()
	if onDisk == 0 || onDisk == n {
		t.Errorf("%d of %d objects on a 64 KiB disk", onDisk, n)
	}
	// After a restart, what is on disk is whole; what did not fit is a miss.
	s2 := diskStore(t, dir, 1<<22, 1<<30, clk)
	s2.WaitDiskScan()
	hits := 0
	for i := range n {
		key := "k" + strconv.Itoa(i)
		if e, ok := s2.Get(key); ok {
			hits++
			if !bytes.Equal(readBody(t, e), body(key, 10_000)) {
				t.Errorf("%s: a partial body from a full disk", key)
			}
		}
	}
	if int64(hits) != onDisk {
		t.Errorf("%d hits after restart, %d objects were on disk", hits, onDisk)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*", "*.tmp"))
	if len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestDiskBounded: a working set ten times the disk size (forty times
// RAM's) stays within both (the least recently used go), and the files on
// disk are what the index counts.
func TestDiskBounded(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	const diskMax = 200_000
	s := diskStore(t, dir, 50_000, diskMax, clk)
	for i := range 200 {
		key := "k" + strconv.Itoa(i)
		s.door.offer(key) // asked for before: admitted to a full tier (admit)
		s.Set(key, NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/" + key, StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body(key, 10_000), Extra{}))
		if i%20 == 0 {
			s.WaitDisk()
		}
	}
	s.WaitDisk()
	if ram := s.RAMStats(); ram.Bytes > 50_000 {
		t.Errorf("RAM holds %d bytes, bound 50,000", ram.Bytes)
	}
	st := s.DiskStats()
	if st.Bytes > diskMax || st.Items == 0 {
		t.Errorf("disk holds %d bytes in %d objects, bound %d", st.Bytes, st.Items, diskMax)
	}
	var files, size int64
	_ = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && filepath.Dir(path) != dir { // (the bans and lock files are at the top)
			files++
			size += fi.Size()
		}
		return nil
	})
	if files != st.Items || size != st.Bytes {
		t.Errorf("%d files of %d bytes on disk, index says %d of %d", files, size, st.Items, st.Bytes)
	}
	if _, ok := s.Get("k199"); !ok {
		t.Error("the most recent object is not kept")
	}
	if _, ok := s.Get("k0"); ok {
		t.Error("the oldest object is still there")
	}
}

// TestDiskLargeObjectDiskOnly: an object larger than RAM's largest goes to
// disk only, and is served from its file.
func TestDiskLargeObjectDiskOnly(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 100_000, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := body("big", 300_000)
	if s.Set("big", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/big", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, want, Extra{})) {
		t.Error("RAM took an object over its MaxObjectSize")
	}
	s.WaitDisk()
	e, ok := s.Get("big")
	if !ok || !e.OnDisk() {
		t.Fatalf("Get = %v; want a disk hit", ok)
	}
	if !bytes.Equal(readBody(t, e), want) {
		t.Error("body differs")
	}
	s.disk.waitPromotions()
	s.c.Wait()
	if e, _ := s.Get("big"); !e.OnDisk() {
		t.Error("an object over RAM's MaxObjectSize was promoted")
	}
}

// TestDiskRefreshKeepsBody: a file-backed entry stored again with new
// headers (a 304 refresh) keeps its body on disk.
func TestDiskRefreshKeepsBody(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 1000, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := body("k", 50_000)
	s.Set("k", NewEntry(Entry{Status: 200, Header: NewHeader(hdr("Etag", `"1"`)), Distribution: "E1", Path: "/k", StoredNano: clk.Now().UnixNano(), TTL: time.Minute}, want, Extra{}))
	s.WaitDisk()
	old, ok := s.Get("k")
	if !ok {
		t.Fatal("miss")
	}
	clk.Advance(2 * time.Minute)
	e := *old
	e.Header, e.StoredNano, e.TTL = NewHeader(hdr("Etag", `"1"`, "X-New", "yes")), clk.Now().UnixNano(), time.Hour
	if !s.Set("k", &e) {
		t.Fatal("refresh refused")
	}
	s.WaitDisk()
	got, ok := s.Get("k")
	if !ok || got.Header.Get("X-New") != "yes" || !got.Fresh(clk.Now()) {
		t.Fatalf("after refresh: ok %v, header %q", ok, got.Header)
	}
	if !bytes.Equal(readBody(t, got), want) {
		t.Error("body lost in the refresh")
	}
	// The entry read before the refresh (its open file left the cache with
	// the old version) still opens: the new file has the same body.
	if !bytes.Equal(readBody(t, old), want) {
		t.Error("the entry read before the refresh reads another body")
	}
	// Once the object is replaced by another body, it does not.
	s.Set("k", NewEntry(Entry{Status: 200, Header: NewHeader(hdr("Etag", `"2"`)), Distribution: "E1", Path: "/k", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body("k2", 50_000), Extra{}))
	s.WaitDisk()
	if _, err := old.Open(); err == nil {
		t.Error("the entry read before a new body opens the new file")
	}
}

// captureFileSender is a writer with SendFile and ReadFrom, recording
// whether it was handed the file.
type captureFileSender struct {
	bytes.Buffer
	file bool
}

func (c *captureFileSender) SendFile(f *os.File, off, n int64) (int64, error) {
	c.file = true
	return c.Buffer.ReadFrom(io.NewSectionReader(f, off, n))
}

func (c *captureFileSender) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		_, c.file = lr.R.(*os.File)
	}
	return c.Buffer.ReadFrom(r)
}

// TestDiskBodyRanges: a file body's ranges reach the writer as the file
// itself — its SendFile for a shared open file (a second lookup's), its
// ReadFrom with a LimitedReader over the file otherwise (the form
// net.TCPConn sends with sendfile) — with the right bytes, and concurrent
// readers of one shared descriptor do not disturb each other.
func TestDiskBodyRanges(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s := diskStore(t, dir, 1<<20, 1<<30, clk)
	want := body("r", 100_000)
	stored(t, s, "r", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/r", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, want, Extra{}))
	s.Close()
	s2 := diskStore(t, dir, 1<<20, 1<<30, clk)
	e, ok := s2.Get("r")
	if !ok {
		t.Fatal("miss")
	}
	bodies := make([]Body, 3)
	for i := range bodies {
		b, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		bodies[i] = b
	}
	done := make(chan struct{})
	for i, b := range bodies {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, r := range [][2]int64{{0, 100_000}, {0, 1}, {99_999, 1}, {5000, 12345}, {100_000, 0}, {int64(i) * 777, 4000}} {
				var w captureFileSender
				if err := b.WriteRange(&w, r[0], r[1]); err != nil {
					t.Errorf("range %v: %v", r, err)
					return
				}
				if !bytes.Equal(w.Bytes(), want[r[0]:r[0]+r[1]]) {
					t.Errorf("range %v: wrong bytes", r)
				}
				if r[1] > 0 && !w.file {
					t.Errorf("range %v: the writer did not get the file", r)
				}
			}
		}()
	}
	for range bodies {
		<-done
	}
	if err := bodies[0].WriteRange(io.Discard, 99_999, 2); err == nil {
		t.Error("a range past the end was written")
	}
}

// TestDiskOneProcessPerDirectory: a second store on a directory in use is
// an error (its scan would remove the first one's temporary files); once
// the first is closed, it opens.
func TestDiskOneProcessPerDirectory(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s := diskStore(t, dir, 1<<20, 1<<30, clk)
	if _, err := New(Options{MaxBytes: 1 << 20, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}}); err == nil || !strings.Contains(err.Error(), "another process uses it") {
		t.Errorf("a second store on %s: %v", dir, err)
	}
	s.Close()
	diskStore(t, dir, 1<<20, 1<<30, clk)
}

// TestNewDiskBadOptions: options that cannot work are errors; a directory
// that cannot be created is not (the node serves from RAM), it is counted.
func TestNewDiskBadOptions(t *testing.T) {
	for _, d := range []DiskOptions{{Path: "", MaxBytes: 1}, {Path: t.TempDir(), MaxBytes: 0}} {
		if _, err := New(Options{MaxBytes: 1 << 20, Disk: &d}); err == nil {
			t.Errorf("New(%+v): want an error", d)
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, nil)
	s, err := New(Options{MaxBytes: 1 << 20, Disk: &DiskOptions{Path: filepath.Join(file, "sub"), MaxBytes: 1 << 20}})
	if err != nil {
		t.Fatalf("an unusable directory is fatal: %v", err)
	}
	defer s.Close()
	s.Set("k", entry("/k", 10, time.Now(), time.Hour))
	s.WaitDisk()
	if _, ok := s.Get("k"); !ok {
		t.Error("RAM does not serve with the disk unusable")
	}
	if s.DiskErrors(DiskOpOpen) == 0 || s.DiskErrors(DiskOpWrite) == 0 {
		t.Errorf("errors: open %d, write %d; want both counted", s.DiskErrors(DiskOpOpen), s.DiskErrors(DiskOpWrite))
	}
}

// FuzzDecodeRecord: the record decoder reads files a crash or a damaged
// disk may have cut or scrambled; it must never panic, and what it accepts
// encodes back to a record that decodes to the same thing. Each input is
// decoded as it is and with its metadata checksum made right, so that the
// fuzzer reaches the fields' decoding past the checksum.
func FuzzDecodeRecord(f *testing.F) {
	e := NewEntry(Entry{Status: 200, Header: NewHeader(hdr("Content-Type", "text/plain", "Etag", `"x"`)), Distribution: "E1", Path: "/a",
		StoredNano: time.Unix(1700000000, 5).UnixNano(), TTL: time.Hour}, nil, Extra{Query: "q=1", InitialAge: time.Second, StaleIfError: NoStaleIfError})
	f.Add(encodeRecord("key", e, 10, 123, 42))
	f.Add(encodeRecord("", &Entry{}, 0, 0, 1))
	f.Add([]byte(recordMagic + strings.Repeat("\xff", 40)))
	check := func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, err := decodeRecord(encodeRecord(r.key, &r.entry, r.bodyLen, r.bodyCRC, r.gen))
		if err != nil {
			t.Fatalf("a decoded record does not decode once encoded again: %v", err)
		}
		a, b2 := r.entry, again.entry
		if r.key != again.key || r.bodyLen != again.bodyLen || r.gen != again.gen || r.bodyCRC != again.bodyCRC ||
			a.Status != b2.Status || a.Distribution != b2.Distribution || a.Path != b2.Path ||
			a.StoredNano != b2.StoredNano || a.TTL != b2.TTL || a.Extra() != b2.Extra() || strings.Join(pairs(a.Header), "\x00") != strings.Join(pairs(b2.Header), "\x00") {
			t.Errorf("round trip differs:\n%+v\n%+v", r, again)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		if n, err := recordMetaLen(b); err == nil && len(b) >= recordPrefix+n {
			c := bytes.Clone(b)
			crc := crc32.Update(0, castagnoli, c[:28])
			crc = crc32.Update(crc, castagnoli, c[recordPrefix:recordPrefix+n])
			binary.LittleEndian.PutUint32(c[28:], crc)
			check(t, c)
		}
	})
}

// TestDiskConcurrent: lookups, reads, stores, invalidations and evictions
// from many goroutines at once (run with -race): every body read is the
// one stored under its key, whole.
func TestDiskConcurrent(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 100_000, MaxObjectSize: 20_000, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 400_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const workers, keys, rounds = 8, 60, 300
	size := func(k int) int { return 1000 + k*700 } // some over RAM's largest
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range rounds {
				k := (w*31 + i*7) % keys
				key := "k" + strconv.Itoa(k)
				switch i % 5 {
				case 0:
					s.Set(key, NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/" + key, StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body(key, size(k)), Extra{}))
				case 1:
					if w == 0 && i%50 == 1 {
						s.Invalidate("E1", "/"+key, clk.Now())
					}
				default:
					e, ok := s.Get(key)
					if !ok {
						continue
					}
					b, err := e.Open()
					if err != nil {
						continue // removed since the lookup: a miss
					}
					var buf bytes.Buffer
					err = b.WriteRange(&buf, 0, b.Len())
					b.Close()
					if err != nil || !bytes.Equal(buf.Bytes(), body(key, size(k))) {
						t.Errorf("%s: read %d bytes, err %v; not the body stored", key, buf.Len(), err)
					}
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	s.WaitDisk()
	if st := s.DiskStats(); st.Bytes > 400_000 {
		t.Errorf("disk holds %d bytes, bound 400,000", st.Bytes)
	}
}

// TestDiskQueuedWrite: an object waiting for the disk writer is found in
// memory (it left RAM, or never fitted there, before reaching the disk);
// a Delete cancels its write.
func TestDiskQueuedWrite(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 100, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := make(chan struct{})
	s.disk.writeFile = func(f *os.File, p []byte) (int, error) {
		<-release
		return f.Write(p)
	}
	want := body("a", 5000)
	s.Set("a", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/a", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, want, Extra{}))
	s.Set("b", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/b", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body("b", 5000), Extra{}))
	e, ok := s.Get("a")
	if !ok || e.OnDisk() || !bytes.Equal(e.Body(), want) {
		t.Fatalf("queued object: ok %v; want it from memory", ok)
	}
	s.Delete("b")
	if _, ok := s.Get("b"); ok {
		t.Error("a deleted queued object is a hit")
	}
	close(release)
	s.WaitDisk()
	if e, ok := s.Get("a"); !ok || !e.OnDisk() {
		t.Errorf("after the write: ok %v; want a disk hit", ok)
	}
	if _, ok := s.Get("b"); ok {
		t.Error("the deleted object was written")
	}
}

// TestDiskCloseUnderWrites: Close while stores, lookups and promotions are
// under way returns, and so do they (no lock order between the write
// path, the promoter and Close can deadlock).
func TestDiskCloseUnderWrites(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 50_000, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := "k" + strconv.Itoa((w*1000+i)%200)
				s.Set(key, NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/" + key, StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body(key, 2000), Extra{}))
				if e, ok := s.Get("k" + strconv.Itoa(i%200)); ok {
					if b, err := e.Open(); err == nil {
						b.Close()
					}
				}
			}
		}()
	}
	s.WaitDisk()
	s.Close()
	close(stop)
	for range 4 {
		<-done
	}
}

// TestDiskEvictionWhileReading: an object evicted (its file unlinked) while
// responses read it through the open-file cache's shared descriptor is
// read to its end by each of them, and the descriptor is closed when the
// last one is done, not before.
func TestDiskEvictionWhileReading(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 100, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 150_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := body("v", 100_000)
	s.Set("v", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/v", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, want, Extra{}))
	s.WaitDisk()
	e, ok := s.Get("v")
	if !ok || e.disk().hot == nil {
		t.Fatalf("Get: ok %v; want a disk hit from the open-file cache", ok)
	}
	a, errA := e.Open()
	b, errB := e.Open()
	if errA != nil || errB != nil || a.hot == nil || a.hot != b.hot {
		t.Fatalf("Open: %v %v; want two readers of one shared descriptor", errA, errB)
	}
	// Another object evicts it: the index drops it, the file is unlinked.
	s.door.offer("w") // (asked for before: admitted to the full disk)
	s.Set("w", NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/w", StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body("w", 100_000), Extra{}))
	s.WaitDisk()
	if _, err := os.Stat(s.disk.path(idOf("v"))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the evicted object's file is still there: %v", err)
	}
	hot := a.hot
	for i, r := range []Body{a, b} {
		var buf bytes.Buffer
		if err := r.WriteRange(&buf, 0, r.Len()); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("reader %d after the eviction: %v, %d bytes", i, err, buf.Len())
		}
		r.Close()
		s.disk.mu.Lock()
		closed := hot.closed
		s.disk.mu.Unlock()
		if closed != (i == 1) {
			t.Errorf("after reader %d closed: descriptor closed %v", i, closed)
		}
	}
	if _, ok := s.Get("v"); ok {
		t.Error("the evicted object is a hit")
	}
}

// TestDiskOpenFileCacheBounded: the open-file cache keeps at most maxHot
// files open, the most recently looked up, closing the others.
func TestDiskOpenFileCacheBounded(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 1, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.disk.mu.Lock()
	s.disk.maxHot = 4
	s.disk.mu.Unlock()
	var hots []*hotFile
	for i := range 10 {
		key := "k" + strconv.Itoa(i)
		s.Set(key, NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/" + key, StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body(key, 1000), Extra{}))
		s.WaitDisk()
		e, ok := s.Get(key)
		if !ok || e.disk().hot == nil {
			t.Fatalf("%s: not in the open-file cache", key)
		}
		hots = append(hots, e.disk().hot)
	}
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	if s.disk.hotCount != 4 {
		t.Errorf("%d files open, bound 4", s.disk.hotCount)
	}
	for i, h := range hots {
		if h.closed != (i < 6) {
			t.Errorf("object %d: closed %v, want %v (the 4 most recent open)", i, h.closed, i < 6)
		}
	}
}

// TestDiskAdmission: the disk tier shares RAM's admission decision (admit):
// a full disk takes an object whose key was asked for before, not one asked
// for once, which would push out one that is asked for again.
func TestDiskAdmission(t *testing.T) {
	dir, clk := t.TempDir(), newClock()
	s, err := New(Options{MaxBytes: 1 << 20, MaxObjectSize: 1, Now: clk.Now, Disk: &DiskOptions{Path: dir, MaxBytes: 25_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set := func(key string) {
		s.Set(key, NewEntry(Entry{Status: 200, Distribution: "E1", Path: "/" + key, StoredNano: clk.Now().UnixNano(), TTL: time.Hour}, body(key, 10_000), Extra{}))
		s.WaitDisk()
	}
	set("a")
	set("b") // the disk has room: both taken on their first offer
	set("once")
	if _, ok := s.Get("once"); ok {
		t.Error("a full disk took a key asked for once")
	}
	set("once") // asked again: admitted, the least recently used goes
	if _, ok := s.Get("once"); !ok {
		t.Error("a full disk refused a key asked for twice")
	}
}
