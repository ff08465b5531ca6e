package proxy_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// partsOrigin serves objects of size bytes (each byte its offset mod 251)
// with http.ServeContent, which answers ranges, and counts the requests by
// their Range header ("" for a whole-object request).
type partsOrigin struct {
	*origin
	mu     sync.Mutex
	ranges map[string]int
	etag   atomic.Value // string
}

func newPartsOrigin(t *testing.T, size int, ignoreRanges bool) (*partsOrigin, string) {
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i % 251)
	}
	p := &partsOrigin{ranges: map[string]int{}}
	p.etag.Store(`"v1"`)
	p.origin = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.ranges[r.Header.Get("Range")]++
		p.mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", p.etag.Load().(string))
		if ignoreRanges {
			w.Header().Set("Accept-Ranges", "bytes") // but answers every request whole
			r.Header.Del("Range")
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(body)))
	})
	return p, string(body)
}

func (p *partsOrigin) asked(rng string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ranges[rng]
}

// partsSettings stores objects of up to 1 MiB whole: larger ones are
// cached in parts.
var partsSettings = "cache: {size: 64MiB, maxObjectSize: 1MiB}\n" + oneOrigin

// TestGuideRangeParts: an object too large to cache whole is cached by
// range — RangeGETs: "If the origin supports Range GET requests – It
// returns the requested range. CloudFront serves the requested range and
// also caches it for future requests"; "CloudFront may request a larger
// range than the client requested" (parts of 1 MiB). RFC 9111 §3.4: a
// stored 206 answers a later range it covers.
func TestGuideRangeParts(t *testing.T) {
	const size = 3<<20 + 1000 // four parts, the last 1,000 bytes
	o, body := newPartsOrigin(t, size, false)
	e := newEdge(t, partsSettings, map[string]string{"web": o.URL})
	part := func(i int) string {
		return fmt.Sprintf("bytes=%d-%d", i<<20, min((i+1)<<20, size)-1)
	}
	steps := []struct {
		name, rng   string
		first, last int
		xcache      string
		parts       []int // parts the origin has been asked for once, by now
	}{
		{"first range: a miss, its part fetched", "bytes=100-199", 100, 199, "Miss from cloudfront", []int{0}},
		{"the same range: a hit", "bytes=100-199", 100, 199, "Hit from cloudfront", []int{0}},
		{"to the end: the other parts fetched", "bytes=5000-", 5000, size - 1, "Miss from cloudfront", []int{0, 1, 2, 3}},
		{"across parts, all stored: a hit", "bytes=1048000-2100000", 1048000, 2100000, "Hit from cloudfront", []int{0, 1, 2, 3}},
		{"suffix range: the last part", "bytes=-10", size - 10, size - 1, "Hit from cloudfront", []int{0, 1, 2, 3}},
	}
	for _, s := range steps {
		r := e.do("GET", "/big.bin", "Range", s.rng)
		want := fmt.Sprintf("bytes %d-%d/%d", s.first, s.last, size)
		if r.status != http.StatusPartialContent || r.header.Get("Content-Range") != want || r.body != body[s.first:s.last+1] {
			t.Fatalf("%s: %d, Content-Range %q, %d bytes; want 206, %q, %d bytes", s.name, r.status, r.header.Get("Content-Range"), len(r.body), want, s.last-s.first+1)
		}
		if r.xcache() != s.xcache {
			t.Errorf("%s: X-Cache %q, want %q", s.name, r.xcache(), s.xcache)
		}
		for _, i := range s.parts {
			if n := o.asked(part(i)); n != 1 {
				t.Errorf("%s: the origin was asked for part %d (%s) %d times, want once", s.name, i, part(i), n)
			}
		}
	}
	if n := o.asked(""); n != 1 {
		t.Errorf("the whole object was asked for %d times, want once (the fetch that found it too large)", n)
	}
	if r := e.do("GET", "/big.bin", "Range", "bytes=10-19"); r.header.Get("Age") == "" || r.header.Get("ETag") != `"v1"` {
		t.Errorf("a range from parts: Age %q, ETag %q; want an Age and the object's ETag", r.header.Get("Age"), r.header.Get("ETag"))
	}

	// Invalidating the path drops the parts with the object.
	e.clock.Advance(time.Second)
	e.store.Invalidate("ETESTDIST0001", "/big.bin", e.clock.Now())
	before := o.hits.Load()
	if r := e.do("GET", "/big.bin", "Range", "bytes=100-199"); r.xcache() != "Miss from cloudfront" || r.body != body[100:200] {
		t.Errorf("after an invalidation: X-Cache %q, %d bytes; want a miss with the range", r.xcache(), len(r.body))
	}
	if o.hits.Load() == before {
		t.Error("after an invalidation the range was served without asking the origin")
	}
}

// TestRangePartsCollapse: viewers asking at once for ranges of one part
// share one origin request for it.
func TestRangePartsCollapse(t *testing.T) {
	const size = 2<<20 + 10
	o, body := newPartsOrigin(t, size, false)
	e := newEdge(t, partsSettings, map[string]string{"web": o.URL})
	e.do("GET", "/big.bin", "Range", "bytes=0-0") // learns the object is cached in parts
	var wg sync.WaitGroup
	errs := make(chan string, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := 1<<20 + i*100
			r := e.do("GET", "/big.bin", "Range", fmt.Sprintf("bytes=%d-%d", first, first+99))
			if r.status != http.StatusPartialContent || r.body != body[first:first+100] {
				errs <- fmt.Sprintf("viewer %d: %d, %d bytes", i, r.status, len(r.body))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := o.asked(fmt.Sprintf("bytes=%d-%d", 1<<20, 2<<20-1)); n != 1 {
		t.Errorf("32 viewers of one part: the origin was asked for it %d times, want once", n)
	}
}

// TestRangePartsOriginIgnoresRanges: an origin that advertises ranges but
// answers whole objects gets the object cached as before, never in parts:
// the viewer gets the whole object (RangeGETs: "If the origin doesn't
// support Range GET requests – It returns the entire object").
func TestRangePartsOriginIgnoresRanges(t *testing.T) {
	const size = 1<<20 + 500
	o, body := newPartsOrigin(t, size, true)
	e := newEdge(t, partsSettings, map[string]string{"web": o.URL})
	for i := range 3 {
		r := e.do("GET", "/big.bin", "Range", "bytes=100-199")
		if r.status == http.StatusPartialContent && r.body != body[100:200] || r.status == http.StatusOK && r.body != body || r.status != http.StatusOK && r.status != http.StatusPartialContent {
			t.Fatalf("request %d: %d with %d bytes, want the range or the whole object", i, r.status, len(r.body))
		}
		if i > 0 && r.status != http.StatusOK {
			t.Errorf("request %d: %d, want the whole object (200) once the origin showed it ignores ranges", i, r.status)
		}
	}
}

// TestRangePartsObjectChanged: a part whose ETag differs from the object's
// (the object changed at the origin) is not stitched to the others.
func TestRangePartsObjectChanged(t *testing.T) {
	const size = 2<<20 + 10
	o, body := newPartsOrigin(t, size, false)
	e := newEdge(t, partsSettings, map[string]string{"web": o.URL})
	if r := e.do("GET", "/big.bin", "Range", "bytes=0-9"); r.status != http.StatusPartialContent {
		t.Fatalf("first range: %d", r.status)
	}
	o.etag.Store(`"v2"`)
	r := e.do("GET", "/big.bin", "Range", "bytes=1048570-1048580")
	if r.header.Get("ETag") == `"v1"` && r.status == http.StatusPartialContent {
		t.Errorf("a range across parts of two versions: 206 with ETag %q", r.header.Get("ETag"))
	}
	if r.status == http.StatusPartialContent && r.body != body[1048570:1048581] {
		t.Errorf("wrong bytes: %q", r.body)
	}
}
