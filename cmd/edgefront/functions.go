package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/config"
	edgecode "github.com/edgefront/edgefront/edge"
	"github.com/edgefront/edgefront/proxy"
)

// functionHooks runs the configuration's CloudFront Functions at the
// proxy's viewer-request and viewer-response points. The proxy takes its
// hooks once, at New; a reload swaps the runtime they read.
type functionHooks struct {
	log     *slog.Logger
	cur     atomic.Pointer[edgecode.Runtime]
	metrics *functionMetrics // nil: none
}

// compile builds the runtime for cfg without installing it.
func (fh *functionHooks) compile(cfg *config.Config) (*edgecode.Runtime, error) {
	opts := edgecode.Options{Logger: fh.log}
	if fh.metrics != nil {
		opts.Observe = fh.metrics.observer
	}
	return edgecode.New(cfg, opts)
}

// functionMetrics are CloudFront's function metrics, by function name.
type functionMetrics struct {
	invocations, executionErrors, validationErrors *prometheus.CounterVec
	utilization                                    *prometheus.HistogramVec
}

func newFunctionMetrics(reg prometheus.Registerer) *functionMetrics {
	m := &functionMetrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "edgefront", Name: "function_invocations_total",
			Help: "Runs of each CloudFront Function."}, []string{"function"}),
		executionErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "edgefront", Name: "function_execution_errors_total",
			Help: "Runs of each CloudFront Function that threw or ran out of budget (503)."}, []string{"function"}),
		validationErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "edgefront", Name: "function_validation_errors_total",
			Help: "Runs of each CloudFront Function whose result broke CloudFront's rules (502)."}, []string{"function"}),
		utilization: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "edgefront", Name: "function_compute_utilization",
			Help:    "Each run's time as a percentage of CloudFront's 1 ms compute allowance (capped at 100), as CloudFront reports ComputeUtilization.",
			Buckets: []float64{5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}}, []string{"function"}),
	}
	reg.MustRegister(m.invocations, m.executionErrors, m.validationErrors, m.utilization)
	return m
}

// observer returns the observer of the function named name: its metrics'
// children are looked up once, here, not on every run.
func (m *functionMetrics) observer(name string) edgecode.Observer {
	invocations, utilization := m.invocations.WithLabelValues(name), m.utilization.WithLabelValues(name)
	executionErrors, validationErrors := m.executionErrors.WithLabelValues(name), m.validationErrors.WithLabelValues(name)
	return func(elapsed time.Duration, err error) {
		invocations.Inc()
		utilization.Observe(min(100, float64(elapsed)/float64(time.Millisecond)*100))
		if err == nil {
			return
		}
		// fe goes to the heap (errors.As takes its address): only a
		// failed run pays for it.
		var fe *edgecode.Error
		if errors.As(err, &fe) && fe.Kind == edgecode.ValidationError {
			validationErrors.Inc()
		} else {
			executionErrors.Inc()
		}
	}
}

// forConfig returns the hooks for cfg: none when it has no functions, so
// that requests pay nothing for edge code they do not have.
func (fh *functionHooks) forConfig(cfg *config.Config) proxy.Hooks {
	var hooks proxy.Hooks
	add := func(p proxy.HookPoint, h proxy.Hook) {
		if hooks == nil {
			hooks = proxy.Hooks{}
		}
		hooks[p] = h
	}
	// Only at the points some behaviour has a function: a point without a
	// hook costs a request nothing (no event is made).
	eachBehavior(cfg, func(b *config.Behavior) {
		if b.ViewerRequestFunction != nil {
			add(proxy.ViewerRequest, fh.viewerRequest)
		}
		if b.ViewerResponseFunction != nil {
			add(proxy.ViewerResponse, fh.viewerResponse)
		}
	})
	return hooks
}

// eachBehavior calls f with every behaviour of cfg's distributions.
func eachBehavior(cfg *config.Config, f func(*config.Behavior)) {
	for _, d := range cfg.Distributions {
		if d.Default != nil {
			f(d.Default)
		}
		for _, b := range d.Behaviors {
			f(b)
		}
	}
}

func eventInfo(ev *proxy.Event) edgecode.Info {
	ip, _, err := net.SplitHostPort(ev.Request.RemoteAddr)
	if err != nil {
		ip = ev.Request.RemoteAddr
	}
	return edgecode.Info{DistributionDomainName: ev.Distribution.DomainName, DistributionID: ev.Distribution.ID,
		RequestID: ev.RequestID, ViewerIP: ip, Distribution: ev.Distribution, TargetOriginID: ev.Behavior.TargetOriginID}
}

func (fh *functionHooks) viewerRequest(ctx context.Context, ev *proxy.Event) error {
	fn := ev.Behavior.ViewerRequestFunction
	if fn == nil {
		return nil
	}
	out, err := fh.cur.Load().ViewerRequest(ctx, fn, eventInfo(ev), ev.Request)
	if err != nil {
		return hookError(err)
	}
	switch {
	case out.Response != nil:
		ev.Response = &proxy.GeneratedResponse{Status: out.Response.Status, Header: out.Response.Header, Body: out.Response.Body}
	case out.OriginGroup != nil:
		ev.OriginGroup = out.OriginGroup
	case out.Origin != nil:
		ev.Origin = out.Origin
	}
	return nil
}

func (fh *functionHooks) viewerResponse(ctx context.Context, ev *proxy.Event) error {
	fn := ev.Behavior.ViewerResponseFunction
	if fn == nil || ev.Status >= 400 { // CloudFront skips viewer-response functions for errors
		return nil
	}
	status, err := fh.cur.Load().ViewerResponse(ctx, fn, eventInfo(ev), ev.Request, ev.Status, ev.Header)
	if err != nil {
		return hookError(err)
	}
	ev.Status = status
	return nil
}

// hookError gives a function's failure CloudFront's status and page text.
func hookError(err error) error {
	var fe *edgecode.Error
	if errors.As(err, &fe) {
		return &proxy.HookError{Status: fe.Status(), Message: fe.Message(), Result: fe.Kind, Err: err}
	}
	return &proxy.HookError{Status: 503, Message: (&edgecode.Error{Kind: edgecode.ExecutionError}).Message(),
		Result: edgecode.ExecutionError, Err: err}
}
