package config

import "strings"

// This file is the path pattern matcher: a pattern is cut at its '*'s into
// literal segments (which may contain '?', matching any one byte), and a
// path matches when the first segment is its prefix, the last its suffix
// (not overlapping the prefix) and the segments in between occur in order,
// without overlapping, in what is left. Taking the leftmost occurrence of
// each middle segment is always right: segments have a fixed length, so a
// match that places one further right can place it leftmost instead and
// leave more room for the rest. Each segment is thus searched once:
// with strings.Index when it has no '?', else with the bit-parallel
// Shift-And algorithm, one pass over the path with at most four words of
// state (a segment is at most 255 bytes long). No backtracking, so the
// work is linear in the path's length whatever the pattern.

// matcher is a compiled pattern.
type matcher struct {
	star   bool    // the pattern has a '*'; without one, prefix is the whole pattern
	prefix segment // anchored at the start of the path
	suffix segment // anchored at the end (only with star)
	middle []segment
	// class maps a byte to its index in a wild segment's masks: 1 + the
	// rank of the byte among the pattern's distinct literal bytes, 0 for a
	// byte the pattern does not contain. nil when no middle segment has a '?'.
	class *[256]uint8
}

// segment is a '*'-free piece of a pattern.
type segment struct {
	lit  string
	wild bool // lit contains '?'
	// masks are the Shift-And masks of a wild middle segment: for byte
	// class c, the words masks[c*words : (c+1)*words] have bit i set when
	// lit[i] is '?' or a byte of class c.
	masks []uint64
	words int
}

// maxSegmentWords is how many 64-bit words a segment's Shift-And state
// takes at most: MaxPathPatternLen bits.
const maxSegmentWords = (MaxPathPatternLen + 63) / 64

// compileMatcher compiles a pattern (with the leading '/' already added, so
// at most MaxPathPatternLen+1 bytes long; a middle segment, which follows a
// '*', is then at most MaxPathPatternLen-2 bytes, within maxSegmentWords).
func compileMatcher(pat string) *matcher {
	parts := strings.Split(pat, "*")
	m := &matcher{star: len(parts) > 1, prefix: newSegment(parts[0])}
	if !m.star {
		return m
	}
	m.suffix = newSegment(parts[len(parts)-1])
	for _, lit := range parts[1 : len(parts)-1] {
		if lit != "" {
			m.middle = append(m.middle, newSegment(lit))
		}
	}
	for i := range m.middle {
		if !m.middle[i].wild {
			continue
		}
		if m.class == nil {
			m.class = byteClasses(pat)
		}
		m.middle[i].compileMasks(m.class)
	}
	return m
}

func newSegment(lit string) segment {
	return segment{lit: lit, wild: strings.IndexByte(lit, '?') >= 0}
}

// byteClasses numbers the distinct bytes of pat other than '*' and '?'
// from 1, in byte order; every other byte is class 0.
func byteClasses(pat string) *[256]uint8 {
	var seen [256]bool
	for i := 0; i < len(pat); i++ {
		seen[pat[i]] = true
	}
	seen['*'], seen['?'] = false, false
	class := new([256]uint8)
	n := uint8(0)
	for b := range seen {
		if seen[b] {
			n++
			class[b] = n
		}
	}
	return class
}

// compileMasks builds the Shift-And masks of s over the byte classes.
func (s *segment) compileMasks(class *[256]uint8) {
	classes := 0
	for _, c := range class {
		classes = max(classes, int(c))
	}
	classes++
	s.words = (len(s.lit) + 63) / 64
	s.masks = make([]uint64, classes*s.words)
	for i := 0; i < len(s.lit); i++ {
		bit := uint64(1) << (i % 64)
		if s.lit[i] == '?' {
			for c := range classes {
				s.masks[c*s.words+i/64] |= bit
			}
			continue
		}
		s.masks[int(class[s.lit[i]])*s.words+i/64] |= bit
	}
}

// equal reports whether s matches t, which has s's length.
func (s *segment) equal(t string) bool {
	if !s.wild {
		return s.lit == t
	}
	for i := 0; i < len(t); i++ {
		if s.lit[i] != '?' && s.lit[i] != t[i] {
			return false
		}
	}
	return true
}

// index returns where s first occurs in t (-1 if nowhere) and the work
// done: the bytes of t examined, times the words of state per byte.
func (s *segment) index(t string, class *[256]uint8) (int, int) {
	if !s.wild {
		i := strings.Index(t, s.lit)
		if i < 0 {
			return -1, len(t)
		}
		return i, i + len(s.lit)
	}
	if len(s.lit) > len(t) {
		return -1, 0
	}
	// Bit i of state is set when lit[:i+1] matches the bytes of t ending at j.
	var state [maxSegmentWords]uint64
	words, last, top := s.words, (len(s.lit)-1)/64, uint64(1)<<((len(s.lit)-1)%64)
	for j := 0; j < len(t); j++ {
		mask := s.masks[int(class[t[j]])*words:]
		carry := uint64(1) // lit[:1] may start at j
		for w := 0; w < words; w++ {
			next := (state[w]<<1 | carry) & mask[w]
			carry = state[w] >> 63
			state[w] = next
		}
		if state[last]&top != 0 {
			return j + 1 - len(s.lit), (j + 1) * words
		}
	}
	return -1, len(t) * words
}

// match reports whether path matches m, and the work done (see index).
func (m *matcher) match(path string) (bool, int) {
	pre, suf := len(m.prefix.lit), len(m.suffix.lit)
	if !m.star {
		return len(path) == pre && m.prefix.equal(path), pre
	}
	if len(path) < pre+suf || !m.prefix.equal(path[:pre]) || !m.suffix.equal(path[len(path)-suf:]) {
		return false, pre + suf
	}
	work := pre + suf
	rest := path[pre : len(path)-suf]
	for i := range m.middle {
		s := &m.middle[i]
		at, w := s.index(rest, m.class)
		work += w
		if at < 0 {
			return false, work
		}
		rest = rest[at+len(s.lit):]
	}
	return true, work
}
