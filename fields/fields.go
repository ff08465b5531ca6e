// Package fields holds the HTTP field rules that every hop of edgefront
// shares, so each is written once: how a comma-separated field value is
// split into its elements (RFC 9110 §5.6.1), and which fields describe one
// connection rather than the message and so are never forwarded (RFC 9110
// §7.6.1) — from viewer to origin and from origin to viewer alike — and
// the Date value edgefront's own servers (h1, h2) render once a second.
package fields

import (
	"iter"
	"net/http"
	"net/textproto"
	"strings"
)

// Tokens yields the elements of a comma-separated field's values, each
// trimmed of optional whitespace; empty elements ("a, , b") are skipped, as
// RFC 9110 §5.6.1 asks of recipients.
func Tokens(values []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range values {
			for v != "" {
				var t string
				t, v, _ = strings.Cut(v, ",")
				if t = textproto.TrimString(t); t != "" && !yield(t) {
					return
				}
			}
		}
	}
}

// HasToken reports whether a comma-separated field's values list token,
// compared case-insensitively (connection options, Vary names, cache
// directives without arguments).
func HasToken(values []string, token string) bool {
	for t := range Tokens(values) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// hopByHop are the fields that describe one connection: RFC 9110 §7.6.1
// names Connection and, as "known to require removal", Proxy-Connection,
// Keep-Alive, TE, Transfer-Encoding and Upgrade; Trailer announces fields
// of this connection's chunked framing, redone on the next hop; and
// Proxy-Authenticate / Proxy-Authorization are credentials for this hop's
// proxy (hop-by-hop in RFC 7235 §4.3–4.4), never for the origin or the
// viewer. Keys are canonical.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
}

// HopByHop returns a test of whether a field of h (canonical name) is
// hop-by-hop: one of the fixed list above or one that h's Connection field
// names. It parses Connection once; use it when walking h's fields.
func HopByHop(h http.Header) func(name string) bool {
	var named []string
	for t := range Tokens(h["Connection"]) {
		named = append(named, textproto.CanonicalMIMEHeaderKey(t))
	}
	return func(name string) bool {
		if hopByHop[name] {
			return true
		}
		for _, n := range named {
			if n == name {
				return true
			}
		}
		return false
	}
}

// RemoveHopByHop deletes from h every hop-by-hop field: those h's
// Connection field names, then the fixed list.
func RemoveHopByHop(h http.Header) {
	for t := range Tokens(h["Connection"]) {
		h.Del(t)
	}
	for name := range hopByHop {
		delete(h, name)
	}
}
