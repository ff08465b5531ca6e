package cache

import (
	"errors"
	"math/bits"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// arena holds the RAM tier's bodies outside the Go heap: one mapping of a
// memory file (memfd on Linux, so that h1 can sendfile(2) a body from it
// like a disk tier file), carved into blocks by a two-level segregated-fit
// allocator (TLSF: O(1) allocation and free, neighbours coalesced at once,
// one address space for every size, so that no size class strands memory
// another size needs). The garbage collector neither scans these bytes nor
// counts them in its heap, so the GOGC tuner leaves no headroom for them.
//
// Bodies sent with sendfile(2) (paged: sendfileMin and over, when there is
// a memory file) get pages of their own: the payload starts on a page and
// its block ends on one. sendfile hands the socket references to the
// file's pages, not copies, and a viewer's kernel may still hold them after
// the response is done; so when such a block is freed its pages are first
// punched out of the file (fallocate), which leaves the old pages to those
// references and gives the next body written there new ones. Smaller bodies
// are written with write(2), which copies them, and share pages freely.
//
// Block layout, in the mapping: an 8-byte header (the block's size, a
// multiple of 8, with blockFree and prevFree in its low bits) and the
// payload. A free block keeps in its payload the offsets of its free-list
// neighbours and, in its last 8 bytes, its size again (the boundary tag the
// next block reads to find it when prevFree is set). A zero-size used
// header at the end stops the walk.
//
// Pages wholly inside free space are punched out of the file as blocks are
// freed (arena.release), so the memory the arena holds follows the bytes in
// use.
//
// The allocator's state is guarded by mu; a block's bytes belong to its
// memBlock, whose reference count says when the block goes back
// (memBlock.release).
type arena struct {
	mu   sync.Mutex
	mem  []byte
	file *os.File // the memory file, nil when the mapping is anonymous

	flBitmap uint64
	slBitmap [flCount]uint32
	heads    [flCount][slCount]int64 // offset+1 of the first free block; 0: none

	used     int64        // bytes of blocks in use (headers included); under mu
	failures atomic.Int64 // allocations that found no block
}

// Allocator constants: blocks are multiples of blockAlign; a block is at
// least minBlock (a free block's header, two links and its tag); each power
// of two of sizes is split into slCount free lists.
const (
	blockAlign = 8
	headerSize = 8
	minBlock   = 32
	slLog      = 5
	slCount    = 1 << slLog
	flCount    = 64
	blockFree  = 1
	prevFree   = 2
	flagMask   = blockAlign - 1
)

// errArenaSize is the error of an arena too small to hold a block.
var errArenaSize = errors.New("cache: RAM arena smaller than one block")

// newArena maps an arena of capacity bytes (rounded up to the page size).
func newArena(capacity int64) (*arena, error) {
	capacity = pageUp(capacity)
	if capacity < 2*minBlock {
		return nil, errArenaSize
	}
	mem, file, err := mapArena(capacity)
	if err != nil {
		return nil, err
	}
	a := &arena{mem: mem, file: file}
	// The mapping goes when nothing refers to the arena any more: no entry,
	// no body being written (each holds its memBlock, which holds a).
	runtime.AddCleanup(a, func(m arenaMap) { m.unmap() }, arenaMap{mem, file})
	end := capacity - headerSize
	a.setWord(end, 0|prevFree) // the end: a used block of size 0
	a.setWord(0, uint64(end)|blockFree)
	a.setWord(end-8, uint64(end))
	a.insert(0, end)
	return a, nil
}

// capacity is the arena's size in bytes.
func (a *arena) capacity() int64 { return int64(len(a.mem)) }

// word returns the 8 bytes at off as a *uint64.
func (a *arena) word(off int64) *uint64 {
	return (*uint64)(unsafe.Pointer(&a.mem[off]))
}

func (a *arena) getWord(off int64) uint64    { return *a.word(off) }
func (a *arena) setWord(off int64, v uint64) { *a.word(off) = v }

// pageSize is the memory page size, the unit of a paged block.
var pageSize = int64(os.Getpagesize())

// pageUp and pageDown round n to a page boundary.
func pageUp(n int64) int64   { return (n + pageSize - 1) &^ (pageSize - 1) }
func pageDown(n int64) int64 { return n &^ (pageSize - 1) }

// paged reports whether an n-byte body gets pages of its own (see arena).
func paged(n int64) bool { return n >= sendfileMin }

// blockSize is the size of the block for an n-byte payload: the payload
// and its header, rounded up to blockAlign, or for a paged body to whole
// pages.
func blockSize(n int64) int64 {
	if paged(n) {
		return headerSize + pageUp(n)
	}
	return max((n+headerSize+blockAlign-1)&^(blockAlign-1), minBlock)
}

// mapping finds the free list a block of size belongs to.
func mapping(size int64) (fl, sl int) {
	fl = bits.Len64(uint64(size)) - 1
	if fl < slLog {
		return 0, int(size) >> 3 // not reached: blocks are ≥ minBlock
	}
	sl = int(size>>(fl-slLog)) ^ slCount
	return fl, sl
}

// searchMapping is mapping for a request: the first list whose every
// block is at least size.
func searchMapping(size int64) (fl, sl int) {
	if f := bits.Len64(uint64(size)) - 1; f >= slLog {
		size += 1<<(f-slLog) - 1
	}
	return mapping(size)
}

// insert puts the free block at off of size on its list.
func (a *arena) insert(off, size int64) {
	fl, sl := mapping(size)
	head := a.heads[fl][sl]
	a.setWord(off+8, uint64(head)) // next
	a.setWord(off+16, 0)           // prev
	if head != 0 {
		a.setWord(head-1+16, uint64(off+1))
	}
	a.heads[fl][sl] = off + 1
	a.flBitmap |= 1 << fl
	a.slBitmap[fl] |= 1 << sl
}

// remove takes the free block at off of size off its list.
func (a *arena) remove(off, size int64) {
	fl, sl := mapping(size)
	next, prev := int64(a.getWord(off+8)), int64(a.getWord(off+16))
	if next != 0 {
		a.setWord(next-1+16, uint64(prev))
	}
	if prev != 0 {
		a.setWord(prev-1+8, uint64(next))
	} else {
		a.heads[fl][sl] = next
		if next == 0 {
			a.slBitmap[fl] &^= 1 << sl
			if a.slBitmap[fl] == 0 {
				a.flBitmap &^= 1 << fl
			}
		}
	}
}

// find returns a free block of at least size (its offset, and its size),
// or -1. It looks first on the lists whose every block is large enough
// (TLSF's good fit, O(1)), then among the first few blocks of size's own
// list, which may hold larger blocks too (the last free block of a full
// arena is often there).
func (a *arena) find(size int64) (int64, int64) {
	if fl, sl := searchMapping(size); fl < flCount {
		m := a.slBitmap[fl] & (^uint32(0) << sl)
		if m == 0 {
			if f := a.flBitmap & (^uint64(0) << (fl + 1)); f != 0 {
				fl = bits.TrailingZeros64(f)
				m = a.slBitmap[fl]
			}
		}
		if m != 0 {
			off := a.heads[fl][bits.TrailingZeros32(m)] - 1
			return off, int64(a.getWord(off) &^ flagMask)
		}
	}
	fl, sl := mapping(size)
	p := a.heads[fl][sl]
	for range listScan {
		if p == 0 {
			break
		}
		if have := int64(a.getWord(p-1) &^ flagMask); have >= size {
			return p - 1, have
		}
		p = int64(a.getWord(p - 1 + 8))
	}
	return -1, 0
}

// listScan bounds find's look along a list.
const listScan = 8

// alloc returns the payload offset of a new block for n bytes, or false
// when no free block is large enough. A paged body's payload starts on a
// page (its block on the 8 bytes before).
func (a *arena) alloc(n int64) (int64, bool) {
	if n < 0 || n > a.capacity() {
		a.failures.Add(1)
		return 0, false
	}
	size := blockSize(n)
	pages := paged(n) && a.file != nil
	want := size
	if pages {
		want += pageSize + minBlock // room to move the payload onto a page
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	off, have := a.find(want)
	if off < 0 {
		a.failures.Add(1)
		return 0, false
	}
	a.remove(off, have)
	flags := a.getWord(off) & prevFree // its predecessor is in use or free as before
	if pages {
		// The free space before the page-aligned payload stays free, as a
		// block of its own (at least minBlock: else the next page).
		gap := pageUp(off+headerSize) - headerSize - off
		if gap > 0 && gap < minBlock {
			gap += pageSize
		}
		if gap > 0 {
			a.setWord(off, uint64(gap)|blockFree|flags)
			a.setWord(off+gap-8, uint64(gap))
			a.insert(off, gap)
			off, have, flags = off+gap, have-gap, prevFree
		}
	}
	if rest := have - size; rest >= minBlock {
		// Split: the rest stays free, and the block after it keeps prevFree.
		r := off + size
		a.setWord(r, uint64(rest)|blockFree)
		a.setWord(r+rest-8, uint64(rest))
		a.insert(r, rest)
	} else {
		size = have
		next := off + size
		a.setWord(next, a.getWord(next)&^prevFree)
	}
	a.setWord(off, uint64(size)|flags)
	a.used += size
	return off + headerSize, true
}

// free returns the block whose payload is at payload, merging it with free
// neighbours. A paged body's pages are punched out of the memory file
// first (see arena).
func (a *arena) free(payload, n int64) {
	if paged(n) && a.file != nil {
		if punch(a.file, payload, pageUp(n)) != nil {
			// Without the punch, the pages must never be written again:
			// the block is left out of the free lists for good (it stays
			// counted in used).
			return
		}
	}
	off := payload - headerSize
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.getWord(off)
	size := int64(w &^ flagMask)
	a.used -= size
	if next := off + size; a.getWord(next)&blockFree != 0 {
		ns := int64(a.getWord(next) &^ flagMask)
		a.remove(next, ns)
		size += ns
	}
	flags := w & prevFree
	if flags != 0 {
		ps := int64(a.getWord(off - 8))
		off -= ps
		a.remove(off, ps)
		size += ps
		flags = a.getWord(off) & prevFree
	}
	a.setWord(off, uint64(size)|blockFree|flags)
	a.setWord(off+size-8, uint64(size))
	next := off + size
	a.setWord(next, a.getWord(next)|prevFree)
	a.insert(off, size)
	a.release(off, size, payload-headerSize, payload-headerSize+blockSize(n))
}

// release gives the memory file's pages that lie wholly inside the free
// block at off of size, and near the block just freed at [lo, hi), back to
// the kernel (mu held: nothing can be allocated there meanwhile). Every
// page wholly inside a free block is so released — the pages further from
// [lo, hi) were when their own blocks were freed — so that the memory the
// arena holds follows the bytes in use, not the most it ever held. The
// free block's own header, links and tag stay (its first 24 and last 8
// bytes).
func (a *arena) release(off, size, lo, hi int64) {
	if a.file == nil {
		return
	}
	start := max(pageUp(off+24), pageDown(lo-pageSize))
	end := min(pageDown(off+size-8), pageDown(hi+pageSize))
	if end > start {
		_ = punch(a.file, start, end-start) // a failure leaves the pages held, nothing worse
	}
}

// inUse reports the bytes of blocks in use, headers included.
func (a *arena) inUse() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// memBlock is a body in the arena and its reference count: one for each
// store entry that holds it, one for each Body opened from it. The block
// goes back to the arena when the count reaches zero, and a memBlock never
// comes back to life: acquire fails once it is zero. Copies of an Entry
// share its memBlock, so they count together.
//
// The store holds one per entry, so it is kept to 24 bytes: the payload's
// length and the count share one word (refs): the length in the high
// 64-refBits bits (bodies of up to 1 TiB), the count in the low refBits.
type memBlock struct {
	a    *arena
	off  int64 // the payload's offset in a.mem
	refs atomic.Uint64
}

// refBits is the width of memBlock's reference count; refMask masks it.
// The count never reaches refMask: acquire fails first (a response then
// treats the body as gone), so a count of refMask is one released too
// often.
const (
	refBits = 24
	refMask = 1<<refBits - 1
)

// maxMemBlock is the largest body a memBlock holds.
const maxMemBlock = 1<<(64-refBits) - 1

// newMemBlock copies b into a new block holding one reference, or
// returns nil when the arena has no room.
func (a *arena) newMemBlock(b []byte) *memBlock {
	return a.newMemBlockFrom(int64(len(b)), func(p []byte) error { copy(p, b); return nil })
}

// newMemBlockFrom is newMemBlock for an n-byte body that fill writes into
// the block; it returns nil, the block freed, when fill fails.
func (a *arena) newMemBlockFrom(n int64, fill func([]byte) error) *memBlock {
	if n > maxMemBlock {
		a.failures.Add(1)
		return nil
	}
	off, ok := a.alloc(n)
	if !ok {
		return nil
	}
	if fill(a.mem[off:off+n:off+n]) != nil {
		a.free(off, n)
		return nil
	}
	m := &memBlock{a: a, off: off}
	m.refs.Store(uint64(n)<<refBits | 1)
	return m
}

// len is the payload's length.
func (m *memBlock) len() int64 { return int64(m.refs.Load() >> refBits) }

// acquire takes a reference, unless the block is already gone (or held
// by as many as the count can hold).
func (m *memBlock) acquire() bool {
	for {
		w := m.refs.Load()
		if r := w & refMask; r == 0 || r >= refMask-1 {
			return false
		}
		if m.refs.CompareAndSwap(w, w+1) {
			return true
		}
	}
}

// release drops a reference; the last one returns the block.
func (m *memBlock) release() {
	switch w := m.refs.Add(^uint64(0)); w & refMask {
	case 0:
		m.a.free(m.off, int64(w>>refBits))
	case refMask:
		panic("cache: memBlock released more often than acquired")
	}
}

// copyOut returns a copy of the block's payload on the heap, or
// errReleased when the block is gone.
func (m *memBlock) copyOut() ([]byte, error) {
	if !m.acquire() {
		return nil, errReleased
	}
	defer m.release()
	return append([]byte(nil), m.bytes()...), nil
}

// bytes is the block's payload. It is only valid while a reference is held.
func (m *memBlock) bytes() []byte {
	end := m.off + m.len()
	return m.a.mem[m.off:end:end]
}

// size is what the block takes in the arena.
func (m *memBlock) size() int64 { return blockSize(m.len()) }
