package main

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// This file is process policy: the collector's target follows what the
// cache holds. It lives with the command, not the cache, because GOGC
// belongs to the whole process.

// gcInterval is how often tuneGC revises the collector's target.
const gcInterval = 100 * time.Millisecond

// minGCPercent is the lowest GOGC tuneGC sets: below it the collector
// would run too often for the memory it saves. maxGCPercent is the highest,
// when the GOGC environment variable does not set one.
const (
	minGCPercent = 10
	maxGCPercent = 1000
)

// liveHeapMetric is the runtime metric for the heap the last GC found live.
const liveHeapMetric = "/gc/heap/live:bytes"

// tuneGC keeps the heap's growth between collections proportional to what
// the cache holds on the heap (cached: cache.Store.HeapBytes, its entries,
// headers and bookkeeping; the bodies are in the RAM tier's arena, outside
// the heap) rather than to the whole live heap, until ctx ends; serve runs
// it as a goroutine (--gc-tuning).
//
// A cache's live heap is mostly its entries, which stay live until they
// are evicted, so with GOGC=100 alone the heap grows to about twice what
// the store holds there before each collection. Every gcInterval tuneGC sets
//
//	GOGC = (base + bytes/8) × 100 / live
//
// clamped to [10, ceiling], where bytes is cached(), live the heap the last collection found live (runtime/metrics
// /gc/heap/live:bytes), base the garbage the rest of the process may make
// between collections, and ceiling the GOGC environment variable's value
// when it is set, else 1000. The heap then grows by about base + bytes/8
// before the next collection: with little cached, more than GOGC=100
// allows, so that a busy proxy with a small heap does not collect dozens of
// times a second (each collection costs latency); with a lot cached, far
// less than the heap's own size. Because the target is a
// percentage of the live heap, a burst (thousands of new connections, large
// bodies in flight) raises it at once, between revisions; a memory limit
// would make the collector thrash until the next one. GOGC=off is left
// alone, and so is GOMEMLIMIT. The original percentage is restored when
// ctx ends.
//
// GOGC belongs to the whole process (debug.SetGCPercent), so run one tuneGC
// per process. If anything else changes it while tuneGC runs, it
// leaves that setting in place and returns without restoring the original.
func tuneGC(ctx context.Context, cached func() int64, base int64) {
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	runGCTuner(ctx, cached, base, t.C)
}

// runGCTuner is tuneGC revising the percentage at every tick.
func runGCTuner(ctx context.Context, cached func() int64, base int64, tick <-chan time.Time) {
	g := newGCTuner(cached, base)
	if g.user < 0 {
		return // GOGC=off: the user manages collection
	}
	defer g.restore()
	for g.adjust() {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// gcTuner is one run of tuneGC.
type gcTuner struct {
	cached func() int64
	base   int64
	user   int // the percentage in force when the run started
	ceil   int // the highest percentage it sets
	set    int // the percentage the run last set (user until it sets one)
	live   []metrics.Sample
	owned  bool // the percentage in force is still the one the run set
}

func newGCTuner(cached func() int64, base int64) *gcTuner {
	user := gcPercent()
	ceil := maxGCPercent
	if os.Getenv("GOGC") != "" {
		ceil = user // the user chose it: only ever lower
	}
	return &gcTuner{cached: cached, base: base, user: user, ceil: ceil, set: user, owned: true,
		live: []metrics.Sample{{Name: liveHeapMetric}}}
}

// gcPercent reads GOGC in force (-1 for off) from runtime/metrics,
// without setting it.
func gcPercent() int {
	m := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(m)
	if m[0].Value.Kind() != metrics.KindUint64 {
		return 100 // not reported: the runtime's default
	}
	return int(int32(m[0].Value.Uint64())) // off is -1, reported as 2⁶⁴−1
}

// target is the percentage for the store's bytes and the live heap now.
func (g *gcTuner) target() int {
	bytes := g.cached()
	metrics.Read(g.live)
	var live uint64
	if g.live[0].Value.Kind() == metrics.KindUint64 {
		live = g.live[0].Value.Uint64()
	}
	return gcPercentFor(g.base, max(bytes, 0), live, g.user, g.ceil)
}

// gcPercentFor is the GOGC that lets a heap of live bytes grow by base +
// bytes/8, clamped to [minGCPercent, ceil]; user when nothing is measured.
func gcPercentFor(base, bytes int64, live uint64, user, ceil int) int {
	if live == 0 {
		return user
	}
	p := float64(base+bytes/8) * 100 / float64(live)
	return int(math.Max(minGCPercent, math.Min(p, float64(ceil))))
}

// adjust sets the percentage to target if it moved by more than 5 %. It
// reports false, changing nothing, once something else has changed it.
func (g *gcTuner) adjust() bool {
	if gcPercent() != g.set {
		g.owned = false
		return false
	}
	if next := g.target(); next*20 > g.set*21 || next*21 < g.set*20 {
		debug.SetGCPercent(next)
		g.set = next
	}
	return true
}

// restore puts the original percentage back if the one in force is still
// the run's.
func (g *gcTuner) restore() {
	if g.owned && gcPercent() == g.set {
		debug.SetGCPercent(g.user)
	}
}
