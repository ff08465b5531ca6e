package origin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/config"
)

// Fallbacks for zero values in a config.Origin built by hand. config fills
// CloudFront's defaults when it compiles a distribution; these only keep a
// zero value from meaning "no attempt" or "wait forever".
const (
	fallbackAttempts       = 3
	fallbackConnectTimeout = 10 * time.Second
	fallbackReadTimeout    = 30 * time.Second
	fallbackKeepalive      = 5 * time.Second
)

// maxIdlePerHost bounds the idle keep-alive connections kept to one origin.
const maxIdlePerHost = 256

// MaxResponseHeaderBytes is the longest origin response head CloudFront
// accepts: "Maximum length of a request or an origin response, including
// headers and query strings, but not including the body content: 20,480
// bytes" (Developer Guide, cloudfront-limits). A longer one is not HTTP
// CloudFront serves: the fetch fails with Protocol (502).
const MaxResponseHeaderBytes = 20480

// errCompletionTimeout is the cause of a fetch's context ending at the
// origin's ResponseCompletionTimeout.
var errCompletionTimeout = errors.New("response completion timeout")

// connSettings are the connection semantics CloudFront applies to one origin.
type connSettings struct {
	attempts       int           // connection attempts, each with connectTimeout
	connectTimeout time.Duration // TCP connect and TLS handshake, per attempt
	readTimeout    time.Duration // to the first response byte, and between body reads
	keepalive      time.Duration // how long an idle connection is kept
	completion     time.Duration // the whole response, body included; 0: no bound
}

func settingsOf(o *config.Origin) connSettings {
	s := connSettings{
		attempts:       o.ConnectionAttempts,
		connectTimeout: o.ConnectionTimeout,
		readTimeout:    fallbackReadTimeout,
		keepalive:      fallbackKeepalive,
		completion:     o.ResponseCompletionTimeout,
	}
	if c := o.Custom; c != nil {
		if c.ReadTimeout > 0 {
			s.readTimeout = c.ReadTimeout
		}
		if c.KeepaliveTimeout > 0 {
			s.keepalive = c.KeepaliveTimeout
		}
	}
	if s.attempts <= 0 {
		s.attempts = fallbackAttempts
	}
	if s.connectTimeout <= 0 {
		s.connectTimeout = fallbackConnectTimeout
	}
	return s
}

// newTransport returns the connection pool of one origin: HTTP/1.1 only, as
// CloudFront speaks to origins; no proxy from the environment; no transparent
// decompression, so Accept-Encoding and Content-Encoding pass untouched.
// ResponseHeaderTimeout is the first half of CloudFront's origin response
// timeout (time to the first response after the request is sent); the body
// half is watchedBody's.
func newTransport(s connSettings, tlsConf *tls.Config) *http.Transport {
	d := &net.Dialer{Timeout: s.connectTimeout, KeepAlive: 30 * time.Second}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    s.connectTimeout,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    maxIdlePerHost,
		IdleConnTimeout:        s.keepalive,
		ResponseHeaderTimeout:  s.readTimeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		ExpectContinueTimeout:  time.Second,
		Protocols:              &protocols,
	}
}

// watchedBody is a response body that enforces the second half of
// CloudFront's origin response timeout: once the caller asks for more bytes,
// the origin must deliver some within idle, or the fetch fails. Time the
// caller spends not reading (a slow viewer) is not counted against the origin.
type watchedBody struct {
	rc       io.ReadCloser
	idle     time.Duration // 0: no watchdog
	timer    *time.Timer
	timedOut atomic.Bool
	cancel   context.CancelFunc // aborts the exchange; called on Close
	parent   context.Context    // the caller's context
	originID string
}

func newWatchedBody(ctx context.Context, rc io.ReadCloser, idle time.Duration, cancel context.CancelFunc, originID string) *watchedBody {
	b := &watchedBody{rc: rc, idle: idle, cancel: cancel, parent: ctx, originID: originID}
	if idle > 0 {
		b.timer = time.AfterFunc(idle, func() {
			b.timedOut.Store(true)
			cancel()
		})
		b.timer.Stop()
	}
	return b
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.idle)
	}
	n, err := b.rc.Read(p)
	if b.timer != nil {
		b.timer.Stop()
	}
	if err != nil && err != io.EOF {
		err = b.fail(err)
	}
	return n, err
}

// fail turns a body read error into an *Error.
func (b *watchedBody) fail(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case b.timedOut.Load():
		return &Error{Kind: Timeout, OriginID: b.originID,
			Err: fmt.Errorf("no body data for %v: %w", b.idle, err)}
	case b.parent.Err() != nil:
		return ctxError(b.parent, b.originID, err)
	}
	// The connection dropped (reset, or closed before Content-Length bytes).
	return &Error{Kind: Connect, OriginID: b.originID, Err: fmt.Errorf("reading body: %w", err)}
}

// Close releases the connection (back to the pool if the body was read to
// its end) and the exchange's context.
func (b *watchedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// withCompletion bounds ctx by the response completion timeout d (none when
// d is 0). stop releases the timer; the fetch calls it when the response's
// body is closed, or at once when there is no response.
func withCompletion(ctx context.Context, d time.Duration) (_ context.Context, stop context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, d, errCompletionTimeout)
}

// ctxError is the *Error for a fetch whose context ended: Timeout (504 before
// the response's headers; the viewer's connection is cut after them) when
// the response completion timeout ended it, else Canceled.
func ctxError(ctx context.Context, originID string, err error) *Error {
	if errors.Is(context.Cause(ctx), errCompletionTimeout) {
		return &Error{Kind: Timeout, OriginID: originID, Err: fmt.Errorf("%w: %w", errCompletionTimeout, err)}
	}
	return &Error{Kind: Canceled, OriginID: originID, Err: err}
}
