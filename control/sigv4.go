package control

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file checks AWS Signature Version 4 request signatures
// (Authorization: AWS4-HMAC-SHA256 header form), as the AWS SDKs and CLI
// send them.

// sigV4Algorithm is the only signing algorithm accepted.
const sigV4Algorithm = "AWS4-HMAC-SHA256"

// signingService is the service name in a CloudFront credential scope.
const signingService = "cloudfront"

// maxClockSkew is how far X-Amz-Date may be from the server's clock.
const maxClockSkew = 15 * time.Minute

// authorization is a parsed SigV4 or SigV4A Authorization header.
type authorization struct {
	Algorithm     string // sigV4Algorithm | sigV4AAlgorithm
	AccessKeyID   string
	Date          string // yyyymmdd of the credential scope
	Region        string // "" for SigV4A, whose regions are X-Amz-Region-Set
	Service       string
	SignedHeaders []string // lower case, sorted as sent
	Signature     string   // lower-case hex: an HMAC (SigV4) or a DER ECDSA signature (SigV4A)
}

// scope is the credential scope: date/region/service/aws4_request
// (date/service/aws4_request for SigV4A).
func (a *authorization) scope() string {
	if a.Algorithm == sigV4AAlgorithm {
		return a.Date + "/" + a.Service + "/aws4_request"
	}
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// parseAuthorization parses a SigV4 Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// The three parameters may come in any order, each exactly once, separated
// by commas and optional blanks.
func parseAuthorization(h string) (*authorization, error) {
	return parseAuthorizationAs(h, sigV4Algorithm)
}

// parseAuthorizationAs parses an Authorization header that must use alg:
// SigV4's form (parseAuthorization), or SigV4A's
//
//	AWS4-ECDSA-P256-SHA256 Credential=AKID/20240101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=<DER hex>
//
// whose scope has no region and whose signature is a DER-encoded ECDSA
// signature (at most 72 bytes).
func parseAuthorizationAs(h, alg string) (*authorization, error) {
	got, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || got != alg {
		return nil, fmt.Errorf("authorization header must start with %s", alg)
	}
	a := authorization{Algorithm: alg}
	var cred, signed, sig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("authorization parameter %q is not key=value", part)
		}
		switch k {
		case "Credential":
			if cred {
				return nil, fmt.Errorf("credential given twice")
			}
			cred = true
			if err := a.parseCredential(v); err != nil {
				return nil, err
			}
		case "SignedHeaders":
			if signed {
				return nil, fmt.Errorf("signed headers given twice")
			}
			signed = true
			for name := range strings.SplitSeq(v, ";") {
				if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t") {
					return nil, fmt.Errorf("signed header %q is not a lower-case header name", name)
				}
				a.SignedHeaders = append(a.SignedHeaders, name)
			}
			if !slices.IsSorted(a.SignedHeaders) || len(slices.Compact(slices.Clone(a.SignedHeaders))) != len(a.SignedHeaders) {
				return nil, fmt.Errorf("signed headers %q are not sorted and unique", v)
			}
		case "Signature":
			if sig {
				return nil, fmt.Errorf("signature given twice")
			}
			sig = true
			if err := checkSignatureForm(alg, v); err != nil {
				return nil, err
			}
			a.Signature = v
		default:
			return nil, fmt.Errorf("unknown authorization parameter %q", k)
		}
	}
	if !cred || !signed || !sig {
		return nil, fmt.Errorf("authorization header needs Credential, SignedHeaders and Signature")
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return nil, fmt.Errorf("the host header must be signed")
	}
	return &a, nil
}

// parseCredential reads AKID/date/region/service/aws4_request (SigV4) or
// AKID/date/service/aws4_request (SigV4A) into a.
func (a *authorization) parseCredential(v string) error {
	f := strings.Split(v, "/")
	want, form := 5, "AKID/date/region/service/aws4_request"
	if a.Algorithm == sigV4AAlgorithm {
		want, form = 4, "AKID/date/service/aws4_request"
	}
	if len(f) != want || f[want-1] != "aws4_request" {
		return fmt.Errorf("credential %q is not %s", v, form)
	}
	for _, x := range f[:want-1] {
		if x == "" {
			return fmt.Errorf("credential %q has an empty field", v)
		}
	}
	if !isDate(f[1]) {
		return fmt.Errorf("credential date %q is not yyyymmdd", f[1])
	}
	a.AccessKeyID, a.Date, a.Service = f[0], f[1], f[want-2]
	if want == 5 {
		a.Region = f[2]
	}
	return nil
}

// checkSignatureForm checks a signature's shape: 64 lower-case hex digits
// for SigV4, lower-case hex of at most 72 bytes (a DER ECDSA P-256
// signature) for SigV4A.
func checkSignatureForm(alg, v string) error {
	if alg == sigV4AAlgorithm {
		if len(v) < 16 || len(v) > 2*maxDERSignature || len(v)%2 != 0 || strings.ToLower(v) != v {
			return fmt.Errorf("signature is not a lower-case hex DER ECDSA signature")
		}
		if _, err := hex.DecodeString(v); err != nil {
			return fmt.Errorf("signature is not a lower-case hex DER ECDSA signature")
		}
		return nil
	}
	if len(v) != 64 || strings.ToLower(v) != v {
		return fmt.Errorf("signature is not 64 lower-case hex digits")
	}
	if _, err := hex.DecodeString(v); err != nil {
		return fmt.Errorf("signature is not 64 lower-case hex digits")
	}
	return nil
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse("20060102", s)
	return err == nil
}

// unsignedPayload is the payload hash of a request whose body is not signed.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// verifySignature checks that a's signature is the one secret makes for r
// with the body whose SHA-256 is payloadHash (hex), at now.
//
// payloadHash must be the hash of the body actually received: the
// signature is checked over it, never over what the X-Amz-Content-Sha256
// header claims, so a captured signature cannot carry another body. That
// header is optional (the SDKs do not send it to CloudFront); when present,
// each of its values must be the body's hash, and UNSIGNED-PAYLOAD (or a
// streaming payload) is refused: every CloudFront API call signs its body.
func verifySignature(r *http.Request, a *authorization, secret, payloadHash string, now time.Time) error {
	amzDate, err := checkSigningContext(r, a, signingService, payloadHash, now)
	if err != nil {
		return err
	}
	want := signature(r, a, secret, amzDate, payloadHash)
	if !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return errSignatureMismatch
	}
	return nil
}

var errSignatureMismatch = fmt.Errorf("the request signature we calculated does not match the signature you provided; check your AWS secret access key and signing method")

// checkSigningContext checks what SigV4 and SigV4A share: X-Amz-Date
// within maxClockSkew of now and matching the scope's date, the scope's
// service, and X-Amz-Content-Sha256 (when sent) being payloadHash. It
// returns X-Amz-Date.
func checkSigningContext(r *http.Request, a *authorization, service, payloadHash string, now time.Time) (string, error) {
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return "", fmt.Errorf("X-Amz-Date %q is not yyyymmddThhmmssZ", amzDate)
	}
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return "", fmt.Errorf("signature expired: %s is more than %s away from the server time %s", amzDate, maxClockSkew, now.UTC().Format("20060102T150405Z"))
	}
	if amzDate[:8] != a.Date {
		return "", fmt.Errorf("credential date %s does not match X-Amz-Date %s", a.Date, amzDate)
	}
	if a.Service != service {
		return "", fmt.Errorf("credential should be scoped to the service %s, not %s", service, a.Service)
	}
	for _, h := range r.Header.Values("X-Amz-Content-Sha256") {
		switch {
		case h == payloadHash:
		case h == unsignedPayload || strings.HasPrefix(h, "STREAMING-"):
			return "", fmt.Errorf("X-Amz-Content-Sha256 is %s: the %s API requires the SHA-256 of the request body to be signed", h, service)
		default:
			return "", fmt.Errorf("X-Amz-Content-Sha256 %q is not the SHA-256 of the request body", h)
		}
	}
	return amzDate, nil
}

// signature computes the hex signature of r for a's scope and signed
// headers at amzDate.
func signature(r *http.Request, a *authorization, secret, amzDate, payloadHash string) string {
	creq := canonicalRequest(r, a.SignedHeaders, payloadHash)
	sum := sha256.Sum256([]byte(creq))
	sts := sigV4Algorithm + "\n" + amzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), a.Date)
	key = hmacSHA256(key, a.Region)
	key = hmacSHA256(key, a.Service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalRequest builds SigV4's canonical request: method, canonical URI
// (the path as sent, each byte outside the unreserved set and '/'
// percent-encoded once more, as every service but S3 signs it), canonical
// query string, canonical headers, signed headers and payload hash.
func canonicalRequest(r *http.Request, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if r.RequestURI != "" && !strings.HasPrefix(r.RequestURI, "*") {
		if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
			path = p
		}
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, false))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value: every value trimmed,
// inner runs of blanks collapsed, joined by commas.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values(name)
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery sorts the query parameters by name, then value, each
// name and value URI-encoded.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var params []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		params = append(params, kv{uriEncode(k, true), uriEncode(v, true)})
	}
	slices.SortFunc(params, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - . _ ~) and, unless encodeSlash, '/'; hex digits are upper case.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
