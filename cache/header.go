package cache

import (
	"cmp"
	"iter"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// Header is a stored response header in compact form, sorted by canonical
// name, a name repeated once per value. It is built once by NewHeader and
// never changed.
//
// Its one slice holds, first, a string of one byte per value naming the
// value's header by its index in commonNames (or uncommonName), then the
// values in order, each value of an uncommon header preceded by its name.
// A value of a common header costs its string header (16 B) and one byte;
// an http.Header map costs about 400 B for up to eight names before any
// value, and a list of alternating names and values 16 B more per value.
// Cached entries are many, so that difference is most of an entry's
// overhead beyond its body. The values are shared with the http.Header
// they came from, not copied.
type Header struct {
	f []string // f[0]: one name byte per value; then values (and uncommon names)
}

// uncommonName is the name byte of a value whose header is not in
// commonNames: its name is stored before it.
const uncommonName = 0xff

// commonNames are the response headers stored by index (at most 255).
var commonNames = [...]string{
	"Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
	"Access-Control-Max-Age", "Age", "Cache-Control", "Content-Disposition", "Content-Encoding",
	"Content-Language", "Content-Length", "Content-Location", "Content-Range", "Content-Security-Policy",
	"Content-Type", "Cross-Origin-Resource-Policy", "Date", "Etag", "Expires", "Last-Modified", "Link",
	"Location", "Pragma", "Referrer-Policy", "Retry-After", "Server", "Set-Cookie",
	"Strict-Transport-Security", "Vary", "Via", "X-Amz-Cf-Id", "X-Amz-Cf-Pop", "X-Amz-Id-2",
	"X-Amz-Request-Id", "X-Amz-Server-Side-Encryption", "X-Amz-Version-Id", "X-Cache",
	"X-Content-Type-Options", "X-Frame-Options", "X-Xss-Protection",
}

// commonIndex is commonNames' inverse; it is never written after init.
var commonIndex = func() map[string]byte {
	m := make(map[string]byte, len(commonNames))
	for i, n := range commonNames {
		m[n] = byte(i)
	}
	return m
}()

// NewHeader returns the compact form of h. Names are canonicalised; names
// without values are dropped (they would not be sent). The strings are
// shared with h, not copied.
func NewHeader(h http.Header) Header {
	type name struct{ canonical, key string }
	names := make([]name, 0, len(h))
	n, uncommon := 0, 0
	for k, vs := range h {
		if len(vs) > 0 {
			c := textproto.CanonicalMIMEHeaderKey(k)
			names = append(names, name{c, k})
			n += len(vs)
			if _, ok := commonIndex[c]; !ok {
				uncommon += len(vs)
			}
		}
	}
	if n == 0 {
		return Header{}
	}
	// By canonical name, so that all values of one name are adjacent even
	// when h held it under two spellings.
	slices.SortFunc(names, func(a, b name) int {
		return cmp.Or(strings.Compare(a.canonical, b.canonical), strings.Compare(a.key, b.key))
	})
	var codes strings.Builder
	codes.Grow(n)
	f := make([]string, 1, 1+n+uncommon)
	for _, nm := range names {
		i, common := commonIndex[nm.canonical]
		for _, v := range h[nm.key] {
			if common {
				codes.WriteByte(i)
			} else {
				codes.WriteByte(uncommonName)
				f = append(f, nm.canonical)
			}
			f = append(f, v)
		}
	}
	f[0] = codes.String()
	return Header{f}
}

// field is the name of value i, whose entry in h.f starts at j, and the
// index of the value in h.f.
func (h Header) field(i, j int) (string, int) {
	if c := h.f[0][i]; c != uncommonName {
		return commonNames[c], j
	}
	return h.f[j], j + 1
}

// Len is the number of values.
func (h Header) Len() int {
	if len(h.f) == 0 {
		return 0
	}
	return len(h.f[0])
}

// All yields every name and value, in order.
func (h Header) All() iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		for i, j := 0, 1; i < h.Len(); i++ {
			name, v := h.field(i, j)
			if !yield(name, h.f[v]) {
				return
			}
			j = v + 1
		}
	}
}

// Get returns the first value of name ("" when absent); name is matched
// in canonical form.
func (h Header) Get(name string) string {
	name = textproto.CanonicalMIMEHeaderKey(name)
	for i, j := 0, 1; i < h.Len(); i++ {
		n, v := h.field(i, j)
		if n == name {
			return h.f[v]
		}
		j = v + 1
	}
	return ""
}

// CopyTo sets every name of h in dst to its values. A single value is
// shared with h as a slice of capacity one, so appending to it in dst
// copies it, and copying a typical header allocates nothing.
func (h Header) CopyTo(dst http.Header) {
	for i, j := 0, 1; i < h.Len(); {
		name, v := h.field(i, j)
		// Values i…k-1 share the name; next is where value k starts.
		k, next := i+1, v+1
		for k < h.Len() {
			n, w := h.field(k, next)
			if n != name {
				break
			}
			k, next = k+1, w+1
		}
		if k == i+1 {
			dst[name] = h.f[v : v+1 : v+1]
		} else {
			vs := make([]string, 0, k-i)
			for m, at := i, j; m < k; m++ {
				_, w := h.field(m, at)
				vs = append(vs, h.f[w])
				at = w + 1
			}
			dst[name] = vs
		}
		i, j = k, next
	}
}

// Clone returns h as a new http.Header.
func (h Header) Clone() http.Header {
	out := make(http.Header, h.Len())
	h.CopyTo(out)
	for k, vs := range out {
		out[k] = slices.Clip(slices.Clone(vs))
	}
	return out
}

// size is the heap h takes: its slice's string headers (16 B each), one
// name byte per value, and the bytes of its values and uncommon names.
func (h Header) size() int64 {
	n := int64(h.Len())
	for _, s := range h.f[min(1, len(h.f)):] {
		n += 16 + int64(len(s))
	}
	if len(h.f) > 0 {
		n += 16
	}
	return n
}
