// Command bench measures edgefront as issue 6 judges it: hit throughput and
// latency over HTTP/1.1 (plain and TLS) and HTTP/2, request collapsing under
// a miss storm, a Zipf working set, a 100 MiB object, memory per cached object
// and the hit ratio on a Zipf trace beside a simulated LRU cache's — and,
// with --peers, the same scenarios against NGINX proxy_cache and Varnish,
// configured as ../shared/peers configures them, interleaved per repetition.
//
//	go run ./bench                                  # edgefront alone, every scenario
//	go run ./bench --peers --reps 3 --duration 10s  # with NGINX and Varnish, ratios
//	go run ./bench --scenario hit-1k,miss-storm --duration 3s --reps 1
//	go run ./bench --scenario hit-ratio --peers    # issue 19's trace: 200,000 requests
//
// It builds cmd/edgefront and runs the binary (quick mode, --origin) in front
// of its own counting origin, drives load with wrk (HTTP/1.1) and h2load
// (HTTP/2), installing them with apt-get when missing (a Go generator is the
// fallback), and writes a Markdown table to --out. Everything listens on and
// targets 127.0.0.1 only; every load is bounded in time or count; every
// process it starts is stopped by its PID.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgefront/edgefront/internal/freeport"
)

var allScenarios = []string{"hit-1k", "hit-100k", "hit-1m", "hit-1k-h2", "hit-1k-tls", "zipf", "miss-storm", "large", "hit-1k-fn", "hit-after-bans", "disk", "restart", "memory", "hit-ratio"}

// options are the command line.
type options struct {
	scenarios    []string
	duration     time.Duration
	conns        int
	reps         int
	peers        bool
	peersDir     string
	out          string
	stormN       int
	stormMS      int
	largeMiB     int
	largeMS      int
	largeWaiters int
	memoryN      int
	zipfKeys     int
	// ratioRequests and ratioKeys are the hit-ratio scenario's trace.
	ratioRequests int
	ratioKeys     int
	goLoad        bool
	keep          bool
}

// edgefrontPprof adds --pprof to every edgefront the bench starts (the
// --pprof flag), so that go tool pprof can read it during a run.
var edgefrontPprof bool

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -help: the usage is printed
		}
		fmt.Fprintln(os.Stderr, "\nbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	scen := fs.String("scenario", "all", "comma-separated scenarios: "+strings.Join(allScenarios, ", ")+", or all")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each throughput run")
	fs.IntVar(&o.conns, "connections", 64, "connections for the throughput runs (HTTP/2: each with 10 streams)")
	fs.IntVar(&o.reps, "reps", 3, "repetitions; targets are interleaved within each, order rotated per rep")
	fs.BoolVar(&o.peers, "peers", false, "also run NGINX proxy_cache and Varnish, configured from --peers-dir")
	fs.StringVar(&o.peersDir, "peers-dir", defaultPeersDir(repo), "directory of peers.sh, nginx/nginx.conf.in and varnish/default.vcl")
	fs.StringVar(&o.out, "out", filepath.Join(repo, "bench", "results", "latest.md"), "Markdown results file")
	fs.IntVar(&o.stormN, "storm-n", 10000, "miss-storm: simultaneous cold requests for one key")
	fs.IntVar(&o.stormMS, "storm-ms", 500, "miss-storm: the origin's response time in ms")
	fs.IntVar(&o.largeMiB, "large-mib", 100, "large: object size in MiB")
	fs.IntVar(&o.largeMS, "large-ms", 100, "large: the origin's time to first byte in ms")
	fs.IntVar(&o.largeWaiters, "large-waiters", 8, "large: viewers that join the first one's fetch (half before its headers, half after)")
	fs.IntVar(&o.memoryN, "memory-n", 100000, "memory: distinct 1 KiB objects warmed")
	fs.IntVar(&o.zipfKeys, "zipf-keys", 10000, "zipf: working set size")
	fs.IntVar(&o.ratioRequests, "hit-ratio-requests", 200000, "hit-ratio: requests in the Zipf trace")
	fs.IntVar(&o.ratioKeys, "hit-ratio-keys", 100000, "hit-ratio: distinct 1 KiB objects in the trace")
	fs.BoolVar(&o.goLoad, "go-load", false, "use the built-in Go load generator even when wrk and h2load are installed")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory (logs, configs)")
	fs.BoolVar(&edgefrontPprof, "pprof", false, "start edgefront with --pprof: its profiles at /debug/pprof/ on its admin listener during the runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scen == "all" {
		o.scenarios = allScenarios
	} else {
		for _, s := range strings.Split(*scen, ",") {
			s = strings.TrimSpace(s)
			if !contains(allScenarios, s) {
				return fmt.Errorf("--scenario %q: want one of %s", s, strings.Join(allScenarios, ", "))
			}
			o.scenarios = append(o.scenarios, s)
		}
	}
	if o.ratioRequests < 1 || o.ratioKeys < 10 {
		return errors.New("--hit-ratio-requests must be positive and --hit-ratio-keys at least 10")
	}
	if o.reps < 1 || o.conns < 1 || o.duration < time.Second {
		return errors.New("--reps and --connections must be positive and --duration at least 1s")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{o: o, repo: repo, log: os.Stderr, started: time.Now()}
	b.prog = newProgress(os.Stderr)
	defer b.prog.close()
	return b.main(ctx)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// repoRoot is the directory of the edgefront module.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run go run ./bench inside the edgefront module")
	}
	return filepath.Dir(mod), nil
}

func defaultPeersDir(repo string) string {
	d := filepath.Join(repo, "..", "shared", "peers")
	if _, err := os.Stat(filepath.Join(d, "peers.sh")); err == nil {
		return d
	}
	return "/work/shared/peers"
}

// bench is one run of the harness.
type bench struct {
	o       options
	repo    string
	log     io.Writer
	prog    *progress
	started time.Time
	runDir  string
	tools   map[string]bool
	origin  *benchOrigin
	targets []*target
	// ports hands every server of the run its ports: none twice.
	ports   freeport.Picker
	edge    *target
	cluster []clusterResult

	results  []runResult
	storms   []stormResult
	larges   []largeResult
	mems     []memResult
	bans     []bansResult
	fns      []fnResult
	ratios   []ratioResult
	bound    float64  // the hit-ratio trace's compulsory-miss bound (cachesim.Bound)
	failed   []string // the scenarios that failed, with their errors
	disks    []diskResult
	restarts []restartResult
	env      []string
}

func (b *bench) has(s string) bool { return contains(b.o.scenarios, s) }

func (b *bench) main(ctx context.Context) error {
	raiseFileLimit()
	var err error
	b.runDir, err = os.MkdirTemp("", "edgefront-bench-")
	if err != nil {
		return err
	}
	// varnishd reads its VCL after dropping privileges.
	if err := os.Chmod(b.runDir, 0o755); err != nil {
		return err
	}
	if b.o.keep {
		fmt.Fprintf(b.log, "bench: scratch directory %s (kept)\n", b.runDir)
	} else {
		defer os.RemoveAll(b.runDir)
	}
	b.tools = ensureTools(ctx, b.log, b.o.peers)
	if b.o.peers && (!b.tools["nginx"] || !b.tools["varnishd"]) {
		return errors.New("--peers needs nginx and varnishd")
	}
	if !b.tools["wrk"] || !b.tools["h2load"] || b.o.goLoad {
		fmt.Fprintln(b.log, "bench: using the Go load generator for what wrk/h2load cannot do here")
	}

	b.prog.set("building cmd/edgefront", 0, nil)
	bin, err := buildEdgefront(ctx, b.repo, b.runDir)
	if err != nil {
		return err
	}
	b.origin, err = startOrigin()
	if err != nil {
		return err
	}
	defer b.origin.close()

	b.edge, err = newEdgefront(&b.ports, bin, b.runDir, b.origin.url)
	if err != nil {
		return err
	}
	b.targets = []*target{b.edge}
	if b.o.peers {
		for _, mk := range []func(*freeport.Picker, string, string, string) (*target, error){newNginx, newVarnish} {
			t, err := mk(&b.ports, b.o.peersDir, b.runDir, b.origin.port())
			if err != nil {
				return err
			}
			b.targets = append(b.targets, t)
		}
	}
	defer func() {
		for _, t := range b.targets {
			t.stop()
		}
	}()
	b.collectEnv()

	if err := b.loadPhases(ctx); err != nil {
		return err
	}
	// The other phases run whatever one of them meets: a failure is
	// logged and reported, and what the rest measured is still written.
	var failed []string
	for _, ph := range []struct {
		scenario string
		run      func(context.Context) error
	}{
		{"cluster", func(ctx context.Context) error { return b.clusterPhase(ctx, bin) }},
		{"hit-1k-fn", func(ctx context.Context) error { return b.fnPhase(ctx, bin) }},
		{"hit-after-bans", b.bansPhase},
		{"disk", func(ctx context.Context) error { return b.diskPhase(ctx, bin) }},
		{"restart", func(ctx context.Context) error { return b.restartPhase(ctx, bin) }},
		{"memory", b.memoryPhase},
		{"hit-ratio", func(ctx context.Context) error { return b.hitRatioPhase(ctx, bin) }},
	} {
		if !b.has(ph.scenario) {
			continue
		}
		if err := ph.run(ctx); err != nil {
			if ctx.Err() != nil {
				return err
			}
			b.prog.logf("FAILED %s: %v", ph.scenario, err)
			failed = append(failed, fmt.Sprintf("%s: %v", ph.scenario, err))
		}
	}
	b.failed = failed
	b.prog.set("", 0, nil)
	report := b.report()
	fmt.Print(report)
	if err := os.MkdirAll(filepath.Dir(b.o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(b.o.out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(b.log, "bench: wrote %s; took %v\n", b.o.out, time.Since(b.started).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("%d scenarios failed (their errors are in the report): %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// raiseFileLimit lifts the open-file limit to its hard maximum for the
// harness and the processes it starts (a miss storm holds 10,000 sockets).
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// collectEnv records what the results depend on.
func (b *bench) collectEnv() {
	var un syscall.Utsname
	_ = syscall.Uname(&un)
	b.env = append(b.env, fmt.Sprintf("%d cores (GOMAXPROCS %d), kernel %s, %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), cstr(un.Release[:]), runtime.Version()))
	for _, c := range [][]string{{"nginx", "-v"}, {"varnishd", "-V"}, {"wrk", "-v"}, {"h2load", "--version"}} {
		if !b.tools[c[0]] {
			continue
		}
		out, _ := exec.Command(c[0], c[1:]...).CombinedOutput()
		if line := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]); line != "" {
			b.env = append(b.env, line)
		}
	}
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// rotated is the targets in this rep's order.
func (b *bench) rotated(rep int) []*target {
	n := len(b.targets)
	out := make([]*target, 0, n)
	for i := range n {
		out = append(out, b.targets[(i+rep)%n])
	}
	return out
}

var throughputScenarios = []string{"hit-1k", "hit-100k", "hit-1m", "hit-1k-h2", "hit-1k-tls", "zipf"}

// loadPhases runs every scenario but memory and hit-ratio (which restart
// the targets themselves), targets interleaved per rep.
func (b *bench) loadPhases(ctx context.Context) error {
	needLoad := false
	for _, s := range b.o.scenarios {
		switch s {
		case "memory", "hit-ratio", "disk", "restart": // (each starts its own targets)
		default:
			needLoad = true
		}
	}
	if !needLoad {
		return nil
	}
	for _, t := range b.targets {
		b.prog.set("starting "+t.name, 0, nil)
		if err := t.start(ctx); err != nil {
			return err
		}
		for _, p := range []string{"/obj/1k", "/obj/100k", "/obj/1m"} {
			if err := b.warmCheck(ctx, t, p); err != nil {
				return err
			}
		}
		if b.has("zipf") {
			var done atomic.Int64
			b.prog.set(fmt.Sprintf("zipf: warming %d keys on %s", b.o.zipfKeys, t.name), 0, func() string {
				return fmt.Sprintf("%d/%d", done.Load(), b.o.zipfKeys)
			})
			if bad := warm(ctx, t.h1+"/obj/1k/z", b.o.zipfKeys, 32, &done); bad > 0 {
				b.prog.logf("WARN zipf warm on %s: %d failures", t.name, bad)
			}
		}
	}
	for rep := 1; rep <= b.o.reps; rep++ {
		for _, sc := range throughputScenarios {
			if !b.has(sc) {
				continue
			}
			for _, t := range b.rotated(rep) {
				if err := b.throughput(ctx, sc, t, rep); err != nil {
					return err
				}
				sleepCtx(ctx, time.Second)
			}
		}
		if b.has("miss-storm") {
			for _, t := range b.rotated(rep) {
				if err := b.storm(ctx, t, rep); err != nil {
					return err
				}
				sleepCtx(ctx, time.Second)
			}
		}
		if b.has("large") {
			for _, t := range b.rotated(rep) {
				if err := b.large(ctx, t, rep); err != nil {
					return err
				}
				sleepCtx(ctx, time.Second)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// warmCheck fetches path twice; the second must not reach the origin.
func (b *bench) warmCheck(ctx context.Context, t *target, path string) error {
	if _, _, err := ttfb(ctx, plainClient(), t.h1+path); err != nil {
		return fmt.Errorf("%s %s: %w", t.name, path, err)
	}
	before := b.origin.requests()
	if _, _, err := ttfb(ctx, plainClient(), t.h1+path); err != nil {
		return fmt.Errorf("%s %s: %w", t.name, path, err)
	}
	if after := b.origin.requests(); after != before {
		b.prog.logf("WARN %s %s is not served from its cache (origin requests %d → %d)", t.name, path, before, after)
	}
	return nil
}

// runResult is one throughput run.
type runResult struct {
	scenario, target string
	rep              int
	loadResult
	originReqs   int64
	allocsPerReq float64 // edgefront only (NaN otherwise)
	cpuPerReq    float64 // µs of the target's process tree's CPU time per request (NaN: not known)
	genPerReq    float64 // µs of the load generator's CPU time per request (NaN: not known)
	rssKB        int64
	proto        string
}

// throughput runs one bounded load of scenario sc against t.
func (b *bench) throughput(ctx context.Context, sc string, t *target, rep int) error {
	spec := loadSpec{conns: b.o.conns, duration: b.o.duration}
	proto := "h1"
	switch sc {
	case "hit-1k":
		spec.url = t.h1 + "/obj/1k"
	case "hit-100k":
		spec.url = t.h1 + "/obj/100k"
	case "hit-1m":
		spec.url = t.h1 + "/obj/1m"
	case "hit-1k-h2":
		spec.url, spec.h2, proto = t.h2+"/obj/1k", true, t.h2Note
	case "hit-1k-tls":
		if t.tls == "" {
			return nil // no TLS listener (Varnish)
		}
		spec.url, proto = t.tls+"/obj/1k", "h1 TLS"
	case "zipf":
		spec.url, spec.zipfKeys = t.h1+"/obj/1k/", b.o.zipfKeys
	}
	var live atomic.Int64
	useGo := b.o.goLoad || (spec.h2 && !b.tools["h2load"]) || (!spec.h2 && !b.tools["wrk"])
	label := fmt.Sprintf("%s rep %d/%d %s", sc, rep, b.o.reps, t.name)
	b.prog.set(label, spec.duration, b.liveRate(t, useGo, &live))

	mallocs0 := math.NaN()
	if t.admin != "" {
		if v, err := metric(t.admin, "go_memstats_mallocs_total"); err == nil {
			mallocs0 = v
		}
	}
	reqs0 := b.origin.requests()
	cpu0 := treeCPU(t.pid())
	var r loadResult
	var err error
	switch {
	case useGo:
		r, err = runGoLoad(ctx, spec, &live)
	case spec.h2:
		r, err = runH2load(ctx, b.runDir, spec)
	default:
		r, err = runWrk(ctx, b.runDir, spec)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", label, err)
	}
	res := runResult{scenario: sc, target: t.name, rep: rep, loadResult: r, originReqs: b.origin.requests() - reqs0,
		allocsPerReq: math.NaN(), cpuPerReq: math.NaN(), genPerReq: math.NaN(), rssKB: treeMem(t.pid()).rss, proto: proto}
	if r.requests > 0 {
		us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(r.requests) }
		if cpu := treeCPU(t.pid()) - cpu0; cpu > 0 {
			res.cpuPerReq = us(cpu)
		}
		if r.genCPU > 0 {
			res.genPerReq = us(r.genCPU)
		}
	}
	if t.admin != "" && !math.IsNaN(mallocs0) && r.requests > 0 {
		if v, err := metric(t.admin, "go_memstats_mallocs_total"); err == nil {
			res.allocsPerReq = (v - mallocs0) / float64(r.requests)
		}
	}
	b.results = append(b.results, res)
	b.prog.logf("%-28s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  origin %d %s",
		label, r.rps, ms(r.p50), ms(r.p99), ms(r.p999), res.originReqs, r.note)
	return nil
}

// liveRate is the progress line's req/s: the Go generator's own count, or
// edgefront's request counter (its admin /metrics, polled once a second);
// the peers have no counter to poll.
func (b *bench) liveRate(t *target, useGo bool, live *atomic.Int64) func() string {
	var mu sync.Mutex
	var lastN float64
	var lastT time.Time
	rate := math.NaN()
	count := func() (float64, bool) {
		if useGo {
			return float64(live.Load()), true
		}
		if t.admin == "" {
			return 0, false
		}
		v, err := metric(t.admin, "edgefront_requests_total")
		return v, err == nil
	}
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(lastT) >= time.Second {
			n, ok := count()
			if !ok {
				return ""
			}
			now := time.Now()
			if !lastT.IsZero() {
				rate = (n - lastN) / now.Sub(lastT).Seconds()
			}
			lastN, lastT = n, now
		}
		if math.IsNaN(rate) {
			return ""
		}
		return commas(rate) + " req/s"
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// commas formats v as an integer with thousands separators.
func commas(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
