package signed

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Policy is one parsed CloudFront policy statement: what a signed URL or
// signed cookie grants.
type Policy struct {
	// Resource is the URL pattern the policy grants ("*" matches any run of
	// characters, "?" exactly one); "" when the statement has no Resource,
	// which grants every object.
	Resource string
	// DateLessThan is the expiry, in Unix seconds (required): the request
	// must come before it.
	DateLessThan int64
	// DateGreaterThan is the start, in Unix seconds; 0 when not set.
	DateGreaterThan int64
	// SourceIP is the viewer address range; the zero Prefix when not set.
	SourceIP netip.Prefix
}

// ErrMalformedPolicy is wrapped by every error of ParsePolicy.
var ErrMalformedPolicy = errors.New("malformed policy")

// ParsePolicy parses a policy statement as CloudFront reads one:
//
//	{"Statement":[{"Resource":"…","Condition":{"DateLessThan":{"AWS:EpochTime":…},
//	  "DateGreaterThan":{"AWS:EpochTime":…},"IpAddress":{"AWS:SourceIp":"CIDR"}}}]}
//
// Names are exact (CloudFront accepts no abbreviations or other case), there
// is exactly one statement, DateLessThan is required, epoch times are
// integers without quotes, and an unknown name is an error rather than a
// condition silently ignored.
func ParsePolicy(data []byte) (*Policy, error) {
	top, err := object(data, "policy", "Statement")
	if err != nil {
		return nil, err
	}
	var stmts []json.RawMessage
	if err := strictUnmarshal(top["Statement"], &stmts); err != nil {
		return nil, fmt.Errorf("%w: Statement: expected a list", ErrMalformedPolicy)
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%w: Statement: expected exactly one statement, got %d", ErrMalformedPolicy, len(stmts))
	}
	st, err := object(stmts[0], "Statement[0]", "Resource", "Condition")
	if err != nil {
		return nil, err
	}
	p := &Policy{}
	if raw, ok := st["Resource"]; ok {
		if err := strictUnmarshal(raw, &p.Resource); err != nil || p.Resource == "" {
			return nil, fmt.Errorf("%w: Resource: expected a URL string", ErrMalformedPolicy)
		}
	}
	raw, ok := st["Condition"]
	if !ok {
		return nil, fmt.Errorf("%w: Condition is required", ErrMalformedPolicy)
	}
	cond, err := object(raw, "Condition", "DateLessThan", "DateGreaterThan", "IpAddress")
	if err != nil {
		return nil, err
	}
	lt, ok := cond["DateLessThan"]
	if !ok {
		return nil, fmt.Errorf("%w: Condition.DateLessThan is required", ErrMalformedPolicy)
	}
	if p.DateLessThan, err = epochTime(lt, "DateLessThan"); err != nil {
		return nil, err
	}
	if gt, ok := cond["DateGreaterThan"]; ok {
		if p.DateGreaterThan, err = epochTime(gt, "DateGreaterThan"); err != nil {
			return nil, err
		}
	}
	if ip, ok := cond["IpAddress"]; ok {
		o, err := object(ip, "IpAddress", "AWS:SourceIp")
		if err != nil {
			return nil, err
		}
		var s string
		if err := strictUnmarshal(o["AWS:SourceIp"], &s); err != nil {
			return nil, fmt.Errorf("%w: IpAddress.AWS:SourceIp: expected a CIDR string", ErrMalformedPolicy)
		}
		if p.SourceIP, err = ParseSourceIP(s); err != nil {
			return nil, fmt.Errorf("%w: IpAddress.AWS:SourceIp: %w", ErrMalformedPolicy, err)
		}
	}
	return p, nil
}

// object decodes data as a JSON object whose names are all among allowed.
func object(data []byte, what string, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := strictUnmarshal(data, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: %s: expected an object", ErrMalformedPolicy, what)
	}
	for k := range m {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			return nil, fmt.Errorf("%w: %s: unknown name %q", ErrMalformedPolicy, what, k)
		}
	}
	return m, nil
}

// strictUnmarshal decodes data into v, numbers as json.Number.
func strictUnmarshal(data []byte, v any) error {
	if len(data) == 0 {
		return errors.New("empty")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// epochTime decodes {"AWS:EpochTime": n}: a non-negative integer.
func epochTime(data []byte, what string) (int64, error) {
	o, err := object(data, what, "AWS:EpochTime")
	if err != nil {
		return 0, err
	}
	raw, ok := o["AWS:EpochTime"]
	if !ok {
		return 0, fmt.Errorf("%w: %s.AWS:EpochTime is required", ErrMalformedPolicy, what)
	}
	var n json.Number
	if err := strictUnmarshal(raw, &n); err != nil || bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) {
		return 0, fmt.Errorf("%w: %s.AWS:EpochTime: expected an integer", ErrMalformedPolicy, what)
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: %s.AWS:EpochTime: %s is not a Unix time in seconds", ErrMalformedPolicy, what, n)
	}
	return v, nil
}

// ParseSourceIP parses an AWS:SourceIp value: an IPv4 or IPv6 CIDR block
// ("192.0.2.0/24", "2001:db8::/32"), or a single address, which means /32
// or /128.
func ParseSourceIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// DecodeBase64 decodes CloudFront's URL-safe base64 (the standard alphabet
// with '+' written '-', '=' written '_' and '/' written '~'). Padding may be
// left out.
func DecodeBase64(s string) ([]byte, error) {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '-':
			b[i] = '+'
		case '_':
			b[i] = '='
		case '~':
			b[i] = '/'
		}
	}
	b = bytes.TrimRight(b, "=")
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
	n, err := base64.RawStdEncoding.Decode(out, b)
	if err != nil {
		return nil, fmt.Errorf("invalid base64: %w", err)
	}
	return out[:n], nil
}

// EncodeBase64 encodes data in CloudFront's URL-safe base64.
func EncodeBase64(data []byte) string {
	return strings.NewReplacer("+", "-", "=", "_", "/", "~").Replace(base64.StdEncoding.EncodeToString(data))
}

// CannedPolicy returns the policy statement CloudFront signs for a canned
// policy of resource expiring at expires, whitespace-free, in the form the
// AWS SDKs produce: the resource JSON-quoted without HTML escaping.
func CannedPolicy(resource string, expires int64) []byte {
	b := make([]byte, 0, len(resource)+96)
	b = append(b, `{"Statement":[{"Resource":`...)
	b = appendJSONString(b, resource)
	b = append(b, `,"Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	b = strconv.AppendInt(b, expires, 10)
	return append(b, `}}}]}`...)
}

// appendJSONString appends s as a JSON string: '"', '\\' and control
// characters escaped, '<', '>', '&' left as they are (as the AWS SDK for Go
// encodes with SetEscapeHTML(false)).
func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// Match reports whether url matches a policy Resource: '*' matches any run
// of characters (including none, '/' and '?'), '?' exactly one; everything
// else matches itself, case-sensitively.
func Match(pattern, url string) bool {
	// Iterative wildcard matching with one backtrack point: linear in
	// practice, never exponential.
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(url) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == url[s]):
			p++
			s++
		case star >= 0:
			p = star + 1
			mark++
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
