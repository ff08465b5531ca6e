// Package origin fetches objects from the origins a distribution names:
// custom HTTP origins (load balancers, API Gateway stages, any web server)
// and S3 buckets through the AWS SDK. A Fetcher knows how to speak to one
// origin; it makes no caching decisions.
package origin

import (
	"context"
	"errors"
	"io"
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
}

// Kind classifies a failure to get a response from an origin.
type Kind int

// The failure kinds, each with the status CloudFront gives the viewer.
const (
	// Connect: the origin could not be reached after every connection
	// attempt (refused, reset, DNS, TLS handshake, connection timeout) → 502.
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

// StatusCode is the status CloudFront gives the viewer for this failure:
// 504 for Timeout, 502 otherwise.
func (e *Error) StatusCode() int {
	if e.Kind == Timeout {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
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
