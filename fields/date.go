package fields

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Date renders the Date header value (RFC 9110 §6.6.1) once per second for
// a server's responses. The zero value is ready; it is safe for concurrent
// use.
type Date struct{ v atomic.Pointer[dateValue] }

// dateValue is a Date header value and the second it is for.
type dateValue struct {
	sec int64
	s   string
}

// Now is the Date header value for the current time.
func (d *Date) Now() string { return d.At(time.Now()) }

// At is the Date header value for now.
func (d *Date) At(now time.Time) string {
	if v := d.v.Load(); v != nil && v.sec == now.Unix() {
		return v.s
	}
	v := &dateValue{now.Unix(), now.UTC().Format(http.TimeFormat)}
	d.v.Store(v)
	return v.s
}
