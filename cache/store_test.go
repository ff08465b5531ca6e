package cache

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time               { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *clock) At(d time.Duration) time.Time { return c.Now().Add(d) }

func newStore(t testing.TB, maxBytes int64, clk *clock) *Store {
	t.Helper()
	o := Options{MaxBytes: maxBytes}
	if clk != nil {
		o.Now = clk.Now
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func entry(path string, body int, stored time.Time, ttl time.Duration) *Entry {
	b := make([]byte, body)
	for i := range b { // bodies that tell entries apart (sameEntry)
		b[i] = path[i%len(path)] + byte(ttl>>20)
	}
	return NewEntry(Entry{
		Status:       200,
		Header:       NewHeader(http.Header{"Content-Type": {"text/plain"}}),
		Distribution: "E1",
		Path:         path,
		StoredNano:   stored.UnixNano(),
		TTL:          ttl,
	}, b, Extra{})
}

// sameEntry reports whether got, from the store, is the store's copy of
// want: the same response, with want's body (read from the arena).
func sameEntry(t *testing.T, got, want *Entry) bool {
	t.Helper()
	return got != nil && got.Status == want.Status && got.Path == want.Path && got.StoredNano == want.StoredNano &&
		got.TTL == want.TTL && got.Body() == nil && bytes.Equal(readBody(t, got), want.Body())
}

func TestNewRejectsBadSize(t *testing.T) {
	for _, n := range []int64{0, -1} {
		if _, err := New(Options{MaxBytes: n}); err == nil {
			t.Errorf("New(MaxBytes=%d): want error", n)
		}
	}
}

// TestSetThenGetAlwaysHits is DESIGN.md's determinism rule: once Set returns
// true, Get hits, whatever ristretto's asynchronous buffers are doing, here
// from many goroutines at once, many times over.
func TestSetThenGetAlwaysHits(t *testing.T) {
	s := newStore(t, 1<<30, nil)
	const goroutines, perG = 16, 500
	var wg sync.WaitGroup
	var misses, refused atomic.Int64
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				key := "k/" + strconv.Itoa(g) + "/" + strconv.Itoa(i)
				e := entry("/"+key, 100, time.Now(), time.Hour)
				if !s.Set(key, e) {
					refused.Add(1)
					continue
				}
				got, ok := s.Get(key)
				if !ok || !sameEntry(t, got, e) {
					misses.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if refused.Load() != 0 || misses.Load() != 0 {
		t.Fatalf("with room to spare: %d Sets refused, %d Gets missed after Set", refused.Load(), misses.Load())
	}
	items, bytes := s.Stats()
	if items != goroutines*perG {
		t.Errorf("Stats items = %d, want %d", items, goroutines*perG)
	}
	if want := int64(goroutines*perG) * entry("/k/0/0", 100, time.Now(), 0).Size(); bytes < want-int64(goroutines*perG)*8 || bytes > want+int64(goroutines*perG)*8 {
		t.Errorf("Stats bytes = %d, want about %d", bytes, want)
	}
}

// TestSetThenGetRepeated repeats a tiny Set/Get round on fresh stores: a race
// between ristretto's write buffer and Get would show up as an occasional
// miss.
func TestSetThenGetRepeated(t *testing.T) {
	for round := range 50 {
		s := newStore(t, 1<<20, nil)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("r%d-g%d", round, g)
				if !s.Set(key, entry("/x", 10, time.Now(), time.Minute)) {
					t.Errorf("%s: Set refused", key)
					return
				}
				if _, ok := s.Get(key); !ok {
					t.Errorf("%s: Get missed right after Set", key)
				}
			}()
		}
		wg.Wait()
	}
}

func TestSetReplaceAndDelete(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	e1 := entry("/a", 100, clk.Now(), time.Minute)
	e2 := entry("/a", 300, clk.Now(), time.Minute)
	if !s.Set("a", e1) || !s.Set("a", e2) {
		t.Fatal("Set refused")
	}
	if got, ok := s.Get("a"); !ok || !sameEntry(t, got, e2) {
		t.Fatalf("Get after replace = %p, %v; want the second entry", got, ok)
	}
	if items, bytes := s.Stats(); items != 1 || bytes != e2.Size() {
		t.Errorf("Stats after replace = %d, %d; want 1, %d", items, bytes, e2.Size())
	}
	s.Delete("a")
	if _, ok := s.Get("a"); ok {
		t.Error("Get after Delete hit")
	}
	if items, bytes := s.Stats(); items != 0 || bytes != 0 {
		t.Errorf("Stats after Delete = %d, %d; want 0, 0", items, bytes)
	}
}

// TestEvictionBySize fills a small store far beyond its size: the cost bound
// holds, and Stats matches what Get can still find.
func TestEvictionBySize(t *testing.T) {
	const maxBytes = 64 << 10
	s := newStore(t, maxBytes, nil)
	now := time.Now()
	const n = 1000
	for i := range n {
		s.Set("k"+strconv.Itoa(i), entry("/k", 1000, now, time.Hour))
		if _, bytes := s.Stats(); bytes > maxBytes {
			t.Fatalf("after %d Sets: %d bytes stored, more than MaxBytes %d", i+1, bytes, maxBytes)
		}
	}
	var found, foundBytes int64
	for i := range n {
		if e, ok := s.Get("k" + strconv.Itoa(i)); ok {
			found++
			foundBytes += e.Size()
		}
	}
	items, bytes := s.Stats()
	if items != found || bytes != foundBytes {
		t.Errorf("Stats = %d items, %d bytes; Get finds %d items, %d bytes", items, bytes, found, foundBytes)
	}
	if found == 0 || found == n {
		t.Errorf("found %d of %d entries; want some evicted, some kept", found, n)
	}
}

func TestSetRefuses(t *testing.T) {
	clk := newClock()
	s := newStore(t, 4096, clk)
	tests := []struct {
		name string
		e    *Entry
	}{
		{"nil entry", nil},
		{"larger than the whole store", entry("/big", 8192, clk.Now(), time.Hour)},
		{"already past its retention", entry("/old", 10, clk.At(-2*time.Hour), time.Minute)},
	}
	for _, tt := range tests {
		if s.Set(tt.name, tt.e) {
			t.Errorf("%s: Set accepted it", tt.name)
		}
	}
	if items, bytes := s.Stats(); items != 0 || bytes != 0 {
		t.Errorf("Stats = %d, %d; want 0, 0", items, bytes)
	}
}

// TestRetention: Get returns expired entries until Stored + TTL + the
// longest of stale-while-revalidate, stale-if-error and StaleGrace —
// validators or not, as CloudFront keeps expired objects to revalidate
// them or serve them when the origin fails.
func TestRetention(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Entry)
		keep   time.Duration
	}{
		{"TTL and the grace", func(*Entry) {}, 10*time.Second + StaleGrace},
		{"stale-while-revalidate within the grace", func(e *Entry) { e.SetExtra(Extra{StaleWhileRevalidate: 30 * time.Second}) }, 10*time.Second + StaleGrace},
		{"ETag: the same grace", func(e *Entry) { e.Header = NewHeader(http.Header{"Content-Type": {"text/plain"}, "Etag": {`"v1"`}}) }, 10*time.Second + StaleGrace},
		{"stale-while-revalidate longer than the grace", func(e *Entry) { e.SetExtra(Extra{StaleWhileRevalidate: 3 * time.Hour}) }, 10*time.Second + 3*time.Hour},
		{"stale-if-error longer than the grace", func(e *Entry) {
			e.SetExtra(Extra{StaleWhileRevalidate: 30 * time.Second, StaleIfError: 2 * time.Hour})
		}, 10*time.Second + 2*time.Hour},
		{"stale-if-error=0 keeps the grace", func(e *Entry) { e.SetExtra(Extra{StaleIfError: NoStaleIfError}) }, 10*time.Second + StaleGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := newStore(t, 1<<20, clk)
			e := entry("/r", 10, clk.Now(), 10*time.Second)
			tt.modify(e)
			if got := Retention(e); got != tt.keep {
				t.Fatalf("Retention = %v, want %v", got, tt.keep)
			}
			if !s.Set("r", e) {
				t.Fatal("Set refused")
			}
			clk.Advance(tt.keep - time.Nanosecond)
			if _, ok := s.Get("r"); !ok {
				t.Error("Get missed just before the end of retention")
			}
			clk.Advance(time.Nanosecond)
			if _, ok := s.Get("r"); ok {
				t.Error("Get hit at the end of retention")
			}
		})
	}
}

func BenchmarkStoreGet(b *testing.B) {
	s := newStore(b, 1<<30, nil)
	const n = 10000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "E1\x00/static/asset-" + strconv.Itoa(i) + ".js"
		if !s.Set(keys[i], entry(keys[i], 1000, time.Now(), time.Hour)) {
			b.Fatal("Set refused")
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := s.Get(keys[i%n]); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

// BenchmarkStoreSet measures Set including the wait that makes it visible.
func BenchmarkStoreSet(b *testing.B) {
	s := newStore(b, 1<<30, nil)
	e := entry("/x", 1000, time.Now(), time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Set(strconv.Itoa(i%100000), e)
	}
}

// TestSetStoredEntryAgain: an entry already in the store may be passed to
// Set again (under another key, or as the base of a refreshed copy); the
// store copies it, and each key keeps its own cost and retention.
func TestSetStoredEntryAgain(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	e := entry("/a", 100, clk.Now(), time.Minute)
	if !s.Set("k1", e) {
		t.Fatal("first Set refused")
	}
	again := *e // as proxy's refreshed does
	again.TTL = 3 * time.Hour
	if !s.Set("k2", &again) || !s.Set("k3", e) {
		t.Fatal("second Set refused")
	}
	clk.Advance(time.Minute + StaleGrace)
	if _, ok := s.Get("k1"); ok {
		t.Error("k1: served past its retention (one minute and the grace)")
	}
	if _, ok := s.Get("k3"); ok {
		t.Error("k3 (the same entry): served past its retention (one minute and the grace)")
	}
	if got, ok := s.Get("k2"); !ok || got.TTL != 3*time.Hour || got.BodyLen() != 100 {
		t.Errorf("k2: got %v, %v; want the three-hour copy", got, ok)
	}
	if items, bytes := s.Stats(); items != 3 || bytes != 3*e.Size() {
		t.Errorf("Stats = %d items, %d bytes; want 3, %d", items, bytes, 3*e.Size())
	}
}

// TestEntryExtra: an entry's Extra goes with it into the store and costs
// the same there as in hand (Size); SetExtra on a copy of the store's
// entry, as proxy's refreshed and shareStale change one, leaves the
// store's entry as it was and keeps the body the copy shares with it.
func TestEntryExtra(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	x := Extra{Query: "v=1", InitialAge: 3 * time.Second, StaleWhileRevalidate: time.Minute, StaleIfError: NoStaleIfError}
	e := entry("/x", 100, clk.Now(), time.Hour)
	e.SetExtra(x)
	if e.Extra() != x || e.BodyLen() != 100 {
		t.Fatalf("in hand: Extra %+v, body %d bytes; want %+v and the body", e.Extra(), e.BodyLen(), x)
	}
	plain := entry("/x", 100, clk.Now(), time.Hour)
	if d := e.Size() - plain.Size(); d != extraOverhead+int64(len(x.Query)) {
		t.Errorf("Size with Extra %d B over without, want %d", d, extraOverhead+int64(len(x.Query)))
	}
	if !s.Set("k", e) {
		t.Fatal("Set refused")
	}
	got, ok := s.Get("k")
	if !ok || got.Extra() != x || got.Query() != "v=1" || got.InitialAge() != 3*time.Second ||
		got.StaleWhileRevalidate() != time.Minute || got.StaleIfError() != NoStaleIfError || got.StaleUntil() != 0 {
		t.Fatalf("the store's copy: %v, Extra %+v; want %+v", ok, got.Extra(), x)
	}
	if got.Size() != e.Size() {
		t.Errorf("Size of the store's copy %d, of the entry in hand %d", got.Size(), e.Size())
	}
	c := *got
	y := c.Extra()
	y.StaleUntil = clk.Now().Add(time.Minute).UnixNano()
	c.SetExtra(y)
	if got.StaleUntil() != 0 || c.StaleUntil() != y.StaleUntil || c.Query() != "v=1" {
		t.Errorf("after SetExtra on a copy: the store's StaleUntil %d, the copy's %d, its Query %q", got.StaleUntil(), c.StaleUntil(), c.Query())
	}
	if !c.InStore() || !bytes.Equal(readBody(t, &c), e.Body()) {
		t.Error("the copy does not share the store's body")
	}
	c.SetExtra(Extra{})
	if c.Extra() != (Extra{}) || !bytes.Equal(readBody(t, &c), e.Body()) {
		t.Error("a copy without Extra lost its body")
	}
}
