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
