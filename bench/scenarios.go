package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// plainClient is a client with a connection of its own.
func plainClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
}

// stormResult is one miss storm: N simultaneous cold requests for one key.
type stormResult struct {
	target     string
	rep        int
	n, ok      int
	originReqs int64
	originTime time.Duration // the origin's own response time for the URL
	p50, p99   time.Duration
	max        time.Duration
	note       string
}

// storm releases o.stormN requests for one cold /slow key at once, each on
// its own pre-opened connection, and counts what reached the origin.
func (b *bench) storm(ctx context.Context, t *target, rep int) error {
	key := fmt.Sprintf("storm-%s-r%d-%d", t.name, rep, time.Now().UnixNano())
	q := "/slow/" + strconv.Itoa(b.o.stormMS) + "/"
	// The origin's own time for the same URL (another key: it is counted).
	var times []time.Duration
	for i := range 3 {
		_, total, err := ttfb(ctx, plainClient(), fmt.Sprintf("%s%s%s-direct%d", b.origin.url, q, key, i))
		if err != nil {
			return fmt.Errorf("origin /slow: %w", err)
		}
		times = append(times, total)
	}
	slices.Sort(times)
	label := fmt.Sprintf("miss-storm rep %d/%d %s", rep, b.o.reps, t.name)
	b.prog.set(label+fmt.Sprintf(": opening %d connections, then one request on each", b.o.stormN), 0, nil)
	r, err := burst(ctx, b.o.stormN, t.h1+"/obj/1k", t.h1+q+key, 60*time.Second)
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	sr := stormResult{target: t.name, rep: rep, n: r.n, ok: r.ok, originReqs: b.origin.keyHits("/slow/" + key),
		originTime: times[1], p50: r.p50, p99: r.p99, max: r.max, note: r.note}
	b.storms = append(b.storms, sr)
	b.prog.logf("%-28s %d requests → %d at the origin; origin %.0f ms, waiters p50 %.0f p99 %.0f max %.0f ms (p99 %.2f× origin) %s",
		label, sr.n, sr.originReqs, ms(sr.originTime), ms(sr.p50), ms(sr.p99), ms(sr.max), ratio(sr.p99, sr.originTime), sr.note)
	return nil
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// largeResult is one large-object run.
type largeResult struct {
	target      string
	rep         int
	originTTFB  time.Duration // the origin's own, direct
	firstTTFB   time.Duration
	firstTotal  time.Duration
	waiterTTFBs []time.Duration // sorted
	originReqs  int64
	rssBeforeKB int64
	rssPeakKB   int64
	note        string
}

// large fetches one cold large object: a first viewer, half the waiters
// while the origin has not answered yet, half once the first viewer has its
// headers (the body streaming). Every client reads the whole body.
func (b *bench) large(ctx context.Context, t *target, rep int) error {
	key := fmt.Sprintf("large-%s-r%d-%d", t.name, rep, time.Now().UnixNano())
	q := fmt.Sprintf("/big/%d/%d/", b.o.largeMiB, b.o.largeMS)
	label := fmt.Sprintf("large rep %d/%d %s", rep, b.o.reps, t.name)
	b.prog.set(label, 0, nil)
	originTTFB, _, err := ttfb(ctx, plainClient(), b.origin.url+q+key+"-direct")
	if err != nil {
		return fmt.Errorf("origin /big: %w", err)
	}
	url := t.h1 + q + key
	res := largeResult{target: t.name, rep: rep, originTTFB: originTTFB, rssBeforeKB: treeMem(t.pid()).rss}

	var peak atomic.Int64
	stopSample := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			if r := treeMem(t.pid()).rss; r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stopSample:
				return
			case <-tk.C:
			}
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	headers := make(chan struct{})
	viewer := func(first bool) {
		defer wg.Done()
		c := plainClient()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			mu.Lock()
			errs = append(errs, err.Error())
			mu.Unlock()
			if first {
				close(headers)
			}
			return
		}
		d := time.Since(t0)
		if first {
			close(headers)
		}
		n, err := discard(resp)
		total := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || n != int64(b.o.largeMiB)<<20 {
			errs = append(errs, fmt.Sprintf("%d bytes, %v", n, err))
		}
		if first {
			res.firstTTFB, res.firstTotal = d, total
		} else {
			res.waiterTTFBs = append(res.waiterTTFBs, d)
		}
	}
	wg.Add(1)
	go viewer(true)
	early := b.o.largeWaiters / 2
	time.Sleep(min(20*time.Millisecond, time.Duration(b.o.largeMS)*time.Millisecond/4))
	for range early {
		wg.Add(1)
		go viewer(false)
	}
	<-headers
	for range b.o.largeWaiters - early {
		wg.Add(1)
		go viewer(false)
	}
	wg.Wait()
	close(stopSample)
	<-sampled
	res.rssPeakKB = peak.Load()
	res.originReqs = b.origin.keyHits("/big/" + key)
	slices.Sort(res.waiterTTFBs)
	if len(errs) > 0 {
		res.note = fmt.Sprintf("%d errors: %s", len(errs), errs[0])
	}
	b.larges = append(b.larges, res)
	b.prog.logf("%-28s origin TTFB %.0f ms; first viewer TTFB %.0f ms (body %.0f ms); waiters TTFB max %.0f ms; origin requests %d; RSS %d → peak %d MiB %s",
		label, ms(res.originTTFB), ms(res.firstTTFB), ms(res.firstTotal), ms(lastDur(res.waiterTTFBs)), res.originReqs,
		res.rssBeforeKB>>10, res.rssPeakKB>>10, res.note)
	return nil
}

func lastDur(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[len(d)-1]
}

func discard(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}

// memResult is one memory measurement.
type memResult struct {
	target         string
	n              int
	bad            int64
	stored         string // what the target says it holds
	before, after  memUse
	shm0, shm1     int64
	perObject      float64 // bytes: (ΔPSS + Δshm) / n
	headerBytes    int     // the origin's response header of one object, as sent
	overheadPerObj float64 // perObject − the 1 KiB body − headerBytes
	// mid is the reading after the first half of the objects: marginal is
	// the overhead of each object of the second half alone, without what
	// a process holds whatever it caches (its runtime, buffers, the GC's
	// fixed headroom), which perObject spreads over the objects.
	mid      memUse
	shmMid   int64
	marginal float64
}

// originHeaderBytes is the size of the bench origin's response header for a
// 1 KiB object as sent ("Name: value\r\n" per value), the same for every
// target: the part of a cached object the memory target counts with its body.
func (b *bench) originHeaderBytes(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.origin.url+"/obj/1k/header-size", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("origin header size: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	n := 0
	for k, vs := range resp.Header {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n, nil
}

// memoryPhase restarts each target alone, warms o.memoryN distinct 1 KiB
// objects, and compares its memory before and after (PSS of its process
// tree plus, for NGINX, its cache files on /dev/shm), as peers.sh does.
func (b *bench) memoryPhase(ctx context.Context) error {
	hdrBytes, err := b.originHeaderBytes(ctx)
	if err != nil {
		return err
	}
	for _, t := range b.targets {
		t.stop()
	}
	for _, t := range b.targets {
		label := "memory " + t.name
		b.prog.set("starting "+t.name, 0, nil)
		if err := t.start(ctx); err != nil {
			return err
		}
		if err := b.warmCheck(ctx, t, "/obj/1k"); err != nil {
			return err
		}
		sleepCtx(ctx, time.Second)
		r := memResult{target: t.name, n: b.o.memoryN, before: treeMem(t.pid()), shm0: shmUsedKB(), headerBytes: hdrBytes}
		var done atomic.Int64
		half := b.o.memoryN / 2
		b.prog.set(label+": warming", 0, func() string { return fmt.Sprintf("%d/%d objects", done.Load(), b.o.memoryN) })
		r.bad = warmRange(ctx, t.h1+"/obj/1k/m", 0, half, 32, &done)
		b.prog.set(label+": settling before the middle reading", 2*time.Second, nil)
		sleepCtx(ctx, 2*time.Second)
		r.mid, r.shmMid = treeMem(t.pid()), shmUsedKB()
		b.prog.set(label+": warming", 0, func() string { return fmt.Sprintf("%d/%d objects", done.Load(), b.o.memoryN) })
		r.bad += warmRange(ctx, t.h1+"/obj/1k/m", half, b.o.memoryN, 32, &done)
		b.prog.set(label+": settling before the last reading", 2*time.Second, nil)
		sleepCtx(ctx, 2*time.Second)
		r.after, r.shm1 = treeMem(t.pid()), shmUsedKB()
		switch t.name {
		case "edgefront":
			if v, err := metric(t.admin, "edgefront_cache_items"); err == nil {
				r.stored = fmt.Sprintf("%.0f items", v)
			}
			if v, err := metric(t.admin, "go_memstats_heap_inuse_bytes"); err == nil {
				r.stored += fmt.Sprintf(", heap in use %.0f MiB", v/(1<<20))
			}
		case "varnish":
			out, _ := exec.Command("varnishstat", "-n", filepath.Join(b.runDir, "varnish"), "-1", "-f", "MAIN.n_object").Output()
			if fs := strings.Fields(string(out)); len(fs) >= 2 {
				r.stored = fs[1] + " objects"
			}
		}
		r.perObject = float64((r.after.pss-r.before.pss)+(r.shm1-r.shm0)) * 1024 / float64(r.n)
		r.overheadPerObj = r.perObject - 1024 - float64(r.headerBytes)
		r.marginal = float64((r.after.pss-r.mid.pss)+(r.shm1-r.shmMid))*1024/float64(b.o.memoryN-half) - 1024 - float64(r.headerBytes)
		b.mems = append(b.mems, r)
		b.prog.logf("%-28s PSS %d → %d → %d MiB, shm +%d MiB: %.0f B per object (%.0f B beyond the 1 KiB body and %d B of headers; %.0f B for each of the second half) %s",
			label, r.before.pss>>10, r.mid.pss>>10, r.after.pss>>10, (r.shm1-r.shm0)>>10, r.perObject, r.overheadPerObj, r.headerBytes, r.marginal, r.stored)
		t.stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
