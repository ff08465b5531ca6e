package edge

import (
	"math/rand/v2"
	"sync/atomic"
)

// vmPool holds a function's idle VMs: at most len(slots), each slot on a
// cache line of its own. A get or put is an atomic load and swap on a slot
// chosen at random, then the next ones: no lock, and two cores seldom touch
// the same line (a channel, its lock shared by every run, showed as lock
// contention under load).
type vmPool struct {
	slots []poolSlot
}

type poolSlot struct {
	v atomic.Pointer[vm]
	_ [56]byte // the rest of a cache line
}

func newVMPool(n int) *vmPool { return &vmPool{slots: make([]poolSlot, max(1, n))} }

// get takes an idle VM, or returns nil when there is none.
func (p *vmPool) get() *vm {
	n := len(p.slots)
	i := rand.IntN(n)
	for range n {
		s := &p.slots[i].v
		if v := s.Load(); v != nil && s.CompareAndSwap(v, nil) {
			return v
		}
		if i++; i == n {
			i = 0
		}
	}
	return nil
}

// put keeps v if a slot is free and reports whether it did.
func (p *vmPool) put(v *vm) bool {
	n := len(p.slots)
	i := rand.IntN(n)
	for range n {
		if s := &p.slots[i].v; s.Load() == nil && s.CompareAndSwap(nil, v) {
			return true
		}
		if i++; i == n {
			i = 0
		}
	}
	return false
}

// idle returns how many VMs the pool holds, and how many it may.
func (p *vmPool) idle() (n, capacity int) {
	for i := range p.slots {
		if p.slots[i].v.Load() != nil {
			n++
		}
	}
	return n, len(p.slots)
}
