package cache

import (
	"net/http"
	"reflect"
	"testing"
)

// TestHeader: the compact form keeps every value, in order per name, under
// its canonical name; Get, CopyTo and Clone read it back; values copied out
// cannot change the stored header.
func TestHeader(t *testing.T) {
	in := http.Header{
		"Content-Type":  {"text/plain"},
		"Cache-Control": {"public", "max-age=60"},
		"etag":          {`"v1"`},
		"X-None":        {},
		"Set-Cookie":    {"a=1", "b=2", "c=3"},
		"x-origin-tag":  {"blue", "green"}, // not a common name: stored with its values
	}
	h := NewHeader(in)
	want := []string{"Cache-Control", "public", "Cache-Control", "max-age=60", "Content-Type", "text/plain",
		"Etag", `"v1"`, "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Set-Cookie", "c=3",
		"X-Origin-Tag", "blue", "X-Origin-Tag", "green"}
	if got := pairs(h); !reflect.DeepEqual(got, want) || h.Len() != len(want)/2 {
		t.Fatalf("NewHeader = %q (%d values), want %q", got, h.Len(), want)
	}
	for _, tt := range []struct{ name, want string }{
		{"ETag", `"v1"`}, {"cache-control", "public"}, {"Set-Cookie", "a=1"}, {"X-None", ""}, {"Age", ""},
		{"X-Origin-Tag", "blue"},
	} {
		if got := h.Get(tt.name); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	dst := http.Header{"Via": {"x"}}
	h.CopyTo(dst)
	wantMap := http.Header{"Via": {"x"}, "Cache-Control": {"public", "max-age=60"}, "Content-Type": {"text/plain"},
		"Etag": {`"v1"`}, "Set-Cookie": {"a=1", "b=2", "c=3"}, "X-Origin-Tag": {"blue", "green"}}
	if !reflect.DeepEqual(dst, wantMap) {
		t.Fatalf("CopyTo = %v, want %v", dst, wantMap)
	}
	dst["Content-Type"] = append(dst["Content-Type"], "more")
	dst["Set-Cookie"][0] = "changed"
	if got := pairs(h); !reflect.DeepEqual(got, want) {
		t.Fatalf("writing to the copy changed the stored header: %q", got)
	}
	c := h.Clone()
	delete(wantMap, "Via")
	if !reflect.DeepEqual(c, wantMap) {
		t.Fatalf("Clone = %v, want %v", c, wantMap)
	}
	c["Etag"][0] = "changed"
	if h.Get("ETag") != `"v1"` {
		t.Fatal("writing to the clone changed the stored header")
	}
	single := NewHeader(http.Header{"Content-Type": {"text/plain"}, "Etag": {`"v1"`}, "X-Origin-Tag": {"blue"}})
	if n := testing.AllocsPerRun(100, func() { single.CopyTo(dst) }); n != 0 {
		t.Errorf("CopyTo of single values: %v allocations, want 0", n)
	}
	var empty Header
	if empty.Len() != 0 || empty.Get("Etag") != "" || len(empty.Clone()) != 0 || empty.size() != 0 {
		t.Error("the zero Header is not empty")
	}
}

// pairs is h as alternating names and values, in order.
func pairs(h Header) []string {
	var out []string
	for name, v := range h.All() {
		out = append(out, name, v)
	}
	return out
}
