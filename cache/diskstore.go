package cache

import (
	"strings"
	"time"
)

// This file hooks the disk tier (disk.go) into the Store: write-through on
// Set, lookup on a RAM miss with promotion through RAM's admission policy,
// the bans saved with the objects, and the statistics per tier.

// attachDisk opens the disk tier o asks for: it loads the saved bans
// before anything on disk can be served, then starts the writer, the
// promoter and the background scan.
func (s *Store) attachDisk(o Options) error {
	s.ramMax = o.MaxObjectSize
	if s.ramMax <= 0 {
		s.ramMax = o.MaxBytes
	}
	if o.Disk == nil {
		return nil
	}
	t, err := openDisk(*o.Disk, s.now, o.Logger)
	if err != nil {
		return err
	}
	latest, err := loadBans(t.dir, &s.bans, s.now())
	if err != nil {
		// Invalidations made before the restart are unknown: nothing
		// stored before now is served from disk.
		t.fail(DiskOpBans, err)
		s.diskNotBefore = s.now().UnixNano()
	}
	s.noteUntil(latest)
	s.disk = t
	t.wg.Add(3)
	go t.writer()
	go t.promoter(s.promote)
	go t.scan(s.diskBanned)
	return nil
}

// diskBanned reports whether an entry read from disk may not be served.
func (s *Store) diskBanned(e *Entry) bool {
	return e.StoredNano < s.diskNotBefore || s.bans.banned(e)
}

// diskGet looks key up on disk after a RAM miss; a hit small enough for RAM
// is offered to it on its second lookup, then on its 4th, 8th and every
// 16th while it stays on disk (RAM's admission policy decides).
func (s *Store) diskGet(key string, now time.Time) (*Entry, bool) {
	if s.disk == nil {
		return nil, false
	}
	e, queued, promote, ok := s.disk.get(key, now)
	if !ok {
		return nil, false
	}
	if queued {
		// Evicted from RAM before the writer got to it: still in memory.
		if now.UnixNano() >= e.until() || s.bans.banned(e) {
			return nil, false
		}
		s.ramHits.Add(1)
		return e, true
	}
	if s.diskBanned(e) {
		s.disk.drop(e.disk().id, e.disk().gen)
		return nil, false
	}
	if promote && e.disk().n <= s.ramMax {
		s.disk.offer(strings.Clone(key), e)
	}
	return e, true
}

// diskSet writes e through to disk (queued); it reports whether it was
// queued.
func (s *Store) diskSet(key string, e *Entry) bool {
	if s.disk == nil {
		return false
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return false
	}
	return s.diskEnqueue(key, e)
}

// diskEnqueue is diskSet for a caller holding closeMu (shared): a second
// RLock could wait behind Close's Lock, which waits for the first.
func (s *Store) diskEnqueue(key string, e *Entry) bool {
	if s.bans.banned(e) {
		return false
	}
	until := e.until()
	if until <= s.now().UnixNano() {
		return false
	}
	s.noteUntil(until)
	if e.Body() == nil && e.mem != nil {
		// A copy of the store's entry (new headers after a 304, a stale
		// answer kept): the writer gets the body in hand, as it outlives
		// the block's references.
		b, err := e.mem.copyOut()
		if err != nil {
			return false
		}
		e = e.inMemory(b)
	}
	return s.disk.enqueue(key, e)
}

// diskDelete removes key's object from disk.
func (s *Store) diskDelete(key string) {
	if s.disk != nil {
		s.disk.drop(idOf(key), 0)
	}
}

// saveBans saves the bans with the disk tier's objects.
func (s *Store) saveBans() {
	if s.disk == nil {
		return
	}
	if err := saveBans(s.disk.dir, s.disk.tmpPrefix, &s.bans, s.latestUntil.Load()); err != nil {
		s.disk.fail(DiskOpBans, err)
	}
}

// closeDisk writes what is queued for the disk, stops its goroutines and
// saves the bans.
func (s *Store) closeDisk() {
	if s.disk == nil {
		return
	}
	s.disk.close()
	s.saveBans()
	s.disk.unlock()
}

// WaitDisk returns once every object queued for the disk tier before the
// call is written (or failed); tests and the shutdown use it.
func (s *Store) WaitDisk() {
	if s.disk == nil {
		return
	}
	s.disk.flush()
}

// TierStats are the objects, bytes and hits of one tier.
type TierStats struct {
	Items, Bytes, Hits int64
}

// RAMStats reports the RAM tier.
func (s *Store) RAMStats() TierStats {
	items, bytes := s.Stats()
	return TierStats{Items: items, Bytes: bytes, Hits: s.ramHits.Load()}
}

// ArenaStats describes the RAM tier's arena (arena.go): its size, the
// bytes of its blocks in use (bodies and their 8-byte headers, including
// bodies evicted while a response still sends them), and how many bodies
// found no room in it (not kept in RAM).
type ArenaStats struct {
	Size, Used, Failures int64
}

// ArenaStats reports the RAM tier's arena.
func (s *Store) ArenaStats() ArenaStats {
	return ArenaStats{Size: s.arena.capacity(), Used: s.arena.inUse(), Failures: s.arena.failures.Load()}
}

// HeapBytes is the part of the RAM tier's cost (Stats) that is on the Go
// heap — entries, headers, the store's bookkeeping — rather than bodies in
// the arena: what the garbage collector's target has to follow.
func (s *Store) HeapBytes() int64 {
	_, bytes := s.Stats()
	return max(bytes-s.arena.inUse(), 0)
}

// DiskStats reports the disk tier (zero without one).
func (s *Store) DiskStats() TierStats {
	if s.disk == nil {
		return TierStats{}
	}
	items, bytes := s.disk.stats()
	return TierStats{Items: items, Bytes: bytes, Hits: s.disk.hits.Load()}
}

// HasDisk reports whether the store has a disk tier.
func (s *Store) HasDisk() bool { return s.disk != nil }

// DiskErrors reports the disk tier's errors by operation (DiskOps).
func (s *Store) DiskErrors(op string) int64 {
	if s.disk == nil || s.disk.errs[op] == nil {
		return 0
	}
	return s.disk.errs[op].Load()
}

// DiskWritesDropped reports the objects not written to disk because the
// writer's queue was full.
func (s *Store) DiskWritesDropped() int64 {
	if s.disk == nil {
		return 0
	}
	return s.disk.drops.Load()
}

// DiskScanned reports whether the disk tier's start-up scan is over
// (true without a disk tier).
func (s *Store) DiskScanned() bool { return s.disk == nil || s.disk.scanDone.Load() }

// WaitDiskScan returns once the disk tier's start-up scan is over.
func (s *Store) WaitDiskScan() {
	if s.disk != nil {
		<-s.disk.scanned
	}
}

// promote offers the disk tier's entry e, stored under key, to the RAM
// tier: its body is read from its file straight into a block of the arena
// (checked against its checksum), which the RAM tier's copy then holds.
// Read errors are counted by readInto; the file serves meanwhile.
func (s *Store) promote(key string, e *Entry) {
	d := e.disk()
	m := s.arena.newMemBlockFrom(d.n, d.readInto)
	if m == nil {
		return
	}
	s.set(key, e.withMem(m), false) // takes its own reference
	m.release()
}
