package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/collapse"
	"github.com/edgefront/edgefront/origin"
)

// This file caches objects too large to store whole by range, as
// CloudFront does ("How CloudFront processes partial requests for an
// object (range GETs)": when the cache does not hold the requested range,
// CloudFront forwards the request — "CloudFront may request a larger range
// than the client requested" — and "caches it for future requests").
//
// An object is cached in parts when its first fetch shows it is cacheable,
// larger than the largest object stored whole, uncompressed, and served by
// an origin that accepts ranges (Accept-Ranges: bytes): that fetch stores
// a marker (the object's headers, no body) under partsKey. From then on a
// single-range GET for it is answered from parts of partSize bytes stored
// under partKey, each fetched from the origin with a Range of its own
// (aligned, so overlapping viewer ranges share parts) and collapsed like
// any other fetch. A part is used only while its validators and total size
// agree with the marker's; a part the origin answers with anything else
// (a 200, another size or ETag) drops the marker, and the request is
// answered as before, by the origin.

// partSize is the size of the parts a large object is cached in: big
// enough that a video player's ranges need few origin requests, small
// enough that one part is never much more than a viewer asked for.
const partSize = 1 << 20

// partsKey is the key of the marker of the object cached in parts under key.
func partsKey(key string) string { return key + "\x00parts" }

// partKey is the key of part i of the object cached under key.
func partKey(key string, i int64) string {
	return key + "\x00part\x00" + strconv.FormatInt(i, 10)
}

// partsBeforeHead is how many parts of a range are in the cache (fetched
// when missing) before its answer's headers are sent.
const partsBeforeHead = 8

// errNoParts is a part fetch's answer when the origin no longer serves the
// object in parts (the marker is dropped).
var errNoParts = errors.New("proxy: the origin did not answer a part of the object")

// partsCacheable reports whether a response the cache would store, too
// large to store whole, is cached in parts.
func partsCacheable(resp *origin.Response, enc string) bool {
	h := resp.Header
	return resp.StatusCode == http.StatusOK && enc == "" && resp.ContentLength > 0 &&
		len(h["Content-Encoding"]) == 0 && strings.EqualFold(h.Get("Accept-Ranges"), "bytes")
}

// noteParts stores the marker of an object cached in parts (hdr is its
// stored header, with its Content-Length).
func (s *Server) noteParts(j *flightJob, resp *origin.Response, hdr http.Header, d cache.Decision, start time.Time) {
	s.store.Set(partsKey(j.key), j.entry(resp, hdr, nil, d, start))
}

// serveParts answers a single-range GET for the object cached in parts
// under key, and reports whether it did: false (nothing written) when the
// object has no fresh marker or the request is not one parts answer
// (several ranges, conditionals, a range the whole object answers), which
// the caller then answers as before.
func (s *Server) serveParts(x *exchange, key string) bool {
	r := x.r
	h := r.Header
	if r.Method != http.MethodGet || len(h["Range"]) != 1 || len(h["If-Match"]) > 0 || len(h["If-None-Match"]) > 0 ||
		len(h["If-Modified-Since"]) > 0 || len(h["If-Unmodified-Since"]) > 0 {
		return false
	}
	m, ok := s.store.GetAt(partsKey(key), x.start)
	if !ok || !m.Fresh(x.start) || !ifRangeMatches(r, m.Header) {
		return false
	}
	total, err := strconv.ParseInt(m.Header.Get("Content-Length"), 10, 64)
	if err != nil {
		return false
	}
	ranges, status := parseRange(h["Range"][0], total)
	if status != http.StatusPartialContent || len(ranges) != 1 {
		return false // 416, or the whole object: as before
	}
	b := ranges[0]
	first, last := b.first/partSize, b.last/partSize
	// The first part comes before the headers: its failure is still an
	// answer of its own.
	// The first parts, up to partsBeforeHead, come before the headers
	// too: a part of another version (the object changed at the origin)
	// then sends the request on as before rather than cutting the answer.
	e, hit, err := s.part(x, key, first, m, total)
	for i := first + 1; err == nil && i <= last; i++ {
		h := false
		if i-first < partsBeforeHead {
			_, h, err = s.part(x, key, i, m, total)
		} else {
			_, h = s.storedPart(x, key, i, m)
		}
		hit = hit && h
	}
	switch {
	case errors.Is(err, errNoParts):
		return false
	case err != nil:
		if r.Context().Err() == nil {
			s.fail(x, failureOf(err))
		}
		return true
	}
	p := phaseMiss
	if hit {
		p = phaseHit
	}
	wh := x.w.Header()
	m.Header.CopyTo(wh)
	if hit {
		wh["Age"] = ageValue(int64(e.Age(x.start) / time.Second))
	}
	wh["Content-Range"] = []string{b.contentRange(total)}
	wh["Content-Length"] = []string{strconv.FormatInt(b.length(), 10)}
	code := s.begin(x, answer{status: http.StatusPartialContent, phase: p, timing: p.result(), upstream: !hit, served: true})
	if code == 0 {
		return true
	}
	x.w.WriteHeader(code)
	for i := first; ; {
		lo := i * partSize
		if !writePart(x.w, e, max(b.first-lo, 0), b.last-lo+1) {
			// Never a partial body presented as complete.
			panic(http.ErrAbortHandler)
		}
		if i++; i > last {
			return true
		}
		if e, _, err = s.part(x, key, i, m, total); err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}

// writePart writes the bytes of part e from first up to end (or its
// end), holding its body while it does; it reports whether they all went
// out (false too when the store let the part go since the lookup).
func writePart(w http.ResponseWriter, e *cache.Entry, first, end int64) bool {
	body, err := e.Open()
	if err != nil {
		return false
	}
	defer body.Close()
	return body.WriteRange(w, first, min(end, body.Len())-first) == nil
}

// storedPart returns part i of the object under key when the cache holds
// it fresh and it belongs to the object m describes.
func (s *Server) storedPart(x *exchange, key string, i int64, m *cache.Entry) (*cache.Entry, bool) {
	e, ok := s.store.GetAt(partKey(key, i), x.start)
	if !ok || !e.Fresh(x.start) || !samePartObject(e.Header, m.Header) {
		return nil, false
	}
	return e, true
}

// samePartObject reports whether a part's header h (a 206's) belongs to the
// object whose marker has header m: same total size, same validators.
func samePartObject(h, m interface{ Get(string) string }) bool {
	cr := h.Get("Content-Range")
	slash := strings.LastIndexByte(cr, '/')
	return slash >= 0 && cr[slash+1:] == m.Get("Content-Length") &&
		h.Get("ETag") == m.Get("ETag") && h.Get("Last-Modified") == m.Get("Last-Modified")
}

// part returns part i of the object under key (hit: from the cache), or
// fetches it from the origin — one fetch however many viewers want it.
func (s *Server) part(x *exchange, key string, i int64, m *cache.Entry, total int64) (e *cache.Entry, hit bool, err error) {
	if e, ok := s.storedPart(x, key, i, m); ok {
		return e, true, nil
	}
	pk := partKey(key, i)
	f, ctx, leader, wake := s.flights.Join(pk, func() (context.Context, context.CancelFunc) {
		return context.WithCancel(context.WithoutCancel(x.r.Context()))
	})
	if leader {
		job := s.newJob(x, pk, "", nil)
		lo := i * partSize
		hi := min(lo+partSize, total) - 1
		job.req.Header.Set("Range", "bytes="+strconv.FormatInt(lo, 10)+"-"+strconv.FormatInt(hi, 10))
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			s.fetchPart(ctx, f, job, key, m, byteRange{lo, hi})
		}()
	}
	select {
	case <-wake:
	case <-x.r.Context().Done():
		s.flights.Leave(f)
		return nil, false, x.r.Context().Err()
	}
	hd := f.Head()
	body, _, _ := f.Snapshot()
	s.flights.Leave(f)
	if hd.err != nil {
		return nil, false, hd.err
	}
	return cache.NewEntry(cache.Entry{Status: hd.status, Header: cache.NewHeader(hd.header), StoredNano: hd.stored.UnixNano()}, body, cache.Extra{InitialAge: hd.initialAge}), false, nil
}

// fetchPart fetches part b of the object under key (j asks for it; j.key
// is the part's key), stores it, and answers the flight f with it.
func (s *Server) fetchPart(ctx context.Context, f *flight, j *flightJob, key string, m *cache.Entry, b byteRange) {
	start := s.now()
	fail := func(err error) { f.Answer(collapse.Failed, flightHead{err: err}, nil) }
	resp, err := s.fetch(ctx, &j.fetchTarget, j.req)
	if err != nil {
		s.metrics.originFetch(j.originID(), origin.StatusOf(err), s.now().Sub(start))
		fail(err)
		return
	}
	defer resp.Body.Close()
	s.metrics.originFetch(j.originID(), resp.StatusCode, s.now().Sub(start))
	total := m.Header.Get("Content-Length")
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != "bytes "+strconv.FormatInt(b.first, 10)+"-"+strconv.FormatInt(b.last, 10)+"/"+total ||
		!samePartObject(resp.Header, m.Header) || len(resp.Header["Content-Encoding"]) > 0 {
		// The object changed, or the origin stopped serving ranges.
		s.store.Delete(partsKey(key))
		fail(errNoParts)
		return
	}
	body := make([]byte, b.length())
	if _, err := io.ReadFull(resp.Body, body); err != nil {
		if ctx.Err() == nil {
			s.originBodyFailed(j.ds.dist.ID, j.originID(), j.path, err)
		}
		fail(fmt.Errorf("proxy: reading bytes %d-%d: %w", b.first, b.last, err))
		return
	}
	hdr := storedHeader(resp.Header, j.behavior, int64(len(body)))
	if d := s.decide(j, resp); d.Store {
		s.store.Set(j.key, j.entry(resp, hdr, body, d, start))
	}
	f.Answer(collapse.Stored, flightHead{status: resp.StatusCode, header: hdr, stored: start, initialAge: cache.InitialAge(resp.Header)}, body)
}
