package cache

import (
	"cmp"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// Header is a stored response header in compact form: canonical names and
// values alternating — [name, value, name, value…] — sorted by name, a name
// repeated once per value. It is built once by NewHeader and never changed.
// A value costs one string header (16 B) for its name and one for itself,
// where an http.Header map costs about 400 B for up to eight names before
// any value; cached entries are many, so that difference is most of an
// entry's overhead beyond its body.
type Header []string

// NewHeader returns the compact form of h. Names are canonicalised; names
// without values are dropped (they would not be sent). The strings are
// shared with h, not copied.
func NewHeader(h http.Header) Header {
	type name struct{ canonical, key string }
	names := make([]name, 0, len(h))
	n := 0
	for k, vs := range h {
		if len(vs) > 0 {
			names = append(names, name{textproto.CanonicalMIMEHeaderKey(k), k})
			n += len(vs)
		}
	}
	// By canonical name, so that all values of one name are adjacent even
	// when h held it under two spellings.
	slices.SortFunc(names, func(a, b name) int {
		return cmp.Or(strings.Compare(a.canonical, b.canonical), strings.Compare(a.key, b.key))
	})
	out := make(Header, 0, 2*n)
	for _, nm := range names {
		for _, v := range h[nm.key] {
			out = append(out, nm.canonical, v)
		}
	}
	return out
}

// Get returns the first value of name ("" when absent); name is matched
// in canonical form.
func (h Header) Get(name string) string {
	name = textproto.CanonicalMIMEHeaderKey(name)
	for i := 0; i+1 < len(h); i += 2 {
		if h[i] == name {
			return h[i+1]
		}
	}
	return ""
}

// CopyTo sets every name of h in dst to its values. A single value is
// shared with h as a slice of capacity one, so appending to it in dst
// copies it, and copying a typical header allocates nothing.
func (h Header) CopyTo(dst http.Header) {
	for i := 0; i+1 < len(h); {
		j := i + 2
		for j+1 < len(h) && h[j] == h[i] {
			j += 2
		}
		if j == i+2 {
			dst[h[i]] = h[i+1 : i+2 : i+2]
		} else {
			vs := make([]string, 0, (j-i)/2)
			for k := i; k < j; k += 2 {
				vs = append(vs, h[k+1])
			}
			dst[h[i]] = vs
		}
		i = j
	}
}

// Clone returns h as a new http.Header.
func (h Header) Clone() http.Header {
	out := make(http.Header, len(h)/2)
	h.CopyTo(out)
	for k, vs := range out {
		out[k] = slices.Clip(slices.Clone(vs))
	}
	return out
}

// size is the bytes of h's names and values, with 16 per value for its
// bookkeeping.
func (h Header) size() int64 {
	var n int64
	for _, s := range h {
		n += int64(len(s))
	}
	return n + int64(len(h)/2)*16
}
