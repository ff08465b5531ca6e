package cache

import (
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/edgefront/edgefront/fields"
)

// TestHeader: the rendered form keeps every value, in order per name, under
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
	if n := testing.AllocsPerRun(100, func() { single.CopyTo(dst) }); n != 1 {
		t.Errorf("CopyTo: %v allocations, want 1", n)
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

// TestHeaderRendered: what a hit sends as stored is every field but those
// each response sets itself (framing, connection-specific, CloudFront's
// own), rendered as h1 sends it; whether a Date and a Content-Type are among
// them is known without reading it.
func TestHeaderRendered(t *testing.T) {
	for _, tt := range []struct {
		name     string
		in       http.Header
		text     string
		length   string
		date, ct bool
	}{
		{"origin's and own fields",
			http.Header{"Content-Length": {"5"}, "Via": {"1.1 origin"}, "X-Cache": {"Hit from cloudfront"},
				"Etag": {`"v1"`}, "Date": {"Wed, 25 Nov 2026 00:00:00 GMT"}, "Content-Type": {"text/plain"},
				"Age": {"9"}, "X-Amz-Cf-Id": {"abc"}, "X-Amz-Cf-Pop": {"P1"}, "Connection": {"close"}, "Transfer-Encoding": {"chunked"}},
			"Content-Type: text/plain\r\nDate: Wed, 25 Nov 2026 00:00:00 GMT\r\nEtag: \"v1\"\r\n", "5", true, true},
		{"no date, no type", http.Header{"Etag": {`"v1"`}, "Cache-Control": {"max-age=1"}},
			"Cache-Control: max-age=1\r\nEtag: \"v1\"\r\n", "", false, false},
		{"only own fields", http.Header{"Content-Length": {"1024"}, "Via": {"x"}}, "", "1024", false, false},
		{"empty", http.Header{}, "", "", false, false},
		{"CR and LF become spaces; invalid names are dropped",
			http.Header{"X-A": {"one\r\nX-Injected: yes"}, "Bad Name": {"v"}, "Bad:Name": {"v"}, "": {"v"}},
			"X-A: one  X-Injected: yes\r\n", "", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHeader(tt.in)
			r := h.Rendered()
			if r.Text != tt.text || r.Length != tt.length || r.Date != tt.date || r.ContentType != tt.ct {
				t.Errorf("Rendered() = %q length %q date %v type %v, want %q length %q date %v type %v",
					r.Text, r.Length, r.Date, r.ContentType, tt.text, tt.length, tt.date, tt.ct)
			}
			// Every field is still readable, own ones included.
			for k, vs := range tt.in {
				if !validName(k) {
					continue
				}
				if got := h.Get(k); !strings.Contains(got, strings.Split(vs[0], "\r")[0]) {
					t.Errorf("Get(%q) = %q, want %q", k, got, vs[0])
				}
			}
		})
	}
	h := NewHeader(http.Header{"Etag": {`"v1"`}, "Date": {"x"}})
	if n := testing.AllocsPerRun(100, func() { _ = h.Rendered(); _ = h.Get("Etag") }); n != 0 {
		t.Errorf("Rendered and Get: %v allocations, want 0", n)
	}
}

func validName(k string) bool { return k != "" && !strings.ContainsAny(k, " :") }

// FuzzHeader: whatever names and values an origin (or edge code) sends,
// the rendered header reads back every value of every valid name, in order
// (CR and LF as spaces), its text is whole lines that no value can break,
// and what a hit sends (Rendered) is the rest of the fields, with the Date
// and Content-Type flags telling the truth.
func FuzzHeader(f *testing.F) {
	f.Add("Content-Type", "text/plain", "x-a", "one\r\nX-Injected: yes", "Via", "1.1 x")
	f.Add("Date", "", "bad name", "v", "Content-Length", "12")
	f.Add("Etag", `"v1"`, "Etag", " leading space", "a:b", "c")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, n3, v3 string) {
		in := http.Header{}
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}, {n3, v3}} {
			in[kv[0]] = append(in[kv[0]], kv[1])
		}
		h := NewHeader(in)
		text := h.String()
		if text != "" && !strings.HasSuffix(text, "\r\n") {
			t.Fatalf("text %q does not end a line", text)
		}
		want := map[string][]string{}
		spellings := map[string]int{}
		for k, vs := range in {
			if !httpguts.ValidHeaderFieldName(k) {
				continue
			}
			c := textproto.CanonicalMIMEHeaderKey(k)
			spellings[c]++
			for _, v := range vs {
				want[c] = append(want[c], strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
			}
		}
		got := map[string][]string{}
		lines := 0
		for name, v := range h.All() {
			got[name] = append(got[name], v)
			lines++
		}
		if lines != h.Len() || strings.Count(text, "\r\n") != lines || strings.Count(text, "\n") != lines {
			t.Fatalf("%d fields read, Len %d, text %q", lines, h.Len(), text)
		}
		for c, vs := range want {
			g := got[c]
			if spellings[c] > 1 {
				// Values of two spellings of one name: in order of spelling
				// (the map's order is not the input's).
				g, vs = slices.Sorted(slices.Values(g)), slices.Sorted(slices.Values(vs))
			}
			if !slices.Equal(g, vs) {
				t.Fatalf("%s: read %q, want %q (text %q)", c, got[c], vs, text)
			}
			if h.Get(c) != got[c][0] {
				t.Fatalf("Get(%q) = %q, want %q", c, h.Get(c), got[c][0])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("names %q, want those of %q", got, want)
		}
		r := h.Rendered()
		if !strings.HasSuffix(text, r.Text) {
			t.Fatalf("rendered %q is not the end of %q", r.Text, text)
		}
		date, ct := false, false
		for name := range fields.Lines(r.Text) {
			if fields.SetPerResponse(name) {
				t.Fatalf("rendered text has %s, which every response sets itself", name)
			}
			date, ct = date || name == "Date", ct || name == "Content-Type"
		}
		if date != r.Date || ct != r.ContentType {
			t.Fatalf("flags date %v type %v, text %q", r.Date, r.ContentType, r.Text)
		}
		if cl := got["Content-Length"]; len(cl) > 0 && r.Length != cl[0] {
			t.Fatalf("Length %q, want %q", r.Length, cl[0])
		}
	})
}
