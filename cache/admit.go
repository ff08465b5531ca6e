package cache

import (
	"hash/maphash"
	"sync"
)

// doorkeeper remembers which keys were offered to the store recently: two
// generations of a Bloom filter (two bit positions per key), the older
// dropped once the newer has seen window keys, so a key is remembered for
// between window and twice window offers.
//
// It is TinyLFU's doorkeeper moved in front of ristretto: on a Zipf trace
// most keys are asked for once and never again, and an object stored on its
// first miss pushes out one that would have been hit. ristretto's own
// frequency sketch cannot keep them out: it learns of accesses late, through
// a lossy buffer (up to a third of them dropped with eight concurrent
// clients), and only once the store is full. The doorkeeper is exact about
// what it has seen (false positives aside, ~3 % at its sizing) and is
// consulted only on the miss path, under its own lock.
type doorkeeper struct {
	seed maphash.Seed

	mu        sync.Mutex
	cur, prev []uint64 // bitsets of the same power-of-two size
	mask      uint64   // bit index mask
	n, window int      // keys added to cur; when to rotate
}

// doorkeeperBits is the filter's bits per key of a generation: 16 gives
// about 1.4 % false positives per generation with two bit positions.
const doorkeeperBits = 8

// newDoorkeeper returns a doorkeeper that remembers about window keys.
func newDoorkeeper(window int) *doorkeeper {
	window = max(window, 64)
	bits := uint64(64)
	for bits < uint64(window)*doorkeeperBits {
		bits <<= 1
	}
	return &doorkeeper{
		seed:   maphash.MakeSeed(),
		cur:    make([]uint64, bits/64),
		prev:   make([]uint64, bits/64),
		mask:   bits - 1,
		window: window,
	}
}

// offer records key and reports whether it was offered before, within the
// doorkeeper's memory.
func (d *doorkeeper) offer(key string) bool {
	h := maphash.String(d.seed, key)
	a, b := h&d.mask, (h>>32|h<<32)&d.mask
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := has(d.cur, a, b) || has(d.prev, a, b)
	if !has(d.cur, a, b) {
		d.cur[a/64] |= 1 << (a % 64)
		d.cur[b/64] |= 1 << (b % 64)
		d.n++
		if d.n >= d.window {
			d.cur, d.prev = d.prev, d.cur
			clear(d.cur)
			d.n = 0
		}
	}
	return seen
}

// has reports whether bits a and b are both set in set.
func has(set []uint64, a, b uint64) bool {
	return set[a/64]&(1<<(a%64)) != 0 && set[b/64]&(1<<(b%64)) != 0
}
