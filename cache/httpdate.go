package cache

import "time"

// ParseHTTPDate parses an HTTP-date (RFC 9110 §5.6.7) exactly: the
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", or one of the two obsolete
// forms "Sunday, 06-Nov-94 08:49:37 GMT" (RFC 850) and
// "Sun Nov  6 08:49:37 1994" (asctime). Every separator, digit count and
// name must be as the grammar has it — no extra or missing spaces, no
// one-digit hours, "GMT" only, names case-sensitive — and the day must
// exist; the day name is not checked against the date (the grammar does
// not relate them). A two-digit RFC 850 year more than 50 years after now
// is the most recent past year with those digits (§5.6.7).
//
// http.ParseTime is lenient where this is not (time.Parse accepts one-digit
// hours, minutes and seconds, for example); RFC 9111 §5.3 makes an Expires
// that does not parse exactly an expired one.
func ParseHTTPDate(s string, now time.Time) (time.Time, bool) {
	switch {
	case len(s) == len("Sun, 06 Nov 1994 08:49:37 GMT") && s[3] == ',':
		return parseIMFFixdate(s)
	case len(s) == len("Sun Nov  6 08:49:37 1994") && s[3] == ' ':
		return parseASCTime(s)
	}
	return parseRFC850(s, now)
}

var (
	shortDays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays  = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months    = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT".
func parseIMFFixdate(s string) (time.Time, bool) {
	if !oneOf(s[:3], shortDays[:]) || s[3:5] != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[5:7])
	mon, ok2 := month(s[8:11])
	year, ok3 := digits(s[12:16])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return clockAt(s[17:25], year, mon, day)
}

// parseASCTime parses "Sun Nov  6 08:49:37 1994" (a one-digit day after
// two spaces, a two-digit one after one).
func parseASCTime(s string) (time.Time, bool) {
	if !oneOf(s[:3], shortDays[:]) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' {
		return time.Time{}, false
	}
	mon, ok1 := month(s[4:7])
	dd := s[8:10]
	if dd[0] == ' ' {
		dd = dd[1:]
	}
	day, ok2 := digits(dd)
	year, ok3 := digits(s[20:24])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return clockAt(s[11:19], year, mon, day)
}

// parseRFC850 parses "Sunday, 06-Nov-94 08:49:37 GMT".
func parseRFC850(s string, now time.Time) (time.Time, bool) {
	i := 0
	for i < len(s) && s[i] != ',' {
		i++
	}
	if i == len(s) || !oneOf(s[:i], longDays[:]) {
		return time.Time{}, false
	}
	s = s[i:]
	if len(s) != len(", 06-Nov-94 08:49:37 GMT") || s[:2] != ", " || s[4] != '-' || s[8] != '-' || s[11] != ' ' || s[20:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[2:4])
	mon, ok2 := month(s[5:8])
	yy, ok3 := digits(s[9:11])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	year := now.UTC().Year()/100*100 + yy
	if year > now.UTC().Year()+50 {
		year -= 100
	}
	return clockAt(s[12:20], year, mon, day)
}

// clockAt completes a date with "hh:mm:ss" (second 60 allowed for a leap
// second, as the grammar allows), refusing days the month does not have.
func clockAt(hms string, year int, mon time.Month, day int) (time.Time, bool) {
	if hms[2] != ':' || hms[5] != ':' {
		return time.Time{}, false
	}
	h, ok1 := digits(hms[0:2])
	m, ok2 := digits(hms[3:5])
	sec, ok3 := digits(hms[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 || day < 1 {
		return time.Time{}, false
	}
	if d := time.Date(year, mon, day, 0, 0, 0, 0, time.UTC); d.Month() != mon || d.Day() != day {
		return time.Time{}, false // 31 Apr, 29 Feb of a common year
	}
	return time.Date(year, mon, day, h, m, sec, 0, time.UTC), true
}

// digits parses s, which must be all ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, s != ""
}

func month(s string) (time.Month, bool) {
	for i, m := range months {
		if s == m {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

func oneOf(s string, names []string) bool {
	for _, n := range names {
		if s == n {
			return true
		}
	}
	return false
}
