package cache

import (
	"net/http"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// Decision is what CloudFront decides about storing one origin response.
type Decision struct {
	// Store reports whether the response may be cached at all.
	Store bool
	// TTL is how long the response stays fresh in this cache, counted
	// from when it was requested (Entry.Stored): the origin's freshness
	// lifetime less the age it already had (its Age header, RFC 9111
	// §4.2.3), then bounded by the cache policy. So Entry.Fresh, which
	// compares TTL with the time since Stored, is the RFC's
	// "freshness_lifetime > current_age", with no addition on a hit.
	TTL time.Duration
	// StaleWhileRevalidate and StaleIfError are the origin's
	// stale-while-revalidate and stale-if-error windows past TTL;
	// StaleIfError is NoStaleIfError when the origin sent
	// stale-if-error=0 (see Entry.StaleOnError).
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	// Rule names the row of CloudFront's TTL table that decided, for people
	// (edgefront's X-Edgefront-Explain): "s-maxage", "max-age",
	// "Expires", "DefaultTTL", "MinTTL (no-cache/no-store/private)"…, with
	// ", clamped to MinTTL" or ", clamped to MaxTTL" when the bounds applied.
	Rule string
}

// maxDelta is the largest delta-seconds value kept: RFC 9111 §1.2.2 lets a
// cache treat anything above 2^31 seconds as 2^31 seconds.
const maxDelta = (1 << 31) * time.Second

// Freshness decides whether and how long a successful origin response is
// cached, following CloudFront's table of origin headers against the cache
// policy's Minimum, Default and Maximum TTL:
//
//   - CachingDisabled (MaxTTL 0) never stores.
//   - Cache-Control no-store, no-cache or private: not cached when MinTTL is
//     0, cached for MinTTL otherwise.
//   - s-maxage, else max-age, else Expires (relative to the origin's Date
//     header when it has a valid one, else now), less the response's age
//     (its Age header): clamped to [MinTTL, MaxTTL].
//   - No freshness information: DefaultTTL less the response's age, or
//     MinTTL when that is greater (MaxTTL applies only to what the origin
//     sends).
//
// The age subtracted is the origin's Age (RFC 9111 §4.2.3's
// corrected_age_value: the response delay is counted as time in this
// cache, since Entry.Stored is when the request was sent). The
// apparent_age (now minus the origin's Date) is not used: it is only as
// good as the origin's clock, and a skewed clock would make every response
// stale (or none); CloudFront's guide says nothing on either.
//
// stale-while-revalidate and stale-if-error are passed through, each capped
// at MaxTTL. Where CloudFront's documentation is silent the parser follows
// RFC 9111: the first of duplicated directives wins (§4.2.1), a max-age that
// is not a number makes the response stale (§4.2.1), an invalid Expires
// means already expired (§5.3).
func Freshness(h http.Header, p *config.CachePolicy, now time.Time) Decision {
	if p == nil || !p.Caching() {
		return Decision{Rule: RuleCachingDisabled}
	}
	cc := ParseCacheControl(h)
	age := InitialAge(h)
	d := Decision{
		Store:                true,
		StaleWhileRevalidate: min(cc.StaleWhileRevalidate, p.MaxTTL),
		StaleIfError:         min(cc.StaleIfError, p.MaxTTL),
	}
	if cc.HasStaleIfError && cc.StaleIfError == 0 {
		d.StaleIfError = NoStaleIfError
	}
	if cc.NoStore || cc.NoCache || cc.Private {
		if p.MinTTL <= 0 {
			return Decision{Rule: RuleNotCached}
		}
		d.TTL, d.Rule = p.MinTTL, RuleMinTTLOverride
		return d
	}
	var ttl time.Duration
	switch {
	case cc.HasSMaxAge:
		ttl, d.Rule = cc.SMaxAge, "s-maxage"
	case cc.HasMaxAge:
		ttl, d.Rule = cc.MaxAge, "max-age"
	default:
		exp, ok := expiresLifetime(h, now)
		if !ok {
			d.TTL, d.Rule = max(p.DefaultTTL-age, p.MinTTL, 0), "DefaultTTL (no freshness information)"
			if p.MinTTL > p.DefaultTTL-age {
				d.Rule = "MinTTL (no freshness information, MinTTL over DefaultTTL)"
			}
			if age > 0 {
				d.Rule += ageRule
			}
			return d
		}
		ttl, d.Rule = exp, "Expires"
	}
	if age > 0 {
		ttl, d.Rule = ttl-age, d.Rule+ageRule
	}
	d.TTL = clampTTL(ttl, p.MinTTL, p.MaxTTL)
	switch {
	case ttl > p.MaxTTL && d.TTL == p.MaxTTL:
		d.Rule += ", clamped to MaxTTL"
	case ttl < p.MinTTL:
		d.Rule += ", clamped to MinTTL"
	}
	return d
}

// ageRule is added to a Decision's Rule when the response's Age shortened
// its time in the cache.
const ageRule = ", less the origin's Age"

// Rules of the TTL table with no origin value in them.
const (
	RuleCachingDisabled = "caching disabled (MaxTTL 0)"
	RuleNotCached       = "not cached (no-cache/no-store/private with MinTTL 0)"
	RuleMinTTLOverride  = "MinTTL (no-cache/no-store/private)"
)

// clampTTL bounds ttl to [lo, hi]; lo wins over a smaller hi.
func clampTTL(ttl, lo, hi time.Duration) time.Duration {
	if ttl > hi {
		ttl = hi
	}
	if ttl < lo {
		ttl = lo
	}
	return max(ttl, 0)
}

// expiresLifetime returns Expires minus Date (or minus now when Date is
// missing or invalid), and whether the response had an Expires header at
// all. An Expires that is not exactly an HTTP-date (ParseHTTPDate; leading
// and trailing whitespace aside, which is not part of a field value), or
// that the response has more than once, counts as already expired (RFC
// 9111 §5.3).
func expiresLifetime(h http.Header, now time.Time) (time.Duration, bool) {
	vs := h["Expires"]
	if len(vs) == 0 {
		return 0, false
	}
	if len(vs) > 1 {
		return 0, true
	}
	exp, ok := ParseHTTPDate(trimOWS(vs[0]), now)
	if !ok {
		return 0, true
	}
	base := now
	if ds := h["Date"]; len(ds) == 1 {
		if d, ok := ParseHTTPDate(trimOWS(ds[0]), now); ok {
			base = d
		}
	}
	return max(exp.Sub(base), 0), true
}

// ErrorFreshness decides whether and how long an error response (4xx, 5xx)
// is cached (HTTPStatusCodes, custom-error-pages-expiration). CloudFront
// caches 404, 414, 500, 501, 502, 503 and 504 always, and 400, 403, 405,
// 412 and 415 only when the origin sends max-age or s-maxage; it does not
// cache 416 or any other code. The time is the greater of minTTL (the
// distribution's ErrorCachingMinTTL for the code) and the origin's
// s-maxage, max-age or Expires, the origin's capped at maxTTL (the
// behaviour's MaxTTL). An origin's no-store, no-cache or private does not
// shorten that below minTTL; with minTTL 0 it prevents caching.
func ErrorFreshness(status int, h http.Header, minTTL, maxTTL time.Duration, now time.Time) Decision {
	cc := ParseCacheControl(h)
	var origin time.Duration
	hasAge, hasOrigin := true, true
	switch {
	case cc.HasSMaxAge:
		origin = cc.SMaxAge
	case cc.HasMaxAge:
		origin = cc.MaxAge
	default:
		hasAge = false
		origin, hasOrigin = expiresLifetime(h, now)
	}
	origin = max(origin-InitialAge(h), 0) // the time it has left (RFC 9111 §4.2.3)
	const notCached = "error not cached"
	switch status {
	case 404, 414, 500, 501, 502, 503, 504:
	case 400, 403, 405, 412, 415:
		if !hasAge {
			return Decision{Rule: notCached + " (no max-age for this code)"}
		}
	default:
		return Decision{Rule: notCached + " (code never cached)"}
	}
	if minTTL <= 0 && (cc.NoStore || cc.NoCache || cc.Private) {
		return Decision{Rule: notCached}
	}
	origin = min(origin, max(maxTTL, 0))
	ttl := max(minTTL, origin)
	if ttl <= 0 {
		return Decision{Rule: notCached + " (ErrorCachingMinTTL 0)"}
	}
	if hasOrigin && origin > minTTL {
		return Decision{Store: true, TTL: ttl, Rule: "error caching: the origin's max-age or Expires"}
	}
	return Decision{Store: true, TTL: ttl, Rule: "error caching: ErrorCachingMinTTL"}
}

// InitialAge returns the origin's Age header (RFC 9111 §5.1), or 0 when it
// is missing or not a number. Of a list ("12, 40", or several lines) the
// first member counts.
func InitialAge(h http.Header) time.Duration {
	vs := h["Age"]
	if len(vs) == 0 {
		return 0
	}
	v, _, _ := strings.Cut(vs[0], ",")
	d, ok := parseDelta(trimOWS(v))
	if !ok {
		return 0
	}
	return d
}

// CacheControl is a parsed Cache-Control response header.
type CacheControl struct {
	MaxAge, SMaxAge       time.Duration
	HasMaxAge, HasSMaxAge bool
	NoCache, NoStore      bool
	Private, Public       bool
	MustRevalidate        bool
	ProxyRevalidate       bool
	NoTransform           bool
	Immutable             bool
	MustUnderstand        bool
	StaleWhileRevalidate  time.Duration
	StaleIfError          time.Duration
	HasStaleIfError       bool
	// The request directives (RFC 9111 §5.2.1): max-stale (MaxStale < 0
	// when it has no value: any staleness), min-fresh, only-if-cached.
	MaxStale     time.Duration
	HasMaxStale  bool
	MinFresh     time.Duration
	OnlyIfCached bool
	// UnstoredFields are the header fields a qualified no-cache or private
	// names (no-cache="Set-Cookie"), in canonical form: the response may
	// be cached, without them (RFC 9111 §5.2.2.4 and §5.2.2.7; the guide's
	// Cookies page: "Suspending caching based on cookies"). Such a
	// directive does not set NoCache or Private.
	UnstoredFields []string
}

// ParseCacheControl parses every Cache-Control line of h. It never fails:
// unknown directives are ignored, names are case-insensitive, values may be
// quoted, and directives may be spread over several lines. The first of
// duplicated directives wins; a max-age or s-maxage whose value is not a
// number counts as 0 (stale, RFC 9111 §4.2.1).
func ParseCacheControl(h http.Header) CacheControl {
	var cc CacheControl
	var seenSWR, seenSIE bool
	for _, line := range h["Cache-Control"] {
		for line != "" {
			var dir string
			dir, line = nextDirective(line)
			name, val, hasVal := splitDirective(dir)
			if name == "" {
				continue
			}
			switch {
			case strings.EqualFold(name, "max-age"):
				if !cc.HasMaxAge {
					cc.HasMaxAge = true
					cc.MaxAge, _ = parseDelta(val)
				}
			case strings.EqualFold(name, "s-maxage"):
				if !cc.HasSMaxAge {
					cc.HasSMaxAge = true
					cc.SMaxAge, _ = parseDelta(val)
				}
			case strings.EqualFold(name, "no-cache"):
				if !cc.qualified(val) {
					cc.NoCache = true
				}
			case strings.EqualFold(name, "no-store"):
				cc.NoStore = true
			case strings.EqualFold(name, "private"):
				if !cc.qualified(val) {
					cc.Private = true
				}
			case strings.EqualFold(name, "public"):
				cc.Public = true
			case strings.EqualFold(name, "must-revalidate"):
				cc.MustRevalidate = true
			case strings.EqualFold(name, "proxy-revalidate"):
				cc.ProxyRevalidate = true
			case strings.EqualFold(name, "no-transform"):
				cc.NoTransform = true
			case strings.EqualFold(name, "immutable"):
				cc.Immutable = true
			case strings.EqualFold(name, "must-understand"):
				cc.MustUnderstand = true
			case strings.EqualFold(name, "max-stale"):
				if !cc.HasMaxStale {
					cc.HasMaxStale, cc.MaxStale = true, -1
					if hasVal {
						cc.MaxStale, _ = parseDelta(val)
					}
				}
			case strings.EqualFold(name, "min-fresh"):
				cc.MinFresh, _ = parseDelta(val)
			case strings.EqualFold(name, "only-if-cached"):
				cc.OnlyIfCached = true
			case strings.EqualFold(name, "stale-while-revalidate"):
				if !seenSWR && hasVal {
					seenSWR = true
					cc.StaleWhileRevalidate, _ = parseDelta(val)
				}
			case strings.EqualFold(name, "stale-if-error"):
				if !seenSIE && hasVal {
					seenSIE = true
					cc.StaleIfError, cc.HasStaleIfError = parseDelta(val)
				}
			}
		}
	}
	return cc
}

// qualified adds the field names of a qualified no-cache or private
// directive's value to cc.UnstoredFields and reports whether it named any.
func (cc *CacheControl) qualified(val string) bool {
	named := false
	for _, f := range strings.Split(val, ",") {
		if f = trimOWS(f); f != "" {
			cc.UnstoredFields = append(cc.UnstoredFields, http.CanonicalHeaderKey(f))
			named = true
		}
	}
	return named
}

// nextDirective splits s at the first comma that is not inside a quoted
// string and returns the part before it and the rest.
func nextDirective(s string) (dir, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++ // skip the escaped byte
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// splitDirective splits `name[=value]`, trimming optional whitespace and the
// quotes of a quoted value (escapes inside it are left as sent: no value
// this package reads may contain them).
func splitDirective(d string) (name, val string, hasVal bool) {
	d = trimOWS(d)
	i := strings.IndexByte(d, '=')
	if i < 0 {
		return d, "", false
	}
	name, val = trimOWS(d[:i]), trimOWS(d[i+1:])
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	}
	return name, val, true
}

// trimOWS trims spaces and tabs (RFC 9110 §5.6.3).
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseDelta parses delta-seconds (RFC 9111 §1.2.2): digits only, values
// above 2^31 capped. It reports false (and 0) for anything else.
func parseDelta(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int64(c-'0'), 1<<31)
	}
	return time.Duration(n) * time.Second, true
}
