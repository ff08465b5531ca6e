// Package cache holds cached responses: a size-bounded store (ristretto,
// cost = bytes), CloudFront's freshness decision, cache keys, and lazy
// invalidation by ban list.
package cache

import "time"

// Options configures a Store.
type Options struct {
	MaxBytes int64 // total cost the store may hold
	// Now is the clock (time.Now when nil); tests pass a fake one.
	Now func() time.Time
}

// Store is the in-memory cache. It is safe for concurrent use.
//
// Set is visible to Get as soon as it returns (ristretto's asynchronous Set
// is waited on), so a second identical request after a first one that was
// stored is deterministically a hit while the store has room.
type Store struct {
	// TODO(cache helper)
}

// New returns an empty store.
func New(o Options) (*Store, error) { panic("TODO(cache helper)") }

// Get returns the entry for key, unless it is absent or banned by an
// invalidation created after it was stored. Expired entries are returned
// (the caller decides on revalidation or serving stale).
func (s *Store) Get(key string) (*Entry, bool) { panic("TODO(cache helper)") }

// Set stores e under key, with its cost (e.Size()), retained until
// e.TTL+retention; it reports whether the store accepted it.
func (s *Store) Set(key string, e *Entry) bool { panic("TODO(cache helper)") }

// Delete removes key.
func (s *Store) Delete(key string) { panic("TODO(cache helper)") }

// Invalidate bans every entry of distribution whose path matches pattern (an
// exact path, or a prefix ending in '*') and that was stored before at.
func (s *Store) Invalidate(distribution, pattern string, at time.Time) {
	panic("TODO(cache helper)")
}

// Stats reports the number of entries and their total cost in bytes.
func (s *Store) Stats() (items int64, bytes int64) { panic("TODO(cache helper)") }

// Close stops the store's background goroutines.
func (s *Store) Close() { panic("TODO(cache helper)") }
