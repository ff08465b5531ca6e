package cache

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgefront/edgefront/cache/cachesim"
)

// replay runs trace through s from workers goroutines as proxy does (Get;
// on a miss, Peek as a new flight does, then Set) and returns the hit
// ratio.
func replay(s *Store, trace []int, workers int, entryOf func(k int) (string, *Entry)) float64 {
	var hits, next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(trace)) {
					return
				}
				key, e := entryOf(trace[i])
				if _, ok := s.Get(key); ok {
					hits.Add(1)
					continue
				}
				if _, ok := s.Peek(key, s.now()); ok { // proxy's second look
					hits.Add(1)
					continue
				}
				s.Set(key, e)
			}
		}()
	}
	wg.Wait()
	return float64(hits.Load()) / float64(len(trace))
}

// TestHitRatioBeatsLRU replays issue 19's Zipf trace (200,000 requests over
// 100,000 1 KiB objects, s = 1.01) against a store sized to hold 10 % and
// 20 % of the keys, and against an LRU simulation holding as many objects
// as the store held: TinyLFU admission must earn its place.
//
// What is reachable on this trace is small: 36,774 distinct keys make
// 18.4 % of the requests first requests, which no cache can hit. The
// perfect LFU (cachesim.LFU) is LRU + 2.4 points at 10 % and + 0.4 at 20 %;
// a clairvoyant cache (cachesim.OPT, Belady's) + 7.5 and + 2.3. So the margins asserted are below issue 19's 5 points: measured,
// the store is LRU + 1.6 to 2.1 points at 10 % with one client, + 1.2 to
// 2.1 with eight, and + 0.2 to 0.4 at 20 % (before issue 19's fixes: 0.0
// to + 0.4 at 10 % and − 1.1 to 0.0 at 20 %, with one client or eight).
// The ratios depend on the scheduling of ristretto's goroutine, not on
// time, so they move by a few tenths of a point, less than the margins.
// Under the race detector they are only logged (see raceEnabled).
func TestHitRatioBeatsLRU(t *testing.T) {
	trace := cachesim.ZipfTrace(200_000, 100_000)
	now := time.Date(2026, 11, 25, 2, 46, 11, 0, time.UTC)
	body := make([]byte, 1024) // shared: the test measures ratios, not memory
	hdr := NewHeader(memoryHeader())
	entryOf := func(k int) (string, *Entry) {
		path := "/obj/1k/z" + strconv.Itoa(k)
		return "E1\x00" + path, NewEntry(Entry{Status: 200, Header: hdr, Distribution: "E1", Path: path,
			StoredNano: now.UnixNano(), TTL: 24 * time.Hour}, body, Extra{})
	}
	_, sample := entryOf(50_000)

	cases := []struct {
		name    string
		objects int
		workers int
		margin  float64 // the store's ratio must be ≥ LRU's + margin
	}{
		{"10% of keys, 1 client", 10_000, 1, 0.010},
		{"20% of keys, 1 client", 20_000, 1, 0.000},
		{"10% of keys, 8 clients", 10_000, 8, 0.005},
		{"20% of keys, 8 clients", 20_000, 8, 0.000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && c.workers > 1 {
				t.Skip("short mode: one client only")
			}
			s := newStore(t, int64(c.objects)*sample.Size(), nil)
			s.now = func() time.Time { return now }
			got := replay(s, trace, c.workers, entryOf)
			held, _ := s.Stats()
			lru, lfu := cachesim.LRU(trace, int(held)), cachesim.LFU(trace, int(held))
			t.Logf("%d objects held: store %.4f, LRU %.4f (%+.1f points), perfect LFU %.4f",
				held, got, lru, 100*(got-lru), lfu)
			if raceEnabled {
				// ristretto batches accesses in a sync.Pool, which the
				// race detector empties at random: the policy hears of
				// few accesses, so only the store's safety is tested.
				return
			}
			if got < lru+c.margin {
				t.Errorf("hit ratio %.4f with %d objects; LRU's at the same count is %.4f, want ≥ LRU + %.1f points",
					got, held, lru, 100*c.margin)
			}
		})
	}
}
