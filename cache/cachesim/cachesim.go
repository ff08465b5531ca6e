// Package cachesim simulates caching policies on request traces: the
// reference points edgefront's admission policy is measured against, by
// the cache package's tests and by the bench's hit-ratio scenario. A trace
// is a sequence of keys; every object has the same size.
package cachesim

import (
	"container/heap"
	"container/list"
	"math/rand/v2"
)

// ZipfTrace is n requests for keys 0…keys-1 drawn by a Zipf law with
// s = 1.01, from a fixed seed: the same trace every run (issue 19's).
func ZipfTrace(n, keys int) []int {
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.01, 1, uint64(keys-1))
	tr := make([]int, n)
	for i := range tr {
		tr[i] = int(z.Uint64())
	}
	return tr
}

// LRU is the hit ratio of an LRU cache of objects entries on trace.
func LRU(trace []int, objects int) float64 {
	order := list.New()
	at := make(map[int]*list.Element, objects+1)
	hits := 0
	for _, k := range trace {
		if e, ok := at[k]; ok {
			hits++
			order.MoveToFront(e)
			continue
		}
		at[k] = order.PushFront(k)
		if order.Len() > objects {
			last := order.Back()
			order.Remove(last)
			delete(at, last.Value.(int))
		}
	}
	return float64(hits) / float64(len(trace))
}

// lfuEntry is a key cached by LFU, with its count, in a min-heap.
type lfuEntry struct{ key, count, index int }

// lfuHeap orders the cached keys by count, least counted first.
type lfuHeap []*lfuEntry

func (h lfuHeap) Len() int           { return len(h) }
func (h lfuHeap) Less(i, j int) bool { return h[i].count < h[j].count }
func (h lfuHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *lfuHeap) Push(x any) { e := x.(*lfuEntry); e.index = len(*h); *h = append(*h, e) }
func (h *lfuHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// LFU is the hit ratio of a perfect LFU cache of objects entries on trace:
// exact counts of every key since the start (no sketch, no sampling, no
// ageing), a missed key admitted when it is now counted more often than
// the least counted cached one. On a stationary Zipf trace no
// frequency-based policy that learns online does better (a W-TinyLFU with
// exact counts does as well): it is the ceiling for edgefront's TinyLFU,
// and shows how much better than LRU the trace lets any such policy be.
func LFU(trace []int, objects int) float64 {
	if objects <= 0 || len(trace) == 0 {
		return 0
	}
	counts := map[int]int{}
	cached := map[int]*lfuEntry{}
	h := &lfuHeap{}
	hits := 0
	for _, k := range trace {
		counts[k]++
		if e, ok := cached[k]; ok {
			hits++
			e.count = counts[k]
			heap.Fix(h, e.index)
			continue
		}
		if len(cached) == objects {
			if (*h)[0].count >= counts[k] {
				continue
			}
			delete(cached, heap.Pop(h).(*lfuEntry).key)
		}
		e := &lfuEntry{key: k, count: counts[k]}
		heap.Push(h, e)
		cached[k] = e
	}
	return float64(hits) / float64(len(trace))
}

// Bound is the hit ratio no cache of any size can beat on trace: every
// key's first request is a miss (a compulsory miss), so at most
// 1 − distinct keys ÷ requests of the requests hit.
func Bound(trace []int) float64 {
	seen := make(map[int]struct{}, len(trace)/2)
	for _, k := range trace {
		seen[k] = struct{}{}
	}
	return 1 - float64(len(seen))/float64(len(trace))
}

// OPT is the hit ratio of Belady's clairvoyant cache of objects entries on
// trace: it knows every future request, keeps the keys needed soonest, and
// does not admit a missed key needed later than every cached one. No
// policy, online or not, gets more hits from objects entries; OPT is the
// ceiling of what any admission or eviction policy can add over LRU.
func OPT(trace []int, objects int) float64 {
	if objects <= 0 || len(trace) == 0 {
		return 0
	}
	// next[i] is where trace[i]'s key is requested again; past the end,
	// never-again keys are ordered by where they were last used, farther
	// last, so ties between them break the same way every run.
	next := make([]int, len(trace))
	last := make(map[int]int, len(trace)/2)
	for i := len(trace) - 1; i >= 0; i-- {
		if j, ok := last[trace[i]]; ok {
			next[i] = j
		} else {
			next[i] = len(trace) + i
		}
		last[trace[i]] = i
	}
	cached := make(map[int]int, objects+1) // key → its next request
	h := &nextHeap{}
	hits := 0
	for i, k := range trace {
		if _, ok := cached[k]; ok {
			hits++
		} else if len(cached) == objects {
			// The farthest-needed cached key; heap entries left by a
			// key's earlier requests are stale and dropped here.
			for (*h)[0].next != cached[(*h)[0].key] {
				heap.Pop(h)
			}
			if (*h)[0].next < next[i] {
				continue // k is needed after every cached key: not admitted
			}
			delete(cached, heap.Pop(h).(nextUse).key)
		}
		cached[k] = next[i]
		heap.Push(h, nextUse{key: k, next: next[i]})
	}
	return float64(hits) / float64(len(trace))
}

// nextUse is a cached key and where it is requested next, in OPT's
// max-heap.
type nextUse struct{ key, next int }

// nextHeap is a max-heap of nextUse by next.
type nextHeap []nextUse

func (h nextHeap) Len() int           { return len(h) }
func (h nextHeap) Less(i, j int) bool { return h[i].next > h[j].next }
func (h nextHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nextHeap) Push(x any)        { *h = append(*h, x.(nextUse)) }
func (h *nextHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
