package cache

import (
	"net/http"
	"time"

	"github.com/edgefront/edgefront/config"
)

// FreshnessRFC9111 is Freshness for a distribution that opted in to RFC
// 9111's semantics (httpSemantics: rfc9111), for a response of any status
// edgefront understands, errors included. Where it differs from CloudFront:
//
//   - The targeted fields Edgefront-Cache-Control, else CDN-Cache-Control
//     (RFC 9213 §2.2), replace Cache-Control when present.
//   - no-store and private are never stored, whatever MinTTL says
//     (§5.2.2.5, §5.2.2.7); must-understand with a status edgefront
//     understands (all it stores) overrides no-store (§5.2.2.3).
//   - no-cache is stored and stale at once, so every use revalidates
//     (§5.2.2.4); MinTTL never makes a response fresh, MaxTTL still bounds
//     it (a cache may always keep a response for less).
//   - Errors follow their own freshness, as any response: no
//     ErrorCachingMinTTL floor, and 4xx/5xx with explicit freshness are
//     cached whatever the code.
//   - Without explicit freshness only heuristically cacheable statuses
//     (RFC 9110 §15.1), or a public response, are fresh: 10% of the time
//     since Last-Modified (measured from Date), at most a day (§4.2.2),
//     or DefaultTTL without Last-Modified; any other status is not stored.
//
// The origin's Age is subtracted as in Freshness.
func FreshnessRFC9111(status int, h http.Header, p *config.CachePolicy, now time.Time) Decision {
	if p == nil || !p.Caching() {
		return Decision{Rule: RuleCachingDisabled}
	}
	if !understood(status) {
		return Decision{Rule: "not cached (status not understood, RFC 9111 §3)"}
	}
	ccHeader, from := h, "Cache-Control"
	for _, targeted := range [...]string{"Edgefront-Cache-Control", "Cdn-Cache-Control"} {
		if vs := h[targeted]; len(vs) > 0 {
			ccHeader, from = http.Header{"Cache-Control": vs}, targeted
			break
		}
	}
	cc := ParseCacheControl(ccHeader)
	if cc.NoStore && !(cc.MustUnderstand && understood(status)) {
		return Decision{Rule: "not cached (" + from + ": no-store, RFC 9111 §5.2.2.5)"}
	}
	if cc.Private {
		return Decision{Rule: "not cached (" + from + ": private, RFC 9111 §5.2.2.7)"}
	}
	d := Decision{
		Store:                true,
		StaleWhileRevalidate: min(cc.StaleWhileRevalidate, p.MaxTTL),
		StaleIfError:         min(cc.StaleIfError, p.MaxTTL),
	}
	if cc.HasStaleIfError && cc.StaleIfError == 0 {
		d.StaleIfError = NoStaleIfError
	}
	if cc.MustRevalidate || cc.ProxyRevalidate || cc.HasSMaxAge {
		// §5.2.2.2, §5.2.2.8, §5.2.2.10 (s-maxage implies proxy-revalidate):
		// once stale, never reused without the origin's say, not even when
		// it cannot be reached.
		d.StaleWhileRevalidate, d.StaleIfError = 0, NoStaleIfError
	}
	if cc.NoCache {
		d.Rule = from + ": no-cache (stored, revalidated on every use, RFC 9111 §5.2.2.4)"
		return d
	}
	var lifetime time.Duration
	switch {
	case cc.HasSMaxAge:
		lifetime, d.Rule = cc.SMaxAge, from+": s-maxage"
	case cc.HasMaxAge:
		lifetime, d.Rule = cc.MaxAge, from+": max-age"
	default:
		exp, ok := expiresLifetime(h, now)
		switch {
		case ok:
			lifetime, d.Rule = exp, "Expires"
		case !heuristicallyCacheable(status) && !cc.Public:
			return Decision{Rule: "not cached (no explicit freshness, status not heuristically cacheable, RFC 9111 §4.2.2)"}
		default:
			lifetime, d.Rule = heuristic(h, p, now)
		}
	}
	if age := InitialAge(h); age > 0 {
		lifetime, d.Rule = lifetime-age, d.Rule+ageRule
	}
	d.TTL = clampTTL(lifetime, 0, p.MaxTTL)
	if lifetime > p.MaxTTL {
		d.Rule += ", clamped to MaxTTL"
	}
	return d
}

// heuristic is the heuristic freshness lifetime of a response without
// explicit freshness (RFC 9111 §4.2.2): a tenth of the time since its
// Last-Modified, at most a day; the policy's DefaultTTL without one.
func heuristic(h http.Header, p *config.CachePolicy, now time.Time) (time.Duration, string) {
	lm, ok := singleDate(h, "Last-Modified", now)
	if !ok {
		return p.DefaultTTL, "DefaultTTL (heuristic freshness, no Last-Modified)"
	}
	base := now
	if d, ok := singleDate(h, "Date", now); ok {
		base = d
	}
	return min(max(base.Sub(lm), 0)/10, 24*time.Hour), "heuristic: 10% of the time since Last-Modified (RFC 9111 §4.2.2)"
}

// singleDate parses the one HTTP-date field name of h.
func singleDate(h http.Header, name string, now time.Time) (time.Time, bool) {
	vs := h[name]
	if len(vs) != 1 {
		return time.Time{}, false
	}
	return ParseHTTPDate(trimOWS(vs[0]), now)
}

// heuristicallyCacheable reports whether RFC 9110 §15.1 makes a status
// heuristically cacheable.
func heuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// understood reports whether edgefront knows a status code's caching
// semantics (for must-understand, RFC 9111 §5.2.2.3).
func understood(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 302, 303, 307, 308,
		400, 403, 404, 405, 410, 412, 414, 415, 500, 501, 502, 503, 504:
		return true
	}
	return false
}
