package config

import (
	"fmt"
	"strings"
)

// Pattern is a compiled CloudFront path pattern: '*' matches zero or more
// characters (including '/'), '?' exactly one; matching is case-sensitive and
// against the URI path only.
//
// A leading '/' is optional: CloudFront treats "images/*.jpg" and
// "/images/*.jpg" the same, so a pattern that does not start with '/' or '*'
// is matched as if it did. Matching is per byte; pass the path as CloudFront
// sees it (non-ASCII characters percent-encoded).
type Pattern struct {
	src  string
	norm string   // with the leading '/' added where CloudFront implies it
	m    *matcher // norm compiled; nil in the zero Pattern
}

// MaxPathPatternLen is CloudFront's limit on a path pattern's length.
const MaxPathPatternLen = 255

// CompilePattern compiles a CloudFront path pattern. It accepts what
// CloudFront accepts: up to 255 characters from A-Z a-z 0-9 _ - . * ? $ / ~
// " ' @ : + and &.
func CompilePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("path pattern is empty")
	}
	if len(s) > MaxPathPatternLen {
		return Pattern{}, fmt.Errorf("path pattern is %d characters long, the maximum is %d", len(s), MaxPathPatternLen)
	}
	for i := 0; i < len(s); i++ {
		if !patternChar(s[i]) {
			return Pattern{}, fmt.Errorf("path pattern contains %q, which CloudFront does not allow (allowed: A-Z a-z 0-9 _ - . * ? $ / ~ \" ' @ : + &)", s[i])
		}
	}
	norm := s
	if s[0] != '/' && s[0] != '*' {
		norm = "/" + s
	}
	return Pattern{src: s, norm: norm, m: compileMatcher(norm)}, nil
}

func patternChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(`_-.*?$/~"'@:+&`, c) >= 0
}

// Match reports whether path matches the pattern.
//
// It takes time linear in len(path) (plus the pattern's length): the
// literal segments between '*'s are found leftmost-first, each once (see
// matcher), never by backtracking.
func (p Pattern) Match(path string) bool {
	ok, _ := p.match(path)
	return ok
}

// match is Match that also returns the work done: the number of path bytes
// examined, each counted once per 64-bit word of state it cost.
func (p Pattern) match(path string) (bool, int) {
	m := p.m
	if m == nil { // the zero Pattern: only its (empty) text matches
		m = compileMatcher(p.src)
	}
	return m.match(path)
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }
