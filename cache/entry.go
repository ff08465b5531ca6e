package cache

import (
	"time"
)

// Entry is one cached response. Entries are immutable once stored: Header and
// Body are shared, read-only, by every response served from them.
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

	// Stored is when the response was received from the origin; InitialAge is
	// the Age it already had then (the origin's Age header, RFC 9111 §4.2.3).
	Stored     time.Time
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

	// cost and until (Stored + retention, in Unix nanoseconds) are set by
	// Store.Set before the entry is published and never change after: the
	// store keeps them here rather than in a wrapper of its own, one
	// allocation less per cached object.
	cost  int64
	until int64
	// disk is the body's file when the entry was read from the disk
	// tier (Body is then nil); see Open.
	disk *diskBody
}

// Age is how old the entry is at now, as the Age header reports it.
func (e *Entry) Age(now time.Time) time.Duration {
	return e.InitialAge + now.Sub(e.Stored)
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
		return now.Sub(e.Stored) < e.TTL+e.StaleIfError
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
	return now.Sub(e.Stored) < e.TTL
}

// Size is the entry's cost in the store: body plus headers plus a fixed
// overhead.
func (e *Entry) Size() int64 {
	n := int64(len(e.Body)) + entryOverhead + int64(len(e.Distribution)+len(e.Path)+len(e.Query))
	return n + e.Header.size()
}

// entryOverhead approximates the bytes an entry costs beyond its body and
// headers (the Entry struct, the key, the store's bookkeeping).
const entryOverhead = 256
