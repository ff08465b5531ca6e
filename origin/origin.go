// Package origin fetches objects from the origins a distribution names:
// custom HTTP origins (load balancers, API Gateway stages, any web server)
// and S3 buckets through the AWS SDK. A Fetcher knows how to speak to one
// origin; it makes no caching decisions.
package origin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
)

// Fetcher fetches from one origin.
type Fetcher interface {
	// Fetch sends r to the origin. The response body streams; the caller
	// closes it. A returned error is an *Error. ctx bounds the whole exchange,
	// body included: cancelling it aborts the fetch.
	Fetch(ctx context.Context, r *Request) (*Response, error)
}

// Request is what is sent to an origin. The proxy has already applied the
// origin request policy; the fetcher adds the origin's OriginPath and
// CustomHeaders and picks the scheme, host and port.
type Request struct {
	Method string
	// Path is the viewer's escaped path (always starting with "/"), without
	// the OriginPath, which the fetcher prefixes.
	Path     string
	RawQuery string // escaped, without '?'; "" for none
	// Header holds the headers to forward (hop-by-hop headers already
	// removed). Host in it is ignored: see Host.
	Header http.Header
	// Host is the Host header to send; "" means the origin's own domain name.
	Host string
	// ViewerHTTPS tells a match-viewer origin which protocol to use.
	ViewerHTTPS   bool
	Body          io.Reader // nil for none
	ContentLength int64     // -1 when unknown
	// Interim, when set, is given each informational response (1xx other
	// than 100 Continue and 101, hop-by-hop fields removed) the origin
	// sends before its final one, in order, on the fetcher's goroutine
	// (RFC 9110 §15.2: a proxy forwards them). Fetchers whose origin
	// cannot send them (S3) never call it.
	Interim func(status int, header http.Header)
}

// Response is an origin's answer.
type Response struct {
	StatusCode    int
	Header        http.Header
	Body          io.ReadCloser // never nil
	ContentLength int64         // -1 when unknown
	// Endpoint is where the answer came from (scheme://host[:port]), for
	// people (edgefront's X-Edgefront-Explain); "" when not known.
	Endpoint string
	// CacheHit: another node of the cluster answered from its cache
	// (NewPeer), not from an origin fetch.
	CacheHit bool
}

// Kind classifies a failure to get a response from an origin.
type Kind int

// The failure kinds, each with the status CloudFront gives the viewer.
const (
	// Connect: the origin could not be reached after every connection
	// attempt: refused, reset, DNS, TLS handshake → 502; the connection
	// timeout → 504 (see Error.StatusCode).
	Connect Kind = iota + 1
	// Timeout: the origin did not answer within the origin read timeout → 504.
	Timeout
	// Protocol: the origin's answer was not valid HTTP → 502.
	Protocol
	// Canceled: the caller's context ended; no viewer is waiting.
	Canceled
)

// Error is a failed fetch.
type Error struct {
	Kind     Kind
	OriginID string
	Err      error
}

func (e *Error) Error() string {
	var what string
	switch e.Kind {
	case Connect:
		what = "cannot connect to origin"
		if e.ConnectTimedOut() {
			what = "origin connection timeout"
		}
	case Timeout:
		what = "origin read timeout"
	case Protocol:
		what = "invalid response from origin"
	case Canceled:
		what = "fetch canceled"
	default:
		what = "origin fetch failed"
	}
	return what + " " + e.OriginID + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// StatusCode is the status CloudFront gives the viewer for this failure: 504
// when the origin did not answer in time — the origin response timeout, or
// no connection within the connection timeout ("CloudFront will return an
// HTTP 504 status code if traffic is blocked to the origin by a firewall or
// security group": a connect that is never answered; Developer Guide,
// http-504-gateway-timeout) — and 502 otherwise: refused, reset, DNS, TLS
// handshake, an answer that is not HTTP (http-502-bad-gateway).
func (e *Error) StatusCode() int {
	if e.Kind == Timeout || e.ConnectTimedOut() {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// ConnectTimedOut reports whether a Connect failure was the connection
// timeout: no TCP connection (or TLS handshake) within ConnectionTimeout on
// the last attempt. A DNS lookup that timed out is a DNS failure (502, as
// CloudFront's NonS3OriginDnsError), not a connection timeout.
func (e *Error) ConnectTimedOut() bool {
	if e.Kind != Connect || e.Err == nil {
		return false
	}
	var dns *net.DNSError
	if errors.As(e.Err, &dns) {
		return false
	}
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// StatusOf returns the viewer status for an error from Fetch: the *Error's
// StatusCode, or 502 for any other error.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode()
	}
	return http.StatusBadGateway
}
