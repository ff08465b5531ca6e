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
	norm string // with the leading '/' added where CloudFront implies it
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
	return Pattern{src: s, norm: norm}, nil
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
// It is the iterative wildcard match with backtracking to the last '*' only,
// O(len(pattern)·len(path)) in the worst case, never exponential.
func (p Pattern) Match(path string) bool {
	pat := p.norm
	if pat == "" {
		pat = p.src
	}
	pi, si := 0, 0
	star, mark := -1, 0 // position of the last '*' and the path index it resumes at
	for si < len(path) {
		switch {
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == path[si]):
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }
