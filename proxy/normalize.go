package proxy

import (
	"net/http"
	"strings"
)

// normalizePath is the URI path that behaviours, signed-URL resources, the
// cache key and the origin see: the viewer's decoded path (net/http has
// already turned %2e into '.' and %2f into '/') with its dot segments
// removed as RFC 3986 §5.2.4 does — never above the root — and runs of
// slashes merged into one. CloudFront matches path patterns on the
// normalised path ("normalizes URI paths … before matching"); merging
// slashes is edgefront's own addition, because the origins it fronts
// (NGINX's merge_slashes, most web servers) treat "//private" as
// "/private", which a behaviour for "/private/*" would otherwise not see.
//
// It returns p itself, without allocating, when p is already normal.
func normalizePath(p string) string {
	if isNormalPath(p) {
		return p
	}
	// segs holds the output segments; a trailing "" keeps a trailing slash.
	segs := make([]string, 0, strings.Count(p, "/")+1)
	rest := p
	for {
		seg, tail, more := strings.Cut(rest, "/")
		switch seg {
		case "", ".":
			// An empty segment is a doubled (or the leading) slash.
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
		if !more {
			// "/a/.", "/a/.." and "/a/" end in a directory.
			if seg == "" || seg == "." || seg == ".." {
				segs = append(segs, "")
			}
			break
		}
		rest = tail
	}
	if len(segs) == 0 || len(segs) == 1 && segs[0] == "" {
		return "/"
	}
	return "/" + strings.Join(segs, "/")
}

// isNormalPath reports whether p needs no normalisation: it starts with '/'
// and has no empty, "." or ".." segment (but may end in '/').
func isNormalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		// p[i+1:] starts a segment.
		switch rest := p[i+1:]; {
		case rest == "":
			return true // a trailing slash
		case rest[0] == '/':
			return false
		case rest[0] == '.':
			if len(rest) == 1 || rest[1] == '/' {
				return false
			}
			if rest[1] == '.' && (len(rest) == 2 || rest[2] == '/') {
				return false
			}
		}
	}
	return true
}

// normalizedRequest returns r with its URL path normalised (normalizePath):
// r itself when the path is already normal and was sent without an
// encoded slash or dot, else a shallow copy whose URL, RequestURI and
// escaped path are rebuilt from the normal path — so an origin that would
// itself resolve "..", "%2e%2e" or "%2f" receives nothing it can resolve
// outside what was matched.
func normalizedRequest(r *http.Request) *http.Request {
	p := r.URL.Path
	np := normalizePath(p)
	if np == p && !encodesSeparator(r.URL.RawPath) {
		return r
	}
	u := *r.URL
	u.Path, u.RawPath = np, ""
	c := *r
	c.URL = &u
	c.RequestURI = u.RequestURI()
	return &c
}

// encodesSeparator reports whether an escaped path writes '/' or '.' as a
// percent-escape (%2F, %2E in either case), which an origin may decode into
// a separator or dot segment that was not there when behaviours matched.
func encodesSeparator(raw string) bool {
	for i := strings.IndexByte(raw, '%'); i >= 0 && i+2 < len(raw); {
		if raw[i+1] == '2' {
			switch raw[i+2] {
			case 'f', 'F', 'e', 'E':
				return true
			}
		}
		j := strings.IndexByte(raw[i+1:], '%')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
