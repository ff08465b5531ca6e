package cache

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestParseHTTPDate: the three forms of RFC 9110 §5.6.7, exactly; anything
// else is refused (and so an Expires holding it is already expired, RFC
// 9111 §5.3).
func TestParseHTTPDate(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		rule, in string
		ok       bool
		want     time.Time
	}{
		{"§5.6.7 IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", true, want},
		{"§5.6.7 obsolete RFC 850 form", "Sunday, 06-Nov-94 08:49:37 GMT", true, want},
		{"§5.6.7 obsolete asctime form, one-digit day", "Sun Nov  6 08:49:37 1994", true, want},
		{"§5.6.7 asctime form, two-digit day", "Thu Nov 16 08:49:37 1994", true, time.Date(1994, 11, 16, 8, 49, 37, 0, time.UTC)},
		{"§5.6.7 RFC 850: a year over 50 years ahead is in the past century", "Monday, 01-Jan-77 00:00:00 GMT", true, time.Date(1977, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"§5.6.7 RFC 850: a year under 50 years ahead is this century", "Monday, 01-Jan-30 00:00:00 GMT", true, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"§5.6.7 second 60 (leap second) is in the grammar", "Wed, 31 Dec 2008 23:59:60 GMT", true, time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"one-digit hour", "Sun, 06 Nov 1994 8:49:37 GMT", false, time.Time{}},
		{"one-digit day", "Sun, 6 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"extra space after the comma", "Sun,  06 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"two spaces before GMT", "Sun, 06 Nov 1994 08:49:37  GMT", false, time.Time{}},
		{"trailing space", "Sun, 06 Nov 1994 08:49:37 GMT ", false, time.Time{}},
		{"UTC is not GMT", "Sun, 06 Nov 1994 08:49:37 UTC", false, time.Time{}},
		{"lower-case month", "Sun, 06 nov 1994 08:49:37 GMT", false, time.Time{}},
		{"lower-case day name", "sun, 06 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"unknown day name", "Xyz, 06 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"hour 24", "Sun, 06 Nov 1994 24:00:00 GMT", false, time.Time{}},
		{"minute 60", "Sun, 06 Nov 1994 08:60:00 GMT", false, time.Time{}},
		{"31 April", "Thu, 31 Apr 1994 08:49:37 GMT", false, time.Time{}},
		{"29 February of a common year", "Tue, 29 Feb 1994 08:49:37 GMT", false, time.Time{}},
		{"29 February of a leap year", "Thu, 29 Feb 1996 08:49:37 GMT", true, time.Date(1996, 2, 29, 8, 49, 37, 0, time.UTC)},
		{"day 00", "Sun, 00 Nov 1994 08:49:37 GMT", false, time.Time{}},
		{"a number", "0", false, time.Time{}},
		{"-1", "-1", false, time.Time{}},
		{"empty", "", false, time.Time{}},
		{"RFC 850 with a four-digit year", "Sunday, 06-Nov-1994 08:49:37 GMT", false, time.Time{}},
		{"RFC 850 with a short day name", "Sun, 06-Nov-94 08:49:37 GMT", false, time.Time{}},
		{"asctime with a zero-padded day", "Sun Nov 06 08:49:37 1994", true, want},
		{"asctime with GMT", "Sun Nov  6 08:49:37 1994 GMT", false, time.Time{}},
		{"ISO 8601", "1994-11-06T08:49:37Z", false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, ok := ParseHTTPDate(tt.in, now)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseHTTPDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzParseHTTPDate: whatever ParseHTTPDate accepts, net/http's lenient
// parser accepts as the same instant (RFC 850 years aside, which it maps
// by a fixed window), and an accepted IMF-fixdate prints back as itself.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Sun, 06 Nov 1994 8:49:37 GMT", "Thu, 31 Apr 1994 08:49:37 GMT", "Wed, 31 Dec 2008 23:59:60 GMT", "0"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseHTTPDate(s, now)
		if !ok {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseHTTPDate(%q) = %v: not UTC", s, got)
		}
		if strings.ContainsAny(s, "\t\r\n") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
			t.Fatalf("ParseHTTPDate(%q) accepted whitespace the grammar has no place for", s)
		}
		if strings.Contains(s, "-") || strings.Contains(s, ":60") {
			return // RFC 850 years and leap seconds: net/http differs by design
		}
		lax, err := http.ParseTime(s)
		if err != nil || !lax.Equal(got) {
			t.Fatalf("ParseHTTPDate(%q) = %v; http.ParseTime = %v, %v", s, got, lax, err)
		}
		if len(s) == len(http.TimeFormat) && s[3] == ',' && got.Format(http.TimeFormat)[5:] != s[5:] {
			t.Fatalf("ParseHTTPDate(%q) = %v, which prints as %q", s, got, got.Format(http.TimeFormat))
		}
	})
}
