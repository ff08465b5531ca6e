package main

import (
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgefront/edgefront/cache/cachesim"
)

// The hit-ratio scenario (issue 19 item 7): a Zipf trace (s = 1.01, fixed
// seed) of --hit-ratio-requests requests over --hit-ratio-keys 1 KiB
// objects, sent by hitRatioWorkers clients over HTTP/1.1 to each target
// restarted cold with a cache sized to hold hitRatioFractions of the keys.
// edgefront's size is the keys' share times what one object costs it (its
// own edgefront_cache_bytes ÷ items); NGINX (max_size) and Varnish
// (malloc) get the same bytes. The hit ratio is the share of requests that
// did not reach the origin. An LRU cache is simulated on the same trace
// holding as many objects as edgefront held, and NGINX's disk use is
// measured (its cache manager lets max_size overshoot), not assumed: when
// NGINX held more than a tenth over its max_size, edgefront runs again with
// what NGINX held as its cache size, and that run is compared with NGINX.
const hitRatioWorkers = 8

var hitRatioFractions = []float64{0.10, 0.20}

// ratioResult is one target's run of the trace at one cache size.
type ratioResult struct {
	target     string
	fraction   float64 // of the keys the cache was sized to hold
	sizeBytes  int64   // the cache size given
	requests   int
	bad        int64
	originReqs int64
	ratio      float64 // 1 − origin requests ÷ requests
	objects    int64   // held at the end (-1: not known)
	usedBytes  int64   // edgefront: cost held; NGINX: disk used; Varnish: malloc bytes (-1: not known)
	lru        float64 // an LRU of objects entries on the same trace (edgefront's row only)
	lfu        float64 // a perfect LFU of objects entries on the same trace (edgefront's row only)
	opt        float64 // Belady's clairvoyant cache of objects entries on the same trace (edgefront's row only)
	sizedAs    string  // edgefront's re-run sized to this peer's measured bytes ("": sized for the fraction)
	took       time.Duration
}

// hitRatioPhase runs the trace against every target at every size. Like the
// memory phase it restarts each target alone, so it runs after the load
// phases.
func (b *bench) hitRatioPhase(ctx context.Context, bin string) error {
	for _, t := range b.targets {
		t.stop()
	}
	trace := cachesim.ZipfTrace(b.o.ratioRequests, b.o.ratioKeys)
	b.bound = cachesim.Bound(trace)
	cost, err := b.edgefrontObjectCost(ctx, bin)
	if err != nil {
		return fmt.Errorf("hit-ratio: %w", err)
	}
	b.prog.logf("hit-ratio: %d requests over %d keys; edgefront charges %d B per 1 KiB object", len(trace), b.o.ratioKeys, cost)
	for _, frac := range hitRatioFractions {
		size := int64(frac*float64(b.o.ratioKeys)) * cost
		type sized struct {
			size    int64
			mk      func(size int64) (*target, error)
			sizedAs string
		}
		runs := []sized{{size, func(n int64) (*target, error) {
			return newEdgefront(&b.ports, bin, b.runDir, b.origin.url, "--cache-size", strconv.FormatInt(n, 10))
		}, ""}}
		if b.o.peers {
			runs = append(runs,
				sized{size, func(n int64) (*target, error) {
					return newNginxSized(&b.ports, b.o.peersDir, b.runDir, b.origin.port(), strconv.FormatInt(n, 10))
				}, ""},
				// varnishd refuses a malloc storage under 1 MiB (tiny check runs).
				sized{max(size, 1<<20), func(n int64) (*target, error) {
					return newVarnishSized(&b.ports, b.o.peersDir, b.runDir, b.origin.port(), strconv.FormatInt((n+1023)/1024, 10)+"k")
				}, ""})
		}
		for i := 0; i < len(runs); i++ {
			run := runs[i]
			t, err := run.mk(run.size)
			if err != nil {
				return err
			}
			r, err := b.ratioRun(ctx, t, trace, frac, run.size)
			t.stop()
			if err != nil {
				return err
			}
			r.sizedAs = run.sizedAs
			if t.name == "nginx" && r.usedBytes > run.size+run.size/10 {
				// NGINX's cache manager trims late, so it held more
				// than max_size: "equal memory" is what it held.
				runs = append(runs, sized{r.usedBytes, runs[0].mk, "nginx"})
			}
			if t.name == "edgefront" && r.objects > 0 {
				r.lru = cachesim.LRU(trace, int(r.objects))
				r.lfu = cachesim.LFU(trace, int(r.objects))
				r.opt = cachesim.OPT(trace, int(r.objects))
			}
			b.ratios = append(b.ratios, r)
			b.prog.logf("hit-ratio %2.0f%% %-10s %.4f (%d of %d requests reached the origin); objects %d, bytes %d %s",
				100*frac, r.label(), r.ratio, r.originReqs, r.requests, r.objects, r.usedBytes, lruNote(r))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// label is the result's target, and for a re-run whose size it took from.
func (r ratioResult) label() string {
	if r.sizedAs != "" {
		return r.target + " at " + r.sizedAs + "'s bytes"
	}
	return r.target
}

func lruNote(r ratioResult) string {
	if r.lru == 0 {
		return ""
	}
	return fmt.Sprintf("(at %d objects, LRU %.4f, perfect LFU %.4f, OPT %.4f)", r.objects, r.lru, r.lfu, r.opt)
}

// edgefrontObjectCost starts edgefront with its default cache, stores a few
// 1 KiB objects and reads what each costs it.
func (b *bench) edgefrontObjectCost(ctx context.Context, bin string) (int64, error) {
	t, err := newEdgefront(&b.ports, bin, b.runDir, b.origin.url)
	if err != nil {
		return 0, err
	}
	defer t.stop()
	b.prog.set("hit-ratio: measuring edgefront's cost per object", 0, nil)
	if err := t.start(ctx); err != nil {
		return 0, err
	}
	const n = 16
	if bad := warm(ctx, t.h1+"/obj/1k/hr-probe-", n, 1, nil); bad > 0 {
		return 0, fmt.Errorf("%d of %d probe requests failed", bad, n)
	}
	items, err := metric(t.admin, "edgefront_cache_items")
	if err != nil {
		return 0, err
	}
	bytes, err := metric(t.admin, "edgefront_cache_bytes")
	if err != nil {
		return 0, err
	}
	if items < 1 {
		return 0, fmt.Errorf("edgefront stored none of %d probe objects", n)
	}
	return int64(bytes / items), nil
}

// ratioRun starts t cold, replays trace through it and measures.
func (b *bench) ratioRun(ctx context.Context, t *target, trace []int, frac float64, size int64) (ratioResult, error) {
	label := fmt.Sprintf("hit-ratio %.0f%% %s", 100*frac, t.name)
	b.prog.set("starting "+t.name, 0, nil)
	if err := t.start(ctx); err != nil {
		return ratioResult{}, err
	}
	r := ratioResult{target: t.name, fraction: frac, sizeBytes: size, requests: len(trace), objects: -1, usedBytes: -1}
	var done atomic.Int64
	b.prog.set(label, 0, func() string { return fmt.Sprintf("%d/%d requests", done.Load(), len(trace)) })
	before := b.origin.requests()
	start := time.Now()
	r.bad = replayTrace(ctx, t.h1+"/obj/1k/hr", trace, hitRatioWorkers, &done)
	r.took = time.Since(start)
	r.originReqs = b.origin.requests() - before
	r.ratio = 1 - float64(r.originReqs)/float64(len(trace))
	switch t.name {
	case "edgefront":
		if v, err := metric(t.admin, "edgefront_cache_items"); err == nil {
			r.objects = int64(v)
		}
		if v, err := metric(t.admin, "edgefront_cache_bytes"); err == nil {
			r.usedBytes = int64(v)
		}
	case "nginx":
		r.objects, r.usedBytes = diskUse(t.cacheDir)
	case "varnish":
		r.objects, r.usedBytes = varnishUse(t.workDir)
	}
	return r, nil
}

// diskUse is the number of files under dir and the space they occupy
// (allocated blocks, as du counts them).
func diskUse(dir string) (files, bytes int64) {
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		files++
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			bytes += st.Blocks * 512
		} else {
			bytes += info.Size()
		}
		return nil
	})
	return files, bytes
}

// varnishUse is Varnish's object count and the bytes its malloc storage
// holds (varnishstat).
func varnishUse(work string) (objects, bytes int64) {
	objects, bytes = -1, -1
	out, err := exec.Command("varnishstat", "-n", work, "-1", "-f", "MAIN.n_object", "-f", "SMA.s0.g_bytes").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		v, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			continue
		}
		switch fs[0] {
		case "MAIN.n_object":
			objects = v
		case "SMA.s0.g_bytes":
			bytes = v
		}
	}
	return objects, bytes
}

// hitRatioReport is the hit-ratio section of the report.
func (b *bench) hitRatioReport() string {
	if len(b.ratios) == 0 {
		return ""
	}
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	w("## Hit ratio: Zipf s = 1.01, %s requests over %s 1 KiB objects, %d clients\n\n",
		commas(float64(b.o.ratioRequests)), commas(float64(b.o.ratioKeys)), hitRatioWorkers)
	w("| cache sized for | target | cache size | hit ratio | LRU at the same objects | perfect LFU at the same objects | OPT at the same objects | objects held | bytes held | origin reqs | failures | took s |\n")
	w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range b.ratios {
		lru, lfu, opt := "—", "—", "—"
		if r.lru > 0 {
			lru, lfu, opt = fmt.Sprintf("%.4f", r.lru), fmt.Sprintf("%.4f", r.lfu), fmt.Sprintf("%.4f", r.opt)
		}
		w("| %.0f%% of keys | %s | %s | %.4f | %s | %s | %s | %s | %s | %s | %d | %.1f |\n", 100*r.fraction, r.label(),
			commas(float64(r.sizeBytes)), r.ratio, lru, lfu, opt, known(r.objects), known(r.usedBytes), commas(float64(r.originReqs)), r.bad, r.took.Seconds())
	}
	w("\nhit ratio: 1 − origin requests ÷ requests (collapsed misses count as hits, for every target alike). edgefront's size is the keys' share × its own cost per object (edgefront_cache_bytes ÷ items); NGINX gets it as max_size, Varnish as malloc. bytes held: edgefront's cost accounting, NGINX's cache files' allocated blocks (du), Varnish's SMA.s0.g_bytes. LRU and perfect LFU (exact counts of every key since the start: the ceiling for a frequency-based policy that learns online) and OPT (Belady's clairvoyant cache, which knows every future request: no policy gets more hits) are simulated on the same trace, in order, at the objects edgefront held. No cache of any size beats %.4f on this trace: every key's first request is a miss. When NGINX held more than a tenth over its max_size, edgefront ran again with that as its cache size (\"at nginx's bytes\"), and equal memory compares that run.\n\n", b.bound)
	w("| cache sized for | target | measured | verdict |\n|---|---|---|---|\n")
	for _, frac := range hitRatioFractions {
		e, ok := b.ratioOf("edgefront", frac)
		if !ok {
			continue
		}
		w("| %.0f%% | ≥ LRU + 5 points at equal objects | %+.1f points (%.4f vs %.4f); perfect LFU %+.1f, OPT %+.1f | %s |\n", 100*frac, 100*(e.ratio-e.lru), e.ratio, e.lru,
			100*(e.lfu-e.lru), 100*(e.opt-e.lru), verdict(e.ratio >= e.lru+0.05))
		for _, peer := range []string{"nginx", "varnish"} {
			p, ok := b.ratioOf(peer, frac)
			if !ok {
				continue
			}
			if at, ok := b.ratioSizedAs(peer, frac); ok {
				w("| %.0f%% | ≥ %s at equal memory | %.4f vs %.4f (both at %s's %s bytes held) | %s |\n", 100*frac, peer, at.ratio, p.ratio, peer, known(p.usedBytes), verdict(at.ratio >= p.ratio))
				continue
			}
			w("| %.0f%% | ≥ %s at equal memory | %.4f vs %.4f (%s bytes held) | %s |\n", 100*frac, peer, e.ratio, p.ratio, known(p.usedBytes), verdict(e.ratio >= p.ratio))
		}
	}
	w("\n")
	return sb.String()
}

// ratioOf is target's run sized for frac of the keys.
func (b *bench) ratioOf(target string, frac float64) (ratioResult, bool) {
	for _, r := range b.ratios {
		if r.target == target && r.fraction == frac && r.sizedAs == "" {
			return r, true
		}
	}
	return ratioResult{}, false
}

// ratioSizedAs is edgefront's re-run at frac sized to what peer held.
func (b *bench) ratioSizedAs(peer string, frac float64) (ratioResult, bool) {
	for _, r := range b.ratios {
		if r.target == "edgefront" && r.fraction == frac && r.sizedAs == peer {
			return r, true
		}
	}
	return ratioResult{}, false
}

func known(v int64) string {
	if v < 0 {
		return "—"
	}
	return commas(float64(v))
}

func verdict(met bool) string {
	if met {
		return "**met**"
	}
	return "**not met**"
}
