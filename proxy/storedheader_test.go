package proxy

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// TestStoredHeader checks the compact copy of an origin header that is
// cached: the same names and values, in order, Age dropped, Content-Length
// set from the length given, Set-Cookie kept only when cookies are
// forwarded, and nothing shared with the origin's header.
func TestStoredHeader(t *testing.T) {
	none := &config.Behavior{CachePolicy: &config.CachePolicy{}, OriginRequestPolicy: &config.OriginRequestPolicy{}}
	cookies := &config.Behavior{CachePolicy: &config.CachePolicy{}, OriginRequestPolicy: &config.OriginRequestPolicy{}}
	cookies.CachePolicy.Cookies.Behavior = config.SelectAll
	origin := func() http.Header {
		return http.Header{
			"Content-Type":   {"text/plain"},
			"Cache-Control":  {"public", "max-age=60"},
			"Etag":           {`"v1"`},
			"Age":            {"12"},
			"Content-Length": {"999"},
			"Set-Cookie":     {"a=1", "b=2"},
			"X-Empty":        {""},
			"X-None":         {},
		}
	}
	tests := []struct {
		name   string
		b      *config.Behavior
		length int64
		want   http.Header
	}{
		{"length set, cookies dropped", none, 1024, http.Header{
			"Content-Type": {"text/plain"}, "Cache-Control": {"public", "max-age=60"}, "Etag": {`"v1"`},
			"X-Empty": {""}, "X-None": {}, "Content-Length": {"1024"},
		}},
		{"no length, cookies forwarded", cookies, -1, http.Header{
			"Content-Type": {"text/plain"}, "Cache-Control": {"public", "max-age=60"}, "Etag": {`"v1"`},
			"X-Empty": {""}, "X-None": {}, "Set-Cookie": {"a=1", "b=2"},
		}},
		{"zero length", none, 0, http.Header{
			"Content-Type": {"text/plain"}, "Cache-Control": {"public", "max-age=60"}, "Etag": {`"v1"`},
			"X-Empty": {""}, "X-None": {}, "Content-Length": {"0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := origin()
			got := storedHeader(in, tt.b, tt.length)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("storedHeader = %v, want %v", got, tt.want)
			}
			// Nothing is shared: changing the origin's header or appending
			// to one stored list leaves the others as they were.
			in["Cache-Control"][0] = "private"
			got["Content-Type"] = append(got["Content-Type"], "x")
			if v := got["Cache-Control"]; v[0] != "public" || v[1] != "max-age=60" {
				t.Errorf("Cache-Control changed with the origin's header: %q", v)
			}
			if v := got["Etag"]; len(v) != 1 || v[0] != `"v1"` {
				t.Errorf("Etag changed by an append to another list: %q", v)
			}
		})
	}
}

// TestStoredHeaderAllocations bounds the allocations of the stored copy:
// the map, one string of all the values and one array of value lists (the
// map's own groups aside).
func TestStoredHeaderAllocations(t *testing.T) {
	h := http.Header{
		"Content-Type": {"application/octet-stream"}, "Cache-Control": {"public, max-age=3600"},
		"Etag": {`"obj-1k-1024"`}, "Last-Modified": {"Wed, 25 Nov 2026 02:45:00 GMT"},
		"Accept-Ranges": {"bytes"}, "Date": {"Wed, 25 Nov 2026 02:46:11 GMT"}, "Content-Length": {"1024"},
	}
	b := &config.Behavior{CachePolicy: &config.CachePolicy{}, OriginRequestPolicy: &config.OriginRequestPolicy{}}
	if n := testing.AllocsPerRun(100, func() { storedHeader(h, b, 1024) }); n > 4 {
		t.Errorf("storedHeader: %.0f allocations, want ≤ 4", n)
	}
}
