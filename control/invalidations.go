package control

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file keeps the invalidation batches: their IDs, status, the
// CallerReference index, CloudFront's in-progress limits and path rules.

// CloudFront's invalidation limits.
const (
	// MaxPathsInProgress is how many paths without a wildcard may be in
	// progress per distribution.
	MaxPathsInProgress = 3000
	// MaxWildcardPathsInProgress is how many paths ending in '*' may be in
	// progress per distribution (independent of MaxPathsInProgress).
	MaxWildcardPathsInProgress = 15
	// MaxPathLength is the longest invalidation path.
	MaxPathLength = 4000
)

// Invalidation statuses.
const (
	StatusInProgress = "InProgress"
	StatusCompleted  = "Completed"
)

// invalidation is one batch.
type invalidation struct {
	id              string
	callerReference string
	paths           []string // as submitted
	created         time.Time
	done            time.Time // when it is reported Completed
	// seq is the batch's position in the cluster's log and completed
	// whether every live node applied it (Replicator.Completed); nil for
	// a single node.
	seq       uint64
	completed func(seq uint64) bool
}

func (inv *invalidation) status(now time.Time) string {
	if now.Before(inv.done) || inv.completed != nil && !inv.completed(inv.seq) {
		return StatusInProgress
	}
	return StatusCompleted
}

// invalidations holds the batches of every distribution, newest last.
type invalidations struct {
	mu     sync.Mutex
	byDist map[string][]*invalidation
	keep   int // completed batches kept per distribution
}

func newInvalidations(keep int) *invalidations {
	return &invalidations{byDist: map[string][]*invalidation{}, keep: keep}
}

// errBatchExists is CloudFront's InvalidationBatchAlreadyExists.
var errBatchExists = &Error{Status: 409, Code: "InvalidationBatchAlreadyExists",
	Message: "the CallerReference was already used for an invalidation batch with other paths"}

// create records a batch for dist, or returns the batch with the same
// caller reference and the same paths (created is then false). apply is
// called with the new batch under the lock, so that the bans of two
// batches are applied in the order they are listed.
func (s *invalidations) create(dist, ref string, paths []string, now time.Time, inProgress time.Duration, apply func(*invalidation)) (inv *invalidation, created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := s.admit(dist, ref, paths, now); old != nil || err != nil {
		return old, false, err
	}
	inv = &invalidation{id: newID('I'), callerReference: ref, paths: paths, created: now, done: now.Add(inProgress)}
	apply(inv)
	s.byDist[dist] = s.trim(append(s.byDist[dist], inv), now)
	return inv, true, nil
}

// check is create's checks alone: the batch with the same caller reference
// and paths, errBatchExists, or CloudFront's in-progress limits.
func (s *invalidations) check(dist, ref string, paths []string, now time.Time) (*invalidation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admit(dist, ref, paths, now)
}

// admit returns the batch of dist with caller reference ref when its paths
// are paths, or an error when a batch of paths may not be created now; nil
// and nil when it may. s.mu is held.
func (s *invalidations) admit(dist, ref string, paths []string, now time.Time) (*invalidation, error) {
	list := s.byDist[dist]
	for _, old := range list {
		if old.callerReference == ref {
			if samePaths(old.paths, paths) {
				return old, nil
			}
			return nil, errBatchExists
		}
	}
	var files, wild int
	for _, old := range list {
		if old.status(now) != StatusInProgress {
			continue
		}
		for _, p := range old.paths {
			if strings.HasSuffix(p, "*") {
				wild++
			} else {
				files++
			}
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "*") {
			wild++
		} else {
			files++
		}
	}
	if files > MaxPathsInProgress {
		return nil, &Error{Status: 400, Code: "TooManyInvalidationsInProgress",
			Message: fmt.Sprintf("you have exceeded the maximum of %d invalidation paths without a wildcard in progress", MaxPathsInProgress)}
	}
	if wild > MaxWildcardPathsInProgress {
		return nil, &Error{Status: 400, Code: "TooManyInvalidationsInProgress",
			Message: fmt.Sprintf("you have exceeded the maximum of %d wildcard invalidation paths in progress", MaxWildcardPathsInProgress)}
	}
	return nil, nil
}

// record adds inv, a batch replicated from the cluster's log, to dist's
// batches unless one with its ID or its caller reference is there (the
// first in the log wins, so every node keeps the same one).
func (s *invalidations) record(dist string, inv *invalidation, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.byDist[dist]
	for _, old := range list {
		if old.id == inv.id || old.callerReference == inv.callerReference {
			return
		}
	}
	s.byDist[dist] = s.trim(append(list, inv), now)
}

// byReference returns the batch of dist with caller reference ref.
func (s *invalidations) byReference(dist, ref string) (*invalidation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inv := range s.byDist[dist] {
		if inv.callerReference == ref {
			return inv, true
		}
	}
	return nil, false
}

// trim drops the oldest completed batches beyond keep.
func (s *invalidations) trim(list []*invalidation, now time.Time) []*invalidation {
	completed := 0
	for _, inv := range list {
		if inv.status(now) == StatusCompleted {
			completed++
		}
	}
	if completed <= s.keep {
		return list
	}
	drop := completed - s.keep
	out := list[:0:0]
	for _, inv := range list {
		if drop > 0 && inv.status(now) == StatusCompleted {
			drop--
			continue
		}
		out = append(out, inv)
	}
	return out
}

// get returns the batch id of dist.
func (s *invalidations) get(dist, id string) (*invalidation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inv := range s.byDist[dist] {
		if inv.id == id {
			return inv, true
		}
	}
	return nil, false
}

// list returns dist's batches, newest first.
func (s *invalidations) list(dist string) []*invalidation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.byDist[dist])
	slices.Reverse(out)
	return out
}

// inProgress counts dist's batches in progress.
func (s *invalidations) inProgress(dist string, now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, inv := range s.byDist[dist] {
		if inv.status(now) == StatusInProgress {
			n++
		}
	}
	return n
}

func samePaths(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// newID returns a CloudFront-style ID: prefix and 13 upper-case letters and
// digits.
func newID(prefix byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var buf [13]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
	out := make([]byte, 1, 14)
	out[0] = prefix
	for _, b := range buf {
		out = append(out, alphabet[int(b)%len(alphabet)])
	}
	return string(out)
}

// normalizePath checks an invalidation path against CloudFront's rules and
// returns the form the cache matches on: the URI path as a viewer sends it.
//
// The path must start with '/', be at most MaxPathLength characters, and
// may hold '*' only as its last character. Characters that must be
// percent-encoded in a request URI (non-ASCII, controls, space and
// "#<>\^`{|}) are encoded, as CloudFront asks users to do themselves; a '%'
// that does not start an escape becomes %25; escapes already there are
// kept (with upper-case hex digits), because CloudFront matches the
// encoded form and does not decode other characters.
func normalizePath(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("an invalidation path is empty")
	case !strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("invalidation path %q must begin with a slash (/)", p)
	case len(p) > MaxPathLength:
		return "", fmt.Errorf("invalidation path %.40q… is longer than %d characters", p, MaxPathLength)
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return "", fmt.Errorf("invalidation path %q: the * wildcard may only be the last character", p)
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(p[i+1 : i+3]))
			i += 2
		case c <= ' ' || c >= 0x7f || strings.IndexByte("\"#<>\\^`{|}%", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
