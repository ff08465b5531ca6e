package proxy

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// rates exports CloudFront's CloudWatch rate metrics — CacheHitRate,
// 4xxErrorRate, 5xxErrorRate — as percentages over the interval since the
// previous scrape, as CloudWatch reports them per period. The plain
// counters (edgefront_requests_total, edgefront_error_responses_total) give
// the same rates over any window with PromQL.
type rates struct {
	requests, hits, e4xx, e5xx atomic.Int64

	mu   sync.Mutex
	last [4]int64

	hitRate, rate4xx, rate5xx *prometheus.Desc
}

func newRates() *rates {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("edgefront_"+name, help, nil, nil)
	}
	return &rates{
		hitRate: d("cache_hit_rate", "Percentage of cacheable requests served from the cache (Hit, RefreshHit) since the previous scrape (CloudWatch's CacheHitRate)."),
		rate4xx: d("4xx_error_rate", "Percentage of viewer responses with a 4xx status since the previous scrape (CloudWatch's 4xxErrorRate)."),
		rate5xx: d("5xx_error_rate", "Percentage of viewer responses with a 5xx status since the previous scrape (CloudWatch's 5xxErrorRate)."),
	}
}

// record counts one finished viewer request.
func (r *rates) record(result string, status int) {
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

func (r *rates) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.hitRate
	ch <- r.rate4xx
	ch <- r.rate5xx
}

func (r *rates) Collect(ch chan<- prometheus.Metric) {
	now := [4]int64{r.requests.Load(), r.hits.Load(), r.e4xx.Load(), r.e5xx.Load()}
	r.mu.Lock()
	var d [4]int64
	for i := range now {
		d[i] = now[i] - r.last[i]
	}
	r.last = now
	r.mu.Unlock()
	pct := func(n int64) float64 {
		if d[0] == 0 {
			return 0
		}
		return 100 * float64(n) / float64(d[0])
	}
	ch <- prometheus.MustNewConstMetric(r.hitRate, prometheus.GaugeValue, pct(d[1]))
	ch <- prometheus.MustNewConstMetric(r.rate4xx, prometheus.GaugeValue, pct(d[2]))
	ch <- prometheus.MustNewConstMetric(r.rate5xx, prometheus.GaugeValue, pct(d[3]))
}
