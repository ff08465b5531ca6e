package cache

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refMatches is CloudFront's invalidation path rule written the plain way:
// the entry as a string (path, or path '?' query) equals the pattern, or
// starts with it when it ends in '*'.
func refMatches(pattern, path, query string) bool {
	s := path
	if query != "" {
		s += "?" + query
	}
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(s, p)
	}
	return s == pattern
}

// TestBanIndexMatchesReference: whatever bans were made, in whatever order
// and at whatever times (prefix bans replacing the older ones they cover
// included), the index bans exactly the entries some ban made after them
// names.
func TestBanIndexMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"/", "a", "b", "/a", "/b", "?", "v=1", "v", "=", "x", "."}
	word := func(max int) string {
		var b strings.Builder
		for range rng.IntN(max) + 1 {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		return b.String()
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 300 {
		var l banList
		type made struct {
			pattern string
			at      time.Time
		}
		var bans []made
		for i := range rng.IntN(12) + 1 {
			batch := make([]string, rng.IntN(3)+1)
			for j := range batch {
				p := "/" + word(4)
				if rng.IntN(2) == 0 {
					p += "*"
				}
				batch[j] = p
			}
			at := base.Add(time.Duration(i) * time.Second)
			l.add("E1", batch, at, at.Add(time.Hour), at)
			for _, p := range batch {
				bans = append(bans, made{p, at})
			}
		}
		for range 200 {
			path, query := "/"+word(3), ""
			if strings.Contains(path, "?") {
				path = path[:strings.IndexByte(path, '?')]
			}
			if rng.IntN(2) == 0 {
				query = word(2)
			}
			stored := base.Add(time.Duration(rng.IntN(14)-1)*time.Second + 500*time.Millisecond)
			want := false
			for _, b := range bans {
				if stored.Before(b.at) && refMatches(b.pattern, path, query) {
					want = true
				}
			}
			e := NewEntry(Entry{Distribution: "E1", Path: path, StoredNano: stored.UnixNano()}, nil, Extra{Query: query})
			if got := l.banned(e); got != want {
				t.Fatalf("round %d: bans %v, entry %q?%q stored at +%v: banned=%v, want %v",
					round, bans, path, query, stored.Sub(base), got, want)
			}
		}
	}
}

// TestSlashStarReplacesOlderBans: "/*" covers every older ban of its
// distribution, so it replaces them all; a prefix replaces the older bans
// under it and nothing else; bans of other distributions stay.
func TestSlashStarReplacesOlderBans(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	for i := range 1000 {
		s.Invalidate("E1", "/p/"+strconv.Itoa(i), clk.Now())
	}
	s.Invalidate("E1", "/q/a", clk.Now())
	s.Invalidate("E2", "/p/1", clk.Now())
	clk.Advance(time.Second)
	s.InvalidateBatch("E1", []string{"/p/*"}, clk.Now())
	if got := s.Bans(); got != 3 {
		t.Fatalf("after /p/*: %d bans, want 3 (/p/*, /q/a, E2's /p/1)", got)
	}
	s.Invalidate("E1", "/*", clk.Now())
	if got := s.Bans(); got != 2 {
		t.Fatalf("after /*: %d bans, want 2 (/*, E2's /p/1)", got)
	}
	// A newer exact ban under an older prefix is a ban of its own.
	clk.Advance(time.Second)
	s.Invalidate("E1", "/p/7", clk.Now())
	if got := s.Bans(); got != 3 {
		t.Fatalf("a newer ban under /*: %d bans, want 3", got)
	}
}

// TestBanLifeFollowsRealRetention: a ban lives as long as an entry stored
// before it can be retained — no longer because a long-lived entry was
// stored once, long ago, and is gone.
func TestBanLifeFollowsRealRetention(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	s.Set("year", entry("/year", 10, clk.Now(), 24*time.Hour))
	clk.Advance(48 * time.Hour) // the day-long entry is past its retention
	s.Invalidate("E1", "/x", clk.Now())
	clk.Advance(banSlack - time.Second)
	if got := s.Bans(); got != 1 {
		t.Fatalf("before the slack: %d bans, want 1", got)
	}
	clk.Advance(time.Second)
	if got := s.Bans(); got != 0 {
		t.Fatalf("no entry older than the ban can be retained: %d bans, want 0", got)
	}
	// While an entry stored before it can be retained, the ban stays.
	s.Set("day", entry("/day", 10, clk.Now(), 24*time.Hour))
	s.Invalidate("E1", "/day", clk.Now().Add(time.Second))
	clk.Advance(24*time.Hour + banSlack - time.Second)
	if got := s.Bans(); got != 1 {
		t.Fatalf("while /day could be retained: %d bans, want 1", got)
	}
}

// BenchmarkGetAfterBans measures a hit before and after 100 invalidations
// of 1,000 distinct paths each (issue 12: the cost of a hit must not grow
// with the number of past invalidations).
func BenchmarkGetAfterBans(b *testing.B) {
	for _, batches := range []int{0, 100} {
		b.Run(strconv.Itoa(batches*1000)+"-bans", func(b *testing.B) {
			s := newStore(b, 1<<30, nil)
			s.Set("k", entry("/static/app.js", 1000, time.Now(), time.Hour))
			for i := range batches {
				paths := make([]string, 1000)
				for j := range paths {
					paths[j] = "/img/" + strconv.Itoa(i) + "/" + strconv.Itoa(j) + ".jpg"
				}
				paths[0] = "/assets/" + strconv.Itoa(i) + "/*"
				s.InvalidateBatch("E1", paths, time.Now())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, ok := s.Get("k"); !ok {
					b.Fatal("miss")
				}
			}
		})
	}
}
