package cache

import (
	"cmp"
	"iter"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/edgefront/edgefront/fields"
)

// Header is a stored response header, rendered once as it goes on an
// HTTP/1.1 wire: one string of "Name: value\r\n" lines, a name repeated once
// per value. It is built by NewHeader and never changed.
//
// The fields every response sets itself (fields.SetPerResponse: framing,
// connection-specific and CloudFront's own) come first, then the rest; each
// part is sorted by canonical name, so that the values of one name are
// adjacent. The rest is what a cache hit sends as it is (Rendered): no map
// to fill, nothing to serialise again.
//
// One string is also the smallest form an entry's header can take — about
// the bytes it is sent as, in one allocation the garbage collector does not
// scan — where a map costs about 400 B for up to eight names before any
// value. Cached entries are many, so that is most of an entry's overhead
// beyond its body.
type Header struct {
	text  string
	own   uint32 // text[:own] is the fields every response sets itself
	flags uint8  // hasDate, hasContentType: in text[own:]
	// length is where the first Content-Length value starts in text (0:
	// none, or too far in to say).
	length uint16
}

// Header flags.
const (
	hasDate = 1 << iota
	hasContentType
)

// NewHeader returns h rendered. Names are canonicalised; names that are
// not valid field names, and names without values, are dropped (neither
// front end sends them); each CR or LF in a value becomes a space (as h1
// sends it).
func NewHeader(h http.Header) Header {
	type name struct {
		canonical, key string
		own            bool
	}
	names := make([]name, 0, len(h))
	size := 0
	for k, vs := range h {
		if len(vs) == 0 || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		c := textproto.CanonicalMIMEHeaderKey(k)
		names = append(names, name{c, k, fields.SetPerResponse(c)})
		for _, v := range vs {
			size += len(c) + len(v) + 4
		}
	}
	if len(names) == 0 {
		return Header{}
	}
	// Own fields first, then by canonical name, so that all values of one
	// name are adjacent even when h held it under two spellings.
	slices.SortFunc(names, func(a, b name) int {
		if a.own != b.own {
			if a.own {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.canonical, b.canonical), strings.Compare(a.key, b.key))
	})
	b := make([]byte, 0, size)
	var out Header
	rest := false
	for _, nm := range names {
		if !nm.own && !rest {
			out.own, rest = uint32(len(b)), true
		}
		switch nm.canonical {
		case "Date":
			out.flags |= hasDate
		case "Content-Type":
			out.flags |= hasContentType
		}
		for _, v := range h[nm.key] {
			if nm.canonical == "Content-Length" && out.length == 0 && len(b) < 1<<16-len("Content-Length: ") {
				out.length = uint16(len(b) + len("Content-Length: "))
			}
			b = fields.AppendLine(b, nm.canonical, v)
		}
	}
	if !rest {
		out.own = uint32(len(b))
	}
	out.text = string(b)
	return out
}

// Len is the number of values.
func (h Header) Len() int { return strings.Count(h.text, "\n") }

// All yields every name and value, in order (the strings share h's).
func (h Header) All() iter.Seq2[string, string] { return fields.Lines(h.text) }

// Get returns the first value of name ("" when absent); name is matched
// in canonical form.
func (h Header) Get(name string) string {
	name = textproto.CanonicalMIMEHeaderKey(name)
	for n, v := range fields.Lines(h.text) {
		if n == name {
			return v
		}
	}
	return ""
}

// Rendered is the fields a response sends as they are stored, all but
// those every response sets itself, and the stored Content-Length value.
func (h Header) Rendered() fields.Rendered {
	r := fields.Rendered{Text: h.text[h.own:], Date: h.flags&hasDate != 0, ContentType: h.flags&hasContentType != 0}
	if h.length > 0 {
		v := h.text[h.length:]
		r.Length = v[:strings.IndexByte(v, '\r')]
	}
	return r
}

// CopyTo sets every name of h in dst to its values, with one allocation
// for all of them (none when h is empty). Each name's values are a slice
// of capacity their number, so appending to one in dst copies it.
func (h Header) CopyTo(dst http.Header) {
	n := h.Len()
	if n == 0 {
		return
	}
	vals := make([]string, n)
	i, start, prev := 0, 0, ""
	for name, v := range fields.Lines(h.text) {
		vals[i] = v
		if i == 0 || name != prev {
			start, prev = i, name
		}
		i++
		dst[name] = vals[start:i:i]
	}
}

// Clone returns h as a new http.Header.
func (h Header) Clone() http.Header {
	out := make(http.Header, h.Len())
	h.CopyTo(out)
	return out
}

// size is the heap h takes beyond the Entry it is in: its string, whose
// allocation is rounded up to the allocator's size class (8 B on average
// at these sizes).
func (h Header) size() int64 {
	if h.text == "" {
		return 0
	}
	return int64(len(h.text)) + 8
}

// String is h as rendered: its "Name: value\r\n" lines.
func (h Header) String() string { return h.text }
