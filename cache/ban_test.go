package cache

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestInvalidate checks CloudFront's invalidation path rules ("What you need
// to know when invalidating files", CloudFront Developer Guide) against
// entries stored before the invalidation.
func TestInvalidate(t *testing.T) {
	tests := []struct {
		rule        string
		dist, path  string
		query       string
		pattern     string
		wantDropped bool
	}{
		{"exact path", "E1", "/images/a.jpg", "", "/images/a.jpg", true},
		{"exact path is not a prefix", "E1", "/images/a.jpg.bak", "", "/images/a.jpg", false},
		{"paths are case-sensitive", "E1", "/images/a.jpg", "", "/images/A.jpg", false},
		{"'*' matches 0 or more characters, '/' included", "E1", "/images/a/b/c.jpg", "", "/images/*", true},
		{"'*' matches 0 characters", "E1", "/images/", "", "/images/*", true},
		{"/directory-path* covers sibling names too", "E1", "/images2/x.jpg", "", "/images*", true},
		{"prefix outside the directory", "E1", "/img/x.jpg", "", "/images/*", false},
		{"prefix is case-sensitive", "E1", "/images/x.jpg", "", "/Images/*", false},
		{"/* invalidates the whole distribution", "E1", "/x", "", "/*", true},
		{"file-name.* covers extensions", "E1", "/logo.png", "", "/logo.*", true},
		{"no trailing-slash folding", "E1", "/images", "", "/images/", false},
		{"other distributions are unaffected", "E2", "/images/a.jpg", "", "/images/a.jpg", false},
		{"with query strings in the key, the invalidation must name them", "E1", "/a.jpg", "v=1", "/a.jpg", false},
		{"exact path and query string", "E1", "/a.jpg", "v=1", "/a.jpg?v=1", true},
		{"another query string value", "E1", "/a.jpg", "v=2", "/a.jpg?v=1", false},
		{"path* covers every query string", "E1", "/a.jpg", "v=2&w=3", "/a.jpg*", true},
		{"prefix into the query string", "E1", "/a.jpg", "v=2&w=3", "/a.jpg?v=2*", true},
		{"prefix into another query string", "E1", "/a.jpg", "v=3", "/a.jpg?v=2*", false},
		{"query named, entry has none", "E1", "/a.jpg", "", "/a.jpg?v=1", false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			clk := newClock()
			s := newStore(t, 1<<20, clk)
			e := entry(tt.path, 10, clk.Now(), time.Hour)
			e.Distribution = tt.dist
			e.SetExtra(Extra{Query: tt.query})
			if !s.Set("k", e) {
				t.Fatal("Set refused")
			}
			clk.Advance(time.Second)
			s.Invalidate("E1", tt.pattern, clk.Now())
			_, ok := s.Get("k")
			if ok == tt.wantDropped {
				t.Fatalf("Invalidate(%q) then Get(%s %q?%q): hit=%v, want hit=%v", tt.pattern, tt.dist, tt.path, tt.query, ok, !tt.wantDropped)
			}
			if tt.wantDropped {
				if items, _ := s.Stats(); items != 0 {
					t.Errorf("banned entry not deleted: %d items left", items)
				}
			}
		})
	}
}

// TestInvalidateOlderOnly: a ban drops entries stored before its time only;
// an entry stored after it (the refetched object) is a hit, and an entry
// fetched before the ban but stored after it is refused.
func TestInvalidateOlderOnly(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	old := entry("/a", 10, clk.Now(), time.Hour)
	s.Set("a", old)
	clk.Advance(time.Second)
	banAt := clk.Now()
	s.Invalidate("E1", "/a", banAt)
	clk.Advance(time.Second)

	if _, ok := s.Get("a"); ok {
		t.Fatal("entry stored before the ban is a hit")
	}
	if s.Set("a", entry("/a", 10, banAt.Add(-time.Millisecond), time.Hour)) {
		t.Error("Set accepted an entry received before the ban")
	}
	fresh := entry("/a", 10, clk.Now(), time.Hour)
	if !s.Set("a", fresh) {
		t.Fatal("Set refused the entry stored after the ban")
	}
	if got, ok := s.Get("a"); !ok || !sameEntry(t, got, fresh) {
		t.Error("entry stored after the ban is not a hit")
	}
}

// TestBansExpire: a ban is kept while an entry older than it can still be
// retained, and pruned after; the same pattern twice is one ban.
func TestBansExpire(t *testing.T) {
	clk := newClock()
	s := newStore(t, 1<<20, clk)
	s.Set("a", entry("/a", 10, clk.Now(), 10*time.Minute))
	s.Invalidate("E1", "/a", clk.Now())
	s.Invalidate("E1", "/a", clk.Now())
	s.Invalidate("E1", "/b*", clk.Now())
	s.Invalidate("E2", "/a", clk.Now())
	if got := s.Bans(); got != 3 {
		t.Fatalf("Bans() = %d, want 3 (duplicate pattern merged)", got)
	}
	clk.Advance(10*time.Minute + StaleGrace + banSlack - time.Second)
	if got := s.Bans(); got != 3 {
		t.Fatalf("Bans() before expiry = %d, want 3", got)
	}
	clk.Advance(time.Second)
	if got := s.Bans(); got != 0 {
		t.Fatalf("Bans() after the longest retention = %d, want 0", got)
	}
	// Invalidate prunes too: growth stays bounded by the live bans.
	for i := range 100 {
		s.Invalidate("E1", "/p"+strconv.Itoa(i), clk.Now())
		clk.Advance(10*time.Minute + banSlack)
	}
	if got := s.Bans(); got != 0 {
		t.Fatalf("Bans() after many expired invalidations = %d, want 0", got)
	}
}

// TestInvalidateConcurrent exercises lock-free ban reads against writers
// (run with -race).
func TestInvalidateConcurrent(t *testing.T) {
	s := newStore(t, 1<<24, nil)
	for i := range 100 {
		s.Set(strconv.Itoa(i), entry("/keep/"+strconv.Itoa(i), 10, time.Now(), time.Hour))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s.Invalidate("E1", "/gone/"+strconv.Itoa(w)+"/"+strconv.Itoa(i)+"*", time.Now())
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 2000 {
				if _, ok := s.Get(strconv.Itoa(i % 100)); !ok {
					t.Error("unrelated ban dropped an entry")
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := s.Bans(); got != 800 {
		t.Errorf("Bans() = %d, want 800", got)
	}
}

func BenchmarkStoreGetWithBans(b *testing.B) {
	s := newStore(b, 1<<30, nil)
	e := entry("/static/app.js", 1000, time.Now(), time.Hour)
	s.Set("k", e)
	for i := range 100 {
		s.Invalidate("E1", "/other/"+strconv.Itoa(i)+"*", time.Now())
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := s.Get("k"); !ok {
				b.Error("miss")
				return
			}
		}
	})
}
