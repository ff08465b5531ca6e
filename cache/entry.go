package cache

import (
	"time"
	"unsafe"
)

// Entry is one cached response. Entries are immutable once stored: Header
// and the body are shared, read-only, by every response served from them.
//
// An entry being built and stored has its body in hand (NewEntry, Body).
// The store keeps its own copy of an entry, with the body moved out of the
// Go heap into the RAM tier's arena (or read from the disk tier's file):
// Body is nil in the entries Get returns, and their body is read through
// Open, which holds it for the response.
//
// The store holds many entries, so an Entry is kept small: 96 bytes, one
// of the allocator's size classes (a field more would take it to 112).
// The fields most entries leave zero (Extra) and a body that is not in the
// arena are behind one pointer, nil in the store's copies of most entries;
// they are read through methods.
type Entry struct {
	Status int
	Header Header // the origin's headers as stored (hop-by-hop removed)

	// Distribution and Path (the viewer's URI path) let invalidations find it.
	// Path is in the form AppendKey keys on: r.URL.EscapedPath().
	Distribution string
	Path         string

	// StoredNano is when the response was received from the origin, in Unix
	// nanoseconds (Stored is it as a time.Time: 8 bytes here instead of
	// 24).
	StoredNano int64
	// TTL is the freshness lifetime decided by Freshness.
	TTL time.Duration

	// mem is the body's block in the RAM tier's arena when the entry is
	// the store's (see Open). Copies of an entry share mem and its
	// reference count. The end of retention is not kept (until, computed
	// from the fields), nor the entry's cost (Size is computed again when
	// it leaves the store).
	mem *memBlock
	// x holds the rarely set fields and a body in hand or on disk; nil
	// when there are none. What it points to is never changed once it is
	// set (copies of an entry share it): setters replace it.
	x *entryMore
}

// Extra is the fields of an Entry that most entries leave zero, set with
// NewEntry or SetExtra and read with the Entry's methods of the same names.
type Extra struct {
	// Query is the viewer's raw query string when the cache policy puts
	// query strings in the key ("" otherwise), so that an invalidation
	// path naming one ("/a.jpg?v=2", "/a.jpg*") finds it.
	Query string
	// InitialAge is the Age the response already had when it was received
	// (the origin's Age header, RFC 9111 §4.2.3).
	InitialAge           time.Duration
	StaleWhileRevalidate time.Duration
	// StaleIfError is the origin's stale-if-error window past TTL: 0 when
	// it sent none, NoStaleIfError for stale-if-error=0 (StaleOnError).
	StaleIfError time.Duration
	// StaleUntil (Unix nanoseconds) is when an expired entry stops being
	// served stale without asking the origin, after the origin failed to
	// refresh it (ServeStale).
	StaleUntil int64
}

// entryMore is what Entry.x points to: the entry's Extra, and its body
// when that is in hand (body) or in a file of the disk tier (disk). The
// store's copies have neither.
type entryMore struct {
	Extra
	body []byte
	disk *diskBody
}

// empty reports whether m holds nothing (an entry needs no x for it).
func (m *entryMore) empty() bool {
	return m.Extra == (Extra{}) && m.body == nil && m.disk == nil
}

// entryWithMore is an entry and what its x points to, allocated together.
type entryWithMore struct {
	e Entry
	m entryMore
}

// extraOverhead is what an entry with a non-zero Extra costs more in the
// store: its entryMore.
const extraOverhead = int64(unsafe.Sizeof(entryWithMore{}) - unsafe.Sizeof(Entry{}))

// newEntry returns a copy of e whose x holds m: one allocation for both
// (e alone when m is empty).
func newEntry(e Entry, m entryMore) *Entry {
	if m.empty() {
		e.x = nil
		return &e
	}
	p := &entryWithMore{e: e, m: m}
	p.e.x = &p.m
	return &p.e
}

// NewEntry returns an entry with e's fields, its body in hand, and x's
// fields (with one allocation).
func NewEntry(e Entry, body []byte, x Extra) *Entry {
	e.mem = nil
	return newEntry(e, entryMore{Extra: x, body: body})
}

// setMore points e's x to a copy of m (nil when m is empty).
func (e *Entry) setMore(m entryMore) {
	if m.empty() {
		e.x = nil
		return
	}
	e.x = &m
}

// Extra returns the entry's rarely set fields.
func (e *Entry) Extra() Extra {
	if e.x == nil {
		return Extra{}
	}
	return e.x.Extra
}

// SetExtra sets the entry's rarely set fields, for an entry being built or
// a copy being changed (Entry values share them: SetExtra does not change
// what the entry it was copied from holds).
func (e *Entry) SetExtra(x Extra) {
	m := entryMore{Extra: x}
	if e.x != nil {
		m.body, m.disk = e.x.body, e.x.disk
	}
	e.setMore(m)
}

// hasExtra reports whether any of the entry's Extra fields is set.
func (e *Entry) hasExtra() bool { return e.x != nil && e.x.Extra != (Extra{}) }

// Query is Extra.Query.
func (e *Entry) Query() string {
	if e.x == nil {
		return ""
	}
	return e.x.Query
}

// InitialAge is Extra.InitialAge.
func (e *Entry) InitialAge() time.Duration {
	if e.x == nil {
		return 0
	}
	return e.x.InitialAge
}

// StaleWhileRevalidate is Extra.StaleWhileRevalidate.
func (e *Entry) StaleWhileRevalidate() time.Duration {
	if e.x == nil {
		return 0
	}
	return e.x.StaleWhileRevalidate
}

// StaleIfError is Extra.StaleIfError.
func (e *Entry) StaleIfError() time.Duration {
	if e.x == nil {
		return 0
	}
	return e.x.StaleIfError
}

// StaleUntil is Extra.StaleUntil.
func (e *Entry) StaleUntil() int64 {
	if e.x == nil {
		return 0
	}
	return e.x.StaleUntil
}

// Body is the entry's body in hand: nil for the store's entries (see
// Open).
func (e *Entry) Body() []byte {
	if e.x == nil {
		return nil
	}
	return e.x.body
}

// disk is the entry's body in a file of the disk tier, or nil.
func (e *Entry) disk() *diskBody {
	if e.x == nil {
		return nil
	}
	return e.x.disk
}

// withDisk returns a copy of e, just read from the disk tier, with its body
// in the file d.
func (e *Entry) withDisk(d *diskBody) *Entry {
	c := *e
	c.mem = nil
	return newEntry(c, entryMore{Extra: e.Extra(), disk: d})
}

// dropBody lets go of the entry's body in hand or on disk, keeping the rest.
func (e *Entry) dropBody() { e.setMore(entryMore{Extra: e.Extra()}) }

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
	return e.InitialAge() + e.sinceStored(now)
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
	switch sie := e.StaleIfError(); {
	case e.Status >= 400 || sie == NoStaleIfError:
		return false
	case sie > 0:
		return e.sinceStored(now) < e.TTL+sie
	}
	return true
}

// ServeStale reports whether the expired entry is served at now without
// asking the origin: the origin failed to refresh it less than the
// distribution's ErrorCachingMinTTL ago (HTTPStatusCodes: "For the
// duration of the error caching minimum TTL, CloudFront continues to
// respond to viewer requests by serving the object from the edge cache").
func (e *Entry) ServeStale(now time.Time) bool {
	return e.StaleUntil() > now.UnixNano()
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
	n := blockSize(e.BodyLen()) + entryOverhead + int64(len(e.Distribution)+len(e.Path))
	if e.hasExtra() {
		n += extraOverhead + int64(len(e.x.Query))
	}
	return n + e.Header.size()
}

// entryOverhead is what an entry costs beyond its body, headers and
// strings (and its Extra, extraOverhead): the Entry struct (96 B), its
// memBlock (24 B), ristretto's bookkeeping (~104 B: its map of items, its
// policy's map of costs) and the rounding up of the path's allocation
// (~8 B).
const entryOverhead = 232
