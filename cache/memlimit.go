package cache

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// MemoryLimitInterval is how often TuneMemoryLimit revises the limit.
const MemoryLimitInterval = time.Second

// liveHeapMetric is the runtime metric for the heap the last GC found live.
const liveHeapMetric = "/gc/heap/live:bytes"

// TuneMemoryLimit keeps the Go runtime's soft memory limit just above what
// the store holds, until ctx ends; serve runs it as a goroutine.
//
// A cache's live heap is mostly cached bodies, which stay live until they
// are evicted, so with GOGC=100 alone the heap grows to about twice what
// the store holds. Every MemoryLimitInterval TuneMemoryLimit sets the limit
// to
//
//	min(user, max(base + bytes + bytes/8, live*5/4))
//
// where bytes is the store's accounted cost (Stats), live the heap the last
// collection found live (runtime/metrics /gc/heap/live:bytes: the floor
// keeps the collector from thrashing when the accounting underestimates),
// base the memory the rest of the process needs, and user the limit in
// force when TuneMemoryLimit started (GOMEMLIMIT, or math.MaxInt64 when it
// is unset), which is never exceeded. The limit is changed only when it
// moves by more than 1/64, and the original is restored when ctx ends.
//
// The memory limit belongs to the whole process (debug.SetMemoryLimit), so
// run one TuneMemoryLimit per process. If anything else changes the limit
// while it runs (the program itself, or a second store's TuneMemoryLimit),
// TuneMemoryLimit leaves that limit in place and returns without restoring
// the original: the two never fight over it.
func (s *Store) TuneMemoryLimit(ctx context.Context, base int64) {
	t := time.NewTicker(MemoryLimitInterval)
	defer t.Stop()
	s.tuneMemoryLimit(ctx, base, t.C)
}

// tuneMemoryLimit is TuneMemoryLimit revising the limit at every tick.
func (s *Store) tuneMemoryLimit(ctx context.Context, base int64, tick <-chan time.Time) {
	l := newLimitTuner(s, base)
	defer l.restore()
	for l.adjust() {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// limitTuner is one run of TuneMemoryLimit.
type limitTuner struct {
	store *Store
	base  int64
	user  int64 // the limit in force when the run started
	set   int64 // the limit the run last set (user until it sets one)
	live  []metrics.Sample
	owned bool // the limit in force is still the one the run set
}

func newLimitTuner(s *Store, base int64) *limitTuner {
	user := debug.SetMemoryLimit(-1) // a negative limit only reads it
	return &limitTuner{store: s, base: base, user: user, set: user, owned: true,
		live: []metrics.Sample{{Name: liveHeapMetric}}}
}

// target is the limit for the store's bytes and the live heap now.
func (l *limitTuner) target() int64 {
	_, bytes := l.store.Stats()
	bytes = max(bytes, 0)
	metrics.Read(l.live)
	var live int64
	if l.live[0].Value.Kind() == metrics.KindUint64 {
		live = int64(min(l.live[0].Value.Uint64(), math.MaxInt64/2))
	}
	return min(l.user, max(l.base+bytes+bytes/8, live+live/4))
}

// adjust sets the limit to target if it moved by more than 1/64 of the
// limit in force. It reports false, changing nothing, once something else
// has changed the limit.
func (l *limitTuner) adjust() bool {
	if debug.SetMemoryLimit(-1) != l.set {
		l.owned = false
		return false
	}
	next := l.target()
	if d := next - l.set; d > l.set/64 || -d > l.set/64 {
		debug.SetMemoryLimit(next)
		l.set = next
	}
	return true
}

// restore puts the original limit back if the one in force is still the
// run's.
func (l *limitTuner) restore() {
	if l.owned && debug.SetMemoryLimit(-1) == l.set {
		debug.SetMemoryLimit(l.user)
	}
}
