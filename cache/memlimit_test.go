package cache

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
)

// The memory limit is the process's: these tests set it and put back the
// one they found, and none of them runs in parallel.

// withMemoryLimit sets the process's memory limit to limit for the test.
func withMemoryLimit(t *testing.T, limit int64) {
	t.Helper()
	was := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
}

// memoryLimit reads the process's memory limit.
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// fill stores n entries with bodies of size bytes and returns the store's
// accounted bytes.
func fill(t *testing.T, s *Store, from, n, size int) int64 {
	t.Helper()
	now := s.now()
	for i := from; i < from+n; i++ {
		s.Set("k"+strconv.Itoa(i), entry("/m"+strconv.Itoa(i), size, now, time.Hour))
	}
	_, b := s.Stats()
	if b <= 0 {
		t.Fatalf("store holds %d bytes after %d Sets", b, n)
	}
	return b
}

// TestMemoryLimitFollowsStore stores entries and checks the limit the
// tuner sets at each step: base + bytes + bytes/8 under the user's limit,
// unchanged when it would move by 1/64 or less, and the user's limit back
// at the end.
func TestMemoryLimitFollowsStore(t *testing.T) {
	const base = 64 << 20 // far above this process's live heap: no floor
	for _, tc := range []struct {
		name string
		user int64
		// the limit after storing 64 × 64 KiB, then 1 × 64 KiB more (a
		// move under 1/64), then 256 × 64 KiB more; -1 for the formula
		want [3]int64
	}{
		{"no user limit", math.MaxInt64, [3]int64{-1, -1, -1}},
		{"user limit above", 1 << 30, [3]int64{-1, -1, -1}},
		{"user limit below", 70 << 20, [3]int64{-1, -1, 70 << 20}},
		{"user limit below base", 32 << 20, [3]int64{32 << 20, 32 << 20, 32 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withMemoryLimit(t, tc.user)
			runtime.GC() // the live heap earlier tests left is gone
			s := newStore(t, 1<<30, nil)
			l := newLimitTuner(s, base)
			formula := func(b int64) int64 { return min(tc.user, base+b+b/8) }

			steps := [3]struct{ from, n int }{{0, 64}, {64, 1}, {65, 256}}
			prev := tc.user
			for i, st := range steps {
				b := fill(t, s, st.from, st.n, 64<<10)
				if !l.adjust() {
					t.Fatalf("step %d: the tuner gave up the limit nobody else changed", i)
				}
				want := tc.want[i]
				if want == -1 {
					want = formula(b)
					if i == 1 { // 64 KiB more is under 1/64 of ~68 MiB
						want = prev
					}
				}
				if got := memoryLimit(); got != want {
					t.Errorf("step %d (store holds %d B): limit %d, want %d", i, b, got, want)
				}
				prev = memoryLimit()
			}
			l.restore()
			if got := memoryLimit(); got != tc.user {
				t.Errorf("after restore: limit %d, want the user's %d", got, tc.user)
			}
		})
	}
}

// TestMemoryLimitLiveFloor: with nothing stored and no base, the limit is
// the live heap plus a quarter, not zero.
func TestMemoryLimitLiveFloor(t *testing.T) {
	withMemoryLimit(t, math.MaxInt64)
	s := newStore(t, 1<<30, nil)
	keep := make([][]byte, 256) // 16 MiB the accounting does not see
	for i := range keep {
		keep[i] = make([]byte, 64<<10)
	}
	runtime.GC()
	live := []metrics.Sample{{Name: liveHeapMetric}}
	metrics.Read(live)
	before := int64(live[0].Value.Uint64())

	l := newLimitTuner(s, 0)
	l.adjust()
	got := memoryLimit()
	metrics.Read(live)
	after := int64(live[0].Value.Uint64())
	lo, hi := min(before, after)*5/4, max(before, after)*5/4
	if got < lo-lo/16 || got > hi+hi/16 {
		t.Errorf("limit %d with a live heap of %d..%d B, want about 5/4 of it (%d..%d)", got, before, after, lo, hi)
	}
	l.restore()
	runtime.KeepAlive(keep)
}

// TestTuneMemoryLimitRun runs the tuner's loop on an injected tick: it
// restores the user's limit when its context ends, and when something else
// sets the limit it leaves that limit alone and returns by itself.
func TestTuneMemoryLimitRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		external int64 // a limit set by someone else while it runs; 0 for none
		want     int64 // the limit once it has returned
	}{
		{"context ends: user's limit restored", 0, 1 << 40},
		{"someone else sets the limit: it is left alone", 123 << 20, 123 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withMemoryLimit(t, 1<<40)
			s := newStore(t, 1<<30, nil)
			fill(t, s, 0, 16, 64<<10)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tick := make(chan time.Time) // unbuffered: a send returns once the loop is waiting again
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.tuneMemoryLimit(ctx, 64<<20, tick)
			}()
			tick <- time.Time{} // the first limit is set
			if got := memoryLimit(); got == 1<<40 {
				t.Fatalf("limit still the user's %d while the tuner runs", got)
			}
			if tc.external != 0 {
				debug.SetMemoryLimit(tc.external)
				tick <- time.Time{} // the tuner sees the change and returns
			} else {
				cancel()
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("tuner did not return")
			}
			if got := memoryLimit(); got != tc.want {
				t.Errorf("limit after the tuner returned: %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTuneMemoryLimitKeepsHeapNearLive warms a store the way a cache warms
// (every body stays live) with and without the tuner and compares the heap
// goal the runtime ends with, the heap it lets grow before collecting
// again: without the tuner GOGC=100 sets it to twice the live heap, with
// it it stays near max(base + bytes*9/8, live*5/4). The goal is read after
// a full collection, so the comparison does not depend on timing.
func TestTuneMemoryLimitKeepsHeapNearLive(t *testing.T) {
	withMemoryLimit(t, math.MaxInt64)
	debug.SetGCPercent(debug.SetGCPercent(100)) // the default, as serve runs
	goal := func(tune bool) (goal, live uint64) {
		runtime.GC()
		s := newStore(t, 1<<30, nil)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		tick := make(chan time.Time) // unbuffered: a send returns once the loop is waiting again
		done := make(chan struct{})
		if tune {
			go func() {
				defer close(done)
				s.tuneMemoryLimit(ctx, 8<<20, tick)
			}()
		}
		for i := range 64 { // 64 × 1 MiB of 16 KiB entries
			fill(t, s, i*64, 64, 16<<10)
			if tune {
				tick <- time.Time{}
			}
		}
		live = liveHeap()
		if tune {
			tick <- time.Time{} // revised for the live heap just measured
			tick <- time.Time{} // … and that revision is done
		}
		m := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		metrics.Read(m)
		if tune {
			cancel()
			<-done
		}
		s.Close()
		return m[0].Value.Uint64(), live
	}
	without, liveWithout := goal(false)
	with, liveWith := goal(true)
	t.Logf("heap goal: %d MiB without the tuner (live %d MiB), %d MiB with it (live %d MiB)",
		without>>20, liveWithout>>20, with>>20, liveWith>>20)
	if with > liveWith*3/2 || without < liveWithout*3/2 {
		t.Errorf("heap goal %d B with the tuner (live %d B), %d B without (live %d B): want under 1.5 × live with it, over without",
			with, liveWith, without, liveWithout)
	}
}
