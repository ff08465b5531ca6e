package origin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
)

// httpFetcher fetches from a custom origin (load balancer, API Gateway stage,
// any web server) with CloudFront's connection semantics:
//
//   - up to attempts connection attempts, each bounded by the connection
//     timeout (TCP connect and TLS handshake);
//   - the origin response timeout bounds the wait for the response after the
//     request is sent and every gap between body reads;
//   - for GET and HEAD, an attempt that got no response (timeout, or the
//     connection dropped) is retried within the same attempt budget; other
//     methods are not retried once the request may have reached the origin
//     (CloudFront Developer Guide, "Response timeout");
//   - redirects are returned, never followed.
type httpFetcher struct {
	id         string
	domain     string // the Host the origin answers to
	originPath string
	headers    []config.Header
	settings   connSettings
	picker     picker
	balancer   *balancer // the picker when there are endpoints; nil otherwise
	transport  *http.Transport
}

// target is where one request goes: URL scheme and host[:port].
type target struct {
	scheme string
	host   string
}

func hostPort(host string, port, dflt int) string {
	if port <= 0 || port == dflt {
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func newHTTP(o *config.Origin, op options) (*httpFetcher, error) {
	c := o.Custom
	f := &httpFetcher{
		id:         o.ID,
		domain:     o.DomainName,
		originPath: o.OriginPath,
		headers:    o.CustomHeaders,
		settings:   settingsOf(o),
	}
	var eps []target
	if len(o.Endpoints) > 0 {
		for _, e := range o.Endpoints {
			t, err := parseEndpoint(e)
			if err != nil {
				return nil, fmt.Errorf("origin %q: %w", o.ID, err)
			}
			eps = append(eps, t)
		}
	} else {
		if o.DomainName == "" {
			return nil, fmt.Errorf("origin %q: no domain name and no endpoint", o.ID)
		}
		switch c.ProtocolPolicy {
		case config.HTTPOnly, config.HTTPSOnly, config.MatchViewer:
		default:
			return nil, fmt.Errorf("origin %q: unknown origin protocol policy %q", o.ID, c.ProtocolPolicy)
		}
		f.picker = newDomainPicker(o.DomainName, c.HTTPPort, c.HTTPSPort, c.ProtocolPolicy)
	}
	tlsConf, err := tlsConfig(c.SSLProtocols, op.rootCAs)
	if err != nil {
		return nil, fmt.Errorf("origin %q: %w", o.ID, err)
	}
	f.transport = newTransport(f.settings, tlsConf)
	if eps != nil {
		var probe func(context.Context, *endpoint) bool
		if b := o.Balancing; b != nil && b.HealthCheck != nil {
			probe = probeHTTP(f.transport, b.HealthCheck.Path, o.DomainName)
		}
		f.balancer = newBalancer(eps, o.Balancing, probe)
		f.picker = f.balancer
	}
	return f, nil
}

// parseEndpoint reads a base URL such as "http://127.0.0.1:9000".
func parseEndpoint(s string) (target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return target{}, fmt.Errorf("endpoint %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return target{}, fmt.Errorf("endpoint %q: want http://host[:port] or https://host[:port]", s)
	}
	if u.Path != "" && u.Path != "/" {
		return target{}, fmt.Errorf("endpoint %q: a path belongs in OriginPath", s)
	}
	return target{u.Scheme, u.Host}, nil
}

// tlsConfig maps OriginSslProtocols to the TLS versions the fetcher allows.
// Go speaks TLS 1.0 and up: SSLv3 is accepted in the list but never used.
// TLS 1.3 is allowed whenever TLSv1.2 is, as CloudFront does. The server name
// is the URL's host (the origin's domain name, or the endpoint's host), which
// the transport fills in; certificates are always verified.
func tlsConfig(protocols []string, roots *x509.CertPool) (*tls.Config, error) {
	conf := &tls.Config{RootCAs: roots}
	if len(protocols) == 0 {
		return conf, nil // Go's defaults: TLS 1.2 and 1.3
	}
	var lo, hi uint16
	for _, p := range protocols {
		var v uint16
		switch p {
		case "SSLv3":
			continue
		case "TLSv1":
			v = tls.VersionTLS10
		case "TLSv1.1":
			v = tls.VersionTLS11
		case "TLSv1.2":
			v = tls.VersionTLS12
		default:
			return nil, fmt.Errorf("unknown origin SSL protocol %q", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	if lo == 0 {
		return nil, fmt.Errorf("origin SSL protocols %v: SSLv3 alone is not supported", protocols)
	}
	conf.MinVersion = lo
	if hi < tls.VersionTLS12 {
		conf.MaxVersion = hi
	}
	return conf, nil
}

// Close stops the active health checks, if any, and closes the idle
// connections to the origin. The fetcher stays usable, with passive health
// alone.
func (f *httpFetcher) Close() error {
	if f.balancer != nil {
		f.balancer.close()
	}
	f.transport.CloseIdleConnections()
	return nil
}

// Fetch sends r to the origin, retrying as CloudFront does. With several
// endpoints every attempt goes to another one while there are endpoints left
// to try, and an attempt that could not connect never uses up the budget
// before each endpoint has had one.
func (f *httpFetcher) Fetch(ctx context.Context, r *Request) (*Response, error) {
	ctx, stop := withCompletion(ctx, f.settings.completion)
	resp, err := f.fetch(ctx, r, stop)
	if err != nil {
		stop()
	}
	return resp, err
}

// fetch is Fetch within the response completion timeout; a response's body
// calls stop when it is closed.
func (f *httpFetcher) fetch(ctx context.Context, r *Request, stop func()) (*Response, error) {
	var body *countingReader
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		body = &countingReader{r: r.Body}
	}
	var tried []*endpoint
	for attempt := 1; ; attempt++ {
		e := f.picker.pick(r, tried)
		tried = append(tried, e)
		req, err := f.request(e.target, r, body)
		if err != nil { // a method net/http cannot send
			return nil, &Error{Kind: Protocol, OriginID: f.id, Err: err}
		}
		resp, st, err := f.attempt(ctx, req, e, stop, r.Interim)
		if err == nil {
			f.picker.report(e, true)
			resp.Endpoint = e.scheme + "://" + e.host
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctxError(ctx, f.id, err)
		}
		if !st.firstByte.Load() {
			f.picker.report(e, false)
		}
		budget := f.settings.attempts
		if !st.gotConn.Load() {
			budget = max(budget, f.picker.size())
		}
		if attempt >= budget || !retryable(req.Method, st, body, err) {
			if attempt > 1 {
				err = fmt.Errorf("%d attempts: %w", attempt, err)
			}
			return nil, &Error{Kind: st.classify(err), OriginID: f.id, Err: err}
		}
	}
}

// retryable reports whether a failed attempt may be tried again.
func retryable(method string, st *attemptState, body *countingReader, err error) bool {
	if body != nil && body.n.Load() > 0 {
		return false // the body is gone
	}
	if !st.gotConn.Load() {
		// The connection was never established, so nothing was sent: any
		// method may try again, unless the certificate was refused (another
		// attempt gets the same certificate).
		var cv *tls.CertificateVerificationError
		return !errors.As(err, &cv)
	}
	if st.firstByte.Load() {
		return false // the origin answered, badly
	}
	// The request may have reached the origin and no response came.
	return method == http.MethodGet || method == http.MethodHead
}

// attemptState records how far one attempt got.
type attemptState struct {
	gotConn   atomic.Bool // a connection was established (or reused)
	firstByte atomic.Bool // the origin sent a response byte
}

// classify says what a failed attempt was.
func (st *attemptState) classify(err error) Kind {
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	switch {
	case !st.gotConn.Load():
		return Connect // refused, DNS, connect timeout, TLS handshake
	case timeout:
		return Timeout // no response within the origin response timeout
	case !st.firstByte.Load():
		return Connect // the connection was closed or reset before any answer
	}
	return Protocol // an answer that is not HTTP
}

// attempt makes one round trip of req. On success the response's body owns
// the attempt's context, and calls release when it is closed.
func (f *httpFetcher) attempt(ctx context.Context, req *http.Request, e *endpoint, release func(), interim func(int, http.Header)) (*Response, *attemptState, error) {
	st := &attemptState{}
	e.active.Add(1)
	actx, cancelCtx := context.WithCancel(ctx)
	// The exchange lasts until the body is closed (or times out).
	done := sync.OnceFunc(func() {
		cancelCtx()
		e.active.Add(-1)
	})
	trace := &httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { st.gotConn.Store(true) },
		GotFirstResponseByte: func() { st.firstByte.Store(true) },
	}
	if interim != nil {
		trace.Got1xxResponse = func(code int, h textproto.MIMEHeader) error {
			// 100 Continue answers edgefront's own Expect (never the
			// viewer's: Expect is not forwarded), 101 is a final answer.
			if code != http.StatusContinue && code != http.StatusSwitchingProtocols {
				hdr := http.Header(h).Clone()
				fields.RemoveHopByHop(hdr)
				interim(code, hdr)
			}
			return nil
		}
	}
	actx = httptrace.WithClientTrace(actx, trace)
	hr, err := f.transport.RoundTrip(req.WithContext(actx))
	if err != nil {
		done() // the fetch's completion timer runs on for the next attempt
		return nil, st, err
	}
	cancel := func() {
		done()
		release()
	}
	fields.RemoveHopByHop(hr.Header)
	return &Response{
		StatusCode:    hr.StatusCode,
		Header:        hr.Header,
		Body:          newWatchedBody(ctx, hr.Body, f.settings.readTimeout, cancel, f.id),
		ContentLength: hr.ContentLength,
	}, st, nil
}

// request builds the origin request, without its context: OriginPath +
// path, the viewer's query, the forwarded headers with the origin's custom
// headers replacing any of the same name, and the Host the origin answers
// to. Every attempt sends it.
func (f *httpFetcher) request(t target, r *Request, body *countingReader) (*http.Request, error) {
	escaped := f.originPath + r.Path
	u := &url.URL{Scheme: t.scheme, Host: t.host, RawQuery: r.RawQuery}
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = p, escaped
	} else if !strings.HasPrefix(escaped, "//") {
		u.Opaque = escaped // invalid escapes: send the viewer's bytes as they came
	} else {
		u.Path = escaped // (an Opaque "//…" would read as a host)
	}
	h := r.Header.Clone()
	if h == nil {
		h = make(http.Header, len(f.headers)+1)
	}
	h.Del("Host")
	for _, c := range f.headers {
		h.Set(c.Name, c.Value)
	}
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", "Amazon CloudFront")
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, "", nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.URL = u
	req.Header = h
	req.Host = r.Host
	if req.Host == "" {
		req.Host = f.domain
	}
	if body != nil {
		// The caller owns r.Body: the transport must not close it.
		req.Body = io.NopCloser(body)
		req.ContentLength = r.ContentLength
	}
	return req, nil
}

// countingReader counts the bytes read from a request body, so that an
// attempt that consumed some is not repeated.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
