// Package accesslog writes CloudFront standard access logs: one
// tab-separated line per finished viewer request, with CloudFront's 33
// fields in CloudFront's order under "#Version: 1.0" and "#Fields: …"
// header lines, or optionally JSON lines named like CloudFront's real-time
// log fields.
//
// A Logger never blocks the request that logs: Log copies the Record into a
// bounded queue drained by one goroutine that formats and writes; when the
// queue is full the record is dropped and counted (Dropped). Writes go to
// any io.Writer, or to a File that rotates by size and reopens on demand.
package accesslog

import (
	"net/netip"
	"time"
)

// Result types of x-edge-result-type and x-edge-response-result-type.
const (
	Hit              = "Hit"
	RefreshHit       = "RefreshHit"
	Miss             = "Miss"
	LimitExceeded    = "LimitExceeded"
	CapacityExceeded = "CapacityExceeded"
	Error            = "Error"
	Redirect         = "Redirect"
)

// Detailed result types: x-edge-detailed-result-type is the result type
// unless the request failed, when it names the failure.
const (
	OriginConnectError         = "OriginConnectError"
	OriginDNSError             = "OriginDnsError"
	OriginReadError            = "OriginReadError"
	OriginCommError            = "OriginCommError"
	OriginError                = "OriginError"
	OriginInvalidResponseError = "OriginInvalidResponseError"
	OriginHeaderTooBigError    = "OriginHeaderTooBigError"
	AbortedOrigin              = "AbortedOrigin"
	ClientCommError            = "ClientCommError"
	ClientGeoBlocked           = "ClientGeoBlocked"
	ClientHungUpRequest        = "ClientHungUpRequest"
	InvalidRequest             = "InvalidRequest"
	InvalidRequestHeader       = "InvalidRequestHeader"
	InvalidRequestMethod       = "InvalidRequestMethod"
)

// Record is everything the proxy knows about one finished viewer request.
// Empty strings are logged as "-".
type Record struct {
	Time          time.Time // when the last byte of the response was written
	EdgeLocation  string    // x-edge-location, the POP, e.g. "LOCAL1-C1"
	BytesSent     int64     // sc-bytes: bytes sent to the viewer, headers included
	BytesReceived int64     // cs-bytes: bytes of the request, headers included
	ClientIP      netip.Addr
	ClientPort    int
	Method        string
	Host          string // cs(Host): the distribution's domain name (d111111abcdef8.cloudfront.net)
	HostHeader    string // x-host-header: the Host the viewer sent (an alias or the domain name)
	URIStem       string // path without the query
	URIQuery      string // raw query without '?'
	Status        int    // 0 is logged as 000: the viewer left before a response
	Referer       string
	UserAgent     string
	Cookie        string // the Cookie header; leave empty unless the distribution logs cookies

	ResultType         string // x-edge-result-type (Hit, Miss, Error …)
	ResponseResultType string // x-edge-response-result-type
	DetailedResultType string // x-edge-detailed-result-type; ResultType when empty
	RequestID          string // x-edge-request-id, the X-Amz-Cf-Id

	Protocol        string // cs-protocol: http, https, ws or wss
	ProtocolVersion string // cs-protocol-version: HTTP/1.0, HTTP/1.1, HTTP/2.0, HTTP/3.0
	TLSProtocol     string // ssl-protocol: TLSv1.2, TLSv1.3; empty for http
	TLSCipher       string // ssl-cipher, OpenSSL name, e.g. TLS_AES_128_GCM_SHA256
	ForwardedFor    string // x-forwarded-for as the viewer sent it

	TimeTaken       time.Duration // from request received to last byte written
	TimeToFirstByte time.Duration // from request received to first byte written

	ContentType   string // sc-content-type
	ContentLength int64  // sc-content-len; negative when the response had no Content-Length
	Ranged        bool   // the response had a Content-Range: RangeStart and RangeEnd are set
	RangeStart    int64
	RangeEnd      int64
}

// Fields returns CloudFront's standard log fields in order: the names of
// the "#Fields:" line and of the columns of every line.
func Fields() []string {
	return []string{
		"date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
		"cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query",
		"cs(Cookie)", "x-edge-result-type", "x-edge-request-id", "x-host-header",
		"cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for", "ssl-protocol",
		"ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "fle-status",
		"fle-encrypted-fields", "c-port", "time-to-first-byte", "x-edge-detailed-result-type",
		"sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end",
	}
}

// RealtimeFields returns the keys of a JSON line, in order: CloudFront's
// real-time log field names.
func RealtimeFields() []string {
	return []string{
		"timestamp", "c-ip", "time-to-first-byte", "sc-status", "sc-bytes", "cs-method",
		"cs-protocol", "cs-host", "cs-uri-stem", "cs-bytes", "x-edge-location",
		"x-edge-request-id", "x-host-header", "time-taken", "cs-protocol-version",
		"c-ip-version", "cs-user-agent", "cs-referer", "cs-cookie", "cs-uri-query",
		"x-edge-response-result-type", "x-forwarded-for", "ssl-protocol", "ssl-cipher",
		"x-edge-result-type", "fle-encrypted-fields", "fle-status", "sc-content-type",
		"sc-content-len", "sc-range-start", "sc-range-end", "c-port",
		"x-edge-detailed-result-type",
	}
}
