package proxy

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus metrics, on the registry given to New.
type metrics struct {
	requests       *prometheus.CounterVec
	originFetches  *prometheus.CounterVec
	originLatency  *prometheus.HistogramVec
	collapsed      prometheus.Counter
	flightsPending prometheus.GaugeFunc
}

// resultCounters are one distribution's request counters by result, looked
// up once per configuration load, not per request.
type resultCounters struct {
	byResult map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "requests_total",
			Help: "Viewer requests by distribution and result type (Hit, RefreshHit, Miss, Error, Redirect).",
		}, []string{"distribution", "result"}),
		originFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "origin_fetches_total",
			Help: "Requests sent to origins, by origin and status code (502/504 when the origin failed).",
		}, []string{"origin", "code"}),
		originLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "edgefront", Name: "origin_latency_seconds",
			Help:    "Time from sending a request to an origin until its response headers arrived.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"origin"}),
		collapsed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "collapsed_requests_total",
			Help: "Cache misses that joined an origin fetch already under way instead of making their own.",
		}),
	}
	m.flightsPending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "edgefront", Name: "origin_fetches_in_flight",
		Help: "Collapsed origin fetches under way.",
	}, func() float64 { return float64(s.flights.len()) })
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.originFetches, m.originLatency, m.collapsed, m.flightsPending} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue
			}
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) resultsFor(distribution string) *resultCounters {
	rc := &resultCounters{byResult: make(map[string]prometheus.Counter, len(xCache))}
	for r := range xCache {
		rc.byResult[r] = m.requests.WithLabelValues(distribution, r)
	}
	return rc
}

func (m *metrics) originFetch(originID string, status int, took time.Duration) {
	m.originFetches.WithLabelValues(originID, strconv.Itoa(status)).Inc()
	m.originLatency.WithLabelValues(originID).Observe(took.Seconds())
}

// account records a finished viewer request.
func (s *Server) account(x *exchange, result string, status int) {
	if x.ds != nil {
		x.ds.results.byResult[result].Inc()
	}
}
