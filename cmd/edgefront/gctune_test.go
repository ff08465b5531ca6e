package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/edgefront/edgefront/cache"
)

// GOGC is the process's: these tests set it and put back the value they
// found, and none of them runs in parallel.

// withGCPercent sets GOGC to p for the test.
func withGCPercent(t *testing.T, p int) {
	t.Helper()
	was := debug.SetGCPercent(p)
	t.Cleanup(func() { debug.SetGCPercent(was) })
}

// fill stores n entries with bodies of size bytes.
func fill(t *testing.T, s *cache.Store, from, n, size int) {
	t.Helper()
	now := time.Now()
	for i := from; i < from+n; i++ {
		s.Set("k"+strconv.Itoa(i), cache.NewEntry(cache.Entry{Status: 200, Distribution: "E1",
			Path: "/m" + strconv.Itoa(i), StoredNano: now.UnixNano(), TTL: time.Hour}, make([]byte, size), cache.Extra{}))
	}
	if _, b := s.Stats(); b <= 0 {
		t.Fatalf("store holds %d bytes after %d Sets", b, n)
	}
}

// newStore is a cache.Store of maxBytes, closed with the test.
func newStore(t *testing.T, maxBytes int64) *cache.Store {
	t.Helper()
	s, err := cache.New(cache.Options{MaxBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// storedBytes is what tuneGC reads of a store.
func storedBytes(s *cache.Store) func() int64 { return s.HeapBytes }

// TestGCPercentFor: the heap may grow by base + bytes/8 before the next
// collection, never by less than 10 % nor more than the ceiling (the
// GOGC environment variable's value, or 1000).
func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name        string
		base, bytes int64
		live        uint64
		user, ceil  int
		want        int
	}{
		{"small heap: 32 MiB of room, over GOGC=100", 32 * mib, 1 * mib, 20 * mib, 100, maxGCPercent, 160},
		{"tiny heap: the ceiling", 32 * mib, 0, 2 * mib, 100, maxGCPercent, maxGCPercent},
		{"small heap, GOGC set by the user: theirs", 32 * mib, 1 * mib, 20 * mib, 100, 100, 100},
		{"100 MiB cached in a 200 MiB heap", 32 * mib, 160 * mib, 200 * mib, 100, maxGCPercent, 26},
		{"1 GiB cached", 32 * mib, 1024 * mib, 1100 * mib, 100, maxGCPercent, 14},
		{"floor", 0, 1024 * mib, 4096 * mib, 100, maxGCPercent, minGCPercent},
		{"a lower user GOGC wins", 32 * mib, 160 * mib, 200 * mib, 20, 20, 20},
		{"nothing measured yet", 32 * mib, 0, 0, 100, maxGCPercent, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gcPercentFor(tt.base, tt.bytes, tt.live, tt.user, tt.ceil); got != tt.want {
				t.Errorf("gcPercentFor = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTuneGCRun runs the tuner's loop on an injected tick: it lowers GOGC
// for a store holding a lot, restores the user's value when its context
// ends, leaves alone a value someone else sets, and never touches GOGC=off.
func TestTuneGCRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		user     int
		external int // a GOGC set by someone else while it runs; 0 for none
		want     int // GOGC once it has returned
	}{
		{"context ends: user's GOGC restored", 100, 0, 100},
		{"someone else sets GOGC: it is left alone", 100, 77, 77},
		{"GOGC=off is never touched", -1, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withGCPercent(t, tc.user)
			s := newStore(t, 1<<30)
			fill(t, s, 0, 512, 64<<10) // 32 MiB held
			runtime.GC()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			tick := make(chan time.Time) // unbuffered: a send returns once the loop waits again
			done := make(chan struct{})
			go func() {
				defer close(done)
				runGCTuner(ctx, storedBytes(s), 0, tick)
			}()
			if tc.user > 0 {
				tick <- time.Time{} // the first revision is done
				if got := gcPercent(); got >= tc.user {
					t.Fatalf("GOGC %d while the tuner runs, want below the user's %d", got, tc.user)
				}
				if tc.external != 0 {
					debug.SetGCPercent(tc.external)
					tick <- time.Time{} // the tuner sees the change and returns
				} else {
					cancel()
				}
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("tuner did not return")
			}
			if got := gcPercent(); got != tc.want {
				t.Errorf("GOGC after the tuner returned: %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTuneGCKeepsHeapNearLive warms a store the way a cache warms (every
// entry stays live) with and without the tuner and compares the heap goal
// the runtime ends with: without the tuner GOGC=100 sets it to twice the
// live heap, with it the heap may grow only by about base + bytes/8. The
// goal is read after a full collection, so the result does not depend on
// timing.
func TestTuneGCKeepsHeapNearLive(t *testing.T) {
	withGCPercent(t, 100)
	goal := func(tune bool) (goal, live uint64) {
		runtime.GC()
		s := newStore(t, 1<<30)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		tick := make(chan time.Time)
		done := make(chan struct{})
		if tune {
			go func() {
				defer close(done)
				runGCTuner(ctx, storedBytes(s), 8<<20, tick)
			}()
		}
		for i := range 64 { // 64 × 1,024 entries of 1 KiB: their bodies in the arena, the rest on the heap
			fill(t, s, i*1024, 1024, 1<<10)
			if tune {
				tick <- time.Time{}
			}
		}
		runtime.GC()
		live = liveHeap()
		if tune {
			tick <- time.Time{} // revised for the live heap just measured
			tick <- time.Time{} // … and that revision is done
		}
		runtime.GC() // the goal now follows the percentage in force
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

// liveHeap is the heap live after two full collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
