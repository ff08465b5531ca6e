package fields

import (
	"net/http"
	"slices"
	"testing"
)

// TestTokens: RFC 9110 §5.6.1 lists — elements trimmed of optional
// whitespace, empty elements skipped, across several field lines.
func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"a"}, []string{"a"}},
		{[]string{"a, b ,c"}, []string{"a", "b", "c"}},
		{[]string{" , a,,\tb\t,", "c"}, []string{"a", "b", "c"}},
		{[]string{"max-age=60, no-cache"}, []string{"max-age=60", "no-cache"}},
	} {
		if got := slices.Collect(Tokens(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !HasToken([]string{"keep-alive, Close"}, "close") || HasToken([]string{"closed"}, "close") {
		t.Error("HasToken: case-insensitive whole elements only")
	}
}

// TestHopByHop: the fixed list and the fields Connection names are
// hop-by-hop in both directions; end-to-end fields stay.
func TestHopByHop(t *testing.T) {
	h := http.Header{
		"Connection":          {"keep-alive, X-Private", "x-other"},
		"Keep-Alive":          {"timeout=5"},
		"Te":                  {"trailers"},
		"Trailer":             {"X-Sum"},
		"Transfer-Encoding":   {"chunked"},
		"Upgrade":             {"h2c"},
		"Proxy-Authorization": {"Basic x"},
		"Proxy-Authenticate":  {"Basic"},
		"Proxy-Connection":    {"keep-alive"},
		"X-Private":           {"1"},
		"X-Other":             {"2"},
		"Cache-Control":       {"max-age=60"},
		"Authorization":       {"Bearer t"},
	}
	is := HopByHop(h)
	for name := range h {
		want := name != "Cache-Control" && name != "Authorization"
		if is(name) != want {
			t.Errorf("HopByHop(%s) = %v, want %v", name, !want, want)
		}
	}
	RemoveHopByHop(h)
	if len(h) != 2 || h.Get("Cache-Control") == "" || h.Get("Authorization") == "" {
		t.Errorf("after RemoveHopByHop: %v", h)
	}
}

// FuzzTokens: elements are never empty, never carry outer whitespace and
// never contain a comma.
func FuzzTokens(f *testing.F) {
	f.Add("a, b ,c")
	f.Add(" , ,\t")
	f.Fuzz(func(t *testing.T, v string) {
		for tok := range Tokens([]string{v}) {
			if tok == "" || tok[0] == ' ' || tok[0] == '\t' || tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t' {
				t.Fatalf("%q: element %q", v, tok)
			}
			for i := range len(tok) {
				if tok[i] == ',' {
					t.Fatalf("%q: element %q has a comma", v, tok)
				}
			}
		}
	})
}

// TestEdgeHeaderRules: the headers edge code may not see or add, and those
// it may only read, per event type ("Restrictions on all edge functions").
func TestEdgeHeaderRules(t *testing.T) {
	for _, tt := range []struct {
		event, header       string
		disallowed, readOnl bool
	}{
		{"viewer-request", "x-amz-cf-id", true, false},
		{"viewer-request", "x-edge-location", true, false},
		{"viewer-request", "connection", true, false},
		{"viewer-request", "host", false, true},
		{"origin-request", "host", false, false},
		{"origin-request", "if-none-match", false, true},
		{"origin-response", "via", false, true},
		{"viewer-response", "content-encoding", false, true},
		{"viewer-response", "x-custom", false, false},
	} {
		if got := EdgeDisallowed(tt.header); got != tt.disallowed {
			t.Errorf("EdgeDisallowed(%q) = %v", tt.header, got)
		}
		if got := EdgeReadOnly(tt.event, tt.header); got != tt.readOnl {
			t.Errorf("EdgeReadOnly(%q, %q) = %v", tt.event, tt.header, got)
		}
	}
}
