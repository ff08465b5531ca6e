package cache

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func policy(minTTL, defTTL, maxTTL time.Duration) *config.CachePolicy {
	return &config.CachePolicy{MinTTL: minTTL, DefaultTTL: defTTL, MaxTTL: maxTTL}
}

const (
	sec  = time.Second
	day  = 24 * time.Hour
	year = 365 * day
)

var (
	// CachingOptimized: 1 s / 1 day / 1 year.
	optimized = policy(1*sec, day, year)
	// UseOriginCacheControlHeaders: 0 / 0 / 1 year.
	originCC = policy(0, 0, year)
	// CachingDisabled: 0 / 0 / 0.
	disabled = policy(0, 0, 0)
	minPos   = policy(60*sec, 300*sec, 3600*sec)
	minZero  = policy(0, 300*sec, 3600*sec)
)

// TestFreshness walks CloudFront's table "Specify the amount of time that
// CloudFront caches objects" (Manage how long content stays in the cache).
func TestFreshness(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := now.Add(-time.Hour).Format(http.TimeFormat) // origin clock an hour behind
	tests := []struct {
		rule string
		p    *config.CachePolicy
		h    http.Header
		want Decision
	}{
		{"CachingDisabled (MaxTTL 0) never stores", disabled, hdr("Cache-Control", "max-age=600"), Decision{}},
		{"CachingDisabled with no headers", disabled, hdr(), Decision{}},
		{"max-age within [Min,Max] is used", minZero, hdr("Cache-Control", "max-age=600"), Decision{Store: true, TTL: 600 * sec}},
		{"max-age above MaxTTL: the lesser of max-age and MaxTTL", minZero, hdr("Cache-Control", "max-age=86400"), Decision{Store: true, TTL: 3600 * sec}},
		{"max-age below MinTTL (MinTTL>0): MinTTL", minPos, hdr("Cache-Control", "max-age=10"), Decision{Store: true, TTL: 60 * sec}},
		{"max-age=0 with CachingOptimized is held MinTTL (1 s)", optimized, hdr("Cache-Control", "max-age=0"), Decision{Store: true, TTL: 1 * sec}},
		{"max-age=0 with MinTTL 0 is stored with TTL 0 (revalidate each time)", originCC, hdr("Cache-Control", "max-age=0"), Decision{Store: true, TTL: 0}},
		{"s-maxage wins over max-age", minZero, hdr("Cache-Control", "max-age=10, s-maxage=900"), Decision{Store: true, TTL: 900 * sec}},
		{"s-maxage wins even when smaller", minZero, hdr("Cache-Control", "max-age=900, s-maxage=20"), Decision{Store: true, TTL: 20 * sec}},
		{"s-maxage clamped to MaxTTL", minZero, hdr("Cache-Control", "s-maxage=99999"), Decision{Store: true, TTL: 3600 * sec}},
		{"s-maxage clamped to MinTTL", minPos, hdr("Cache-Control", "s-maxage=5"), Decision{Store: true, TTL: 60 * sec}},
		{"Expires relative to the origin's Date", minZero, hdr("Date", date, "Expires", now.Add(-30*time.Minute).Format(http.TimeFormat)), Decision{Store: true, TTL: 1800 * sec}},
		{"Expires relative to now without Date", minZero, hdr("Expires", now.Add(20*time.Minute).Format(http.TimeFormat)), Decision{Store: true, TTL: 1200 * sec}},
		{"Expires with an invalid Date: relative to now", minZero, hdr("Date", "yesterday", "Expires", now.Add(20*time.Minute).Format(http.TimeFormat)), Decision{Store: true, TTL: 1200 * sec}},
		{"Expires clamped to MaxTTL", minZero, hdr("Expires", now.Add(48*time.Hour).Format(http.TimeFormat)), Decision{Store: true, TTL: 3600 * sec}},
		{"Expires in the past, MinTTL>0: MinTTL", minPos, hdr("Expires", now.Add(-time.Hour).Format(http.TimeFormat)), Decision{Store: true, TTL: 60 * sec}},
		{"invalid Expires is already expired (RFC 9111 §5.3)", minZero, hdr("Expires", "0"), Decision{Store: true, TTL: 0}},
		{"max-age beats Expires", minZero, hdr("Cache-Control", "max-age=100", "Expires", now.Add(20*time.Minute).Format(http.TimeFormat)), Decision{Store: true, TTL: 100 * sec}},
		{"no freshness information: DefaultTTL", minZero, hdr(), Decision{Store: true, TTL: 300 * sec}},
		{"no freshness information, MinTTL>DefaultTTL: MinTTL", policy(600*sec, 300*sec, 3600*sec), hdr(), Decision{Store: true, TTL: 600 * sec}},
		{"DefaultTTL is not clamped by MaxTTL", policy(0, 7200*sec, 3600*sec), hdr(), Decision{Store: true, TTL: 7200 * sec}},
		{"Cache-Control without max-age is no freshness information", minZero, hdr("Cache-Control", "public"), Decision{Store: true, TTL: 300 * sec}},
		{"UseOriginCacheControlHeaders without headers: DefaultTTL 0", originCC, hdr(), Decision{Store: true, TTL: 0}},
		{"no-cache, MinTTL 0: not cached", minZero, hdr("Cache-Control", "no-cache"), Decision{}},
		{"no-store, MinTTL 0: not cached", minZero, hdr("Cache-Control", "no-store"), Decision{}},
		{"private, MinTTL 0: not cached", minZero, hdr("Cache-Control", "private, max-age=600"), Decision{}},
		{"no-cache, MinTTL>0: cached for MinTTL", minPos, hdr("Cache-Control", "no-cache"), Decision{Store: true, TTL: 60 * sec}},
		{"no-store with max-age, MinTTL>0: MinTTL", minPos, hdr("Cache-Control", "no-store, max-age=900"), Decision{Store: true, TTL: 60 * sec}},
		{"stale-while-revalidate and stale-if-error are passed through", minZero, hdr("Cache-Control", "max-age=60, stale-while-revalidate=30, stale-if-error=600"), Decision{Store: true, TTL: 60 * sec, StaleWhileRevalidate: 30 * sec, StaleIfError: 600 * sec}},
		{"stale windows capped at MaxTTL", minZero, hdr("Cache-Control", "max-age=60, stale-while-revalidate=86400, stale-if-error=86400"), Decision{Store: true, TTL: 60 * sec, StaleWhileRevalidate: 3600 * sec, StaleIfError: 3600 * sec}},
		{"stale windows without max-age: DefaultTTL", minZero, hdr("Cache-Control", "stale-if-error=100"), Decision{Store: true, TTL: 300 * sec, StaleIfError: 100 * sec}},
		{"directives on several lines", minZero, hdr("Cache-Control", "public", "Cache-Control", "s-maxage=50"), Decision{Store: true, TTL: 50 * sec}},
		{"invalid max-age is stale (RFC 9111 §4.2.1)", minZero, hdr("Cache-Control", "max-age=abc"), Decision{Store: true, TTL: 0}},
		{"nil policy stores nothing", nil, hdr("Cache-Control", "max-age=60"), Decision{}},
		{"RFC 9111 §4.2.3: the origin's Age is subtracted from max-age", minZero, hdr("Cache-Control", "max-age=600", "Age", "100"), Decision{Store: true, TTL: 500 * sec}},
		{"RFC 9111 §4.2.3: Age over max-age is stale at once", originCC, hdr("Cache-Control", "max-age=3600", "Age", "7200"), Decision{Store: true, TTL: 0}},
		{"RFC 9111 §4.2.3: Age over max-age, MinTTL>0: MinTTL", minPos, hdr("Cache-Control", "max-age=3600", "Age", "7200"), Decision{Store: true, TTL: 60 * sec}},
		{"RFC 9111 §4.2.3: Age is subtracted from s-maxage", minZero, hdr("Cache-Control", "s-maxage=60", "Age", "59"), Decision{Store: true, TTL: 1 * sec}},
		{"RFC 9111 §4.2.3: Age is subtracted from Expires minus Date", minZero, hdr("Date", date, "Expires", now.Add(-30*time.Minute).Format(http.TimeFormat), "Age", "3600"), Decision{Store: true, TTL: 0}},
		{"RFC 9111 §4.2.3: Age is subtracted before MaxTTL bounds it", minZero, hdr("Cache-Control", "max-age=86400", "Age", "3000"), Decision{Store: true, TTL: 3600 * sec}},
		{"RFC 9111 §4.2.3: Age is subtracted from DefaultTTL", minZero, hdr("Age", "100"), Decision{Store: true, TTL: 200 * sec}},
		{"RFC 9111 §5.1: an invalid Age is ignored", minZero, hdr("Cache-Control", "max-age=600", "Age", "soon"), Decision{Store: true, TTL: 600 * sec}},
		{"RFC 9111 §5.1: of a list-valued Age the first member counts", minZero, hdr("Cache-Control", "max-age=600", "Age", "100, 500"), Decision{Store: true, TTL: 500 * sec}},
		{"RFC 9111 §5.3: two Expires fields are already expired", minZero, hdr("Expires", now.Add(time.Hour).Format(http.TimeFormat), "Expires", now.Add(time.Hour).Format(http.TimeFormat)), Decision{Store: true, TTL: 0}},
		{"RFC 9111 §5.3: an Expires with a one-digit hour is already expired", minZero, hdr("Expires", "Sun, 01 Mar 2026 9:00:00 GMT"), Decision{Store: true, TTL: 0}},
		{"RFC 9111 §5.3: an Expires with an extra space is already expired", minZero, hdr("Expires", "Sun,  01 Mar 2026 13:00:00 GMT"), Decision{Store: true, TTL: 0}},
		{"RFC 9111 §5.3: an Expires in another zone is already expired", minZero, hdr("Expires", "Sun, 01 Mar 2026 13:00:00 UTC"), Decision{Store: true, TTL: 0}},
		{"RFC 9110 §5.6.7: an RFC 850 Expires is valid", minZero, hdr("Expires", "Sunday, 01-Mar-26 12:20:00 GMT"), Decision{Store: true, TTL: 1200 * sec}},
		{"RFC 9110 §5.6.7: an asctime Expires is valid", minZero, hdr("Expires", "Sun Mar  1 12:20:00 2026"), Decision{Store: true, TTL: 1200 * sec}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := Freshness(tt.h, tt.p, now)
			got.Rule = "" // TestFreshnessRule checks it
			if got != tt.want {
				t.Errorf("Freshness(%v) = %+v, want %+v", tt.h, got, tt.want)
			}
		})
	}
}

// TestErrorFreshness follows HTTPStatusCodes ("How CloudFront processes
// HTTP 4xx and 5xx status codes from your origin") and
// custom-error-pages-expiration ("Control how long CloudFront caches
// errors"); maxTTL is a day unless a row says otherwise.
func TestErrorFreshness(t *testing.T) {
	now := time.Now().Truncate(time.Second) // Expires has whole seconds
	min10 := 10 * sec
	tests := []struct {
		rule   string
		status int
		h      http.Header
		minTTL time.Duration
		want   Decision
	}{
		{"404 always cached for ErrorCachingMinTTL", 404, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"HTTPStatusCodes: 405 only with max-age or s-maxage", 405, hdr(), min10, Decision{}},
		{"HTTPStatusCodes: 405 with max-age", 405, hdr("Cache-Control", "max-age=60"), min10, Decision{Store: true, TTL: 60 * sec}},
		{"414 always cached", 414, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"500 always cached", 500, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"501 always cached", 501, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"502 always cached", 502, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"503 always cached", 503, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"504 always cached", 504, hdr(), min10, Decision{Store: true, TTL: min10}},
		{"400 only with max-age or s-maxage", 400, hdr(), min10, Decision{}},
		{"403 only with max-age or s-maxage", 403, hdr(), min10, Decision{}},
		{"412 only with max-age or s-maxage", 412, hdr(), min10, Decision{}},
		{"415 only with max-age or s-maxage", 415, hdr(), min10, Decision{}},
		{"403 with max-age: the greater of max-age and the minimum", 403, hdr("Cache-Control", "max-age=300"), min10, Decision{Store: true, TTL: 300 * sec}},
		{"400 with s-maxage below the minimum: the minimum", 400, hdr("Cache-Control", "s-maxage=2"), min10, Decision{Store: true, TTL: min10}},
		{"404 with max-age above the minimum: max-age", 404, hdr("Cache-Control", "max-age=120"), min10, Decision{Store: true, TTL: 120 * sec}},
		{"404 with s-maxage and max-age: s-maxage", 404, hdr("Cache-Control", "max-age=120, s-maxage=30"), min10, Decision{Store: true, TTL: 30 * sec}},
		{"503 with no-store still held for the minimum", 503, hdr("Cache-Control", "no-store"), min10, Decision{Store: true, TTL: min10}},
		{"503 with no-store and minimum 0: not cached", 503, hdr("Cache-Control", "no-store"), 0, Decision{}},
		{"minimum 0 without headers: not cached", 404, hdr(), 0, Decision{}},
		{"minimum 0 with max-age: max-age", 404, hdr("Cache-Control", "max-age=60"), 0, Decision{Store: true, TTL: 60 * sec}},
		{"416 is never cached", 416, hdr("Cache-Control", "max-age=60"), min10, Decision{}},
		{"other codes are not cached (401)", 401, hdr("Cache-Control", "max-age=60"), min10, Decision{}},
		{"other codes are not cached (429)", 429, hdr(), min10, Decision{}},
		{"not an error", 200, hdr(), min10, Decision{}},
		{"custom-error-pages-expiration: Expires counts like max-age", 404, hdr("Expires", now.Add(time.Hour).Format(http.TimeFormat)), min10, Decision{Store: true, TTL: time.Hour}},
		{"custom-error-pages-expiration: max-age capped at MaxTTL", 404, hdr("Cache-Control", "max-age=999999"), min10, Decision{Store: true, TTL: 24 * time.Hour}},
		{"custom-error-pages-expiration: Expires does not make 403 cacheable", 403, hdr("Expires", now.Add(time.Hour).Format(http.TimeFormat)), min10, Decision{}},
		{"RFC 9111 §4.2.3: the origin's Age is subtracted from an error's max-age", 404, hdr("Cache-Control", "max-age=120", "Age", "100"), min10, Decision{Store: true, TTL: 20 * sec}},
		{"RFC 9111 §4.2.3: an error older than its max-age: ErrorCachingMinTTL", 404, hdr("Cache-Control", "max-age=120", "Age", "500"), min10, Decision{Store: true, TTL: min10}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := ErrorFreshness(tt.status, tt.h, tt.minTTL, 24*time.Hour, now)
			got.Rule = "" // TestFreshnessRule checks it
			if got != tt.want {
				t.Errorf("ErrorFreshness(%d, %v, %v) = %+v, want %+v", tt.status, tt.h, tt.minTTL, got, tt.want)
			}
		})
	}
}

func TestInitialAge(t *testing.T) {
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{hdr(), 0},
		{hdr("Age", "30"), 30 * sec},
		{hdr("Age", " 7 "), 7 * sec},
		{hdr("Age", "-5"), 0},
		{hdr("Age", "1.5"), 0},
		{hdr("Age", "abc"), 0},
		{hdr("Age", "99999999999999999999"), maxDelta},
		{hdr("Age", "12", "Age", "40"), 12 * sec},
	}
	for _, tt := range tests {
		if got := InitialAge(tt.h); got != tt.want {
			t.Errorf("InitialAge(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

// TestParseCacheControl: the parser tolerates what origins send.
func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  CacheControl
	}{
		{"empty", nil, CacheControl{}},
		{"simple", []string{"public, max-age=60"}, CacheControl{Public: true, HasMaxAge: true, MaxAge: 60 * sec}},
		{"upper case and odd spacing", []string{"  MAX-AGE = 60 ,\tNo-Cache  "}, CacheControl{HasMaxAge: true, MaxAge: 60 * sec, NoCache: true}},
		{"quoted value", []string{`max-age="120"`}, CacheControl{HasMaxAge: true, MaxAge: 120 * sec}},
		{"request directives (RFC 9111 §5.2.1)", []string{"max-stale=30, min-fresh=10, only-if-cached"},
			CacheControl{HasMaxStale: true, MaxStale: 30 * sec, MinFresh: 10 * sec, OnlyIfCached: true}},
		{"max-stale without a value: any staleness", []string{"max-stale"}, CacheControl{HasMaxStale: true, MaxStale: -1}},
		{"comma inside a quoted value; a qualified no-cache names fields not to store", []string{`no-cache="Set-Cookie, x-a", max-age=5`},
			CacheControl{UnstoredFields: []string{"Set-Cookie", "X-A"}, HasMaxAge: true, MaxAge: 5 * sec}},
		{"escaped quote inside a quoted value", []string{`private="a\",b", s-maxage=9`}, CacheControl{UnstoredFields: []string{`a\"`, "B"}, HasSMaxAge: true, SMaxAge: 9 * sec}},
		{"an empty qualifier is unqualified", []string{`no-cache="", private=""`}, CacheControl{NoCache: true, Private: true}},
		{"first duplicate wins", []string{"max-age=10, max-age=20"}, CacheControl{HasMaxAge: true, MaxAge: 10 * sec}},
		{"duplicates across lines", []string{"max-age=10", "max-age=20, s-maxage=3"}, CacheControl{HasMaxAge: true, MaxAge: 10 * sec, HasSMaxAge: true, SMaxAge: 3 * sec}},
		{"empty members", []string{",,, ,max-age=1,,"}, CacheControl{HasMaxAge: true, MaxAge: sec}},
		{"invalid number is 0", []string{"max-age=-1"}, CacheControl{HasMaxAge: true}},
		{"missing value is 0", []string{"max-age"}, CacheControl{HasMaxAge: true}},
		{"huge value capped at 2^31 s", []string{"s-maxage=99999999999999999999999"}, CacheControl{HasSMaxAge: true, SMaxAge: maxDelta}},
		{"stale directives", []string{"stale-while-revalidate=30, stale-if-error=60, must-revalidate, immutable"}, CacheControl{StaleWhileRevalidate: 30 * sec, StaleIfError: 60 * sec, HasStaleIfError: true, MustRevalidate: true, Immutable: true}},
		{"junk", []string{`=,=5,"max-age=3",;;;`, "no-store;"}, CacheControl{}},
		{"unterminated quote swallows the rest", []string{`foo="bar, max-age=5`}, CacheControl{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cache-Control": tt.lines}
			if got := ParseCacheControl(h); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCacheControl(%q) = %+v, want %+v", tt.lines, got, tt.want)
			}
		})
	}
}

// FuzzCacheControl: the parser and the decisions built on it never panic,
// and a stored TTL always respects the policy's bounds.
func FuzzCacheControl(f *testing.F) {
	f.Add("max-age=60", "", "")
	f.Add(`no-cache="a,b", s-maxage=5`, "Thu, 01 Jan 2026 00:00:00 GMT", "30")
	f.Add(`"`, "0", "-1")
	f.Fuzz(func(t *testing.T, cc, expires, age string) {
		h := http.Header{"Cache-Control": {cc}, "Expires": {expires}, "Age": {age}}
		now := time.Unix(1_700_000_000, 0)
		_ = ParseCacheControl(h)
		_ = InitialAge(h)
		for _, p := range []*config.CachePolicy{optimized, originCC, disabled, minPos} {
			d := Freshness(h, p, now)
			if d.Store && (d.TTL < p.MinTTL || d.TTL < 0 || (d.TTL > p.MaxTTL && d.TTL != max(p.DefaultTTL, p.MinTTL))) {
				t.Fatalf("Freshness(%q) with %+v = %+v: TTL out of bounds", cc, p, d)
			}
			if !p.Caching() && d.Store {
				t.Fatalf("Freshness stored with a policy that cannot cache")
			}
		}
		for _, status := range []int{400, 404, 503} {
			if d := ErrorFreshness(status, h, 10*time.Second, time.Hour, now); d.Store && d.TTL < 10*time.Second {
				t.Fatalf("ErrorFreshness(%d, %q) = %+v: below the minimum", status, cc, d)
			}
		}
	})
}

// TestFreshnessRule: the decision names the row of CloudFront's TTL table
// that set the TTL (shown by --debug-headers).
func TestFreshnessRule(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		p    *config.CachePolicy
		h    http.Header
		want string
	}{
		{disabled, hdr("Cache-Control", "max-age=600"), RuleCachingDisabled},
		{minZero, hdr("Cache-Control", "max-age=600"), "max-age"},
		{minZero, hdr("Cache-Control", "max-age=86400"), "max-age, clamped to MaxTTL"},
		{minPos, hdr("Cache-Control", "max-age=10"), "max-age, clamped to MinTTL"},
		{minZero, hdr("Cache-Control", "max-age=10, s-maxage=900"), "s-maxage"},
		{minZero, hdr("Expires", now.Add(20*time.Minute).Format(http.TimeFormat)), "Expires"},
		{minZero, hdr(), "DefaultTTL (no freshness information)"},
		{policy(600*sec, 300*sec, 3600*sec), hdr(), "MinTTL (no freshness information, MinTTL over DefaultTTL)"},
		{minZero, hdr("Cache-Control", "no-store"), RuleNotCached},
		{minPos, hdr("Cache-Control", "private"), RuleMinTTLOverride},
	} {
		if got := Freshness(tt.h, tt.p, now).Rule; got != tt.want {
			t.Errorf("Freshness(%v) rule %q, want %q", tt.h, got, tt.want)
		}
	}
	for _, tt := range []struct {
		status int
		h      http.Header
		want   string
	}{
		{404, hdr(), "error caching: ErrorCachingMinTTL"},
		{404, hdr("Cache-Control", "max-age=600"), "error caching: the origin's max-age or Expires"},
		{403, hdr(), "error not cached (no max-age for this code)"},
		{416, hdr(), "error not cached (code never cached)"},
	} {
		if got := ErrorFreshness(tt.status, tt.h, 10*time.Second, time.Hour, now).Rule; got != tt.want {
			t.Errorf("ErrorFreshness(%d, %v) rule %q, want %q", tt.status, tt.h, got, tt.want)
		}
	}
}
