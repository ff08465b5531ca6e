package edge

import (
	"errors"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// This file is the watchdog of a run: it interrupts a handler that runs
// past its budget or makes the process allocate past its allocation bound
// (see memory.go for what that bound is and why).

var (
	errBudget = errors.New("the function ran out of its compute budget")
	errMemory = errors.New("the function ran out of its memory")
)

// watchTick is how often a run's watchdog looks at the clock and the
// process's allocations.
const watchTick = time.Millisecond

// firstTick is when a run's watchdog first looks: it takes the process's
// allocations then as the run's starting point. Reading runtime/metrics
// takes a process-wide lock, too dear for every run: a run that ends
// before firstTick (nearly all of them) never reads it, at the price of
// not counting its first firstTick of allocations.
const firstTick = watchTick / 4

// allocsMetric is the process's cumulative heap allocation in bytes.
const allocsMetric = "/gc/heap/allocs:bytes"

// processAllocs returns the bytes the process has allocated on the heap so
// far.
func processAllocs() uint64 {
	s := []metrics.Sample{{Name: allocsMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// watchdog interrupts its VM's run when the run is over its budget or the
// process has allocated more than allocLimit bytes for each run in flight
// since the run began (the allocations of the process, shared among the
// runs under way: a run cannot be told apart from the others). It looks
// first after firstTick, then every watchTick, so a run of a few
// microseconds costs a timer reset and stop.
type watchdog struct {
	r          *goja.Runtime
	budget     time.Duration
	allocLimit uint64        // 0: no allocation bound
	inflight   *atomic.Int64 // the runtime's runs under way

	mu          sync.Mutex
	t           *time.Timer
	active      bool
	interrupted bool
	start       time.Time
	allocs0     uint64
	sampled     bool // allocs0 is set
}

func newWatchdog(r *goja.Runtime, budget time.Duration, allocLimit uint64, inflight *atomic.Int64) *watchdog {
	w := &watchdog{r: r, budget: budget, allocLimit: allocLimit, inflight: inflight}
	w.t = time.AfterFunc(time.Hour, w.tick)
	w.t.Stop()
	return w
}

// begin starts watching a run that began at start.
func (w *watchdog) begin(start time.Time) {
	w.mu.Lock()
	w.active, w.interrupted, w.sampled = true, false, false
	w.inflight.Add(1)
	w.start = start
	w.t.Reset(min(firstTick, w.budget))
	w.mu.Unlock()
}

// end stops watching and reports whether the run was interrupted (the VM
// must then not be reused: goja's interrupt flag may still be set).
func (w *watchdog) end() (interrupted bool) {
	w.mu.Lock()
	w.active = false
	w.inflight.Add(-1)
	w.t.Stop()
	interrupted = w.interrupted
	w.mu.Unlock()
	return interrupted
}

// stop interrupts the run under way with err (a helper that refuses an
// allocation calls it too).
func (w *watchdog) stop(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active && !w.interrupted {
		w.interrupted = true
		w.r.Interrupt(err)
	}
}

func (w *watchdog) tick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.active || w.interrupted {
		return
	}
	elapsed := time.Since(w.start)
	if elapsed >= w.budget {
		w.interrupted = true
		w.r.Interrupt(errBudget)
		return
	}
	if w.allocLimit > 0 {
		now := processAllocs()
		if !w.sampled {
			w.allocs0, w.sampled = now, true
		} else if n := uint64(max(1, w.inflight.Load())); (now-w.allocs0)/n > w.allocLimit {
			w.interrupted = true
			w.r.Interrupt(errMemory)
			return
		}
	}
	w.t.Reset(min(watchTick, w.budget-elapsed))
}
