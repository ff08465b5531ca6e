package fields

import (
	"iter"
	"strings"
)

// Rendered is a response's header fields rendered once, for every response
// that sends them as they are: a cached object's stored header (DESIGN.md,
// hot-path rules: "headers rendered once per entry where the front end can
// use them"). A response writer that takes them (RenderedWriter) sends them
// after the fields of its Header map, so that a cache hit neither copies its
// stored fields into the map nor serialises them again.
//
// Text is one "Name: value\r\n" line per field value. Its names are
// canonical tokens and its values hold no CR or LF. It has no field that
// the writer or the caller sets itself: no framing or connection-specific
// field (Content-Length, Transfer-Encoding, Connection, …) and none of the
// Header map's. Values that are not valid field values (other control
// characters) are in it as stored; h2 leaves them out, as it does those of
// the map.
type Rendered struct {
	Text string
	// Length is the body's length as the Content-Length value to send
	// ("" when unknown): Text has no Content-Length field.
	Length string
	// Date and ContentType report whether Text has a Date and a
	// Content-Type field: the writer then adds no Date of its own and does
	// not sniff a Content-Type.
	Date, ContentType bool
}

// RenderedWriter is a response writer (h1's, h2's) that sends a Rendered.
type RenderedWriter interface {
	// SetRendered gives the response its rendered fields and its body's
	// length n, whose decimal text is f.Length. It is called before
	// WriteHeader, at most once per response.
	SetRendered(f Rendered, n int64)
}

// Lines yields the name and value of each line of rendered text
// ("Name: value\r\n" each), in order. The strings share text's memory.
func Lines(text string) iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		for text != "" {
			line, rest, _ := strings.Cut(text, "\r\n")
			name, value, _ := strings.Cut(line, ":")
			if !yield(name, strings.TrimPrefix(value, " ")) {
				return
			}
			text = rest
		}
	}
}

// AppendLine appends name and value to rendered text as one line, each CR
// or LF of the value replaced by a space (as h1 sends them, and as net/http
// does), so that no value can start another line.
func AppendLine(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = AppendValue(b, value)
	return append(b, "\r\n"...)
}

// AppendValue appends a field value with each CR and LF replaced by a
// space.
func AppendValue(b []byte, v string) []byte {
	if strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// SetPerResponse reports whether a response field (canonical name) is one
// that every response to a viewer sets itself, so a stored one is never
// sent as it is: the framing and connection-specific fields (the front
// end's, RFC 9110 §7.6.1 and §8.6), and CloudFront's own — X-Cache, Via,
// X-Amz-Cf-Pop and X-Amz-Cf-Id, which the respond phase sets on every
// answer, and Age, recomputed on every hit.
func SetPerResponse(name string) bool {
	switch name {
	case "Content-Length", "Age", "Via", "X-Cache", "X-Amz-Cf-Pop", "X-Amz-Cf-Id":
		return true
	}
	return hopByHop[name]
}
