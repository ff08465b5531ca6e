package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/origin"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus metrics, on the registry given to New.
type metrics struct {
	requests        *prometheus.CounterVec
	bytesDownloaded prometheus.Counter
	bytesUploaded   prometheus.Counter
	errors          *prometheus.CounterVec
	originFetches   *prometheus.CounterVec
	originLatency   *prometheus.HistogramVec
	collapsed       prometheus.Counter
	viewerGone      prometheus.Counter
	// originBodyErrors counts origin bodies that failed after their headers.
	originBodyErrors *prometheus.CounterVec
	rates            *rates
	flightsPending   prometheus.GaugeFunc
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
		bytesDownloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "bytes_downloaded_total",
			Help: "Body bytes sent to viewers (CloudWatch's BytesDownloaded).",
		}),
		bytesUploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "bytes_uploaded_total",
			Help: "Request body bytes received from viewers (CloudWatch's BytesUploaded).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "error_responses_total",
			Help: "Viewer responses with a 4xx or 5xx status, by class; with edgefront_requests_total they give CloudWatch's 4xxErrorRate and 5xxErrorRate.",
		}, []string{"class"}),
		collapsed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "collapsed_requests_total",
			Help: "Cache misses that joined an origin fetch already under way instead of making their own.",
		}),
		originBodyErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "origin_body_errors_total",
			Help: "Origin answers whose body failed after the headers (reset, read timeout, short body): viewers got a cut response and nothing was stored.",
		}, []string{"origin"}),
		viewerGone: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgefront", Name: "viewer_gone_before_fetch_total",
			Help: "Requests whose viewer left (an HTTP/2 stream reset, a closed connection) before their origin fetch began; no fetch was started.",
		}),
	}
	m.rates = newRates(func() time.Time { return s.now() })
	m.flightsPending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "edgefront", Name: "origin_fetches_in_flight",
		Help: "Collapsed origin fetches under way.",
	}, func() float64 { return float64(s.flights.Len()) })
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.bytesDownloaded, m.bytesUploaded, m.errors, m.originFetches, m.originLatency, m.collapsed, m.viewerGone, m.originBodyErrors, m.flightsPending, m.rates, endpointHealth{s}} {
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

// account records a finished viewer request: its metrics, and its access
// log line when access logging is on. Internal requests (custom error pages)
// are accounted as part of the viewer request they serve.
func (s *Server) account(x *exchange) {
	result, status := x.phase.result(), x.status
	if x.sub || x.phase == phaseNone {
		return // an internal request, or a viewer that left unanswered
	}
	if x.ds != nil {
		x.ds.results.byResult[result].Inc()
	}
	s.metrics.rates.record(s.now(), result, status)
	s.metrics.bytesDownloaded.Add(float64(x.cw.bytes))
	if x.r.ContentLength > 0 {
		s.metrics.bytesUploaded.Add(float64(x.r.ContentLength))
	}
	if status >= 400 {
		s.metrics.errors.WithLabelValues(strconv.Itoa(status/100) + "xx").Inc()
	}
	if s.accessLog == nil {
		return
	}
	s.accessLog.Log(s.logRecord(x, result, status))
}

// logRecord describes a finished request in CloudFront's access log terms.
func (s *Server) logRecord(x *exchange, result string, status int) *accesslog.Record {
	r, now := x.r, s.now()
	h := x.w.Header()
	rec := &accesslog.Record{
		Time: now, Method: r.Method, HostHeader: x.viewerHost,
		URIStem: r.URL.EscapedPath(), URIQuery: r.URL.RawQuery, Status: status,
		Referer: r.Header.Get("Referer"), UserAgent: r.UserAgent(),
		ResultType: result, ResponseResultType: result, DetailedResultType: x.detailed, RequestID: x.id,
		Protocol: "http", ProtocolVersion: r.Proto,
		ForwardedFor:  r.Header.Get("X-Forwarded-For"),
		TimeTaken:     now.Sub(x.start),
		ContentType:   h.Get("Content-Type"),
		ContentLength: -1,
		BytesSent:     x.cw.bytes + headerBytes(h),
		BytesReceived: requestBytes(r),
	}
	if len(x.pop) > 0 {
		rec.EdgeLocation = x.pop[0]
	}
	if x.ds != nil {
		rec.Host = x.ds.dist.DomainName
		if x.ds.logCookies {
			rec.Cookie = r.Header.Get("Cookie")
		}
	}
	if !x.cw.firstByte.IsZero() {
		rec.TimeToFirstByte = x.cw.firstByte.Sub(x.start)
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		rec.ClientIP, rec.ClientPort = ap.Addr().Unmap(), int(ap.Port())
	}
	if r.TLS != nil {
		rec.Protocol = "https"
		rec.TLSProtocol = tlsVersionName(r.TLS.Version)
		rec.TLSCipher = tls.CipherSuiteName(r.TLS.CipherSuite)
	}
	length := h.Get("Content-Length")
	if x.rendered != (cache.Header{}) {
		// Sent as stored: its fields are not in the map.
		rec.ContentType, length = x.rendered.Get("Content-Type"), x.rendered.Get("Content-Length")
		rec.BytesSent += int64(len(x.rendered.Rendered().Text) + len("Content-Length: \r\n") + len(length))
	}
	if n, err := strconv.ParseInt(length, 10, 64); err == nil {
		rec.ContentLength = n
	}
	if cr := h.Get("Content-Range"); cr != "" {
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/", &rec.RangeStart, &rec.RangeEnd); err == nil {
			rec.Ranged = true
		}
	}
	return rec
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return ""
}

// headerBytes approximates the bytes of a response's header block.
func headerBytes(h http.Header) int64 {
	n := int64(len("HTTP/1.1 200 OK\r\n\r\n"))
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n
}

// requestBytes approximates the bytes of a request: request line, headers
// and body.
func requestBytes(r *http.Request) int64 {
	n := int64(len(r.Method)+len(r.RequestURI)+len(r.Proto)+4) + headerBytes(r.Header) - int64(len("HTTP/1.1 200 OK"))
	if r.ContentLength > 0 {
		n += r.ContentLength
	}
	return n
}

// endpointUpDesc describes edgefront_origin_endpoint_up.
var endpointUpDesc = prometheus.NewDesc("edgefront_origin_endpoint_up",
	"1 when an endpoint of a balanced origin (originEndpoints) is in rotation, 0 when passive health ejected it or the active health check failed it.",
	[]string{"distribution", "origin", "endpoint"}, nil)

// endpointHealth exports the health of every balanced origin endpoint of
// the configuration in force, read when scraped.
type endpointHealth struct{ s *Server }

// Describe implements prometheus.Collector.
func (c endpointHealth) Describe(ch chan<- *prometheus.Desc) { ch <- endpointUpDesc }

// Collect implements prometheus.Collector.
func (c endpointHealth) Collect(ch chan<- prometheus.Metric) {
	st := c.s.state.Load()
	if st == nil {
		return
	}
	for _, ds := range st.byID {
		for id := range ds.dist.Origins {
			hr, ok := ds.fetchers[id].(origin.HealthReporter)
			if !ok {
				continue
			}
			// An endpoint listed twice is reported once: a duplicate
			// series would make the whole scrape fail.
			seen := map[string]bool{}
			for _, e := range hr.EndpointHealth() {
				if seen[e.Endpoint] {
					continue
				}
				seen[e.Endpoint] = true
				up := 0.0
				if e.Up {
					up = 1
				}
				ch <- prometheus.MustNewConstMetric(endpointUpDesc, prometheus.GaugeValue, up, ds.dist.ID, id, e.Endpoint)
			}
		}
	}
}

// rateStep is the width of one bucket of the rate windows; rateWindows are
// the windows the rate gauges are exported over, in steps.
const rateStep = 10 * time.Second

var rateWindows = []struct {
	label string
	steps int64
}{{"1m", 6}, {"5m", 30}}

// rateRing holds more snapshots than the longest window has steps.
const rateRing = 32

// rateCounts are the running totals behind the rate gauges.
type rateCounts struct{ requests, hits, e4xx, e5xx int64 }

// rateSnapshot is the running totals as they were when step began (the
// totals of every request recorded in an earlier step).
type rateSnapshot struct {
	step   int64
	counts rateCounts
}

// rates exports CloudFront's CloudWatch rate metrics — CacheHitRate,
// 4xxErrorRate, 5xxErrorRate, TotalErrorRate — as percentages of the
// requests finished in a fixed window ending now: the last minute and the
// last five minutes, in steps of rateStep (the current step and the 5 or 29
// before it). Reading them changes nothing, so any number of scrapers see
// the same values. Prometheus users can compute the same rates over any
// window from the counters (deploy/prometheus/rules.yaml).
//
// Recording is lock-free: running totals are atomic, and the first request
// of each step (one in ten seconds) takes a mutex to note the totals it
// began with in a ring of snapshots. A window's counts are the totals now
// minus the snapshot of the first step in it that saw a request.
type rates struct {
	requests, hits, e4xx, e5xx atomic.Int64
	step                       atomic.Int64 // the latest step a request was recorded in

	mu   sync.Mutex // taken once per step by record, and by Collect
	ring [rateRing]rateSnapshot

	now                                  func() time.Time // the server's clock
	hitRate, rate4xx, rate5xx, rateTotal *prometheus.Desc
}

func newRates(now func() time.Time) *rates {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("edgefront_"+name, help+" Over a fixed window ending now (window: 1m, 5m), moving in 10-second steps; reading it changes nothing.", []string{"window"}, nil)
	}
	return &rates{
		now:       now,
		hitRate:   d("cache_hit_rate", "Percentage of viewer requests served from the cache (Hit, RefreshHit), CloudWatch's CacheHitRate."),
		rate4xx:   d("4xx_error_rate", "Percentage of viewer responses with a 4xx status, CloudWatch's 4xxErrorRate."),
		rate5xx:   d("5xx_error_rate", "Percentage of viewer responses with a 5xx status, CloudWatch's 5xxErrorRate."),
		rateTotal: d("total_error_rate", "Percentage of viewer responses with a 4xx or 5xx status, CloudWatch's TotalErrorRate."),
	}
}

// stepOf is the rate step t falls in.
func stepOf(t time.Time) int64 { return t.UnixNano() / int64(rateStep) }

// record counts one viewer request finished at now.
func (r *rates) record(now time.Time, result string, status int) {
	if step := stepOf(now); step > r.step.Load() {
		r.mu.Lock()
		if step > r.step.Load() {
			r.ring[step%rateRing] = rateSnapshot{step: step, counts: r.totals()}
			r.step.Store(step)
		}
		r.mu.Unlock()
	}
	r.requests.Add(1)
	if result == resultHit || result == resultRefreshHit {
		r.hits.Add(1)
	}
	switch {
	case status >= 500:
		r.e5xx.Add(1)
	case status >= 400:
		r.e4xx.Add(1)
	}
}

func (r *rates) totals() rateCounts {
	return rateCounts{r.requests.Load(), r.hits.Load(), r.e4xx.Load(), r.e5xx.Load()}
}

// window counts the requests recorded in the steps steps ending with now's.
func (r *rates) window(now time.Time, steps int64) rateCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := stepOf(now)
	for s := cur - steps + 1; s <= cur; s++ {
		snap := r.ring[s%rateRing]
		if snap.step != s {
			continue // no request was recorded in step s
		}
		t := r.totals()
		return rateCounts{t.requests - snap.counts.requests, t.hits - snap.counts.hits,
			t.e4xx - snap.counts.e4xx, t.e5xx - snap.counts.e5xx}
	}
	return rateCounts{} // no request in the window
}

// Describe implements prometheus.Collector.
func (r *rates) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.hitRate
	ch <- r.rate4xx
	ch <- r.rate5xx
	ch <- r.rateTotal
}

// Collect implements prometheus.Collector.
func (r *rates) Collect(ch chan<- prometheus.Metric) {
	now := r.now()
	for _, w := range rateWindows {
		c := r.window(now, w.steps)
		pct := func(n int64) float64 {
			if c.requests == 0 {
				return 0
			}
			return 100 * float64(n) / float64(c.requests)
		}
		ch <- prometheus.MustNewConstMetric(r.hitRate, prometheus.GaugeValue, pct(c.hits), w.label)
		ch <- prometheus.MustNewConstMetric(r.rate4xx, prometheus.GaugeValue, pct(c.e4xx), w.label)
		ch <- prometheus.MustNewConstMetric(r.rate5xx, prometheus.GaugeValue, pct(c.e5xx), w.label)
		ch <- prometheus.MustNewConstMetric(r.rateTotal, prometheus.GaugeValue, pct(c.e4xx+c.e5xx), w.label)
	}
}
