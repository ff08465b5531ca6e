package proxy

import (
	"net/http"
	"slices"
	"strings"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/fields"
)

// This file keeps the variants of a response that says Vary apart, under
// httpSemantics: rfc9111 (RFC 9111 §4.1): a stored response is used only
// for requests whose header fields named by its Vary match the request
// that fetched it. CloudFront's mode never splits the cache on Vary (the
// cache key alone decides, filterVary).
//
// The variants of one cache key are stored under secondary keys: the key,
// then each Vary field name with the request's normalised values. Which
// names that is, a lookup learns from a marker stored under varyKey (the
// latest response's Vary): a response whose Vary names other fields
// replaces the marker, and with it every older variant is out of reach.

// varySuffix makes a cache key the key of the marker of the variants
// cached under it.
const varySuffix = "\x00vary"

// varyKey is the key of the marker of the variants cached under key.
func varyKey(key string) string { return key + varySuffix }

// appendVariant appends to key the secondary key of the request header h
// for the Vary field values vary: the names sorted, each with its values
// normalised (split at commas, trimmed, lower-cased, sorted), so that
// requests differing only in whitespace, case or list order share a
// variant.
func appendVariant(key []byte, vary []string, h http.Header) []byte {
	var names []string
	for name := range fields.Tokens(vary) {
		if name = http.CanonicalHeaderKey(name); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var vals []string
	for _, name := range names {
		vals = vals[:0]
		for v := range fields.Tokens(h[name]) {
			vals = append(vals, strings.ToLower(v))
		}
		slices.Sort(vals)
		key = append(key, "\x00v\x00"...)
		key = append(key, name...)
		key = append(key, '=')
		key = append(key, strings.Join(vals, ",")...)
	}
	return key
}

// variantFields reports the Vary values of an origin response that make variants
// under RFC 9111: nil without Vary, or with Vary: * (never reused without
// the origin, newJob).
func variantFields(h http.Header) []string {
	for name := range fields.Tokens(h["Vary"]) {
		if name == "*" {
			return nil
		}
	}
	return h["Vary"]
}

// variantKey is the key under which j's answer, whose origin header says
// vary (variantFields), is stored: the variant of the leader's request; the marker
// naming vary's fields is (re)written for later lookups.
func (s *Server) variantKey(j *flightJob, vary []string, marker *cache.Entry) string {
	marker.Header = cache.NewHeader(http.Header{"Vary": {strings.Join(vary, ", ")}})
	s.store.Set(varyKey(j.baseKey), marker)
	return string(appendVariant([]byte(j.baseKey), vary, j.viewerHeader))
}
