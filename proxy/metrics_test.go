package proxy

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRateWindows: the CloudWatch-style rate gauges cover fixed windows
// (the last minute and five minutes, in 10-second steps) and reading them
// changes nothing: two scrapes in a row agree, whoever makes them.
func TestRateWindows(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC) // a step boundary
	type rec struct {
		at     time.Duration // after start
		result string
		status int
	}
	cases := []struct {
		name   string
		recs   []rec
		now    time.Duration
		hit1m  float64
		hit5m  float64
		err4xx float64 // 1m
		total  float64 // 5m
	}{
		{"nothing recorded", nil, 0, 0, 0, 0, 0},
		{"all in the last minute", []rec{{0, resultHit, 200}, {time.Second, resultMiss, 200}, {2 * time.Second, resultHit, 200}, {3 * time.Second, resultError, 404}},
			5 * time.Second, 50, 50, 25, 25},
		{"older requests leave the minute but stay in five", []rec{{0, resultMiss, 503}, {0, resultMiss, 200}, {2 * time.Minute, resultHit, 200}, {2 * time.Minute, resultRefreshHit, 200}},
			2*time.Minute + time.Second, 100, 50, 0, 25},
		{"everything older than five minutes", []rec{{0, resultHit, 404}}, 6 * time.Minute, 0, 0, 0, 0},
		{"a quiet step in the window", []rec{{0, resultHit, 200}, {35 * time.Second, resultMiss, 200}}, 50 * time.Second, 50, 50, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := start
			r := newRates(func() time.Time { return now })
			for _, x := range c.recs {
				r.record(start.Add(x.at), x.result, x.status)
			}
			now = start.Add(c.now)
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(r)
			first, second := gatherRates(t, reg), gatherRates(t, reg)
			want := map[string]float64{
				"edgefront_cache_hit_rate/1m": c.hit1m, "edgefront_cache_hit_rate/5m": c.hit5m,
				"edgefront_4xx_error_rate/1m": c.err4xx, "edgefront_total_error_rate/5m": c.total,
			}
			for k, v := range want {
				if got := first[k]; got != v {
					t.Errorf("%s = %v, want %v", k, got, v)
				}
			}
			for k, v := range first {
				if second[k] != v {
					t.Errorf("%s: first scrape %v, second %v", k, v, second[k])
				}
			}
		})
	}
}

// gatherRates scrapes reg: each gauge's value by "name/window".
func gatherRates(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[mf.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}
