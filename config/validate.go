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

// forbiddenCustomHeaders are the origin custom headers CloudFront refuses
// ("Custom headers that CloudFront can't add to origin requests", Developer
// Guide, add-origin-custom-headers), in canonical form; headers beginning
// with X-Amz- or X-Edge- are refused too (isForbiddenCustomHeader).
var forbiddenCustomHeaders = map[string]bool{
	"Cache-Control": true, "Connection": true, "Content-Length": true, "Cookie": true, "Host": true,
	"If-Match": true, "If-Modified-Since": true, "If-None-Match": true, "If-Range": true,
	"If-Unmodified-Since": true, "Max-Forwards": true, "Pragma": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Range": true, "Request-Range": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Via": true, "X-Real-Ip": true,
}

// isForbiddenCustomHeader reports whether CloudFront refuses the canonical
// header name as an origin custom header.
func isForbiddenCustomHeader(name string) bool {
	return forbiddenCustomHeaders[name] || strings.HasPrefix(name, "X-Amz-") || strings.HasPrefix(name, "X-Edge-")
}

// unremovableResponseHeaders are the headers a response headers policy's
// RemoveHeadersConfig may not name ("Headers that you can't remove",
// Developer Guide, understanding-response-headers-policies: "If you specify
// these headers ... you receive an error"), in canonical form; headers
// beginning with X-Amz-Cf- or X-Edge- are refused too.
var unremovableResponseHeaders = map[string]bool{
	"Connection": true, "Content-Encoding": true, "Content-Length": true, "Expect": true, "Host": true,
	"Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true, "Proxy-Connection": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Via": true, "Warning": true,
	"X-Accel-Buffering": true, "X-Accel-Charset": true, "X-Accel-Limit-Rate": true, "X-Accel-Redirect": true,
	"X-Amzn-Auth": true, "X-Amzn-Cf-Billing": true, "X-Amzn-Cf-Id": true, "X-Amzn-Cf-Xff": true,
	"X-Amzn-Errortype": true, "X-Amzn-Fle-Profile": true, "X-Amzn-Header-Count": true,
	"X-Amzn-Header-Order": true, "X-Amzn-Lambda-Integration-Tag": true, "X-Amzn-Requestid": true,
	"X-Cache": true, "X-Forwarded-Proto": true, "X-Real-Ip": true,
}

// UnremovableResponseHeader reports whether the canonical header name may
// not be removed by a response headers policy: compile refuses such a
// RemoveHeadersConfig, and the proxy never removes one.
func UnremovableResponseHeader(name string) bool {
	return unremovableResponseHeaders[name] || strings.HasPrefix(name, "X-Amz-Cf-") || strings.HasPrefix(name, "X-Edge-")
}

// originRequestOnlyHeaders are the CloudFront request headers that "can be
// added in an origin request policy, but not in a cache policy" (Developer
// Guide, adding-cloudfront-headers: CloudFront-Viewer-Address and -ASN,
// CloudFront-Viewer-JA3-Fingerprint, CloudFront-Viewer-TLS; and
// CloudFront-Viewer-JA4-Fingerprint, documented beside JA3), canonical.
var originRequestOnlyHeaders = map[string]bool{
	"Cloudfront-Viewer-Address":         true,
	"Cloudfront-Viewer-Asn":             true,
	"Cloudfront-Viewer-Tls":             true,
	"Cloudfront-Viewer-Ja3-Fingerprint": true,
	"Cloudfront-Viewer-Ja4-Fingerprint": true,
}
