package config

import (
	"net/url"
	"slices"
	"strings"
)

// This file holds the small value checks shared by the compile steps.

// isHostName reports whether s is a DNS host name (letters, digits and '-'
// in dot-separated labels of at most 63 characters, 253 in all); with
// wildcard, a leading "*." is allowed, as in CloudFront aliases.
func isHostName(s string, wildcard bool) bool {
	if wildcard {
		s = strings.TrimPrefix(s, "*.")
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// isHTTPURL reports whether s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != ""
}

// oneOf checks that v is one of allowed; "" counts as absent and passes.
func oneOf(p *problems, field, v string, allowed ...string) bool {
	if v == "" || slices.Contains(allowed, v) {
		return true
	}
	p.add(field, "must be one of %s (got %q)", strings.Join(allowed, ", "), v)
	return false
}

// inRange checks an optional integer setting and returns it or def.
func inRange(p *problems, field string, v *int, lo, hi, def int) int {
	if v == nil {
		return def
	}
	if *v < lo || *v > hi {
		p.add(field, "must be between %d and %d (got %d)", lo, hi, *v)
		return def
	}
	return *v
}

// isHeaderName reports whether s is an HTTP header field name (RFC 9110 token).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// objectNameChars are the characters CloudFront allows in DefaultRootObject.
func isObjectName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte(`_-.*$/~"'&`, c) >= 0) {
			return false
		}
	}
	return true
}
