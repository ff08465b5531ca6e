package cache

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// banSlack keeps a ban beyond the longest retention so that a response
// fetched before the ban but stored after it (a slow origin, a long body)
// is still caught.
const banSlack = time.Hour

// ban is one invalidation path of one distribution.
type ban struct {
	pattern string // without the trailing '*' when prefix is set
	prefix  bool
	at      time.Time // entries stored before at are banned
}

// matches reports whether the ban covers an entry's path and query: an
// invalidation path names the path, or the path and its query string
// ("/a.jpg?x=1"), and a trailing '*' makes it a prefix (CloudFront's rules:
// case-sensitive, '*' only at the end, matching 0 or more characters
// including '/' and '?').
func (b *ban) matches(path, query string) bool {
	p := b.pattern
	if len(p) <= len(path) {
		if b.prefix {
			return strings.HasPrefix(path, p)
		}
		return query == "" && p == path
	}
	// The pattern reaches past the path: it must name the query string too.
	if query == "" || p[:len(path)] != path || p[len(path)] != '?' {
		return false
	}
	q := p[len(path)+1:]
	if b.prefix {
		return strings.HasPrefix(query, q)
	}
	return q == query
}

// banTable maps a distribution to its bans; a published table is never
// modified.
type banTable map[string][]ban

// banList is the lazy invalidation list: readers load the current table
// without locking, writers copy it.
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
	bs := (*t)[e.Distribution]
	for i := range bs {
		b := &bs[i]
		if e.Stored.Before(b.at) && b.matches(e.Path, e.Query) {
			return true
		}
	}
	return false
}

// add publishes a ban, replacing an older ban of the same pattern, and
// prunes the expired ones (at+life before now).
func (l *banList) add(dist, pattern string, at, now time.Time, life time.Duration) {
	b := ban{pattern: pattern, at: at}
	if strings.HasSuffix(pattern, "*") {
		b.pattern, b.prefix = pattern[:len(pattern)-1], true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.pruned(now, life)
	bs := next[dist]
	replaced := false
	for i := range bs {
		if bs[i].pattern == b.pattern && bs[i].prefix == b.prefix {
			if bs[i].at.Before(b.at) {
				bs[i].at = b.at
			}
			replaced = true
			break
		}
	}
	if !replaced {
		bs = append(bs, b)
	}
	next[dist] = bs
	l.publish(next)
}

// prune drops the expired bans and reports how many remain.
func (l *banList) prune(now time.Time, life time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.table.Load(); t != nil && l.anyExpired(*t, now, life) {
		l.publish(l.pruned(now, life))
	}
	return int(l.n.Load())
}

func (l *banList) anyExpired(t banTable, now time.Time, life time.Duration) bool {
	for _, bs := range t {
		for _, b := range bs {
			if !now.Before(b.at.Add(life)) {
				return true
			}
		}
	}
	return false
}

// pruned returns a copy of the current table, every slice fresh, without
// the expired bans. The caller holds mu.
func (l *banList) pruned(now time.Time, life time.Duration) banTable {
	next := banTable{}
	t := l.table.Load()
	if t == nil {
		return next
	}
	for dist, bs := range *t {
		var keep []ban
		for _, b := range bs {
			if now.Before(b.at.Add(life)) {
				keep = append(keep, b)
			}
		}
		if len(keep) > 0 {
			next[dist] = keep
		}
	}
	return next
}

// publish swaps in t and updates the count. The caller holds mu.
func (l *banList) publish(t banTable) {
	n := 0
	for _, bs := range t {
		n += len(bs)
	}
	l.table.Store(&t)
	l.n.Store(int64(n))
}
