package main

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/internal/freeport"
)

// The hit-1k-fn scenario (edgefront only: the peers run no scripts): 1 KiB
// hits with a typical viewer-request CloudFront Function — a URI rewrite —
// on every request, against the same hits without a function, measured
// alternately on one edgefront process (fnEdgefront) started for it. The
// targets: with ÷ without ≥ 0.8, and with ≥ 1.0× NGINX's hit-1k of this
// run (NGINX runs no script). The function's own run time is read from
// edgefront's edgefront_function_compute_utilization histogram.

// fnCode is the function: the rewrites a site's viewer-request function
// typically does (an index document for directories, a prefix removed),
// in cloudfront-js-1.0.
//
//go:embed rewrite.js
var fnCode string

// fnSettings is fnEdgefront's configuration: the default behaviour without
// a function, /fn/* with it, both CachingOptimized in front of @ORIGIN@.
//
//go:embed functions.yaml
var fnSettings string

// fnResult is one rep of hit-1k-fn.
type fnResult struct {
	rep         int
	without, fn loadResult
	// fnP99 is the 99th percentile of the function's own run time (the
	// upper bound of its histogram bucket); NaN when not known.
	fnP99 time.Duration
	runs  float64 // function runs during the measurement
}

// fnEdgefront is the edgefront binary with fnSettings, in dir.
func fnEdgefront(ports *freeport.Picker, bin, dir, originURL string) (*target, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "rewrite.js"), []byte(fnCode), 0o644); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "edgefront.yaml")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(fnSettings, "@ORIGIN@", originURL)), 0o644); err != nil {
		return nil, err
	}
	p, err := ports.Ports(2)
	if err != nil {
		return nil, err
	}
	t := &target{name: "edgefront+fn", h1: "http://127.0.0.1:" + p[0], admin: "http://127.0.0.1:" + p[1]}
	t.start = func(ctx context.Context) error {
		logPath := filepath.Join(dir, "edgefront.log")
		if err := t.run(logPath, bin, "serve", "--config", conf, "--http", "127.0.0.1:"+p[0], "--https", "",
			"--http3=false", "--admin", "127.0.0.1:"+p[1], "--log-level", "warn"); err != nil {
			return err
		}
		return t.ready(ctx, t.admin+"/healthz", logPath, 20*time.Second)
	}
	return t, nil
}

// fnPhase runs hit-1k-fn: per rep, the hits without and with the function
// on one process started for the phase.
func (b *bench) fnPhase(ctx context.Context, bin string) error {
	t, err := fnEdgefront(&b.ports, bin, filepath.Join(b.runDir, "fn"), b.origin.url)
	if err != nil {
		return fmt.Errorf("hit-1k-fn: %w", err)
	}
	b.prog.set("starting "+t.name, 0, nil)
	if err := t.start(ctx); err != nil {
		return fmt.Errorf("hit-1k-fn: %w", err)
	}
	defer t.stop()
	for _, p := range []string{"/obj/1k", "/fn/obj/1k"} {
		if err := b.warmCheck(ctx, t, p); err != nil {
			return fmt.Errorf("hit-1k-fn: %w", err)
		}
	}
	useGo := b.o.goLoad || !b.tools["wrk"]
	measure := func(label, path string) (loadResult, error) {
		spec := loadSpec{conns: b.o.conns, duration: b.o.duration, url: t.h1 + path}
		var live atomic.Int64
		b.prog.set(label, spec.duration, b.liveRate(t, useGo, &live))
		if useGo {
			return runGoLoad(ctx, spec, &live)
		}
		return runWrk(ctx, b.runDir, spec)
	}
	for rep := 1; rep <= b.o.reps; rep++ {
		r := fnResult{rep: rep, fnP99: -1}
		if r.without, err = measure(fmt.Sprintf("hit-1k-fn rep %d/%d: without a function", rep, b.o.reps), "/obj/1k"); err != nil {
			return err
		}
		before, _ := histogram(t.admin, "edgefront_function_compute_utilization")
		if r.fn, err = measure(fmt.Sprintf("hit-1k-fn rep %d/%d: with the function", rep, b.o.reps), "/fn/obj/1k"); err != nil {
			return err
		}
		if after, err := histogram(t.admin, "edgefront_function_compute_utilization"); err == nil {
			d := after.minus(before)
			r.runs = d.count
			if q := d.quantile(0.99); !math.IsNaN(q) {
				// Buckets are percentages of CloudFront's 1 ms.
				r.fnP99 = time.Duration(q * float64(time.Millisecond) / 100)
			}
		}
		b.fns = append(b.fns, r)
		b.prog.logf("%-28s %9.0f req/s without, %9.0f with a function (%.2f×), function p99 ≤ %v", "hit-1k-fn edgefront",
			r.without.rps, r.fn.rps, r.fn.rps/r.without.rps, r.fnP99)
	}
	return nil
}

// fnReport is the hit-1k-fn section of the report.
func (b *bench) fnReport() string {
	if len(b.fns) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("## A CloudFront Function on every hit (edgefront, hit-1k-fn)\n\n")
	sb.WriteString("A viewer-request URI rewrite (cloudfront-js-1.0) on 1 KiB hits, against the same hits without it on the same process; " +
		"NGINX's hit-1k (no script) of this run for reference. The function's p99 is its own run time, from edgefront's " +
		"`edgefront_function_compute_utilization` histogram (bucket upper bound).\n\n")
	sb.WriteString("| rep | req/s without | req/s with | with ÷ without | with ÷ NGINX hit-1k | p99 ms without | p99 ms with | function runs | function p99 | targets |\n" +
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range b.fns {
		ratio := r.fn.rps / r.without.rps
		nginx := math.NaN()
		for _, p := range b.runsOf("hit-1k", "nginx") {
			if p.rep == r.rep && p.rps > 0 {
				nginx = r.fn.rps / p.rps
			}
		}
		verdict := fmt.Sprintf("≥ 0.8× without: %s; ≥ 1.0× NGINX: %s", met(ratio >= 0.8, true), met(nginx >= 1, !math.IsNaN(nginx)))
		p99 := "—"
		if r.fnP99 >= 0 {
			p99 = "≤ " + r.fnP99.String()
		}
		fmt.Fprintf(&sb, "| %d | %s | %s | %.2f | %s | %.2f | %.2f | %s | %s | %s |\n", r.rep, commas(r.without.rps), commas(r.fn.rps), ratio,
			f2(nginx), ms(r.without.p99), ms(r.fn.p99), commas(r.runs), p99, verdict)
	}
	sb.WriteString("\n")
	return sb.String()
}

// met is a target's verdict.
func met(ok, known bool) string {
	switch {
	case !known:
		return "not measured"
	case ok:
		return "**met**"
	}
	return "**not met**"
}

// hist is a Prometheus histogram read from /metrics, summed over its
// label sets: cumulative counts by upper bound.
type hist struct {
	bounds []float64
	counts map[float64]float64
	count  float64
}

// histogram reads the histogram name from the admin listener's /metrics.
func histogram(admin, name string) (hist, error) {
	h := hist{counts: map[float64]float64{}}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(admin + "/metrics")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fs[len(fs)-1], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, name+"_bucket{"):
			i := strings.Index(line, `le="`)
			if i < 0 {
				continue
			}
			rest := line[i+4:]
			le, err := strconv.ParseFloat(rest[:strings.IndexByte(rest, '"')], 64)
			if err != nil {
				continue
			}
			if _, seen := h.counts[le]; !seen {
				h.bounds = append(h.bounds, le)
			}
			h.counts[le] += v
		case strings.HasPrefix(line, name+"_count"):
			h.count += v
		}
	}
	sort.Float64s(h.bounds)
	return h, sc.Err()
}

// minus is h's counts less those of an earlier reading.
func (h hist) minus(earlier hist) hist {
	d := hist{bounds: h.bounds, counts: map[float64]float64{}, count: h.count - earlier.count}
	for _, le := range h.bounds {
		d.counts[le] = h.counts[le] - earlier.counts[le]
	}
	return d
}

// quantile is the upper bound of the bucket holding quantile q (NaN for
// no observations, +Inf past the last finite bound).
func (h hist) quantile(q float64) float64 {
	if h.count <= 0 {
		return math.NaN()
	}
	for _, le := range h.bounds {
		if h.counts[le] >= q*h.count {
			return le
		}
	}
	return math.Inf(1)
}
