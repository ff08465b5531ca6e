package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/origin"
)

// HookPoint names a point of a request where edge code runs, as CloudFront
// names its event types.
type HookPoint int

// The four hook points, in request order.
const (
	// ViewerRequest runs after the viewer rules, before the cache key: the
	// hook may change the viewer's request (what the key and the origin
	// see) or answer it.
	ViewerRequest HookPoint = iota
	// OriginRequest runs on a miss, once per origin fetch, just before it:
	// the hook may change the origin request or answer in the origin's
	// place (the answer is then cached like the origin's).
	OriginRequest
	// OriginResponse runs on the origin's answer before it is stored: the
	// hook may change its status and headers, or replace it.
	OriginResponse
	// ViewerResponse runs on every answer from the cache or the origin
	// before it goes to the viewer: the hook may change its headers and
	// status.
	ViewerResponse
)

var hookPointNames = [...]string{"viewer-request", "origin-request", "origin-response", "viewer-response"}

func (p HookPoint) String() string {
	if int(p) < len(hookPointNames) {
		return hookPointNames[p]
	}
	return "HookPoint(" + strconv.Itoa(int(p)) + ")"
}

// Hook is edge code at one point of a request. It sees the Event and may
// change what the Event lets it change; setting ev.Response answers the
// request at a viewer-request or origin-request point. An error is the
// code's failure: the viewer gets a *HookError's status and message, or
// CloudFront's 502 for any other error. The hook must not keep ev after it
// returns: the proxy reuses it.
type Hook func(ctx context.Context, ev *Event) error

// HookError is a failure of edge code with the answer CloudFront gives for
// it, e.g. 503 for a CloudFront Function that threw (FunctionExecutionError)
// and 502 for one whose result breaks the rules (FunctionValidationError).
type HookError struct {
	Status  int
	Message string // the error page's text
	// Result is CloudFront's name for the failure, e.g.
	// "FunctionExecutionError" or "LambdaValidationError": the viewer's
	// X-Cache says "<Result> from cloudfront" and the access log's
	// x-edge-detailed-result-type says Result ("Error" when empty).
	Result string
	Err    error
}

func (e *HookError) Error() string { return e.Message + ": " + e.Err.Error() }
func (e *HookError) Unwrap() error { return e.Err }

// failure is how the viewer is told of a failed fetch or failed edge
// code: the status, the error page's text, the access log's detailed
// result type, and the X-Cache value when it is not "Error from
// cloudfront" (nil).
type failure struct {
	status   int
	msg      string
	detailed string
	xcache   []string
	// origin: the origin failed (not edge code): the distribution's
	// custom error page for the status, if any, answers.
	origin bool
}

// failureOf maps err — edge code's failure (runHook's errors) or an
// origin's — to what the viewer gets.
func failureOf(err error) failure {
	var he *HookError
	switch {
	case errors.As(err, &he) && he.Status >= 400:
		f := failure{status: he.Status, msg: he.Message, detailed: accesslog.Error}
		if he.Result != "" {
			f.detailed, f.xcache = he.Result, []string{he.Result + " from cloudfront"}
		}
		return f
	case errors.Is(err, errHook):
		return failure{status: http.StatusBadGateway, msg: msgFunctionFailed, detailed: accesslog.Error}
	}
	f := failure{status: origin.StatusOf(err), msg: msgOriginConnect, detailed: detailedResult(err), origin: true}
	if f.status == http.StatusGatewayTimeout {
		f.msg = msgOriginTimeout
	}
	return f
}

// errHook marks the errors of hooks (runHook).
var errHook = errors.New("edge code")

// fail answers x with f, recording it for the access log and X-Cache.
func (s *Server) fail(x *exchange, f failure) {
	x.detailed, x.xcache = f.detailed, f.xcache
	s.sendErrorPage(x, f.status, f.msg, f.origin)
}

// Hooks are the edge code a Server runs, by point; an absent hook costs
// nothing. The hook decides from ev.Distribution and ev.Behavior whether it
// has code associated there (CloudFront's function associations are per
// cache behaviour).
type Hooks map[HookPoint]Hook

// Event is what a hook sees of a request.
type Event struct {
	Point HookPoint
	// RequestID is the viewer request's ID (X-Amz-Cf-Id).
	RequestID    string
	Distribution *config.Distribution
	Behavior     *config.Behavior
	// Request is the viewer's request (its path normalised): at
	// viewer-request the hook may change its URL and headers.
	Request *http.Request
	// OriginRequest is the request to the origin (origin-request and
	// origin-response); at origin-request the hook may change it.
	OriginRequest *origin.Request
	// Status and Header are the response (origin-response and
	// viewer-response): the hook may change both (CloudFront's rules on
	// what each kind of edge code may change are the hook's to keep).
	Status int
	Header http.Header
	// Response, set by a viewer-request or origin-request hook, answers
	// the request in the origin's place; set by an origin-response hook,
	// it replaces the origin's answer (body included) before it is cached.
	Response *GeneratedResponse
	// Origin is where the request is fetched from. At viewer-request it is
	// nil, and a hook may set it to fetch this request from another
	// origin than the behaviour's target (CloudFront Functions'
	// cf.updateRequestOrigin); at origin-request it is the origin about to
	// be asked (the primary of an origin group), and a hook may replace it
	// (a Lambda@Edge function changing request.origin). An origin that is
	// not one of the distribution's own (by pointer) gets a fetcher of its
	// own; nil at origin-request means the behaviour's target unchanged.
	Origin *config.Origin
	// OriginGroup, set by a viewer-request hook, fetches this request
	// through an origin group made for it (CloudFront Functions'
	// cf.createRequestOriginGroup): its two Members name origins of the
	// distribution. It wins over Origin.
	OriginGroup *config.OriginGroup
}

// GeneratedResponse is an answer made by edge code.
type GeneratedResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Result is CloudFront's name for such an answer at viewer-request,
	// for X-Cache and the access log: "LambdaGeneratedResponse" for
	// Lambda@Edge; "" is FunctionGeneratedResponse (CloudFront Functions).
	Result string
}

// runHook runs the hook of hooks at point p, if there is one, and returns
// its event (nil when no hook ran).
func runHook(ctx context.Context, hooks Hooks, p HookPoint, ev *Event) (*Event, error) {
	h := hooks[p]
	if h == nil {
		return nil, nil
	}
	ev.Point = p
	if err := h(ctx, ev); err != nil {
		return ev, fmt.Errorf("%v %w: %w", p, errHook, err)
	}
	return ev, nil
}

// SetHooks makes hooks the edge code of the configurations loaded from now
// on (Load): a request runs the hooks of the configuration it started
// with. nil runs none (and costs nothing).
func (s *Server) SetHooks(hooks Hooks) { s.nextHooks.Store(&hooks) }

// originResponse is a GeneratedResponse as an origin's answer.
func (g *GeneratedResponse) originResponse() *origin.Response {
	h := g.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &origin.Response{StatusCode: g.Status, Header: h, ContentLength: int64(len(g.Body)),
		Body: io.NopCloser(bytes.NewReader(g.Body))}
}

// fetch asks the origin for req, with the origin-request hook before (it
// may change req or the origin, or answer in the origin's place) and the
// origin-response hook after (it may change the status and headers). The
// origin is t.origin, or the behaviour's target when it is nil; t.id is
// the viewer request's X-Amz-Cf-Id.
func (s *Server) fetch(ctx context.Context, t *fetchTarget, req *origin.Request) (*origin.Response, error) {
	f := t.fetcher
	var ev *Event
	var err error
	if t.hooks[OriginRequest] != nil {
		o := t.origin
		if o == nil {
			o = targetOrigin(t.ds.dist, t.behavior)
		}
		ev, err = runHook(ctx, t.hooks, OriginRequest, &Event{RequestID: t.id, Distribution: t.ds.dist, Behavior: t.behavior,
			OriginRequest: req, Origin: o})
		if err == nil && ev.Origin != nil && ev.Origin != o {
			f, err = s.fetcherFor(t.ds, ev.Origin)
		}
	}
	if err != nil {
		return nil, err
	}
	var resp *origin.Response
	switch {
	case ev != nil && ev.Response != nil:
		resp = ev.Response.originResponse()
	case f == nil:
		return nil, &origin.Error{Kind: origin.Connect, OriginID: t.originID(), Err: errors.New("no fetcher for origin")}
	default:
		if resp, err = f.Fetch(ctx, req); err != nil {
			return nil, err
		}
	}
	if t.hooks[OriginResponse] == nil {
		return resp, nil
	}
	if ev, err = runHook(ctx, t.hooks, OriginResponse, &Event{RequestID: t.id, Distribution: t.ds.dist, Behavior: t.behavior,
		OriginRequest: req, Status: resp.StatusCode, Header: resp.Header}); err != nil {
		resp.Body.Close()
		return nil, err
	} else if ev != nil && ev.Response != nil {
		// The hook replaced the origin's answer (a Lambda@Edge
		// origin-response function that sets a body).
		resp.Body.Close()
		resp = ev.Response.originResponse()
	} else if ev != nil {
		resp.StatusCode, resp.Header = ev.Status, ev.Header
	}
	return resp, nil
}

// fetchTarget is where a request's origin fetch goes and the edge code
// around it: what fetch needs of the exchange, copied so that a shared
// fetch can outlive its leader's request.
type fetchTarget struct {
	ds       *distState
	behavior *config.Behavior
	// origin is the origin edge code chose at viewer-request (nil: the
	// behaviour's target); fetcher is its fetcher (nil when it could not
	// be made).
	origin  *config.Origin
	fetcher origin.Fetcher
	hooks   Hooks
	id      string // the viewer request's X-Amz-Cf-Id
}

// originID is the ID of the origin (or origin group) asked, for metrics
// and logs: an origin edge code made up counts as the behaviour's target,
// so that code cannot grow the metrics' label sets.
func (t *fetchTarget) originID() string {
	if t.origin != nil && t.ds.dist.Origins[t.origin.ID] == t.origin {
		return t.origin.ID
	}
	return t.behavior.TargetOriginID
}

// target is the fetch target of x: its behaviour's target origin, or the
// origin its viewer-request code chose.
func (s *Server) target(x *exchange) fetchTarget {
	t := fetchTarget{ds: x.ds, behavior: x.b, origin: x.origin, hooks: x.st.hooks, id: x.id}
	if g := x.originGroup; g != nil {
		t.origin = x.ds.dist.Origins[g.Members[0]]
		if p, sec := x.ds.fetchers[g.Members[0]], x.ds.fetchers[g.Members[1]]; p != nil && sec != nil {
			t.fetcher = origin.NewGroup(g, p, sec)
		}
		return t
	}
	if t.origin == nil {
		t.fetcher = x.ds.fetchers[x.b.TargetOriginID]
		return t
	}
	f, err := s.fetcherFor(x.ds, t.origin)
	if err != nil {
		s.log.Warn("the origin edge code chose cannot be reached", "distribution", x.ds.dist.ID, "origin", t.origin.ID, "err", err)
	}
	t.fetcher = f
	return t
}
