package cache

import (
	"time"
)

// Entry is one cached response. Entries are immutable once stored: Header
// and the body are shared, read-only, by every response served from them.
//
// Body is the body in hand, of an entry being built and stored. The store
// keeps its own copy of an entry, with the body moved out of the Go heap
// into the RAM tier's arena (or read from the disk tier's file): Body is nil
// in the entries Get returns, and their body is read through Open, which
// holds it for the response.
type Entry struct {
	Status int
	Header Header // the origin's headers as stored (hop-by-hop removed)
	Body   []byte

	// Distribution and Path (the viewer's URI path) let invalidations find it.
	// Path is in the form AppendKey keys on: r.URL.EscapedPath().
	Distribution string
	Path         string
	// Query is the viewer's raw query string when the cache policy puts query
	// strings in the key ("" otherwise), so that an invalidation path naming
	// one ("/a.jpg?v=2", "/a.jpg*") finds it.
	Query string

	// StoredNano is when the response was received from the origin, in Unix
	// nanoseconds (Stored is it as a time.Time: 8 bytes here instead of
	// 24); InitialAge is the Age it already had then (the origin's Age
	// header, RFC 9111 §4.2.3).
	StoredNano int64
	InitialAge time.Duration
	// TTL is the freshness lifetime decided by Freshness.
	TTL                  time.Duration
	StaleWhileRevalidate time.Duration
	// StaleIfError is the origin's stale-if-error window past TTL: 0 when
	// it sent none, NoStaleIfError for stale-if-error=0 (StaleOnError).
	StaleIfError time.Duration
	// StaleUntil (Unix nanoseconds) is when an expired entry stops being
	// served stale without asking the origin, after the origin failed to
	// refresh it (ServeStale).
	StaleUntil int64

	// disk is the body's file when the entry was read from the disk tier,
	// mem its block in the RAM tier's arena when the entry is the store's
	// (Body is nil in both cases); see Open. Copies of an entry share mem
	// and its reference count. The end of retention is not kept (until,
	// computed from the fields above), nor the entry's cost (Size is
	// computed again when it leaves the store): a 176-byte Entry is a
	// 176-byte allocation, a 184-byte one 192.
	disk *diskBody
	mem  *memBlock
}

// until is the end of the entry's retention (Stored + Retention), in Unix
// nanoseconds.
func (e *Entry) until() int64 { return e.StoredNano + int64(Retention(e)) }

// Stored is when the response was received from the origin (StoredNano).
func (e *Entry) Stored() time.Time { return time.Unix(0, e.StoredNano) }

// sinceStored is how long before now the response was received.
func (e *Entry) sinceStored(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - e.StoredNano)
}

// Age is how old the entry is at now, as the Age header reports it.
func (e *Entry) Age(now time.Time) time.Duration {
	return e.InitialAge + e.sinceStored(now)
}

// NoStaleIfError is Entry.StaleIfError (and Decision.StaleIfError) for an
// origin's stale-if-error=0: the entry is never served stale in place of
// an origin's error.
const NoStaleIfError time.Duration = -1

// StaleOnError reports whether the expired entry may answer in place of an
// origin's 5xx or failure at now. CloudFront serves the expired object
// whenever the origin fails to refresh it ("The requested object is in the
// edge cache", HTTPStatusCodes), for as long as the object is kept; a
// stale-if-error the origin sent bounds that (RFC 5861 §4), and
// stale-if-error=0 forbids it.
func (e *Entry) StaleOnError(now time.Time) bool {
	switch {
	case e.Status >= 400 || e.StaleIfError == NoStaleIfError:
		return false
	case e.StaleIfError > 0:
		return e.sinceStored(now) < e.TTL+e.StaleIfError
	}
	return true
}

// ServeStale reports whether the expired entry is served at now without
// asking the origin: the origin failed to refresh it less than the
// distribution's ErrorCachingMinTTL ago (HTTPStatusCodes: "For the
// duration of the error caching minimum TTL, CloudFront continues to
// respond to viewer requests by serving the object from the edge cache").
func (e *Entry) ServeStale(now time.Time) bool {
	return e.StaleUntil > now.UnixNano()
}

// Fresh reports whether the entry can be served without asking the origin.
func (e *Entry) Fresh(now time.Time) bool {
	return e.sinceStored(now) < e.TTL
}

// Size is the entry's cost in the RAM tier: its body's block in the arena
// (the body and an 8-byte header, rounded up to 8 bytes), plus headers,
// plus a fixed overhead, what the entry takes on the heap
// (TestMemoryPerEntry holds it within 3 % of the measurement for a 1 KiB
// object). It is the same for an entry with its body in hand and for the
// store's copy, and must not change once the entry is stored: the store
// subtracts it again when the entry leaves.
func (e *Entry) Size() int64 {
	n := blockSize(e.BodyLen()) + entryOverhead + int64(len(e.Distribution)+len(e.Path)+len(e.Query))
	return n + e.Header.size()
}

// entryOverhead is what an entry costs beyond its body, headers and
// strings: the Entry struct (176 B), its memBlock (24 B), ristretto's
// bookkeeping (~104 B: its map of items, its policy's map of costs) and the
// rounding up of the path's allocation (~8 B).
const entryOverhead = 312
