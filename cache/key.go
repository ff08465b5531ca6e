package cache

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/edgefront/edgefront/config"
)

// AppendKey appends the cache key of r to dst and returns the extended
// slice; pass a reused buffer (dst[:0]) to avoid allocating.
//
// The key holds, in this order, each variable part prefixed by its length
// so that no two different requests can produce the same key:
//
//   - the distribution ID (CloudFront keys on the distribution, not on the
//     Host header; Host is in the key only when the policy selects it);
//   - the escaped URI path (path: the viewer's r.URL.EscapedPath(), or the
//     default root object's path for "/"; the form invalidation paths are
//     written in; Entry.Path must use the same);
//   - the selected query string parameters, each "name=value" exactly as
//     sent, in the order sent: CloudFront's cache key is sensitive to both
//     the order and the case of query string parameters; only '&' separates
//     them;
//   - the selected headers in the policy's order, every value as sent (an
//     absent header differs from an empty one);
//   - the selected cookies sorted by name (CloudFront sorts cookies by name
//     before forwarding them; names and values are case-sensitive);
//   - the normalised encoding (see NormalizeEncoding).
func AppendKey(dst []byte, distributionID, path string, r *http.Request, p *config.CachePolicy, encoding string) []byte {
	dst = appendField(dst, 'd', distributionID)
	dst = appendField(dst, 'p', path)
	dst = appendQuery(dst, r.URL.RawQuery, p.QueryStrings)
	dst = appendHeaders(dst, r, p.Headers)
	dst = appendCookies(dst, r.Header["Cookie"], p.Cookies)
	dst = appendField(dst, 'e', encoding)
	return dst
}

// appendField appends tag, len(s), ':' and s.
func appendField(dst []byte, tag byte, s string) []byte {
	dst = append(dst, tag)
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	return append(dst, s...)
}

// appendCountStart appends a section tag and a fixed-width placeholder for
// the number of items that follow; patchCount fills it in once known.
func appendCountStart(dst []byte, tag byte) ([]byte, int) {
	dst = append(dst, tag, 0, 0, 0, 0)
	return dst, len(dst) - 4
}

// patchCount writes n into the placeholder at dst[at:at+4].
func patchCount(dst []byte, at, n int) {
	dst[at] = byte(n >> 24)
	dst[at+1] = byte(n >> 16)
	dst[at+2] = byte(n >> 8)
	dst[at+3] = byte(n)
}

// appendQuery appends the selected parameters of a raw query string.
func appendQuery(dst []byte, raw string, sel config.Selection) []byte {
	dst, at := appendCountStart(dst, 'q')
	n := 0
	if sel.Behavior != config.SelectNone && sel.Behavior != "" {
		for raw != "" {
			var seg string
			seg, raw, _ = strings.Cut(raw, "&")
			if seg == "" {
				continue
			}
			if sel.Behavior != config.SelectAll {
				name, _, _ := strings.Cut(seg, "=")
				if !sel.Includes(queryName(name)) {
					continue
				}
			}
			dst = appendField(dst, 's', seg)
			n++
		}
	}
	patchCount(dst, at, n)
	return dst
}

// queryName returns a parameter name as configured names are written:
// unescaped when it contains escapes.
func queryName(name string) string {
	if strings.ContainsAny(name, "%+") {
		if u, err := url.QueryUnescape(name); err == nil {
			return u
		}
	}
	return name
}

// appendHeaders appends the selected headers. Cache policies select headers
// by whitelist only; the other behaviours are handled for completeness by
// walking the header names in sorted order.
func appendHeaders(dst []byte, r *http.Request, sel config.Selection) []byte {
	dst, at := appendCountStart(dst, 'h')
	n := 0
	switch sel.Behavior {
	case config.SelectNone, "":
	case config.SelectWhitelist:
		for _, name := range sel.Items {
			dst = appendHeader(dst, r, name)
			n++
		}
	default:
		names := make([]string, 0, len(r.Header)+1)
		for name := range r.Header {
			if sel.Includes(name) {
				names = append(names, name)
			}
		}
		if sel.Includes("Host") && r.Header["Host"] == nil {
			names = append(names, "Host")
		}
		sort.Strings(names)
		for _, name := range names {
			dst = appendHeader(dst, r, name)
			n++
		}
	}
	patchCount(dst, at, n)
	return dst
}

// appendHeader appends one header name and its values; Host comes from
// r.Host, where net/http keeps it.
func appendHeader(dst []byte, r *http.Request, name string) []byte {
	dst = appendField(dst, 'n', name)
	if name == "Host" {
		host := r.Host
		if host == "" {
			host = r.Header.Get("Host")
		}
		if host == "" {
			return append(dst, '0')
		}
		dst = append(dst, '1')
		return appendField(dst, 'v', host)
	}
	vs := r.Header[name]
	dst = strconv.AppendInt(dst, int64(len(vs)), 10)
	for _, v := range vs {
		dst = appendField(dst, 'v', v)
	}
	return dst
}

// cookie is one name=value pair of a Cookie header, as substrings of it.
type cookie struct{ name, value string }

// appendCookies appends the selected cookies sorted by name (stable for
// duplicated names).
func appendCookies(dst []byte, lines []string, sel config.Selection) []byte {
	dst, at := appendCountStart(dst, 'c')
	if sel.Behavior == config.SelectNone || sel.Behavior == "" || len(lines) == 0 {
		patchCount(dst, at, 0)
		return dst
	}
	var buf [16]cookie
	cs := buf[:0]
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = trimOWS(part)
			if part == "" {
				continue
			}
			name, value, _ := strings.Cut(part, "=")
			name = trimOWS(name)
			if name == "" || !sel.Includes(name) {
				continue
			}
			cs = append(cs, cookie{name, trimOWS(value)})
		}
	}
	// Insertion sort: few cookies, stable, and no allocation.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].name < cs[j-1].name; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	for _, c := range cs {
		dst = appendField(dst, 'k', c.name)
		dst = appendField(dst, 'v', c.value)
	}
	patchCount(dst, at, len(cs))
	return dst
}

// NormalizeEncoding returns the encodings of a viewer's Accept-Encoding the
// cache key holds under the cache policy (controlling-the-cache-key,
// "Compression support"): "br,gzip" when the viewer accepts both and the
// policy enables both, else "br" or "gzip" alone, else "".
//
// CloudFront keeps only gzip and br of the viewer's header and ignores every
// other value, identity and "*" included. A coding listed with q=0 is not
// accepted (RFC 9110 §12.5.3), codings are case-insensitive and "x-gzip" is
// gzip (RFC 9110 §8.4.1.3). The origin is sent exactly the key's encodings
// (OriginAcceptEncoding), so whatever it answers is decodable by every
// viewer sharing the key.
func NormalizeEncoding(acceptEncoding string, p *config.CachePolicy) string {
	if p == nil || (!p.EnableAcceptEncodingBrotli && !p.EnableAcceptEncodingGzip) {
		return ""
	}
	var br, gz bool
	s := acceptEncoding
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, ",")
		coding, params, _ := strings.Cut(part, ";")
		coding = trimOWS(coding)
		if zeroQ(params) {
			continue
		}
		switch {
		case strings.EqualFold(coding, "br"):
			br = true
		case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
			gz = true
		}
	}
	br, gz = br && p.EnableAcceptEncodingBrotli, gz && p.EnableAcceptEncodingGzip
	switch {
	case br && gz:
		return "br,gzip"
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}

// PreferredEncoding is the encoding edgefront compresses with for a key's
// normalised encodings: br when the viewers accept it, else gzip, else "".
func PreferredEncoding(encodings string) string {
	switch encodings {
	case "br,gzip", "br":
		return "br"
	case "gzip":
		return "gzip"
	}
	return ""
}

// zeroQ reports whether the parameters of one Accept-Encoding member carry
// a weight of 0 ("q=0", "q=0.0", "q=0.000").
func zeroQ(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, val, ok := strings.Cut(trimOWS(p), "=")
		if !ok || !strings.EqualFold(trimOWS(name), "q") {
			continue
		}
		val = trimOWS(val)
		if val == "" || val[0] != '0' {
			return false
		}
		for i := 1; i < len(val); i++ {
			if val[i] != '.' && val[i] != '0' {
				return false
			}
		}
		return true
	}
	return false
}

// OriginAcceptEncoding returns the Accept-Encoding to send to the origin for
// a key's normalised encodings: the encodings themselves, "identity" when
// the viewer accepts neither, and nothing (ok false) when the viewer sent
// no Accept-Encoding at all.
func OriginAcceptEncoding(encodings string, viewerSent bool) (value string, ok bool) {
	switch {
	case encodings != "":
		return encodings, true
	case viewerSent:
		return "identity", true
	}
	return "", false
}

// DescribeKey renders a key made by AppendKey for people, its parts in
// order: `dist=E1 path=/a.js query=[v=1] headers=[Origin: x]
// cookies=[id=7] encoding=gzip`. Bytes after the key's parts (the proxy's
// own suffixes) are shown quoted; a key that is not AppendKey's is shown
// quoted whole.
func DescribeKey(key string) string {
	var b strings.Builder
	k := keyReader{s: key}
	for !k.end() && k.err == nil {
		tag := k.s[k.i]
		k.i++
		switch tag {
		case 'd', 'p', 'e':
			name := map[byte]string{'d': "dist", 'p': "path", 'e': "encoding"}[tag]
			fmt.Fprintf(&b, "%s=%s ", name, k.field())
		case 'q', 'h', 'c':
			k.count()
			var parts []string
			for !k.end() && k.err == nil {
				switch {
				case tag == 'q' && k.next('s'):
					parts = append(parts, k.field())
				case tag == 'h' && k.next('n'):
					name := k.field()
					for n := k.number(); n > 0 && k.err == nil; n-- {
						k.next('v')
						parts = append(parts, name+": "+k.field())
					}
				case tag == 'c' && k.next('k'):
					name := k.field()
					k.next('v')
					parts = append(parts, name+"="+k.field())
				default:
					goto done
				}
			}
		done:
			name := map[byte]string{'q': "query", 'h': "headers", 'c': "cookies"}[tag]
			fmt.Fprintf(&b, "%s=[%s] ", name, strings.Join(parts, " "))
		default:
			k.i--
			fmt.Fprintf(&b, "%q ", k.s[k.i:])
			k.i = len(k.s)
		}
	}
	if k.err != nil {
		return strconv.Quote(key)
	}
	return strings.TrimSuffix(b.String(), " ")
}

// keyReader reads the parts of a key made by AppendKey.
type keyReader struct {
	s   string
	i   int
	err error
}

func (k *keyReader) end() bool { return k.i >= len(k.s) }

// next consumes tag when it comes next.
func (k *keyReader) next(tag byte) bool {
	if k.i < len(k.s) && k.s[k.i] == tag {
		k.i++
		return true
	}
	return false
}

// number reads a decimal number.
func (k *keyReader) number() int {
	n, start := 0, k.i
	for k.i < len(k.s) && k.s[k.i] >= '0' && k.s[k.i] <= '9' {
		n = n*10 + int(k.s[k.i]-'0')
		k.i++
	}
	if k.i == start {
		k.err = errors.New("no number")
	}
	return n
}

// field reads "len:bytes".
func (k *keyReader) field() string {
	n := k.number()
	if k.err != nil || !k.next(':') || k.i+n > len(k.s) {
		k.err = errors.New("bad field")
		return ""
	}
	v := k.s[k.i : k.i+n]
	k.i += n
	return v
}

// count skips a section's 4-byte count.
func (k *keyReader) count() {
	if k.i+4 > len(k.s) {
		k.err = errors.New("bad count")
		return
	}
	k.i += 4
}
