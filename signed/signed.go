// Package signed checks CloudFront signed URLs and signed cookies: the
// viewer-rules step that serves private content only to requests signed
// with a key the cache behaviour trusts.
//
// A behaviour with TrustedKeyGroups (or legacy TrustedSigners) requires every
// request to carry a signature, either in the query string (Expires or
// Policy, Signature, Key-Pair-Id, optionally Hash-Algorithm) or in cookies
// (CloudFront-Expires or CloudFront-Policy, CloudFront-Signature,
// CloudFront-Key-Pair-Id, optionally CloudFront-Hash-Algorithm). A signed URL
// wins over signed cookies. The signature is RSA (PKCS #1 v1.5) or ECDSA over
// the SHA-1 (or SHA-256) hash of the policy statement; for a canned policy
// the statement is rebuilt from the URL the viewer asked for and Expires.
//
// A refused request gets 403 and CloudFront's XML error: MissingKey,
// InvalidKey ("Unknown Key"), MalformedSignature, MalformedPolicy or
// AccessDenied. The signature parameters and cookies are not part of the
// cache key and are not forwarded to the origin: StripQuery and
// StripCookies remove them.
package signed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// The query string parameters of a signed URL.
const (
	ParamExpires       = "Expires"
	ParamPolicy        = "Policy"
	ParamSignature     = "Signature"
	ParamKeyPairID     = "Key-Pair-Id"
	ParamHashAlgorithm = "Hash-Algorithm"
)

// The cookies of signed cookies.
const (
	CookieExpires       = "CloudFront-Expires"
	CookiePolicy        = "CloudFront-Policy"
	CookieSignature     = "CloudFront-Signature"
	CookieKeyPairID     = "CloudFront-Key-Pair-Id"
	CookieHashAlgorithm = "CloudFront-Hash-Algorithm"
)

// Hash algorithms a signature may use (Hash-Algorithm); SHA1 is the default.
const (
	SHA1   = "SHA1"
	SHA256 = "SHA256"
)

// Required reports whether b serves only signed requests.
func Required(b *config.Behavior) bool {
	return len(b.TrustedKeyGroups) > 0 || len(b.TrustedSigners) > 0
}

// Verifier checks signed URLs and signed cookies against the configured
// keys. It is immutable and safe for concurrent use.
type Verifier struct {
	// Keys is the configuration's key material; nil means no keys, so every
	// signed request is refused with InvalidKey.
	Keys *config.Keys
}

// credentials are the signature parts of one request, from its query
// string or its cookies.
type credentials struct {
	expires, policy, sig, keyID  string
	hashAlg                      string
	hasExpires, hasPolicy, found bool
}

// Check decides whether the viewer request r may have an object of the
// behaviour b: nil when b needs no signature or r's signature is good, else
// the Denial to answer with. viewerIP is the viewer's address (the
// connection's, or the one X-Forwarded-For trust decided); now is the time
// the request arrived.
func (v *Verifier) Check(r *http.Request, b *config.Behavior, viewerIP string, now time.Time) *Denial {
	if !Required(b) {
		return nil
	}
	c := readCredentials(r)
	if c.keyID == "" {
		return deny(MissingKey, "no Key-Pair-Id")
	}
	key := v.trustedKey(b, c.keyID)
	if key == nil {
		return deny(InvalidKey, "key "+c.keyID+" is not trusted by the behaviour")
	}
	var hash crypto.Hash
	switch c.hashAlg {
	case "", SHA1:
		hash = crypto.SHA1
	case SHA256:
		hash = crypto.SHA256
	default:
		return deny(AccessDenied, "unsupported hash algorithm "+strconv.Quote(c.hashAlg))
	}
	if c.sig == "" {
		return deny(MalformedSignature, "no signature")
	}
	sig, err := DecodeBase64(c.sig)
	if err != nil || len(sig) == 0 {
		return deny(MalformedSignature, "signature is not base64")
	}

	resource := RequestURL(r)
	var p *Policy
	switch {
	case c.hasPolicy:
		raw, err := DecodeBase64(c.policy)
		if err != nil {
			return deny(MalformedPolicy, "policy is not base64")
		}
		if p, err = ParsePolicy(raw); err != nil {
			return deny(MalformedPolicy, err.Error())
		}
		if !verify(key, hash, raw, sig) {
			return deny(AccessDenied, "signature does not match the policy")
		}
	case c.hasExpires:
		exp, err := strconv.ParseInt(c.expires, 10, 64)
		if err != nil || exp < 0 {
			return deny(MalformedPolicy, "Expires is not a Unix time")
		}
		// The canned statement is rebuilt from the URL the viewer asked
		// for: a signature over any other URL or time does not verify.
		if !verify(key, hash, CannedPolicy(resource, exp), sig) {
			return deny(AccessDenied, "signature does not match the URL and Expires")
		}
		p = &Policy{Resource: resource, DateLessThan: exp}
	default:
		return deny(MalformedPolicy, "neither Expires nor Policy")
	}

	t := now.Unix()
	if t >= p.DateLessThan {
		return deny(AccessDenied, "expired at "+time.Unix(p.DateLessThan, 0).UTC().Format(time.RFC3339))
	}
	if p.DateGreaterThan != 0 && t <= p.DateGreaterThan {
		return deny(AccessDenied, "not valid before "+time.Unix(p.DateGreaterThan, 0).UTC().Format(time.RFC3339))
	}
	if p.SourceIP.IsValid() {
		a, err := netip.ParseAddr(viewerIP)
		if err != nil || !p.SourceIP.Contains(a.Unmap()) {
			return deny(AccessDenied, "viewer address "+viewerIP+" is not in "+p.SourceIP.String())
		}
	}
	if p.Resource != "" && !Match(p.Resource, resource) {
		return deny(AccessDenied, "URL "+resource+" does not match the policy's resource "+p.Resource)
	}
	return nil
}

// trustedKey returns the public key with ID keyID if one of b's trusted key
// groups holds it, or it is the key pair of one of b's trusted signers.
func (v *Verifier) trustedKey(b *config.Behavior, keyID string) crypto.PublicKey {
	if v == nil || v.Keys == nil {
		return nil
	}
	for _, id := range b.TrustedKeyGroups {
		if g := v.Keys.KeyGroups[id]; g != nil {
			if pk := g.Keys[keyID]; pk != nil {
				return pk.Key
			}
		}
	}
	if kp := v.Keys.KeyPairs[keyID]; kp != nil {
		for _, account := range b.TrustedSigners {
			if account == kp.Account {
				return kp.Key
			}
		}
	}
	return nil
}

// verify checks sig over msg with an RSA (PKCS #1 v1.5) or ECDSA (ASN.1)
// public key.
func verify(key crypto.PublicKey, hash crypto.Hash, msg, sig []byte) bool {
	var digest []byte
	if hash == crypto.SHA256 {
		d := sha256.Sum256(msg)
		digest = d[:]
	} else {
		d := sha1.Sum(msg)
		digest = d[:]
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	}
	return false
}

// readCredentials takes the signature from the query string when it has any
// signature parameter, else from the cookies.
func readCredentials(r *http.Request) credentials {
	var c credentials
	eachParam(r.URL.RawQuery, func(name, value string, _ string) {
		var dst *string
		switch name {
		case ParamExpires:
			dst, c.hasExpires = &c.expires, true
		case ParamPolicy:
			dst, c.hasPolicy = &c.policy, true
		case ParamSignature:
			dst = &c.sig
		case ParamKeyPairID:
			dst = &c.keyID
		case ParamHashAlgorithm:
			dst = &c.hashAlg
		default:
			return
		}
		c.found = true
		if *dst == "" {
			*dst = value
		}
	})
	if c.found {
		return c
	}
	c = credentials{}
	for _, ck := range r.Cookies() {
		var dst *string
		switch ck.Name {
		case CookieExpires:
			dst, c.hasExpires = &c.expires, true
		case CookiePolicy:
			dst, c.hasPolicy = &c.policy, true
		case CookieSignature:
			dst = &c.sig
		case CookieKeyPairID:
			dst = &c.keyID
		case CookieHashAlgorithm:
			dst = &c.hashAlg
		default:
			continue
		}
		c.found = true
		if *dst == "" {
			*dst = ck.Value
		}
	}
	return c
}

// eachParam calls fn for every '&'-separated part of a raw query string with
// its decoded name and value and the part as written.
func eachParam(raw string, fn func(name, value, part string)) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		name, value, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		fn(name, value, part)
	}
}

// isParam reports whether a decoded query parameter name is one of a signed
// URL's.
func isParam(name string) bool {
	switch name {
	case ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHashAlgorithm:
		return true
	}
	return false
}

// IsCookie reports whether a cookie name is one of signed cookies'.
func IsCookie(name string) bool {
	switch name {
	case CookieExpires, CookiePolicy, CookieSignature, CookieKeyPairID, CookieHashAlgorithm:
		return true
	}
	return false
}

// RequestURL is the URL a policy's Resource is compared with, and the
// Resource of a canned policy: scheme://Host/path?query as the viewer sent
// them (the path as written, escapes and all), without the signed URL's
// parameters. The scheme is https when r came over TLS.
func RequestURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	path, query, _ := strings.Cut(uri, "?")
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	var b strings.Builder
	b.Grow(len(scheme) + len(r.Host) + len(uri))
	b.WriteString(scheme)
	b.WriteString(r.Host)
	b.WriteString(path)
	if q := StripQuery(query); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// StripQuery returns a raw query string without the signed URL parameters
// (Expires, Policy, Signature, Key-Pair-Id, Hash-Algorithm); every other
// part stays exactly as written and in its place.
func StripQuery(raw string) string {
	if !strings.Contains(raw, "%") && !containsParamName(raw) {
		return raw
	}
	var parts []string
	removed := false
	eachParam(raw, func(name, _, part string) {
		if isParam(name) {
			removed = true
			return
		}
		parts = append(parts, part)
	})
	if !removed {
		return raw
	}
	return strings.Join(parts, "&")
}

// containsParamName is a quick pre-check for parameters without '='.
func containsParamName(raw string) bool {
	for _, n := range []string{ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHashAlgorithm} {
		if strings.Contains(raw, n) {
			return true
		}
	}
	return false
}

// StripCookies returns a Cookie header value without the signed cookies
// (CloudFront-Expires, -Policy, -Signature, -Key-Pair-Id, -Hash-Algorithm);
// the other cookies stay as written, joined by "; ".
func StripCookies(line string) string {
	if !strings.Contains(line, "CloudFront-") {
		return line
	}
	var kept []string
	for part := range strings.SplitSeq(line, ";") {
		pair := strings.TrimSpace(part)
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if IsCookie(strings.TrimSpace(name)) {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "; ")
}

// StripCookieHeader removes the signed cookies from every Cookie line of h,
// and the lines left empty.
func StripCookieHeader(h http.Header) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	kept := lines[:0:0]
	for _, l := range lines {
		if s := StripCookies(l); s != "" {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = kept
}
