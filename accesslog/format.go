package accesslog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Format selects how a Logger writes records.
type Format int

const (
	// Standard is CloudFront's standard log format: tab-separated fields
	// under "#Version" and "#Fields" header lines.
	Standard Format = iota
	// JSON is one JSON object per line, keyed by CloudFront's real-time log
	// field names; absent values are null.
	JSON
)

// header returns the header lines of a standard log file.
func header() []byte {
	b := []byte("#Version: 1.0\n#Fields:")
	for _, f := range Fields() {
		b = append(b, ' ')
		b = append(b, f...)
	}
	return append(b, '\n')
}

// AppendStandard appends r as one standard log line, newline included.
func AppendStandard(b []byte, r *Record) []byte {
	t := r.Time.UTC()
	b = t.AppendFormat(b, "2006-01-02")
	b = append(b, '\t')
	b = t.AppendFormat(b, "15:04:05")
	b = field(b, r.EdgeLocation)
	b = append(b, '\t')
	b = strconv.AppendInt(b, r.BytesSent, 10)
	b = append(b, '\t')
	if r.ClientIP.IsValid() {
		b = r.ClientIP.Unmap().AppendTo(b)
	} else {
		b = append(b, '-')
	}
	b = field(b, r.Method)
	b = field(b, r.Host)
	b = field(b, r.URIStem)
	b = append(b, '\t')
	b = appendStatus(b, r.Status)
	b = field(b, r.Referer)
	b = field(b, r.UserAgent)
	b = field(b, r.URIQuery)
	b = field(b, r.Cookie)
	b = field(b, r.ResultType)
	b = field(b, r.RequestID)
	b = field(b, r.HostHeader)
	b = field(b, r.Protocol)
	b = append(b, '\t')
	b = strconv.AppendInt(b, r.BytesReceived, 10)
	b = append(b, '\t')
	b = appendSeconds(b, r.TimeTaken)
	b = field(b, r.ForwardedFor)
	b = field(b, r.TLSProtocol)
	b = field(b, r.TLSCipher)
	b = field(b, r.ResponseResultType)
	b = field(b, r.ProtocolVersion)
	b = append(b, "\t-\t-\t"...) // fle-status, fle-encrypted-fields: no field-level encryption
	if r.ClientPort > 0 {
		b = strconv.AppendInt(b, int64(r.ClientPort), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, '\t')
	b = appendSeconds(b, r.TimeToFirstByte)
	b = field(b, r.detailed())
	b = field(b, r.ContentType)
	b = append(b, '\t')
	b = appendCount(b, r.ContentLength, r.ContentLength >= 0)
	b = append(b, '\t')
	b = appendCount(b, r.RangeStart, r.Ranged)
	b = append(b, '\t')
	b = appendCount(b, r.RangeEnd, r.Ranged)
	return append(b, '\n')
}

func (r *Record) detailed() string {
	if r.DetailedResultType != "" {
		return r.DetailedResultType
	}
	return r.ResultType
}

// field appends a tab and s escaped, or "-" when s is empty.
func field(b []byte, s string) []byte {
	b = append(b, '\t')
	if s == "" {
		return append(b, '-')
	}
	return appendEscaped(b, s)
}

const hexDigits = "0123456789ABCDEF"

// appendEscaped appends s with the bytes that would break a log line or be
// ambiguous percent-encoded as CloudFront does: controls (tab, newline),
// space, '%', DEL and every non-ASCII byte. A value that already holds a
// percent escape is therefore encoded again (%20 becomes %2520), as in
// CloudFront's logs.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '%' || c >= 0x7f {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// appendStatus appends a status as three digits; 0 (no response) is 000.
func appendStatus(b []byte, status int) []byte {
	if status <= 0 || status > 999 {
		return append(b, "000"...)
	}
	return append(b, byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10))
}

// appendSeconds appends d in seconds with three decimals, e.g. 0.082.
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	ms := int64((d + time.Millisecond/2) / time.Millisecond)
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

func appendCount(b []byte, n int64, ok bool) []byte {
	if !ok {
		return append(b, '-')
	}
	return strconv.AppendInt(b, n, 10)
}

// AppendJSON appends r as one JSON object keyed by CloudFront's real-time
// log field names (see RealtimeFields), newline included. Strings are
// written as received, JSON-escaped; absent values are null.
func AppendJSON(b []byte, r *Record) []byte {
	b = append(b, `{"timestamp":`...)
	ms := r.Time.UnixMilli()
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	b = append(b, `,"c-ip":`...)
	if r.ClientIP.IsValid() {
		b = append(b, '"')
		b = r.ClientIP.Unmap().AppendTo(b)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"time-to-first-byte":`...)
	b = appendSeconds(b, r.TimeToFirstByte)
	b = append(b, `,"sc-status":`...)
	b = strconv.AppendInt(b, int64(max(r.Status, 0)), 10)
	b = append(b, `,"sc-bytes":`...)
	b = strconv.AppendInt(b, r.BytesSent, 10)
	b = jsonField(b, "cs-method", r.Method)
	b = jsonField(b, "cs-protocol", r.Protocol)
	b = jsonField(b, "cs-host", r.Host)
	b = jsonField(b, "cs-uri-stem", r.URIStem)
	b = append(b, `,"cs-bytes":`...)
	b = strconv.AppendInt(b, r.BytesReceived, 10)
	b = jsonField(b, "x-edge-location", r.EdgeLocation)
	b = jsonField(b, "x-edge-request-id", r.RequestID)
	b = jsonField(b, "x-host-header", r.HostHeader)
	b = append(b, `,"time-taken":`...)
	b = appendSeconds(b, r.TimeTaken)
	b = jsonField(b, "cs-protocol-version", r.ProtocolVersion)
	ipVersion := ""
	switch {
	case r.ClientIP.Unmap().Is4():
		ipVersion = "IPv4"
	case r.ClientIP.Is6():
		ipVersion = "IPv6"
	}
	b = jsonField(b, "c-ip-version", ipVersion)
	b = jsonField(b, "cs-user-agent", r.UserAgent)
	b = jsonField(b, "cs-referer", r.Referer)
	b = jsonField(b, "cs-cookie", r.Cookie)
	b = jsonField(b, "cs-uri-query", r.URIQuery)
	b = jsonField(b, "x-edge-response-result-type", r.ResponseResultType)
	b = jsonField(b, "x-forwarded-for", r.ForwardedFor)
	b = jsonField(b, "ssl-protocol", r.TLSProtocol)
	b = jsonField(b, "ssl-cipher", r.TLSCipher)
	b = jsonField(b, "x-edge-result-type", r.ResultType)
	b = append(b, `,"fle-encrypted-fields":null,"fle-status":null`...)
	b = jsonField(b, "sc-content-type", r.ContentType)
	b = jsonCount(b, "sc-content-len", r.ContentLength, r.ContentLength >= 0)
	b = jsonCount(b, "sc-range-start", r.RangeStart, r.Ranged)
	b = jsonCount(b, "sc-range-end", r.RangeEnd, r.Ranged)
	b = jsonCount(b, "c-port", int64(r.ClientPort), r.ClientPort > 0)
	b = jsonField(b, "x-edge-detailed-result-type", r.detailed())
	return append(b, "}\n"...)
}

func jsonField(b []byte, name, s string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

func jsonCount(b []byte, name string, n int64, ok bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	if !ok {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, n, 10)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
