// Package cache holds cached responses: a size-bounded store (ristretto,
// cost = bytes), CloudFront's freshness decision, cache keys, and lazy
// invalidation by ban list.
package cache

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Options configures a Store.
type Options struct {
	MaxBytes int64 // total cost the store may hold
	// Now is the clock (time.Now when nil); tests pass a fake one.
	Now func() time.Time
	// MaxObjectSize is the largest object kept in RAM (MaxBytes/8 when
	// 0): larger ones go to the disk tier only, and disk hits up to it are
	// offered to RAM.
	MaxObjectSize int64
	// Disk, when set, adds the persistent disk tier (disk.go).
	Disk *DiskOptions
	// Logger receives the disk tier's errors, once per cause.
	Logger *slog.Logger
}

// Store is the in-memory cache. It is safe for concurrent use.
//
// Set is visible to Get as soon as it returns (ristretto's asynchronous Set
// is waited on), so a second identical request after a first one that was
// stored is deterministically a hit while the store has room.
//
// An entry is retained past its TTL, for revalidation and stale serving,
// until Stored + Retention(e); Get returns it until then and the caller
// decides what a stale entry is good for.
type Store struct {
	c   *ristretto.Cache[string, *Entry]
	now func() time.Time

	items, bytes atomic.Int64
	// evictions counts entries evicted to make room, expirations those
	// evicted once their retention had ended.
	evictions, expirations atomic.Int64
	// latestUntil is the latest end of retention (UnixNano) of any entry
	// stored: a ban made now can match nothing past it.
	latestUntil atomic.Int64
	bans        banList
	door        *doorkeeper // admit's memory of keys offered

	// closeMu makes Close safe against writes still under way (ristretto's
	// Close panics against a concurrent Set or Del): writes hold it shared,
	// Close exclusively. Get takes no lock.
	closeMu sync.RWMutex
	closed  bool

	// arena holds the RAM tier's bodies, off the Go heap (arena.go).
	arena *arena

	// The disk tier (nil without one) and what it needs (diskstore.go).
	disk          *diskTier
	ramMax        int64
	diskNotBefore int64 // disk objects stored before this are not served
	ramHits       atomic.Int64
}

// StaleGrace is how long an entry is kept past its TTL at least: the
// origin can answer a conditional request for it with 304 instead of the
// whole object, and it answers in place of an origin that fails
// (Entry.StaleOnError) — CloudFront keeps expired objects until it evicts
// them.
const StaleGrace = time.Hour

// setAttempts bounds the retries of a Set that ristretto's write buffer
// dropped; each retry first waits for the buffer to drain.
const setAttempts = 3

// Sizing of ristretto's TinyLFU for a store of MaxBytes. The admission
// policy is only as good as its frequency counts (issue 19 item 7):
//   - smallEntry is the cost of the smallest objects the store is sized
//     for (a 1 KiB body with its headers and entryOverhead), so a store full
//     of them is counted right; larger objects only get more counters each.
//   - countersPerObject: ristretto halves every count and clears its
//     doorkeeper each NumCounters accesses; at 4 counters per object (the
//     sizing before, which assumed 4 KiB entries) that forgets a key's
//     history before it is asked for again, and the hit ratio equals LRU's.
//     16 per object is where the hit ratio stops improving on the Zipf trace
//     of TestHitRatioBeatsLRU.
//   - maxCounters bounds the sketch's memory (~4 B per counter with its
//     Bloom filter: 4 MiB at 2^20), which ristretto allocates whole at New
//     and which a run soon touches all of: stores of more than 64 Ki small
//     objects get fewer than 16 counters per object (edgefront's default
//     512 MiB, full of 1 KiB objects, 3 per object, as before), so that
//     the fixed part of the store stays below what it was (6 MiB).
//   - maxWindow bounds the doorkeeper's memory the same way (2 bits per
//     key of its window and two generations: 1 MiB at 2^19 keys).
//   - getBatch is ristretto's BufferItems: accesses are handed to the policy
//     in batches of this many per P, and a batch that finds the policy busy
//     is dropped. At 64, a third of all accesses were dropped with eight
//     concurrent clients (the hit ratio fell below LRU's); at 1024, under
//     3 %. Larger batches drop none but the policy learns of accesses that
//     much later: at 4096 it had heard of none of a 3,000-request trace
//     (2 Ps) and did worse than LRU there, for ~0.3 points more on the
//     200,000-request one.
const (
	smallEntry        = 1536
	countersPerObject = 16
	maxCounters       = 1 << 20
	maxWindow         = 1 << 19
	getBatch          = 1024
)

// New returns an empty store.
func New(o Options) (*Store, error) {
	if o.MaxBytes <= 0 {
		return nil, errors.New("cache: MaxBytes must be positive")
	}
	s := &Store{now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	a, err := newArena(arenaSize(o.MaxBytes))
	if err != nil {
		return nil, err
	}
	s.arena = a
	objects := max(o.MaxBytes/smallEntry, 64)
	c, err := ristretto.NewCache(&ristretto.Config[string, *Entry]{
		NumCounters:        min(objects*countersPerObject, maxCounters),
		MaxCost:            o.MaxBytes,
		BufferItems:        getBatch,
		IgnoreInternalCost: true, // Entry.Size already counts the overhead
		OnExit:             s.onExit,
		OnEvict:            s.onEvict,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	s.c = c
	s.door = newDoorkeeper(int(min(objects*4, maxWindow)), rand.Uint64())
	if err := s.attachDisk(o); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// arenaSize is the capacity of the arena for a store of maxBytes. The
// bodies of the entries stored cost at most maxBytes in all (Size counts
// each body's block); the rest is room for what the allocator cannot use
// (free space split between blocks) and for bodies evicted while responses
// still send them, which keep their blocks until the last one is done.
// When the arena is full anyway, an object is not kept in RAM (counted:
// ArenaStats.Failures).
func arenaSize(maxBytes int64) int64 {
	return maxBytes + maxBytes/8 + arenaSlack
}

// arenaSlack is the arena's fixed room beyond maxBytes/8.
const arenaSlack = 4 << 20

// onExit is called by ristretto whenever a value leaves the store
// (eviction, rejection by the admission policy, deletion, replacement, TTL
// expiry), exactly once per value it accepted into its write buffer. The
// store's reference to the entry's block goes: the block is reused once
// no response holds it either.
func (s *Store) onExit(e *Entry) {
	if e == nil {
		return
	}
	s.items.Add(-1)
	s.bytes.Add(-e.Size()) // what Set added: e has not changed since
	if e.mem != nil {
		e.mem.release()
	}
}

// onEvict is called by ristretto for an entry it evicts to make room for
// another: an expiration when the entry's retention had ended, an eviction
// otherwise.
//
// Entries are stored without a ristretto TTL: its expiry index costs ~23 B
// per object (8 % of the memory target), and an entry past its retention
// is already a miss for Get. Such an entry is no longer asked for, so its
// count in the admission policy only falls and it is among the first
// evicted when room is needed; until then it is bounded by MaxBytes like
// any other.
func (s *Store) onEvict(it *ristretto.Item[*Entry]) {
	if it.Value != nil && s.now().UnixNano() >= it.Value.until() {
		s.expirations.Add(1)
		return
	}
	s.evictions.Add(1)
}

// Retention is how long past e.Stored() the store keeps e: its TTL plus the
// longest of its stale-while-revalidate and stale-if-error windows and
// StaleGrace.
func Retention(e *Entry) time.Duration {
	return max(e.TTL, 0) + max(e.StaleWhileRevalidate(), e.StaleIfError(), StaleGrace)
}

// Get returns the entry for key, unless it is absent or banned by an
// invalidation created after it was stored. Expired entries are returned
// (the caller decides on revalidation or serving stale).
func (s *Store) Get(key string) (*Entry, bool) {
	return s.GetAt(key, s.now())
}

// GetAt is Get with the caller's clock reading, for callers that read the
// clock once per request. key is only hashed, never kept, so it may be a
// string that aliases a reused buffer (unsafe.String).
func (s *Store) GetAt(key string, now time.Time) (*Entry, bool) {
	e, ok := s.c.Get(key)
	if !ok || e == nil {
		return s.diskGet(key, now)
	}
	if now.UnixNano() >= e.until() {
		return nil, false // past retention; evicted when room is needed (onEvict)
	}
	if s.bans.banned(e) {
		s.deleteIfSame(key, e)
		return nil, false
	}
	s.ramHits.Add(1)
	return e, true
}

// Peek is GetAt for a second look within one request (a miss's flight
// checking whether another stored key meanwhile): when key is absent it
// counts no access in the admission policy, where GetAt would count the
// request twice and make every key asked for once look asked for twice.
func (s *Store) Peek(key string, now time.Time) (*Entry, bool) {
	if _, ok := s.c.GetTTL(key); !ok {
		return nil, false
	}
	return s.GetAt(key, now)
}

// deleteIfSame deletes key if it still holds it (a newer entry stored
// meanwhile is kept; the window between the check and the delete is tiny
// and costs at worst one extra miss).
func (s *Store) deleteIfSame(key string, e *Entry) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return
	}
	if cur, ok := s.c.Get(key); ok && cur == e {
		s.c.Del(key)
	}
}

// Set stores e under key, with its cost (e.Size()), retained until
// e.Stored() + Retention(e); it reports whether the store accepted it.
//
// It returns only once the entry is visible to Get (or known not to be).
// It reports false when the entry is already past its retention, is banned
// by an invalidation, is not admitted (admit: the store is full and the key
// was not offered before), was refused by ristretto's admission policy (the
// store is full and the key is used less than the entries it would evict),
// found no room in the arena (ArenaStats.Failures), or was dropped by
// ristretto's write buffer on every attempt.
//
// The store keeps a copy of e whose body is in the RAM tier's arena: e's
// body in hand is copied there (an entry whose body is already the
// store's, such as a copy of one Get returned, shares that body). e itself
// is not modified or kept.
func (s *Store) Set(key string, e *Entry) bool {
	return s.set(key, e, true)
}

// set is Set; toDisk writes the entry through to the disk tier (false for
// an entry promoted from it).
func (s *Store) set(key string, e *Entry, toDisk bool) bool {
	if e == nil {
		return false
	}
	if e.disk() != nil {
		return s.diskSet(key, e) // a file-backed entry stays on disk
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return false
	}
	until := e.Stored().Add(Retention(e))
	if !until.After(s.now()) || s.bans.banned(e) {
		return false
	}
	cost := e.Size()
	// One admission decision for both tiers (admit), the key offered to
	// the doorkeeper once for this request: each tier takes the object if
	// it fits in its free bytes, or, full, if the key was offered before.
	seen := s.door.offer(key)
	s.noteUntil(until.UnixNano())
	if toDisk && s.disk != nil && (seen || e.BodyLen() <= s.disk.free()) {
		s.diskEnqueue(key, e) // before RAM: a larger object goes to disk only
	}
	if cost > s.c.MaxCost() || e.BodyLen() > s.ramMax || !seen && cost > s.c.MaxCost()-s.bytes.Load() {
		return false
	}
	stored := s.inArena(e)
	if stored == nil {
		return false
	}
	for range setAttempts {
		// Count first: ristretto may evict or reject the value (and so
		// call onExit) before Set returns.
		s.items.Add(1)
		s.bytes.Add(cost)
		if s.c.Set(key, stored, cost) {
			if !toDisk {
				return true // a promotion from disk: nobody waits to see it
			}
			s.c.Wait()
			// GetTTL, not Get: Get would count a second access to key
			// in the admission policy's sketch for every miss.
			_, ok := s.c.GetTTL(key)
			return ok
		}
		// Dropped by the write buffer: ristretto never saw the value.
		s.items.Add(-1)
		s.bytes.Add(-cost)
		s.c.Wait()
	}
	stored.mem.release()
	return false
}

// inArena returns the store's copy of e, holding a reference to its body's
// block in the arena: e's body in hand copied into a new block, or e's own
// block shared. The copy's Extra is its own (one allocation with the
// copy), not e's, which may share one with e's body in hand. It returns nil when the arena has no room (counted) or e's block
// was let go meanwhile.
func (s *Store) inArena(e *Entry) *Entry {
	m := e.mem
	switch {
	case m != nil && !m.acquire():
		return nil
	case m == nil:
		if m = s.arena.newMemBlock(e.Body()); m == nil {
			return nil
		}
	}
	return e.withMem(m)
}

// withMem is the store's copy of e with its body in the arena's block m
// (and no body in hand or on disk).
func (e *Entry) withMem(m *memBlock) *Entry {
	c := *e
	c.mem = m
	return newEntry(c, entryMore{Extra: e.Extra()})
}

// admit is the store's admission decision, one for every tier (RAM in Set,
// disk when it stores an object): whether an object for key that costs
// cost is worth storing in a tier with free bytes left. An object that fits
// in free is admitted; in a full tier, one whose key was offered before,
// recently (the doorkeeper: the last 4 × as many keys as the RAM tier holds
// small objects, at most maxWindow). A key asked for once is never stored
// in a full tier, where it would push out one that is asked for again;
// past admit, ristretto's TinyLFU weighs the key against the entries it
// would evict from RAM. The caller checks that the object is not larger
// than its tier.
//
// admit records the offer: call it once per request and tier, or a key
// asked for once will look asked for twice.
func (s *Store) admit(key string, cost, free int64) bool {
	seen := s.door.offer(key)
	return seen || cost <= free
}

// noteUntil raises latestUntil to until.
func (s *Store) noteUntil(until int64) {
	for {
		cur := s.latestUntil.Load()
		if until <= cur || s.latestUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// Delete removes key.
func (s *Store) Delete(key string) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if !s.closed {
		s.c.Del(key)
		s.diskDelete(key)
	}
}

// Invalidate bans every entry of distribution whose path matches pattern (an
// exact path, or a prefix ending in '*') and that was stored before at.
//
// Patterns follow CloudFront's invalidation paths: case-sensitive, in the
// escaped form of the URI path, '*' only as the last character, and a
// pattern may name a query string ("/a.jpg?v=1", "/a.jpg*").
func (s *Store) Invalidate(distribution, pattern string, at time.Time) {
	s.InvalidateBatch(distribution, []string{pattern}, at)
}

// InvalidateBatch is Invalidate for every pattern of one invalidation
// batch, published at once. A lookup's cost does not grow with the number
// of bans (it is a few map lookups: the exact path, each distinct prefix
// length), a prefix ban replaces the older bans it covers ("/*" all of
// them), and a ban is kept only until no entry stored before it can still
// be retained (the latest retention of anything stored so far, plus an
// hour for fetches under way).
func (s *Store) InvalidateBatch(distribution string, patterns []string, at time.Time) {
	now := s.now()
	expires := time.Unix(0, s.latestUntil.Load())
	if expires.Before(at) {
		expires = at
	}
	s.bans.add(distribution, patterns, at, expires.Add(banSlack), now)
	s.saveBans()
}

// Bans prunes the expired bans and returns the number of active ones.
func (s *Store) Bans() int {
	return s.bans.prune(s.now())
}

// Evictions reports how many entries were evicted to make room since the
// store was created.
func (s *Store) Evictions() int64 { return s.evictions.Load() }

// Expirations reports how many entries were evicted after their retention
// (TTL plus the stale windows, Retention) had ended, since the store was
// created.
func (s *Store) Expirations() int64 { return s.expirations.Load() }

// Stats reports the number of entries and their total cost in bytes.
func (s *Store) Stats() (items int64, bytes int64) {
	return s.items.Load(), s.bytes.Load()
}

// Close stops the store's background goroutines and drops every entry.
// Writes after Close are ignored; Get finds nothing.
func (s *Store) Close() {
	s.closeMu.Lock()
	first := !s.closed
	if first {
		s.closed = true
		s.c.Close()
	}
	s.closeMu.Unlock()
	if first {
		s.closeDisk() // outside the lock: the promoter may be waiting for it
	}
}
