package cache

import (
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// memoryObjects is how many 1 KiB objects the memory test stores, as the
// bench's memory scenario does.
const memoryObjects = 100_000

// memoryHeader is the stored header of one of the bench's 1 KiB objects,
// laid out as proxy's storedHeader lays it out: every value a substring of
// one string, every value list a slice of one array.
func memoryHeader() http.Header {
	names := []string{"Accept-Ranges", "Cache-Control", "Content-Type", "Date", "Etag", "Last-Modified", "Content-Length"}
	vals := []string{"bytes", "public, max-age=3600", "application/octet-stream", "Wed, 25 Nov 2026 02:46:11 GMT",
		`"obj-1k-1024"`, "Wed, 25 Nov 2026 02:45:00 GMT", "1024"}
	all := strings.Join(vals, "") // one allocation
	list := make([]string, len(vals))
	h := make(http.Header, len(names))
	at := 0
	for i, n := range names {
		list[i] = all[at : at+len(vals[i])]
		at += len(vals[i])
		h[n] = list[i : i+1 : i+1]
	}
	return h
}

// headerBytes is a header's size as sent: "Name: value\r\n" per value.
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// liveHeap is the heap in use by live objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryPerEntry stores 100,000 1 KiB objects the way proxy does and
// bounds the live heap each costs beyond its body and its header bytes (as
// sent), issue 19's target: ≤ 300 B. It logs where the bytes go, stage by
// stage, and holds Entry.Size (the cost the store charges) to what an
// object really takes. The measurement is of allocations after a full GC,
// so it is deterministic, not timed. The test's own slices are allocated
// before the first reading and kept alive past the last: until 2026-11-27
// they were freed before it, which hid 73 B per object (the 394 B measured
// then was 467 B).
func TestMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Log("short mode: storing 10,000 objects instead of 100,000")
	}
	n := memoryObjects
	if testing.Short() {
		n = 10_000
	}
	// The bound on the memory per object beyond its body and header bytes
	// (as sent): the live heap after the store has its copy and the entry
	// in hand is dropped, plus the object's block in the RAM tier's arena.
	// Measured: 267 B (under -race too) — the header's rendered string
	// (15 B over its bytes as sent), the path (16 B), the store's Entry
	// (96 B) and its memBlock (24 B), ristretto's maps (~108 B), the
	// block's header (8 B). The bound leaves 5 B of margin: any field added
	// to Entry or memBlock takes either to its next size class (16 or 8 B
	// more) and fails it. (379 B before 2026-11-27: a 176-byte Entry and a
	// 32-byte memBlock; 291 B until the header was rendered once, a list
	// of strings 39 B over its bytes.)
	bound := 272
	if raceEnabled {
		bound += 8 // the race detector's allocations
	}
	if testing.Short() {
		bound += 26 // the maps' growth stands elsewhere at 10,000
	}

	now := time.Date(2026, 11, 25, 2, 46, 11, 0, time.UTC)
	s := newStore(t, 512<<20, nil) // edgefront's default cache size
	s.now = func() time.Time { return now }
	hb := headerBytes(memoryHeader())

	paths := make([]string, n) // the keys are the test's, not the cache's
	keys := make([]string, n)
	for i := range n {
		paths[i] = "/obj/1k/m" + strconv.Itoa(i)
		r := &http.Request{Header: http.Header{}, URL: &url.URL{Path: paths[i]}}
		keys[i] = string(AppendKey(nil, "E1", paths[i], r, &config.CachePolicy{}, ""))
	}
	headers := make([]Header, n)
	entries := make([]*Entry, n)

	stage := func(name string, before uint64, f func(i int)) uint64 {
		for i := range n {
			f(i)
		}
		after := liveHeap()
		t.Logf("%-34s %6.0f B per object", name, float64(int64(after)-int64(before))/float64(n))
		return after
	}
	base := liveHeap()
	h0 := stage("header (values, name bytes)", base, func(i int) { headers[i] = NewHeader(memoryHeader()) })
	h2 := stage("entries in hand (body on the heap)", h0, func(i int) {
		entries[i] = NewEntry(Entry{Status: 200, Header: headers[i], Distribution: "E1",
			Path: strings.Clone(paths[i]), StoredNano: now.UnixNano(), TTL: 24 * time.Hour}, make([]byte, 1024), Extra{})
	})
	stored := 0
	stage("store's copies, memBlocks, ristretto", h2, func(i int) {
		if s.Set(keys[i], entries[i]) {
			stored++
		}
	})
	size := entries[0].Size()
	clear(entries) // as proxy drops what it stored once it is answered
	arena := float64(s.arena.inUse()) / float64(n)
	t.Logf("%-34s %6.0f B per object", "arena block (body + its header)", arena)
	total := float64(int64(liveHeap())-int64(base))/float64(n) + arena
	if stored != n {
		t.Fatalf("stored %d of %d objects", stored, n)
	}
	for i := 0; i < n; i += n / 10 {
		if e, ok := s.Get(keys[i]); !ok || e.BodyLen() != 1024 || e.Body() != nil || e.Header.Get("Content-Length") != "1024" {
			t.Fatalf("object %d not served back whole from the arena", i)
		}
	}
	over := total - 1024 - float64(hb)
	t.Logf("total %.0f B per object; header bytes as sent %d B; overhead beyond body and headers %.0f B; Entry.Size %d B",
		total, hb, over, size)
	if over > float64(bound) {
		t.Errorf("live heap per object beyond its body and headers = %.0f B, want ≤ %d B", over, bound)
	}
	if d := float64(size) - total; d < -0.03*total || d > 0.03*total {
		t.Errorf("Entry.Size = %d B for an object that takes %.0f B: want it within 3 %%", size, total)
	}
	runtime.KeepAlive(paths)
	runtime.KeepAlive(keys)
	runtime.KeepAlive(headers)
	runtime.KeepAlive(entries)
}
