package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// The disk scenarios (issue 19):
//
//   - disk: a Zipf working set of 10 KiB objects four times edgefront's RAM
//     tier (--cache-size), every object warmed once, then a timed Zipf load:
//     req/s and hit ratio (1 − origin requests ÷ requests) side by side with
//     NGINX proxy_cache on disk (cache files on the scratch directory's disk,
//     max_size the same as edgefront's --cache-disk size).
//   - restart (edgefront only): restartN objects cached with --cache-disk,
//     SIGTERM, start again; the time from the start to the first hit, then
//     the same requests replayed: hits and origin requests.
const (
	diskRAM     = "16MiB"
	diskRAMB    = 16 << 20
	diskSize    = "256MiB"
	diskObject  = "10k"
	diskObjectB = 10 << 10
	restartN    = 10_000
)

// diskResult is one disk-scenario run.
type diskResult struct {
	target   string
	rep      int
	keys     int
	load     loadResult
	origin   int64
	hitRatio float64
	tiers    string        // edgefront: RAM and disk hits during the run
	rssKB    int64         // of the process tree after the run
	diskKB   int64         // the cache directory's size after the run
	cpu      time.Duration // the process tree's CPU time during the timed run
}

// restartResult is one restart-scenario run.
type restartResult struct {
	n          int
	firstHit   time.Duration // from starting the process to the first hit
	originReqs int64         // during the replay
	bad        int64
	replay     time.Duration
}

// diskPhase runs the disk scenario on a dedicated edgefront (and NGINX with
// --peers), each alone.
func (b *bench) diskPhase(ctx context.Context, bin string) error {
	for _, t := range b.targets {
		t.stop()
	}
	keys := 4 * diskRAMB / diskObjectB
	mk := []func() (*target, error){func() (*target, error) {
		return newEdgefront(&b.ports, bin, b.runDir, b.origin.url, "--cache-size", diskRAM, "--cache-disk", filepath.Join(b.runDir, "edgefront-disk")+":"+diskSize)
	}}
	if b.o.peers {
		mk = append(mk, func() (*target, error) {
			return newNginxCache(&b.ports, b.o.peersDir, b.runDir, b.origin.port(), filepath.Join(b.runDir, "nginx-disk"), strings.ToLower(strings.TrimSuffix(diskSize, "iB")))
		})
	}
	for rep := 1; rep <= b.o.reps; rep++ {
		for _, m := range mk {
			t, err := m()
			if err != nil {
				return err
			}
			err = b.diskRun(ctx, t, rep, keys)
			t.stop()
			if t.name == "edgefront" {
				os.RemoveAll(filepath.Join(b.runDir, "edgefront-disk"))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bench) diskRun(ctx context.Context, t *target, rep, keys int) error {
	label := fmt.Sprintf("disk rep %d/%d %s", rep, b.o.reps, t.name)
	b.prog.set("starting "+t.name+" (disk)", 0, nil)
	if err := t.start(ctx); err != nil {
		return err
	}
	var done atomic.Int64
	b.prog.set(label+": warming", 0, func() string { return fmt.Sprintf("%d/%d", done.Load(), keys) })
	base := t.h1 + "/obj/" + diskObject + "/"
	if bad := warm(ctx, base+"z", keys, 16, &done); bad > 0 {
		b.prog.logf("WARN disk warm on %s: %d failures", t.name, bad)
	}
	if t.admin != "" {
		// The steady state: the disk tier writes off the request path,
		// NGINX before its responses end.
		b.prog.set(label+": waiting for the disk writes", 0, nil)
		waitDiskItems(ctx, t, keys)
	}
	ram0, disk0 := tierHits(t)
	spec := loadSpec{conns: b.o.conns, duration: b.o.duration, url: base, zipfKeys: keys}
	var live atomic.Int64
	useGo := b.o.goLoad || !b.tools["wrk"]
	b.prog.set(label, spec.duration, b.liveRate(t, useGo, &live))
	reqs0 := b.origin.requests()
	cpu0 := treeCPU(t.pid())
	var r loadResult
	var err error
	if useGo {
		r, err = runGoLoad(ctx, spec, &live)
	} else {
		r, err = runWrk(ctx, b.runDir, spec)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	res := diskResult{target: t.name, rep: rep, keys: keys, load: r, origin: b.origin.requests() - reqs0, hitRatio: math.NaN(),
		rssKB: treeMem(t.pid()).rss, diskKB: dirKB(filepath.Join(b.runDir, t.name+"-disk")), cpu: treeCPU(t.pid()) - cpu0}
	if r.requests > 0 {
		res.hitRatio = 1 - float64(res.origin)/float64(r.requests)
	}
	if t.admin != "" {
		ram1, disk1 := tierHits(t)
		res.tiers = fmt.Sprintf("RAM hits %s, disk hits %s", commas(ram1-ram0), commas(disk1-disk0))
	}
	b.disks = append(b.disks, res)
	b.prog.logf("%-28s %9.0f req/s  p99 %7.2f ms  hit ratio %.3f (%d origin requests) %s; RSS %d MiB, cache files %d MiB %s",
		label, r.rps, ms(r.p99), res.hitRatio, res.origin, res.tiers, res.rssKB>>10, res.diskKB>>10, r.note)
	return nil
}

// waitDiskItems waits (up to 60 s) until edgefront's disk tier holds n
// objects.
func waitDiskItems(ctx context.Context, t *target, n int) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if v, err := metric(t.admin, `edgefront_cache_tier_items{tier="disk"}`); err == nil && v >= float64(n) {
			return
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// dirKB is the size of the files under dir, in KiB.
func dirKB(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n >> 10
}

// tierHits reads edgefront's hits per tier.
func tierHits(t *target) (ram, disk float64) {
	ram, _ = metric(t.admin, `edgefront_cache_hits_total{tier="ram"}`)
	disk, _ = metric(t.admin, `edgefront_cache_hits_total{tier="disk"}`)
	return ram, disk
}

// restartPhase runs the restart scenario once per rep on a dedicated
// edgefront.
func (b *bench) restartPhase(ctx context.Context, bin string) error {
	for _, t := range b.targets {
		t.stop()
	}
	for rep := 1; rep <= b.o.reps; rep++ {
		dir := filepath.Join(b.runDir, "edgefront-restart")
		t, err := newEdgefront(&b.ports, bin, b.runDir, b.origin.url, "--cache-disk", dir+":1GiB")
		if err != nil {
			return err
		}
		err = b.restartRun(ctx, t, rep)
		t.stop()
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) restartRun(ctx context.Context, t *target, rep int) error {
	label := fmt.Sprintf("restart rep %d/%d", rep, b.o.reps)
	b.prog.set(label+": starting", 0, nil)
	if err := t.start(ctx); err != nil {
		return err
	}
	base := fmt.Sprintf("%s/obj/1k/r%d-", t.h1, rep)
	var done atomic.Int64
	b.prog.set(label+": caching", 0, func() string { return fmt.Sprintf("%d/%d", done.Load(), restartN) })
	if bad := warm(ctx, base, restartN, 16, &done); bad > 0 {
		return fmt.Errorf("%s: %d failures caching", label, bad)
	}
	// The disk tier writes off the request path: wait until it has them
	// all, as an operator's deploy would not restart mid-write.
	waitDiskItems(ctx, t, restartN)
	t.stop() // SIGTERM: a graceful stop
	b.prog.set(label+": restarting", 0, nil)
	start := time.Now()
	if err := t.start(ctx); err != nil {
		return err
	}
	res := restartResult{n: restartN, firstHit: -1}
	c := plainClient()
	for time.Since(start) < 30*time.Second && ctx.Err() == nil {
		resp, err := c.Get(base + "0")
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Cache") == "Hit from cloudfront" {
			res.firstHit = time.Since(start)
			break
		}
	}
	before := b.origin.requests()
	done.Store(0)
	b.prog.set(label+": replaying", 0, func() string { return fmt.Sprintf("%d/%d", done.Load(), restartN) })
	t0 := time.Now()
	res.bad = warm(ctx, base, restartN, 16, &done)
	res.replay = time.Since(t0)
	res.originReqs = b.origin.requests() - before
	b.restarts = append(b.restarts, res)
	b.prog.logf("%-28s first hit %.0f ms after start; replay of %d: %.2f%% hits, %d origin requests (%.2f%%), %d failures, %.1f s",
		label, ms(res.firstHit), res.n, 100*(1-float64(res.originReqs)/float64(res.n)), res.originReqs,
		100*float64(res.originReqs)/float64(res.n), res.bad, res.replay.Seconds())
	return nil
}

// diskReport is the disk and restart sections of the report.
func (b *bench) diskReport() string {
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	if len(b.disks) > 0 {
		w("## Disk: Zipf over %s objects of %s (4× edgefront's RAM tier of %s); edgefront --cache-disk and NGINX proxy_cache on disk, %s each\n\n",
			commas(float64(b.disks[0].keys)), diskObject, diskRAM, diskSize)
		w("| target | rep | req/s | p99 ms | hit ratio | origin reqs | tiers | CPU µs/req | generator µs/req | RSS MiB | cache files MiB | notes |\n|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|\n")
		for _, d := range b.disks {
			cpu, gen := math.NaN(), math.NaN()
			if n := float64(d.load.requests); n > 0 {
				cpu, gen = float64(d.cpu/time.Microsecond)/n, float64(d.load.genCPU/time.Microsecond)/n
			}
			w("| %s | %d | %s | %.2f | %.3f | %d | %s | %s | %s | %d | %d | %s |\n", d.target, d.rep, commas(d.load.rps), ms(d.load.p99), d.hitRatio, d.origin, d.tiers,
				oneDecimal(cpu), oneDecimal(gen), d.rssKB>>10, d.diskKB>>10, d.load.note)
		}
		var rps, hits []float64
		for _, e := range b.disks {
			for _, n := range b.disks {
				if e.target == "edgefront" && n.target == "nginx" && n.rep == e.rep && n.load.rps > 0 {
					rps = append(rps, e.load.rps/n.load.rps)
					hits = append(hits, e.hitRatio-n.hitRatio)
				}
			}
		}
		if len(rps) > 0 {
			w("\nedgefront ÷ NGINX req/s (median of same-rep ratios): %s (target ≥ 1.0: %s); hit ratio edgefront − NGINX: %+.3f (target ≥ 0: %s)\n",
				f2(median(rps)), met(median(rps) >= 1, true), median(hits), met(median(hits) >= 0, true))
		}
		w("\nEvery object warmed once before the timed run; hit ratio = 1 − origin requests ÷ requests during it.\n\n")
	}
	if len(b.restarts) > 0 {
		w("## Restart: %s objects cached with --cache-disk, SIGTERM, start, replay (edgefront)\n\n", commas(restartN))
		w("| rep | first hit after start ms | hits | origin requests | failures | replay s | target |\n|---:|---:|---:|---:|---:|---:|---|\n")
		for i, r := range b.restarts {
			hits := 1 - float64(r.originReqs)/float64(r.n)
			verdict := "**met**"
			if hits < 0.99 || r.firstHit < 0 || r.firstHit > time.Second {
				verdict = "**not met**"
			}
			w("| %d | %.0f | %.2f%% | %d (%.2f%%) | %d | %.1f | ≥ 99%% hits, ≤ 1%% origin, first hit ≤ 1 s: %s |\n", i+1, ms(r.firstHit), 100*hits,
				r.originReqs, 100*float64(r.originReqs)/float64(r.n), r.bad, r.replay.Seconds(), verdict)
		}
		w("\nfirst hit: from starting the process (its listeners, /healthz polled) to the first response with X-Cache: Hit from cloudfront.\n\n")
	}
	return sb.String()
}
