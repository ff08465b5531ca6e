package proxy

import (
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	r := func(first, last int64) byteRange { return byteRange{first, last} }
	cases := []struct {
		rule   string
		header string
		size   int64
		want   []byteRange
		status int
	}{
		{"RFC 9110 §14.1.2: first-last", "bytes=0-499", size, []byteRange{r(0, 499)}, 206},
		{"first-last past the end is clamped", "bytes=500-5000", size, []byteRange{r(500, 999)}, 206},
		{"first- runs to the end (bytes=500-)", "bytes=500-", size, []byteRange{r(500, 999)}, 206},
		{"bytes=0- is the whole object, still 206", "bytes=0-", size, []byteRange{r(0, 999)}, 206},
		{"suffix: the last 500 bytes (bytes=-500)", "bytes=-500", size, []byteRange{r(500, 999)}, 206},
		{"suffix longer than the object is the whole object", "bytes=-5000", size, []byteRange{r(0, 999)}, 206},
		{"one byte", "bytes=999-999", size, []byteRange{r(999, 999)}, 206},
		{"the unit is case-insensitive", "Bytes=0-0", size, []byteRange{r(0, 0)}, 206},
		{"OWS around list elements", "bytes= 0-1 , 5-6", size, []byteRange{r(0, 1), r(5, 6)}, 206},
		{"empty list elements are skipped", "bytes=0-1,,5-6,", size, []byteRange{r(0, 1), r(5, 6)}, 206},
		{"CloudFront: ascending, non-overlapping ranges (100-200,300-400) are valid", "bytes=100-200,300-400", size, []byteRange{r(100, 200), r(300, 400)}, 206},
		{"adjacent ranges do not overlap", "bytes=0-9,10-19", size, []byteRange{r(0, 9), r(10, 19)}, 206},
		{"a suffix after lower ranges is ascending", "bytes=0-9,-10", size, []byteRange{r(0, 9), r(990, 999)}, 206},
		{"an unsatisfiable range among satisfiable ones is left out", "bytes=0-9,2000-3000", size, []byteRange{r(0, 9)}, 206},
		{"huge positions saturate instead of failing", "bytes=0-99999999999999999999999", size, []byteRange{r(0, 999)}, 206},

		{"CloudFront: descending order (300-400,100-200) → whole object, 200", "bytes=300-400,100-200", size, nil, 200},
		{"CloudFront: overlapping (100-200,150-250) → 200", "bytes=100-200,150-250", size, nil, 200},
		{"CloudFront: first- then anything overlaps → 200", "bytes=500-,600-700", size, nil, 200},
		{"CloudFront: a suffix before lower ranges is not ascending → 200", "bytes=-10,0-9", size, nil, 200},
		{"CloudFront: a negative value is not valid → 200", "bytes=-5-10", size, nil, 200},
		{"last before first is an invalid range-spec → 200", "bytes=500-100", size, nil, 200},
		{"non-digits → 200", "bytes=a-b", size, nil, 200},
		{"a plus sign is not a digit → 200", "bytes=+1-2", size, nil, 200},
		{"no dash → 200", "bytes=100", size, nil, 200},
		{"spaces inside a range → 200", "bytes=1 - 2", size, nil, 200},
		{"bytes= with no range → 200", "bytes=", size, nil, 200},
		{"bytes=- → 200", "bytes=-", size, nil, 200},
		{"RFC 9110 §14.2: an unknown unit is ignored → 200", "items=0-5", size, nil, 200},
		{"no unit → 200", "0-5", size, nil, 200},
		{"more than maxRanges ranges → 200", manyRanges(maxRanges + 1), size, nil, 200},

		{"first at the end → 416", "bytes=1000-", size, nil, 416},
		{"every range past the end → 416", "bytes=1000-1001,2000-2001", size, nil, 416},
		{"suffix of length 0 → 416", "bytes=-0", size, nil, 416},
		{"empty object, first-last → 416", "bytes=0-0", 0, nil, 416},
		{"empty object, a suffix is satisfiable but empty → the whole (empty) object", "bytes=-5", 0, nil, 200},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			got, status := parseRange(c.header, c.size)
			if status != c.status || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("parseRange(%q, %d) = %v, %d; want %v, %d", c.header, c.size, got, status, c.want, c.status)
			}
		})
	}
	if got, status := parseRange(manyRanges(maxRanges), 10*maxRanges); status != 206 || len(got) != maxRanges {
		t.Fatalf("maxRanges ranges: %d ranges, status %d", len(got), status)
	}
}

// manyRanges is a Range header of n one-byte ranges, ascending.
func manyRanges(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%d-%d", 2*i, 2*i)
	}
	return "bytes=" + strings.Join(parts, ",")
}

// object is the cached whole object the serveRange tests answer from.
const objectBody = "0123456789abcdefghijklmnopqrstuvwxyz"

var objectHeader = http.Header{
	"Content-Type":   {"text/plain"},
	"Content-Length": {"36"},
	"Etag":           {`"v1"`},
	"Last-Modified":  {"Wed, 25 Nov 2026 10:00:00 GMT"},
	"Cache-Control":  {"max-age=60"},
}

func TestServeRange(t *testing.T) {
	cases := []struct {
		rule    string
		method  string
		status  int // the cached object's status
		hdr     []string
		want    int
		body    string
		headers map[string]string
	}{
		{"no Range: the whole object", "GET", 200, nil, 200, objectBody,
			map[string]string{"Content-Length": "36", "Content-Range": absent, "Content-Type": "text/plain", "Cache-Control": "max-age=60"}},
		{"one range: 206 with Content-Range and Content-Length", "GET", 200, []string{"Range", "bytes=0-9"}, 206, "0123456789",
			map[string]string{"Content-Range": "bytes 0-9/36", "Content-Length": "10", "Content-Type": "text/plain", "Etag": `"v1"`}},
		{"bytes=30-: to the end", "GET", 200, []string{"Range", "bytes=30-"}, 206, "uvwxyz",
			map[string]string{"Content-Range": "bytes 30-35/36", "Content-Length": "6"}},
		{"bytes=-6: the last six bytes", "GET", 200, []string{"Range", "bytes=-6"}, 206, "uvwxyz",
			map[string]string{"Content-Range": "bytes 30-35/36"}},
		{"unsatisfiable: 416 with Content-Range: bytes */SIZE", "GET", 200, []string{"Range", "bytes=36-"}, 416, "",
			map[string]string{"Content-Range": "bytes */36", "Content-Length": "0", "Content-Type": absent}},
		{"CloudFront: descending ranges get the whole object with 200", "GET", 200, []string{"Range", "bytes=10-19,0-9"}, 200, objectBody,
			map[string]string{"Content-Range": absent, "Content-Length": "36"}},
		{"CloudFront: overlapping ranges get the whole object with 200", "GET", 200, []string{"Range", "bytes=0-9,5-14"}, 200, objectBody,
			map[string]string{"Content-Range": absent}},
		{"HEAD with a range: the GET's headers, no body", "HEAD", 200, []string{"Range", "bytes=0-9"}, 206, "",
			map[string]string{"Content-Range": "bytes 0-9/36", "Content-Length": "10"}},
		{"HEAD: whole object headers, no body", "HEAD", 200, nil, 200, "",
			map[string]string{"Content-Length": "36"}},
		{"If-Range with the current strong ETag: the range", "GET", 200, []string{"Range", "bytes=0-3", "If-Range", `"v1"`}, 206, "0123",
			map[string]string{"Content-Range": "bytes 0-3/36"}},
		{"If-Range with another ETag: the whole object", "GET", 200, []string{"Range", "bytes=0-3", "If-Range", `"v0"`}, 200, objectBody, nil},
		{"If-Range with a weak ETag never matches (RFC 9110 §13.1.5)", "GET", 200, []string{"Range", "bytes=0-3", "If-Range", `W/"v1"`}, 200, objectBody, nil},
		{"If-Range with Last-Modified's date: the range", "GET", 200,
			[]string{"Range", "bytes=0-3", "If-Range", "Wed, 25 Nov 2026 10:00:00 GMT"}, 206, "0123", nil},
		{"If-Range with another date: the whole object", "GET", 200,
			[]string{"Range", "bytes=0-3", "If-Range", "Wed, 25 Nov 2026 11:00:00 GMT"}, 200, objectBody, nil},
		{"If-Range that is neither: the whole object", "GET", 200, []string{"Range", "bytes=0-3", "If-Range", "yesterday"}, 200, objectBody, nil},
		{"If-Range without Range is ignored", "GET", 200, []string{"If-Range", `"v0"`}, 200, objectBody, nil},
		{"If-None-Match with the ETag: 304 without Content-Length", "GET", 200, []string{"If-None-Match", `"v0", "v1"`}, 304, "",
			map[string]string{"Content-Length": absent, "Content-Type": absent, "Etag": `"v1"`, "Cache-Control": "max-age=60"}},
		{"If-None-Match compares weakly", "GET", 200, []string{"If-None-Match", `W/"v1"`}, 304, "", nil},
		{"If-None-Match: * matches", "GET", 200, []string{"If-None-Match", "*"}, 304, "", nil},
		{"If-None-Match wins over Range", "GET", 200, []string{"If-None-Match", `"v1"`, "Range", "bytes=0-3"}, 304, "", nil},
		{"If-None-Match with another ETag: the range", "GET", 200, []string{"If-None-Match", `"v0"`, "Range", "bytes=0-3"}, 206, "0123", nil},
		{"an ETag with a comma inside its quotes", "GET", 200, []string{"If-None-Match", `"v,1", "v2"`}, 200, objectBody, nil},
		{"If-Modified-Since at Last-Modified: 304", "GET", 200, []string{"If-Modified-Since", "Wed, 25 Nov 2026 10:00:00 GMT"}, 304, "", nil},
		{"If-Modified-Since before Last-Modified: 200", "GET", 200, []string{"If-Modified-Since", "Wed, 25 Nov 2026 09:00:00 GMT"}, 200, objectBody, nil},
		{"If-Modified-Since is ignored when If-None-Match is present", "GET", 200,
			[]string{"If-None-Match", `"v0"`, "If-Modified-Since", "Wed, 25 Nov 2026 10:00:00 GMT"}, 200, objectBody, nil},
		{"If-Match with another ETag: 412", "GET", 200, []string{"If-Match", `"v0"`}, 412, "",
			map[string]string{"Content-Length": "0"}},
		{"If-Match compares strongly: a weak tag fails", "GET", 200, []string{"If-Match", `W/"v1"`}, 412, "", nil},
		{"If-Match with the ETag: the range", "GET", 200, []string{"If-Match", `"v1"`, "Range", "bytes=0-0"}, 206, "0", nil},
		{"If-Unmodified-Since before Last-Modified: 412", "GET", 200, []string{"If-Unmodified-Since", "Wed, 25 Nov 2026 09:00:00 GMT"}, 412, "", nil},
		{"If-Unmodified-Since after Last-Modified: 200", "GET", 200, []string{"If-Unmodified-Since", "Wed, 25 Nov 2026 11:00:00 GMT"}, 200, objectBody, nil},
		{"a cached 404 is served as is, Range or not", "GET", 404, []string{"Range", "bytes=0-3", "If-None-Match", `"v1"`}, 404, objectBody,
			map[string]string{"Content-Range": absent}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			r := viewerRequest(c.method, c.hdr...)
			w := httptest.NewRecorder()
			for k, v := range objectHeader {
				w.Header()[k] = v
			}
			got := serveRange(w, r, c.status, objectHeader, []byte(objectBody))
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			if got != c.want || res.StatusCode != c.want {
				t.Fatalf("status %d (returned %d), want %d", res.StatusCode, got, c.want)
			}
			if string(body) != c.body {
				t.Fatalf("body %q, want %q", body, c.body)
			}
			checkHeaders(t, res.Header, c.headers)
			if objectHeader.Get("Content-Length") != "36" || objectHeader.Get("Content-Type") != "text/plain" {
				t.Fatalf("the stored header was changed: %v", objectHeader)
			}
		})
	}
}

// TestServeRangeMultipart: several valid ranges get one 206
// multipart/byteranges answer (RFC 9110 §14.6), each part with the object's
// Content-Type and its Content-Range, and an exact Content-Length.
func TestServeRangeMultipart(t *testing.T) {
	cases := []struct {
		rule   string
		method string
		rng    string
		parts  []string // Content-Range, body, alternately
	}{
		{"two ranges", "GET", "bytes=0-3,10-13", []string{"bytes 0-3/36", "0123", "bytes 10-13/36", "abcd"}},
		{"a range and a suffix", "GET", "bytes=1-1,-2", []string{"bytes 1-1/36", "1", "bytes 34-35/36", "yz"}},
		{"an unsatisfiable range is left out of the parts", "GET", "bytes=0-0,5-5,100-200", []string{"bytes 0-0/36", "0", "bytes 5-5/36", "5"}},
		{"HEAD: the multipart headers only", "HEAD", "bytes=0-3,10-13", nil},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			w := httptest.NewRecorder()
			for k, v := range objectHeader {
				w.Header()[k] = v
			}
			serveRange(w, viewerRequest(c.method, "Range", c.rng), http.StatusOK, objectHeader, []byte(objectBody))
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusPartialContent {
				t.Fatalf("status %d", res.StatusCode)
			}
			mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/byteranges" || params["boundary"] == "" {
				t.Fatalf("Content-Type %q (%v)", res.Header.Get("Content-Type"), err)
			}
			if res.Header.Get("Content-Range") != "" {
				t.Errorf("a multipart answer has Content-Range %q", res.Header.Get("Content-Range"))
			}
			if c.method == "HEAD" {
				if len(body) != 0 || res.Header.Get("Content-Length") == "" {
					t.Fatalf("HEAD: body %q, Content-Length %q", body, res.Header.Get("Content-Length"))
				}
				// The HEAD's Content-Length is the GET's.
				g := httptest.NewRecorder()
				serveRange(g, viewerRequest("GET", "Range", c.rng), http.StatusOK, objectHeader, []byte(objectBody))
				if got, want := res.Header.Get("Content-Length"), g.Header().Get("Content-Length"); got != want {
					t.Fatalf("HEAD Content-Length %s, GET's %s", got, want)
				}
				return
			}
			if got := res.Header.Get("Content-Length"); got != fmt.Sprint(len(body)) {
				t.Fatalf("Content-Length %s, body is %d bytes", got, len(body))
			}
			mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
			var got []string
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if ct := p.Header.Get("Content-Type"); ct != "text/plain" {
					t.Errorf("part Content-Type %q", ct)
				}
				b, _ := io.ReadAll(p)
				got = append(got, p.Header.Get("Content-Range"), string(b))
			}
			if !reflect.DeepEqual(got, c.parts) {
				t.Fatalf("parts %q, want %q", got, c.parts)
			}
		})
	}
}

// TestServeRangeBoundaries: every multipart answer has its own boundary.
func TestServeRangeBoundaries(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		w := httptest.NewRecorder()
		serveRange(w, viewerRequest("GET", "Range", "bytes=0-0,2-2"), http.StatusOK, objectHeader, []byte(objectBody))
		_, params, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
		if seen[params["boundary"]] {
			t.Fatalf("boundary %q repeated", params["boundary"])
		}
		seen[params["boundary"]] = true
	}
}

// FuzzParseRange: parseRange never panics; a 206 has ranges within the
// object, ascending and disjoint, at most maxRanges of them; 200 and 416
// have none.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-499", "bytes=-500", "bytes=500-", "bytes=0-0,-1", "bytes=100-200,300-400",
		"bytes=300-400,100-200", "bytes=100-200,150-250", "bytes=-0", "bytes=", "bytes=0-99999999999999999999"} {
		f.Add(s, int64(1000))
	}
	f.Add("bytes=-5", int64(0))
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		ranges, status := parseRange(header, size)
		switch status {
		case http.StatusPartialContent:
			if len(ranges) == 0 || len(ranges) > maxRanges {
				t.Fatalf("206 with %d ranges", len(ranges))
			}
			prev := int64(-1)
			for _, r := range ranges {
				if r.first < 0 || r.first > r.last || r.last >= size {
					t.Fatalf("range %v outside [0,%d)", r, size)
				}
				if r.first <= prev {
					t.Fatalf("ranges %v not ascending and disjoint", ranges)
				}
				if r.length() <= 0 || r.length() > size || r.length() == math.MinInt64 {
					t.Fatalf("range %v has length %d", r, r.length())
				}
				prev = r.last
			}
		case http.StatusOK, http.StatusRequestedRangeNotSatisfiable:
			if ranges != nil {
				t.Fatalf("status %d with ranges %v", status, ranges)
			}
		default:
			t.Fatalf("status %d", status)
		}
	})
}
