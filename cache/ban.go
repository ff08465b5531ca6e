package cache

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// banSlack keeps a ban beyond the latest retention of anything stored, so
// that a response fetched before the ban but stored after it (a slow
// origin, a long body) is still refused.
const banSlack = time.Hour

// A ban is one invalidation path of one distribution: the entries stored
// before at whose path (and query) it names are gone. Invalidation paths
// follow CloudFront's rules ("What you need to know when invalidating
// files"): case-sensitive, in the escaped form of the URI path, '*' only as
// the last character, matching 0 or more characters including '/' and '?';
// a path may name a query string ("/a.jpg?v=1", "/a.jpg?v*").
//
// Seen as a string, an entry is its path, or its path, '?' and its query
// when it has one; an exact ban names that string, a prefix ban (trailing
// '*') a prefix of it.
type ban struct {
	at      time.Time // entries stored before at are banned
	expires time.Time // no entry stored before at can be retained past this
}

// later returns the ban that covers more of two bans of one pattern.
func (b ban) later(o ban) ban {
	if o.at.After(b.at) {
		b.at = o.at
	}
	if o.expires.After(b.expires) {
		b.expires = o.expires
	}
	return b
}

// distBans is the bans of one distribution, indexed so that checking an
// entry costs a handful of map lookups whatever the number of bans: one for
// its exact path (or path and query), one per distinct length of the prefix
// bans no longer than its path, one for prefixes reaching into its query. A
// published distBans is never modified.
type distBans struct {
	exact       map[string]ban            // "/a.jpg": entries without a query
	exactQuery  map[string]map[string]ban // "/a.jpg" → "v=1": entries with that query
	prefix      map[string]ban            // "/images/" for "/images/*"
	prefixLens  []int                     // the distinct lengths of prefix's keys, ascending
	queryPrefix map[string]map[string]ban // "/a.jpg" → "v" for "/a.jpg?v*"
}

// banned reports whether a ban created after stored covers path and query.
func (d *distBans) banned(path, query string, stored time.Time) bool {
	if query == "" {
		if b, ok := d.exact[path]; ok && stored.Before(b.at) {
			return true
		}
	} else if b, ok := d.exactQuery[path][query]; ok && stored.Before(b.at) {
		return true
	}
	for _, n := range d.prefixLens {
		if n > len(path) {
			break
		}
		if b, ok := d.prefix[path[:n]]; ok && stored.Before(b.at) {
			return true
		}
	}
	if query != "" {
		for q, b := range d.queryPrefix[path] {
			if strings.HasPrefix(query, q) && stored.Before(b.at) {
				return true
			}
		}
	}
	return false
}

// each calls f with every ban and its pattern as written ("…*" for a
// prefix).
func (d *distBans) each(f func(pattern string, b ban)) {
	for p, b := range d.exact {
		f(p, b)
	}
	for p, qs := range d.exactQuery {
		for q, b := range qs {
			f(p+"?"+q, b)
		}
	}
	for p, b := range d.prefix {
		f(p+"*", b)
	}
	for p, qs := range d.queryPrefix {
		for q, b := range qs {
			f(p+"?"+q+"*", b)
		}
	}
}

// len is the number of bans.
func (d *distBans) len() int {
	n := len(d.exact) + len(d.prefix)
	for _, qs := range d.exactQuery {
		n += len(qs)
	}
	for _, qs := range d.queryPrefix {
		n += len(qs)
	}
	return n
}

// put adds one ban under its pattern, merged with one already there.
func (d *distBans) put(pattern string, b ban) {
	prefix := strings.HasSuffix(pattern, "*")
	if prefix {
		pattern = pattern[:len(pattern)-1]
	}
	path, query, hasQuery := strings.Cut(pattern, "?")
	switch {
	case prefix && hasQuery:
		putIn(&d.queryPrefix, path, query, b)
	case prefix:
		if old, ok := d.prefix[pattern]; ok {
			b = b.later(old)
		} else if i, found := slices.BinarySearch(d.prefixLens, len(pattern)); !found {
			d.prefixLens = slices.Insert(d.prefixLens, i, len(pattern))
		}
		if d.prefix == nil {
			d.prefix = map[string]ban{}
		}
		d.prefix[pattern] = b
	case hasQuery:
		putIn(&d.exactQuery, path, query, b)
	default:
		if old, ok := d.exact[pattern]; ok {
			b = b.later(old)
		}
		if d.exact == nil {
			d.exact = map[string]ban{}
		}
		d.exact[pattern] = b
	}
}

func putIn(m *map[string]map[string]ban, path, query string, b ban) {
	if *m == nil {
		*m = map[string]map[string]ban{}
	}
	qs := (*m)[path]
	if qs == nil {
		qs = map[string]ban{}
		(*m)[path] = qs
	}
	if old, ok := qs[query]; ok {
		b = b.later(old)
	}
	qs[query] = b
}

// rebuilt returns a new distBans with d's bans that keep reports true for,
// and adds; a prefix ban among adds replaces every ban it subsumes (one
// whose pattern it prefixes, made no later than it: "/*" replaces all
// older bans). It returns nil when no ban is left.
func (d *distBans) rebuilt(keep func(ban) bool, adds map[string]ban) *distBans {
	var prefixes []struct {
		p string
		b ban
	}
	for p, b := range adds {
		if strings.HasSuffix(p, "*") {
			prefixes = append(prefixes, struct {
				p string
				b ban
			}{p[:len(p)-1], b})
		}
	}
	subsumed := func(pattern string, b ban) bool {
		for _, x := range prefixes {
			if strings.HasPrefix(pattern, x.p) && pattern != x.p+"*" && !b.at.After(x.b.at) {
				return true
			}
		}
		return false
	}
	next := &distBans{}
	if d != nil {
		d.each(func(p string, b ban) {
			if keep(b) && !subsumed(p, b) {
				next.put(p, b)
			}
		})
	}
	for p, b := range adds {
		if !subsumed(p, b) {
			next.put(p, b)
		}
	}
	if next.len() == 0 {
		return nil
	}
	return next
}

// banTable maps a distribution to its bans; a published table is never
// modified.
type banTable map[string]*distBans

// banList is the lazy invalidation list: readers load the current table
// without locking, writers build a new one (copying only the distribution
// they change).
type banList struct {
	mu    sync.Mutex // serialises writers
	table atomic.Pointer[banTable]
	n     atomic.Int64 // bans in the table
}

// banned reports whether e is covered by a ban created after it was stored.
func (l *banList) banned(e *Entry) bool {
	t := l.table.Load()
	if t == nil {
		return false
	}
	d := (*t)[e.Distribution]
	return d != nil && d.banned(e.Path, e.Query(), e.Stored())
}

// add publishes one ban per pattern of dist, each expiring at expires, and
// prunes the bans that expired by now.
func (l *banList) add(dist string, patterns []string, at, expires, now time.Time) {
	if len(patterns) == 0 {
		return
	}
	adds := make(map[string]ban, len(patterns))
	for _, p := range patterns {
		b := ban{at: at, expires: expires}
		if old, ok := adds[p]; ok {
			b = b.later(old)
		}
		adds[p] = b
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.pruned(now)
	if d := next[dist].rebuilt(func(ban) bool { return true }, adds); d != nil {
		next[dist] = d
	}
	l.publish(next)
}

// prune drops the expired bans and reports how many remain.
func (l *banList) prune(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.publish(l.pruned(now))
	return int(l.n.Load())
}

// pruned returns a new table without the bans expired by now; distributions
// with none expired share their index with the current table. The caller
// holds mu.
func (l *banList) pruned(now time.Time) banTable {
	next := banTable{}
	t := l.table.Load()
	if t == nil {
		return next
	}
	live := func(b ban) bool { return now.Before(b.expires) }
	for dist, d := range *t {
		expired := false
		d.each(func(_ string, b ban) { expired = expired || !live(b) })
		if !expired {
			next[dist] = d
		} else if r := d.rebuilt(live, nil); r != nil {
			next[dist] = r
		}
	}
	return next
}

// publish swaps in t and updates the count. The caller holds mu.
func (l *banList) publish(t banTable) {
	n := 0
	for _, d := range t {
		n += d.len()
	}
	l.table.Store(&t)
	l.n.Store(int64(n))
}
