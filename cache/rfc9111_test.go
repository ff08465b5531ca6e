package cache

import (
	"net/http"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// TestFreshnessRFC9111: the decisions of httpSemantics: rfc9111, each row
// naming the section it follows (proxy/rfc9111_mode_test.go runs them end
// to end).
func TestFreshnessRFC9111(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	tests := []struct {
		rule   string
		status int
		p      *config.CachePolicy
		h      http.Header
		want   Decision
	}{
		{"§5.2.2.4: no-cache is stored stale, even with MinTTL", 200, minPos, hdr("Cache-Control", "no-cache, max-age=600"), Decision{Store: true}},
		{"§5.2.2.5: no-store is never stored, even with MinTTL", 200, minPos, hdr("Cache-Control", "no-store"), Decision{}},
		{"§5.2.2.7: private is never stored", 200, minPos, hdr("Cache-Control", "private, max-age=60"), Decision{}},
		{"§5.2.2.3: must-understand with a known status overrides no-store", 200, minZero, hdr("Cache-Control", "must-understand, no-store, max-age=60"), Decision{Store: true, TTL: 60 * sec}},
		{"§5.2.2.3: must-understand with an unknown status is not stored", 299, minZero, hdr("Cache-Control", "must-understand, no-store, max-age=60"), Decision{}},
		{"§4.2: MinTTL does not make a response fresh", 200, minPos, hdr("Cache-Control", "max-age=10"), Decision{Store: true, TTL: 10 * sec}},
		{"§4.2: MaxTTL still bounds it", 200, minZero, hdr("Cache-Control", "max-age=86400"), Decision{Store: true, TTL: 3600 * sec}},
		{"§4.2.3: Age is subtracted", 200, minZero, hdr("Cache-Control", "max-age=600", "Age", "100"), Decision{Store: true, TTL: 500 * sec}},
		{"§4.2.2: 10% of the time since Last-Modified", 200, minZero, hdr("Date", date, "Last-Modified", now.Add(-1000*sec).Format(http.TimeFormat)), Decision{Store: true, TTL: 100 * sec}},
		{"§4.2.2: heuristic capped at a day", 200, policy(0, 300*sec, year), hdr("Date", date, "Last-Modified", now.Add(-100*day).Format(http.TimeFormat)), Decision{Store: true, TTL: day}},
		{"§4.2.2: DefaultTTL without Last-Modified", 404, minZero, hdr(), Decision{Store: true, TTL: 300 * sec}},
		{"§4.2.2: a 302 without explicit freshness is not stored", 302, minZero, hdr(), Decision{}},
		{"§4.2.2: public makes any understood status heuristically fresh", 302, minZero, hdr("Cache-Control", "public"), Decision{Store: true, TTL: 300 * sec}},
		{"§4.2.1: an error with max-age gets exactly that", 503, minZero, hdr("Cache-Control", "max-age=5"), Decision{Store: true, TTL: 5 * sec}},
		{"§4.2.2: a 503 without freshness is not stored", 503, minZero, hdr(), Decision{}},
		{"RFC 9213 §2.2: CDN-Cache-Control over Cache-Control", 200, minZero, hdr("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=60"), Decision{Store: true, TTL: 60 * sec}},
		{"RFC 9213 §2.2: Edgefront-Cache-Control over CDN-Cache-Control", 200, minZero, hdr("Edgefront-Cache-Control", "max-age=5", "CDN-Cache-Control", "max-age=60"), Decision{Store: true, TTL: 5 * sec}},
		{"CachingDisabled never stores", 200, disabled, hdr("Cache-Control", "max-age=60"), Decision{}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := FreshnessRFC9111(tt.status, tt.h, tt.p, now)
			got.Rule = ""
			if got != tt.want {
				t.Errorf("FreshnessRFC9111(%d, %v) = %+v, want %+v", tt.status, tt.h, got, tt.want)
			}
		})
	}
}
