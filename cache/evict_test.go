package cache

import (
	"strconv"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// TestEvictionReasons: an entry evicted to make room counts as an
// eviction; one evicted once its retention had ended counts as an
// expiration (edgefront_cache_evictions_total's reason label).
func TestEvictionReasons(t *testing.T) {
	clk := newClock()
	now := clk.Now().UnixNano()
	cases := []struct {
		name                   string
		item                   *ristretto.Item[*Entry]
		evictions, expirations int64
	}{
		{"retention not ended", &ristretto.Item[*Entry]{Key: 1, Value: &Entry{StoredNano: now}}, 1, 0},
		{"retention ended", &ristretto.Item[*Entry]{Key: 2, Value: &Entry{StoredNano: now - int64(StaleGrace+time.Second)}}, 0, 1},
		{"retention ends now", &ristretto.Item[*Entry]{Key: 3, Value: &Entry{StoredNano: now - int64(StaleGrace)}}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t, 1<<20, clk)
			s.onEvict(c.item)
			if s.Evictions() != c.evictions || s.Expirations() != c.expirations {
				t.Errorf("evictions %d, expirations %d; want %d, %d", s.Evictions(), s.Expirations(), c.evictions, c.expirations)
			}
		})
	}
}

// TestEvictionsForRoomAreNotExpirations fills a small store: the entries
// pushed out are evictions, none an expiration. Each key is offered twice,
// as a key asked for again is: a full store admits no key on its first
// offer (admit).
func TestEvictionsForRoomAreNotExpirations(t *testing.T) {
	s := newStore(t, 64<<10, nil)
	now := time.Now()
	for i := range 1000 {
		for range 2 {
			s.Set("k"+strconv.Itoa(i), entry("/k", 1000, now, time.Hour))
		}
	}
	if s.Evictions() == 0 || s.Expirations() != 0 {
		t.Errorf("evictions %d, expirations %d; want some evictions, no expirations", s.Evictions(), s.Expirations())
	}
}
