package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"

	"github.com/edgefront/edgefront/config"
	edgecode "github.com/edgefront/edgefront/edge"
	"github.com/edgefront/edgefront/proxy"
)

// functionHooks runs the configuration's CloudFront Functions at the
// proxy's viewer-request and viewer-response points. The proxy takes its
// hooks once, at New; a reload swaps the runtime they read.
type functionHooks struct {
	log *slog.Logger
	cur atomic.Pointer[edgecode.Runtime]
}

// compile builds the runtime for cfg without installing it.
func (fh *functionHooks) compile(cfg *config.Config) (*edgecode.Runtime, error) {
	return edgecode.New(cfg, edgecode.Options{Logger: fh.log})
}

// hooks returns the proxy hooks: a behaviour without a function costs a
// field read.
func (fh *functionHooks) hooks() proxy.Hooks {
	return proxy.Hooks{proxy.ViewerRequest: fh.viewerRequest, proxy.ViewerResponse: fh.viewerResponse}
}

func eventInfo(ev *proxy.Event) edgecode.Info {
	ip, _, err := net.SplitHostPort(ev.Request.RemoteAddr)
	if err != nil {
		ip = ev.Request.RemoteAddr
	}
	return edgecode.Info{DistributionDomainName: ev.Distribution.DomainName, DistributionID: ev.Distribution.ID, ViewerIP: ip}
}

func (fh *functionHooks) viewerRequest(ctx context.Context, ev *proxy.Event) error {
	fn := ev.Behavior.ViewerRequestFunction
	if fn == nil {
		return nil
	}
	resp, err := fh.cur.Load().ViewerRequest(ctx, fn, eventInfo(ev), ev.Request)
	if err != nil {
		return hookError(err)
	}
	if resp != nil {
		ev.Response = &proxy.GeneratedResponse{Status: resp.Status, Header: resp.Header, Body: resp.Body}
	}
	return nil
}

func (fh *functionHooks) viewerResponse(ctx context.Context, ev *proxy.Event) error {
	fn := ev.Behavior.ViewerResponseFunction
	if fn == nil || ev.Status >= 400 { // CloudFront skips viewer-response functions for errors
		return nil
	}
	if err := fh.cur.Load().ViewerResponse(ctx, fn, eventInfo(ev), ev.Request, ev.Status, ev.Header); err != nil {
		return hookError(err)
	}
	return nil
}

// hookError gives a function's failure CloudFront's status and page text.
func hookError(err error) error {
	var fe *edgecode.Error
	if errors.As(err, &fe) {
		return &proxy.HookError{Status: fe.Status(), Message: fe.Message(), Err: err}
	}
	return &proxy.HookError{Status: 503, Message: (&edgecode.Error{Kind: edgecode.ExecutionError}).Message(), Err: err}
}
