package cache

import (
	"os"
	"sync/atomic"
	"syscall"
)

// This file is the disk tier's open-file cache (NGINX's open_file_cache,
// always on): the objects looked up most recently keep their file open and
// their metadata decoded, so a disk hit on one costs no open, read or
// decode — a map lookup, then the body sent from the shared descriptor
// (with an explicit offset: Body.WriteRange never moves its position).
//
// A descriptor is shared by the responses reading it: each Open takes a
// reference, each Body.Close gives it back, and a file that leaves the
// index (eviction, invalidation, replacement) or the cache (maxHot) is
// closed when its last reader is done. The references are counted
// atomically (a disk hit takes and gives back one without the tier's
// mutex); the cache's list, and closing, are under the mutex.

// maxHot bounds the files kept open: 8,192, or half the process's
// open-file limit when that is lower (the other half for connections to
// viewers and origins). A quarter was too few for a working set of a few
// thousand disk objects under a 20,000-descriptor limit: the bench's disk
// scenario (6,553 objects) then opened, read and closed a file on most
// disk hits, the cache evicting in LRU order what it would need next.
func maxHot() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur/2 < 8192 {
		return max(int(l.Cur/2), 16)
	}
	return 8192
}

// hotFile is one open file of the cache.
type hotFile struct {
	f *os.File
	e *Entry // the decoded entry, served to every lookup
	// state is the Bodies reading f, plus hotReleased once the file is
	// out of the cache: f is closed when only that is left.
	state atomic.Int64
	// closed: f is closed (under the tier's mutex).
	closed     bool
	item       *diskItem
	prev, next *hotFile // recency, most recent at hotHead
}

// hotReleased is the bit of hotFile.state set when the file leaves the
// cache (below it, the count of readers).
const hotReleased = 1 << 40

// hotGetLocked returns it's cached entry, moving it to the front.
func (t *diskTier) hotGetLocked(it *diskItem) *Entry {
	h := it.hot
	if h == nil {
		return nil
	}
	t.hotUnlink(h)
	t.hotPush(h)
	return h.e
}

// makeHot caches f and e for it, if it is still the indexed version of
// its object; it reports whether it did (f is then the cache's).
func (t *diskTier) makeHot(it *diskItem, f *os.File, e *Entry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.items[it.id] != it || it.hot != nil || t.closed.Load() {
		return false
	}
	h := &hotFile{f: f, e: e, item: it}
	it.hot = h
	e.disk().hot = h
	t.hotPush(h)
	t.hotCount++
	for t.hotCount > t.maxHot && t.hotTail != nil && t.hotTail != h {
		t.releaseHotLocked(t.hotTail.item)
	}
	return true
}

// acquire takes a reference on h for one response; false when h is
// released (the caller opens the file itself).
func (t *diskTier) acquire(h *hotFile) bool {
	for {
		s := h.state.Load()
		if s&hotReleased != 0 {
			return false
		}
		if h.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// release gives back a reference taken by acquire; the last reader of a
// released file closes it.
func (t *diskTier) release(h *hotFile) {
	if h.state.Add(-1) == hotReleased {
		t.mu.Lock()
		t.closeIfDoneLocked(h)
		t.mu.Unlock()
	}
}

// releaseHotLocked takes it's file out of the cache.
func (t *diskTier) releaseHotLocked(it *diskItem) {
	h := it.hot
	if h == nil {
		return
	}
	it.hot = nil
	t.hotUnlink(h)
	t.hotCount--
	h.state.Or(hotReleased)
	t.closeIfDoneLocked(h)
}

// closeIfDoneLocked closes h's file once it is released and unread (once:
// both the release and the last reader may get here).
func (t *diskTier) closeIfDoneLocked(h *hotFile) {
	if h.state.Load() == hotReleased && !h.closed {
		h.closed = true
		h.f.Close()
	}
}

func (t *diskTier) hotPush(h *hotFile) {
	h.prev, h.next = nil, t.hotHead
	if t.hotHead != nil {
		t.hotHead.prev = h
	}
	t.hotHead = h
	if t.hotTail == nil {
		t.hotTail = h
	}
}

func (t *diskTier) hotUnlink(h *hotFile) {
	if h.prev != nil {
		h.prev.next = h.next
	} else if t.hotHead == h {
		t.hotHead = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	} else if t.hotTail == h {
		t.hotTail = h.prev
	}
	h.prev, h.next = nil, nil
}

// releaseAllHot closes the cache's files (those still read, when their
// readers are done).
func (t *diskTier) releaseAllHot() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.hotHead != nil {
		t.releaseHotLocked(t.hotHead.item)
	}
}
