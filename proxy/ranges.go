package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/cache"
)

// This file answers range and conditional requests from a whole cached
// object, as CloudFront does ("How CloudFront processes partial requests
// for an object (range GETs)"): it follows RFC 9110, except that a Range
// header whose ranges are not in ascending order, overlap, or are not all
// valid gets the whole object with 200 instead of 206.

// byteRange is one satisfiable range of an object: bytes first..last,
// both inclusive, with 0 <= first <= last < size.
type byteRange struct {
	first, last int64
}

func (b byteRange) length() int64 { return b.last - b.first + 1 }

// contentRange renders the Content-Range value of b in an object of size.
func (b byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(b.first, 10) + "-" + strconv.FormatInt(b.last, 10) + "/" + strconv.FormatInt(size, 10)
}

// maxRanges bounds the ranges of one request: a Range header with more is
// answered with the whole object (RFC 9110 §14.2 lets a server ignore a
// Range with "more than some number of ranges"; thousands of one-byte parts
// would make a multipart answer many times the object's size).
const maxRanges = 100

// parseRange parses a Range header value for an object of size bytes.
// status is
//   - 206 with the satisfiable ranges, in ascending order and disjoint;
//   - 200 (ranges nil) when the whole object is to be served: a unit other
//     than bytes, a syntax error, a range whose last position is before its
//     first, ranges out of ascending order or overlapping, too many ranges,
//     or an empty object asked for a suffix;
//   - 416 (ranges nil) when no range is satisfiable (every first position is
//     at or past the end, or a suffix length is zero).
func parseRange(header string, size int64) (ranges []byteRange, status int) {
	unit, set, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		// RFC 9110 §14.2: a Range with an unknown unit is ignored.
		return nil, http.StatusOK
	}
	var (
		specs       int
		prevLast    int64 = -1 // the last position of the previous range, as written
		emptySuffix bool       // a non-zero suffix asked of an empty object
	)
	for len(set) > 0 {
		var spec string
		spec, set, _ = strings.Cut(set, ",")
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // a list may have empty elements (RFC 9110 §5.6.1)
		}
		if specs++; specs > maxRanges {
			return nil, http.StatusOK
		}
		firstText, lastText, ok := strings.Cut(spec, "-")
		if !ok {
			return nil, http.StatusOK
		}
		var first, last int64
		if firstText == "" {
			// suffix-range: the last n bytes.
			n, ok := parseDigits(lastText)
			if !ok {
				return nil, http.StatusOK
			}
			if n == 0 {
				continue // unsatisfiable, covers nothing
			}
			if size == 0 {
				emptySuffix = true
				continue
			}
			first, last = max(size-n, 0), size-1
		} else {
			if first, ok = parseDigits(firstText); !ok {
				return nil, http.StatusOK
			}
			if lastText == "" {
				last = math.MaxInt64 // to the end, whatever the size
			} else {
				if last, ok = parseDigits(lastText); !ok {
					return nil, http.StatusOK
				}
				if last < first {
					return nil, http.StatusOK // an invalid range-spec
				}
			}
		}
		// CloudFront: "The ranges must be listed in ascending order" and
		// "must not overlap", or the whole object is returned.
		if first <= prevLast {
			return nil, http.StatusOK
		}
		prevLast = last
		if first >= size {
			continue // unsatisfiable; others may still be served
		}
		ranges = append(ranges, byteRange{first, min(last, size-1)})
	}
	switch {
	case specs == 0:
		return nil, http.StatusOK // "bytes=" names no range: not a valid Range
	case len(ranges) > 0:
		return ranges, http.StatusPartialContent
	case emptySuffix:
		// A suffix of an empty object is satisfiable (RFC 9110 §14.1.1) but
		// has no bytes to put in a Content-Range: the whole (empty) object.
		return nil, http.StatusOK
	}
	return nil, http.StatusRequestedRangeNotSatisfiable
}

// parseDigits parses a non-empty run of ASCII digits; values past
// math.MaxInt64 saturate (a position that large is past any object's end).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	return n, true
}

// serveRange answers r from a whole object: its status, its body, and h,
// the header it was stored with (the source of ETag, Last-Modified and
// Content-Type; nil means w.Header()). The response headers are those the
// caller has already put in w.Header(); serveRange only sets the ones its
// answer needs (Content-Length, Content-Range, Content-Type of a multipart
// answer) and never changes h. It returns the status written.
//
// Only a 200 object is answered partially or conditionally, in the order of
// RFC 9110 §13.2.2: If-Match / If-Unmodified-Since (412), If-None-Match /
// If-Modified-Since (304), then Range, honoured only when If-Range (an ETag
// compared strongly, or a date equal to Last-Modified) matches: 206 with one
// part, 206 multipart/byteranges for several, 416 with
// "Content-Range: bytes */SIZE", or the whole object with 200. A HEAD gets
// the headers of the GET and no body.
// headerGetter is the object's header serveRange reads validators and the
// content type from: an http.Header or a cached entry's cache.Header.
type headerGetter interface{ Get(string) string }

func serveRange(w http.ResponseWriter, r *http.Request, status int, h headerGetter, body []byte) int {
	return serveRangeFrom(w, r, status, h, cache.BytesBody(body))
}

// serveRangeFrom is serveRange for an opened body (cache.Body): bytes in
// hand, a block of the RAM tier's arena, or a disk tier file.
func serveRangeFrom(w http.ResponseWriter, r *http.Request, status int, h headerGetter, body cache.Body) int {
	wh := w.Header()
	if h == nil {
		h = wh
	}
	head := r.Method == http.MethodHead
	if status != http.StatusOK {
		return writeWhole(w, head, status, body, false)
	}
	if code := preconditions(r, h); code != 0 {
		delete(wh, "Content-Type")
		delete(wh, "Content-Encoding")
		delete(wh, "Content-Range")
		if code == http.StatusNotModified {
			delete(wh, "Content-Length") // a 304 has no content
		} else {
			wh["Content-Length"] = []string{"0"}
		}
		w.WriteHeader(code)
		return code
	}
	values := r.Header["Range"]
	if len(values) == 0 || (r.Method != http.MethodGet && !head) || !ifRangeMatches(r, h) {
		return writeWhole(w, head, http.StatusOK, body, false)
	}
	size := body.Len()
	ranges, code := parseRange(strings.Join(values, ","), size)
	switch code {
	case http.StatusOK:
		return writeWhole(w, head, http.StatusOK, body, false)
	case http.StatusRequestedRangeNotSatisfiable:
		delete(wh, "Content-Type")
		delete(wh, "Content-Encoding")
		wh["Content-Range"] = []string{"bytes */" + strconv.FormatInt(size, 10)}
		wh["Content-Length"] = []string{"0"}
		w.WriteHeader(code)
		return code
	}
	if len(ranges) == 1 {
		b := ranges[0]
		wh["Content-Range"] = []string{b.contentRange(size)}
		wh["Content-Length"] = []string{strconv.FormatInt(b.length(), 10)}
		w.WriteHeader(http.StatusPartialContent)
		if !head {
			writeBody(w, body, b.first, b.length())
		}
		return http.StatusPartialContent
	}
	writeMultipart(w, head, ranges, h.Get("Content-Type"), body)
	return http.StatusPartialContent
}

// writeWhole writes the whole object with status. The Content-Length is
// the body's: the writer's own when it has it (lengthSet: the stored
// header went as rendered, fields.RenderedWriter), the stored header's
// when it says so (no string made for a hit), else set.
func writeWhole(w http.ResponseWriter, head bool, status int, body cache.Body, lengthSet bool) int {
	wh := w.Header()
	delete(wh, "Content-Range")
	if v := wh["Content-Length"]; !lengthSet && (len(v) != 1 || !lengthIs(v[0], body.Len())) {
		wh["Content-Length"] = []string{strconv.FormatInt(body.Len(), 10)}
	}
	w.WriteHeader(status)
	if !head {
		writeBody(w, body, 0, body.Len())
	}
	return status
}

// lengthIs reports whether the decimal v is n.
func lengthIs(v string, n int64) bool {
	got, err := strconv.ParseInt(v, 10, 64)
	return err == nil && got == n
}

// writeBody writes n bytes of body from first; it reports whether they all
// went out. A body read from a file that fails part way (a read error, a
// file cut short, the viewer gone) aborts the response: the connection is
// cut, so that a viewer never takes a short body for a complete one.
func writeBody(w http.ResponseWriter, body cache.Body, first, n int64) bool {
	if err := body.WriteRange(w, first, n); err != nil {
		if body.File() {
			panic(http.ErrAbortHandler)
		}
		return false
	}
	return true
}

// writeMultipart writes a 206 multipart/byteranges answer (RFC 9110
// §14.6): one part per range, each with the object's Content-Type and its
// Content-Range, with an exact Content-Length.
func writeMultipart(w http.ResponseWriter, head bool, ranges []byteRange, contentType string, body cache.Body) {
	boundary := newBoundary()
	size := body.Len()
	heads := make([]string, len(ranges))
	total := int64(0)
	for i, b := range ranges {
		var sb strings.Builder
		if i > 0 {
			sb.WriteString("\r\n")
		}
		sb.WriteString("--" + boundary + "\r\n")
		if contentType != "" {
			sb.WriteString("Content-Type: " + contentType + "\r\n")
		}
		sb.WriteString("Content-Range: " + b.contentRange(size) + "\r\n\r\n")
		heads[i] = sb.String()
		total += int64(len(heads[i])) + b.length()
	}
	tail := "\r\n--" + boundary + "--\r\n"
	total += int64(len(tail))

	wh := w.Header()
	delete(wh, "Content-Range")
	wh["Content-Type"] = []string{"multipart/byteranges; boundary=" + boundary}
	wh["Content-Length"] = []string{strconv.FormatInt(total, 10)}
	w.WriteHeader(http.StatusPartialContent)
	if head {
		return
	}
	for i, b := range ranges {
		if _, err := w.Write([]byte(heads[i])); err != nil {
			return
		}
		if !writeBody(w, body, b.first, b.length()) {
			return
		}
	}
	_, _ = w.Write([]byte(tail))
}

// newBoundary returns a random multipart boundary (crypto/rand: nothing a
// body could be crafted to contain).
func newBoundary() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// preconditions evaluates the conditional headers of r against the object's
// validators in h, in RFC 9110 §13.2.2's order; it returns 412, 304, or 0
// to go on with the request.
func preconditions(r *http.Request, h headerGetter) int {
	etag := h.Get("ETag")
	lastMod, hasLastMod := httpTime(h.Get("Last-Modified"))
	getOrHead := r.Method == http.MethodGet || r.Method == http.MethodHead

	if v, ok := r.Header["If-Match"]; ok {
		if !etagListMatches(strings.Join(v, ","), etag, true) {
			return http.StatusPreconditionFailed
		}
	} else if t, ok := httpTime(r.Header.Get("If-Unmodified-Since")); ok && hasLastMod && lastMod.After(t) {
		return http.StatusPreconditionFailed
	}
	if v, ok := r.Header["If-None-Match"]; ok {
		if etagListMatches(strings.Join(v, ","), etag, false) {
			if getOrHead {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if t, ok := httpTime(r.Header.Get("If-Modified-Since")); ok && getOrHead && hasLastMod && !lastMod.After(t) {
		return http.StatusNotModified
	}
	return 0
}

// ifRangeMatches evaluates If-Range (RFC 9110 §13.1.5): absent, it matches;
// an entity-tag matches only by strong comparison with the object's ETag; a
// date matches only when it equals Last-Modified. Anything else does not
// match, and the whole object is served.
func ifRangeMatches(r *http.Request, h headerGetter) bool {
	v := strings.TrimSpace(r.Header.Get("If-Range"))
	if v == "" {
		return true
	}
	if strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/") {
		tag, weak, rest, ok := scanETag(v)
		if !ok || weak || strings.TrimSpace(rest) != "" {
			return false
		}
		cur, curWeak, _, ok := scanETag(strings.TrimSpace(h.Get("ETag")))
		return ok && !curWeak && cur == tag
	}
	t, ok := httpTime(v)
	lm, hasLM := httpTime(h.Get("Last-Modified"))
	return ok && hasLM && t.Equal(lm)
}

// etagListMatches reports whether an If-Match / If-None-Match list matches
// the object's ETag: "*" matches any object, others compare strongly (both
// tags strong and equal) or weakly (equal opaque tags).
func etagListMatches(list, etag string, strong bool) bool {
	cur, curWeak, _, curOK := scanETag(strings.TrimSpace(etag))
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		tag, weak, rest, ok := scanETag(list)
		if !ok {
			return false
		}
		if curOK && tag == cur && (!strong || !weak && !curWeak) {
			return true
		}
		list = rest
	}
}

// scanETag reads one entity-tag ([W/]"opaque") at the start of s and
// returns its opaque part (quotes included), whether it is weak, and the
// rest of s.
func scanETag(s string) (tag string, weak bool, rest string, ok bool) {
	if strings.HasPrefix(s, "W/") {
		weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return "", false, "", false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return s[:i+1], weak, s[i+1:], true
		case c == 0x21 || c >= 0x23 && c <= 0x7e || c >= 0x80:
		default:
			return "", false, "", false
		}
	}
	return "", false, "", false
}

// httpTime parses an HTTP-date.
func httpTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}
