package h1

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what a request may contain beyond its head.
const (
	// maxChunkExtension is the longest chunk extension accepted: the bytes
	// between a chunk size and its CRLF. Extensions carry nothing edgefront
	// or its origins use; a long one only costs (CVE-2023-39326) or hides
	// something (a second reading of the line).
	maxChunkExtension = 256
	// maxChunkSizeDigits is the most hex digits in a chunk size.
	maxChunkSizeDigits = 16
	// maxTrailerBytes bounds the trailer section of a chunked body.
	maxTrailerBytes = 4096
	// chunkLookahead is how much of a chunked request body is read and
	// checked before the request reaches the handler: a body (with its
	// framing) up to this size is refused whole if its framing is faulty,
	// before the handler could start an origin request; beyond it, the body
	// is checked as the handler reads it, and a fault fails the read.
	chunkLookahead = 64 << 10
)

// errMalformed means a request is refused: answered 400, then the
// connection is closed. Only what could be read two ways — by net/http,
// by an origin, by another intermediary — or what an edge never serves is
// refused here; what is merely unusual goes to the general server.
var errMalformed = errors.New("h1: malformed request")

func malformed(reason string) error { return fmt.Errorf("%w: %s", errMalformed, reason) }

// bodyKind is how a request's body is framed.
type bodyKind uint8

const (
	bodyNone        bodyKind = iota
	bodyLength               // Content-Length bytes
	bodyChunked              // chunked transfer coding
	bodyUnsupported          // another transfer coding: net/http refuses it (501)
)

// framing is a request head's body framing, as checkHead reads it (and as
// net/http does: FuzzParseHead checks that they agree).
type framing struct {
	kind   bodyKind
	length int64 // bodyLength
	expect bool  // Expect: 100-continue: the body comes when asked for
}

// checkHead checks a complete request head (request line, header lines,
// empty line, every line ending in CRLF) against the rules every request
// is held to, whichever server answers it, and returns its body framing.
// It refuses (errMalformed):
//   - a line ending in a bare LF, or a CR not followed by LF;
//   - obs-fold (a line starting with a blank), a header name that is not a
//     token or has blanks before its colon, control characters in a value;
//   - a request line other than "method SP target SP HTTP/1.x";
//   - CONNECT, and the asterisk-form target on any method but OPTIONS;
//   - Transfer-Encoding with Content-Length, or on HTTP/1.0 (RFC 9112
//     §6.1: the framing is faulty), Content-Length values that are not
//     digits or differ;
//   - a framing or connection header spelt with '_' for '-'
//     (Transfer_Encoding): an origin reading names CGI-style would take it
//     for the real one.
func checkHead(s string) (framing, error) {
	var f framing
	line, rest, ok := strings.Cut(s, "\r\n")
	if !ok {
		return f, malformed("no CRLF")
	}
	method, rest1, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest1, " ")
	if !ok1 || !ok2 || method == "" || !isToken(method) || target == "" || !visible(target) {
		return f, malformed("request line")
	}
	http11 := proto == "HTTP/1.1"
	if !http11 && proto != "HTTP/1.0" {
		return f, malformed("version")
	}
	if method == "CONNECT" {
		return f, malformed("CONNECT")
	}
	if target[0] == '*' && (target != "*" || method != "OPTIONS") {
		return f, malformed("asterisk-form")
	}
	var cl, te string
	ncl, nte := 0, 0
	for {
		line, rest, ok = strings.Cut(rest, "\r\n")
		if !ok {
			return f, malformed("no CRLF")
		}
		if line == "" {
			break
		}
		name, value, ok := splitField(line)
		if !ok {
			return f, malformed("header line")
		}
		switch {
		case strings.EqualFold(name, "Content-Length"):
			if value == "" || len(value) > 18 || strings.Trim(value, "0123456789") != "" || ncl > 0 && value != cl {
				return f, malformed("Content-Length")
			}
			cl = value
			ncl++
		case strings.EqualFold(name, "Transfer-Encoding"):
			te = value
			nte++
		case strings.EqualFold(name, "Expect"):
			f.expect = f.expect || strings.EqualFold(value, "100-continue")
		case strings.IndexByte(name, '_') >= 0 && framingAlias(name):
			return f, malformed("header name with '_'")
		}
	}
	if rest != "" {
		return f, malformed("after the head")
	}
	switch {
	case nte > 0 && !http11:
		return f, malformed("Transfer-Encoding on HTTP/1.0")
	case nte > 0 && ncl > 0:
		return f, malformed("Transfer-Encoding and Content-Length")
	case nte > 0:
		f.kind = bodyUnsupported
		if nte == 1 && strings.EqualFold(te, "chunked") {
			f.kind = bodyChunked
		}
	case ncl > 0:
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil {
			return f, malformed("Content-Length")
		}
		if n > 0 {
			f.kind, f.length = bodyLength, n
		}
	}
	return f, nil
}

// framingAliases are the headers whose '_' spellings are refused.
var framingAliases = []string{"content-length", "transfer-encoding", "host", "connection", "expect",
	"upgrade", "te", "trailer", "keep-alive", "proxy-connection"}

// framingAlias reports whether name, with '_' read as '-', is a framing or
// connection header.
func framingAlias(name string) bool {
	name = strings.ReplaceAll(name, "_", "-")
	for _, a := range framingAliases {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}

// visible reports whether a request target has no blank or control
// character.
func visible(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// badLineEnd reports whether b, from index from on, has an LF not preceded
// by CR or a CR followed by something other than LF.
func badLineEnd(b []byte, from int) bool {
	for i := from; i < len(b); i++ {
		switch b[i] {
		case '\n':
			if i == 0 || b[i-1] != '\r' {
				return true
			}
		case '\r':
			if i+1 < len(b) && b[i+1] != '\n' {
				return true
			}
		}
	}
	return false
}

// Chunked body states.
const (
	csSize         uint8 = iota // chunk size digits
	csExt                       // chunk extension
	csSizeLF                    // LF ending the chunk-size line
	csData                      // chunk data
	csDataCR                    // CR after the data
	csDataLF                    // LF after the data
	csTrailerStart              // start of a trailer line, or the final CRLF
	csTrailerName               // trailer field name
	csTrailerValue              // trailer field value
	csTrailerLF                 // LF ending a trailer line
	csEndLF                     // LF ending the body
)

// chunkScanner checks the framing of a chunked body as it streams by
// (RFC 9112 §7.1), strictly: CRLF line ends, hex sizes of at most
// maxChunkSizeDigits digits, extensions of at most maxChunkExtension bytes
// without control characters, and trailer fields like header fields
// (no obs-fold) within maxTrailerBytes.
type chunkScanner struct {
	state   uint8
	n       int   // digits or extension bytes on the current size line
	size    int64 // data bytes left in the current chunk
	trailer int   // trailer bytes so far
}

// scan checks p, the next bytes of the body. It returns how many belong to
// the body — all of p, unless the body ended within it — and whether it
// ended; an error at the first fault.
func (k *chunkScanner) scan(p []byte) (n int, done bool, err error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch k.state {
		case csSize:
			if v := unhex(c); v >= 0 {
				if k.n++; k.n > maxChunkSizeDigits {
					return i, false, malformed("chunk size")
				}
				k.size = k.size<<4 | int64(v)
				continue
			}
			if k.n == 0 || k.size < 0 {
				return i, false, malformed("chunk size")
			}
			switch c {
			case '\r':
				k.state = csSizeLF
			case ';': // no blank before it: net/http refuses one
				k.state, k.n = csExt, 1
			default:
				return i, false, malformed("chunk size")
			}
		case csExt:
			if c == '\r' {
				k.state = csSizeLF
				continue
			}
			if c < ' ' && c != '\t' || c == 0x7f {
				return i, false, malformed("chunk extension")
			}
			if k.n++; k.n > maxChunkExtension {
				return i, false, malformed("chunk extension too long")
			}
		case csSizeLF:
			if c != '\n' {
				return i, false, malformed("chunk line end")
			}
			k.state = csData
			if k.size == 0 {
				k.state = csTrailerStart
			}
		case csData:
			m := min(k.size, int64(len(p)-i))
			k.size -= m
			i += int(m) - 1
			if k.size == 0 {
				k.state = csDataCR
			}
		case csDataCR:
			if c != '\r' {
				return i, false, malformed("chunk data end")
			}
			k.state = csDataLF
		case csDataLF:
			if c != '\n' {
				return i, false, malformed("chunk data end")
			}
			k.state, k.n, k.size = csSize, 0, 0
		case csTrailerStart, csTrailerName, csTrailerValue, csTrailerLF:
			if k.trailer++; k.trailer > maxTrailerBytes {
				return i, false, malformed("trailer too long")
			}
			switch {
			case k.state == csTrailerStart && c == '\r':
				k.state = csEndLF
			case k.state == csTrailerStart || k.state == csTrailerName:
				if c == ':' && k.state == csTrailerName {
					k.state = csTrailerValue
				} else if tokenChars[c] {
					k.state = csTrailerName
				} else {
					return i, false, malformed("trailer name")
				}
			case k.state == csTrailerValue:
				if c == '\r' {
					k.state = csTrailerLF
				} else if c < ' ' && c != '\t' || c == 0x7f {
					return i, false, malformed("trailer value")
				}
			default: // csTrailerLF
				if c != '\n' {
					return i, false, malformed("trailer line end")
				}
				k.state = csTrailerStart
			}
		case csEndLF:
			if c != '\n' {
				return i, false, malformed("chunked body end")
			}
			*k = chunkScanner{}
			return i + 1, true, nil
		}
	}
	return len(p), false, nil
}

// unhex is the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
