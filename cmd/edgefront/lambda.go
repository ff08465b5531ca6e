package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/lambdaedge"
	"github.com/edgefront/edgefront/proxy"
)

// lambdaHooks runs the configuration's Lambda@Edge functions at the
// proxy's four points. A reload builds a new engine (taking over the warm
// workers of unchanged functions) and swaps it in; the old one's other
// workers stop.
type lambdaHooks struct {
	log     *slog.Logger
	metrics *lambdaMetrics
	cur     atomic.Pointer[lambdaedge.Engine]
}

// compile starts the workers cfg's functions need, without installing
// them; a refused configuration's engine is Released.
func (lh *lambdaHooks) compile(ctx context.Context, cfg *config.Config) (*lambdaedge.Engine, error) {
	return lambdaedge.New(ctx, cfg, lambdaedge.Options{Logger: lh.log, Observe: lh.metrics.observe}, lh.cur.Load())
}

// install makes eng the running engine and stops what the previous one
// had that eng did not take over.
func (lh *lambdaHooks) install(eng *lambdaedge.Engine) {
	lh.cur.Swap(eng).Close()
}

// close stops every worker (shutdown).
func (lh *lambdaHooks) close() { lh.cur.Swap(nil).Close() }

// forConfig returns the hooks for cfg: none when no behaviour has a
// Lambda@Edge function.
func (lh *lambdaHooks) forConfig(cfg *config.Config) proxy.Hooks {
	if !cfg.HasLambda() {
		return nil
	}
	run := func(ctx context.Context, ev *proxy.Event) error {
		if ev.Behavior.Lambda[ev.Point] == nil {
			return nil
		}
		eng := lh.cur.Load()
		if eng == nil {
			return nil
		}
		return eng.Run(ctx, ev)
	}
	hooks := proxy.Hooks{}
	eachBehavior(cfg, func(b *config.Behavior) {
		for p, a := range b.Lambda {
			if a != nil {
				hooks[proxy.HookPoint(p)] = run // only where some behaviour has a function
			}
		}
	})
	return hooks
}

// lambdaMetrics are Lambda@Edge's metrics, by function ARN.
type lambdaMetrics struct {
	invocations *prometheus.CounterVec
	errors      *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

func newLambdaMetrics(reg prometheus.Registerer) *lambdaMetrics {
	m := &lambdaMetrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "edgefront", Name: "lambda_invocations_total",
			Help: "Runs of each Lambda@Edge function."}, []string{"function"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "edgefront", Name: "lambda_errors_total",
			Help: "Failed runs of each Lambda@Edge function, by CloudFront's name of the failure (LambdaExecutionError, LambdaValidationError, LambdaLimitExceeded)."},
			[]string{"function", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "edgefront", Name: "lambda_duration_seconds",
			Help: "How long each Lambda@Edge run took, the worker's wait included.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)},
			[]string{"function"}),
	}
	reg.MustRegister(m.invocations, m.errors, m.duration)
	return m
}

func (m *lambdaMetrics) observe(arn string, elapsed time.Duration, kind string) {
	m.invocations.WithLabelValues(arn).Inc()
	m.duration.WithLabelValues(arn).Observe(elapsed.Seconds())
	if kind != "" {
		m.errors.WithLabelValues(arn, kind).Inc()
	}
}
