package cache

import "sync"

// doorkeeper remembers which keys were offered to the store recently: two
// generations of a Bloom filter (two bit positions per key), the older
// dropped once the newer has seen window keys, so a key is remembered for
// between window and twice window offers.
//
// It is TinyLFU's doorkeeper moved in front of ristretto: on a Zipf trace
// most keys are asked for once and never again, and an object stored on its
// first miss pushes out one that would have been hit. ristretto's own
// sketch keeps them out only as well as it hears of accesses: late (each P
// hands them over getBatch at a time) and lossily (a batch that finds the
// policy busy is dropped), which with eight concurrent clients cost up to
// half a point of hit ratio on TestHitRatioBeatsLRU's trace. The doorkeeper
// hears of every offer at once (false positives aside: 5 % per generation
// when full, at its sizing) and is consulted only on the miss path, under
// its own lock.
type doorkeeper struct {
	salt uint64 // mixed into the hash, so collisions cannot be chosen in advance

	mu        sync.Mutex
	cur, prev []uint64 // bitsets of the same power-of-two size
	mask      uint64   // bit index mask
	n, window int      // keys added to cur; when to rotate
}

// doorkeeperBits is the filter's bits per key of a generation: 8 gives
// about 5 % false positives per full generation with two bit positions
// (16 gave 1.4 % and the same hit ratio on TestHitRatioBeatsLRU's trace).
const doorkeeperBits = 8

// newDoorkeeper returns a doorkeeper that remembers about window keys,
// hashing them with salt (random in a store; fixed in tests, which then see
// the same false positives every run).
func newDoorkeeper(window int, salt uint64) *doorkeeper {
	window = max(window, 64)
	bits := uint64(64)
	for bits < uint64(window)*doorkeeperBits {
		bits <<= 1
	}
	return &doorkeeper{
		salt:   salt,
		cur:    make([]uint64, bits/64),
		prev:   make([]uint64, bits/64),
		mask:   bits - 1,
		window: window,
	}
}

// offer records key and reports whether it was offered before, within the
// doorkeeper's memory.
func (d *doorkeeper) offer(key string) bool {
	h := d.hash(key)
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

// hash is FNV-1a of key from a salted basis, finished with splitmix64's
// mixer so that both halves of the result are usable as bit indexes.
func (d *doorkeeper) hash(key string) uint64 {
	h := d.salt ^ 14695981039346656037
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// has reports whether bits a and b are both set in set.
func has(set []uint64, a, b uint64) bool {
	return set[a/64]&(1<<(a%64)) != 0 && set[b/64]&(1<<(b%64)) != 0
}
