package h1

import (
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/edgefront/edgefront/fields"
)

// errGeneral means a request is valid HTTP, or may be, but is outside what
// this server answers itself (a body, an upgrade, HTTP/1.0, an unusual
// target…): unless checkHead refuses it, the connection goes to the general
// net/http server, which has the final word on the rest of what is
// malformed.
var errGeneral = errors.New("h1: request needs the general server")

// request is a parsed request head. Every string in it is a substring of
// the head, which is one allocation per request.
type request struct {
	method, target string
	host           string
	path, rawPath  string
	rawQuery       string
	header         http.Header
	close          bool // Connection: close
}

// parseHead parses a complete request head — the request line and header
// lines, each ending in CRLF, then an empty line — of a request this server
// answers itself: HTTP/1.1, origin-form target, exactly one Host, no body
// (no Transfer-Encoding, Content-Length absent or 0), no Expect, no
// Upgrade, not CONNECT. Anything else, valid or not, is errGeneral. It
// accepts nothing that net/http's server or checkHead would refuse, and what
// it accepts reads as net/http reads it (FuzzParseHead checks all three).
//
// The header goes into h, which must be empty: a connection reuses one map
// for all its requests.
func parseHead(s string, h http.Header) (request, error) {
	var r request
	line, rest, ok := strings.Cut(s, "\r\n")
	if !ok {
		return r, errGeneral
	}
	if !parseRequestLine(&r, line) {
		return r, errGeneral
	}
	// One value per line: a backing array for all values, sized by the
	// line count, new for each request (handlers may keep the slices).
	n := strings.Count(rest, "\n")
	if n > 0 {
		n-- // the final empty line
	}
	r.header = h
	vals := make([]string, 0, n)
	hosts := 0
	for {
		line, rest, ok = strings.Cut(rest, "\r\n")
		if !ok {
			return r, errGeneral
		}
		if line == "" {
			break
		}
		name, value, ok := splitField(line)
		if !ok {
			return r, errGeneral
		}
		if strings.IndexByte(name, '_') >= 0 && framingAlias(name) {
			return r, errGeneral // refused by checkHead
		}
		if !isCanonical(name) {
			name = textproto.CanonicalMIMEHeaderKey(name)
		}
		switch name {
		case "Host":
			hosts++
			r.host = value
			continue // net/http keeps Host out of Header
		case "Content-Length":
			if value != "0" || len(r.header["Content-Length"]) > 0 {
				return r, errGeneral
			}
		case "Transfer-Encoding", "Expect", "Upgrade", "Http2-Settings":
			return r, errGeneral
		case "Connection":
			// "close" ends the connection after the response; an upgrade
			// goes to the general server.
			if fields.HasToken([]string{value}, "upgrade") {
				return r, errGeneral
			}
			r.close = r.close || fields.HasToken([]string{value}, "close")
		}
		if vs := r.header[name]; vs != nil {
			r.header[name] = append(vs, value)
			continue
		}
		vals = append(vals, value)
		r.header[name] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if rest != "" || hosts != 1 || !validHost(r.host) {
		return r, errGeneral
	}
	return r, nil
}

// parseRequestLine parses "METHOD SP origin-form SP HTTP/1.1".
func parseRequestLine(r *request, line string) bool {
	method, rest, ok := strings.Cut(line, " ")
	if !ok || method == "" || !isToken(method) || method == "CONNECT" {
		return false
	}
	target, proto, ok := strings.Cut(rest, " ")
	if !ok || proto != "HTTP/1.1" || target == "" || target[0] != '/' {
		return false
	}
	r.method, r.target = method, target
	path, query, hasQuery := strings.Cut(target, "?")
	if plainPath(path) && (!hasQuery || plainQuery(query)) {
		r.path, r.rawQuery = path, query
		return true
	}
	// Escapes and unusual characters: let net/url decide, as net/http does.
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return false
	}
	r.path, r.rawPath, r.rawQuery = u.Path, u.RawPath, u.RawQuery
	return true
}

// splitField splits "Name: value" into a token name and the value without
// surrounding blanks; it refuses obs-fold, blanks before the colon and
// control characters in the value.
func splitField(line string) (name, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 || !isToken(line[:i]) {
		return "", "", false
	}
	v := line[i+1:]
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	for j := 0; j < len(v); j++ {
		if c := v[j]; c < ' ' && c != '\t' || c == 0x7f {
			return "", "", false
		}
	}
	return line[:i], v, true
}

// isCanonical reports whether a token header name is already in
// textproto's canonical form (so it can be used without a copy).
func isCanonical(s string) bool {
	upper := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}

// validHost accepts the Host values of ordinary requests: a registered name
// or IPv4/IPv6 literal and an optional port. Anything rarer goes to the
// general server, which validates it as net/http does.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// Character classes, as lookup tables.
var (
	tokenChars = charTable("!#$%&'*+-.^_`|~")
	// pathChars are the path characters net/url keeps as they are (no
	// escape, no RawPath): unreserved, "$&+,;=", ':', '@' and '/'.
	pathChars = charTable("-._~$&+,;=:@/")
)

func charTable(extra string) (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for i := 0; i < len(extra); i++ {
		t[extra[i]] = true
	}
	return t
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

func plainPath(s string) bool {
	for i := 0; i < len(s); i++ {
		if !pathChars[s[i]] {
			return false
		}
	}
	return true
}

// plainQuery: printable ASCII without '#'; net/url keeps it as RawQuery.
func plainQuery(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}
