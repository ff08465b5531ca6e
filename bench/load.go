package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one bounded load run measured.
type loadResult struct {
	requests int64
	errors   int64
	elapsed  time.Duration
	rps      float64
	p50      time.Duration
	p99      time.Duration
	p999     time.Duration
	note     string
	genCPU   time.Duration // the generator process's user + system time (wrk, h2load; 0: not known)
}

// loadSpec describes one load run.
type loadSpec struct {
	url      string // full URL (the zipf run appends keys to it)
	conns    int
	duration time.Duration
	h2       bool
	zipfKeys int // >0: requests spread over url+"z0".."z{n-1}" by a Zipf law
	h2TLS    bool
}

// wrkScript reports wrk's latency percentiles (µs) in a line we parse; with
// zipf keys it also picks each request's path (pre-formatted per thread).
const wrkScript = `
local keys = %d
local base = %q
local reqs = {}
local cdf = {}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
end
init = function(args)
  if keys > 0 then
    math.randomseed(os.time() * 1000 + (id or 0))
    local sum = 0
    for i = 1, keys do sum = sum + 1 / i; cdf[i] = sum end
    for i = 1, keys do
      cdf[i] = cdf[i] / sum
      reqs[i] = wrk.format(nil, base .. "z" .. (i - 1))
    end
  end
end
if keys > 0 then
  request = function()
    local u = math.random()
    local lo, hi = 1, keys
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] < u then lo = mid + 1 else hi = mid end
    end
    return reqs[lo]
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%%d duration=%%d p50=%%d p99=%%d p999=%%d errors=%%d status=%%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.timeout, e.status))
end
`

var wrkLine = regexp.MustCompile(`BENCH requests=(\d+) duration=(\d+) p50=(\d+) p99=(\d+) p999=(\d+) errors=(\d+) status=(\d+)`)

// runWrk drives HTTP/1.1 keep-alive load with wrk (2 threads, as peers.sh's
// "shared" setup).
func runWrk(ctx context.Context, run string, s loadSpec) (loadResult, error) {
	u := s.url
	script := filepath.Join(run, "bench.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, s.zipfKeys, pathOf(u))), 0o644); err != nil {
		return loadResult{}, err
	}
	secs := max(1, int(s.duration.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, s.duration+60*time.Second)
	defer cancel()
	args := []string{"-t2", "-c" + strconv.Itoa(s.conns), "-d" + strconv.Itoa(secs) + "s", "--timeout", "10s", "-s", script, u}
	cmd := exec.CommandContext(ctx, "wrk", args...)
	out, err := cmd.CombinedOutput()
	m := wrkLine.FindSubmatch(out)
	if m == nil {
		return loadResult{}, fmt.Errorf("wrk %s: %v: %s", strings.Join(args, " "), err, lastLines(out, 5))
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(string(m[i]), 10, 64); return v }
	r := loadResult{
		requests: n(1), elapsed: time.Duration(n(2)) * time.Microsecond,
		p50: time.Duration(n(3)) * time.Microsecond, p99: time.Duration(n(4)) * time.Microsecond,
		p999: time.Duration(n(5)) * time.Microsecond, errors: n(6) + n(7),
	}
	r.rps = float64(r.requests) / r.elapsed.Seconds()
	r.genCPU = processCPU(cmd)
	if n(6) > 0 {
		r.note = fmt.Sprintf("%d socket errors", n(6))
	}
	if n(7) > 0 {
		r.note = strings.TrimSpace(r.note + fmt.Sprintf(" %d non-2xx/3xx", n(7)))
	}
	return r, nil
}

// processCPU is the user + system time of cmd's process once it has
// exited (0 when it did not run).
func processCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func pathOf(u string) string {
	i := strings.Index(u, "://")
	j := strings.IndexByte(u[i+3:], '/')
	if j < 0 {
		return "/"
	}
	return u[i+3+j:]
}

var h2Finished = regexp.MustCompile(`finished in ([\d.]+)(m?s), ([\d.]+) req/s`)
var h2Requests = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)

// runH2load drives HTTP/2 load with h2load: conns connections with 10
// concurrent streams each, for the duration, 2 threads (as peers.sh).
func runH2load(ctx context.Context, run string, s loadSpec) (loadResult, error) {
	logf := filepath.Join(run, "h2load-requests.tsv")
	os.Remove(logf)
	defer os.Remove(logf)
	secs := max(1, int(s.duration.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, s.duration+60*time.Second)
	defer cancel()
	args := []string{"-D", strconv.Itoa(secs), "-c", strconv.Itoa(s.conns), "-m", "10", "-t", "2", "--log-file=" + logf, s.url}
	cmd := exec.CommandContext(ctx, "h2load", args...)
	out, err := cmd.CombinedOutput()
	fm, rm := h2Finished.FindSubmatch(out), h2Requests.FindSubmatch(out)
	if fm == nil || rm == nil {
		return loadResult{}, fmt.Errorf("h2load %s: %v: %s", strings.Join(args, " "), err, lastLines(out, 5))
	}
	var r loadResult
	r.rps, _ = strconv.ParseFloat(string(fm[3]), 64)
	d, _ := strconv.ParseFloat(string(fm[1]), 64)
	if string(fm[2]) == "ms" {
		d /= 1000
	}
	r.elapsed = time.Duration(d * float64(time.Second))
	r.requests, _ = strconv.ParseInt(string(rm[4]), 10, 64)
	r.genCPU = processCPU(cmd)
	failed, _ := strconv.ParseInt(string(rm[5]), 10, 64)
	errored, _ := strconv.ParseInt(string(rm[6]), 10, 64)
	r.errors = failed + errored
	if r.errors > 0 {
		r.note = fmt.Sprintf("failed=%d errored=%d", failed, errored)
	}
	// The request log: start (µs), status, duration (µs), one line a request.
	f, err := os.Open(logf)
	if err != nil {
		return r, fmt.Errorf("h2load request log: %w", err)
	}
	defer f.Close()
	var lat []time.Duration
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 3 {
			continue
		}
		us, err := strconv.ParseInt(fs[2], 10, 64)
		if err == nil {
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
	}
	slices.Sort(lat)
	r.p50, r.p99, r.p999 = pct(lat, 0.50), pct(lat, 0.99), pct(lat, 0.999)
	return r, nil
}

// pct is the p-quantile of sorted durations.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[int(float64(len(d)-1)*p)]
}

// runGoLoad is the fallback generator when wrk or h2load is missing: conns
// keep-alive connections (h2: conns connections with 10 streams each), each
// request timed; closed loop, for the duration. live counts requests.
func runGoLoad(ctx context.Context, s loadSpec, live *atomic.Int64) (loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.duration)
	defer cancel()
	streams := 1
	if s.h2 {
		streams = 10
	}
	var zipf *rand.Zipf
	var mu sync.Mutex
	if s.zipfKeys > 0 {
		zipf = rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.0001, 1, uint64(s.zipfKeys-1))
	}
	var (
		wg   sync.WaitGroup
		errs atomic.Int64
		lats = make([][]time.Duration, s.conns*streams)
	)
	t0 := time.Now()
	for c := range s.conns {
		tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: s.h2}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for st := range streams {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer tr.CloseIdleConnections()
				for ctx.Err() == nil {
					u := s.url
					if zipf != nil {
						mu.Lock()
						k := zipf.Uint64()
						mu.Unlock()
						u += "z" + strconv.FormatUint(k, 10)
					}
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
					t := time.Now()
					resp, err := client.Do(req)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
					if ctx.Err() != nil {
						return
					}
					if err != nil {
						errs.Add(1)
						continue
					}
					lats[i] = append(lats[i], time.Since(t))
					live.Add(1)
				}
			}(c*streams + st)
		}
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := loadResult{requests: int64(len(all)), errors: errs.Load(), elapsed: time.Since(t0)}
	r.rps = float64(r.requests) / r.elapsed.Seconds()
	r.p50, r.p99, r.p999 = pct(all, 0.50), pct(all, 0.99), pct(all, 0.999)
	r.note = "Go load generator"
	if r.errors > 0 {
		r.note += fmt.Sprintf(", %d errors", r.errors)
	}
	return r, nil
}

// burstResult is what a burst of simultaneous requests measured.
type burstResult struct {
	n, ok    int
	p50, p99 time.Duration
	max      time.Duration
	ttfbs    []time.Duration // per request, sorted
	note     string
}

// burstEnv, when set, makes this binary the child that runs one burst: the
// value is the burstSpec as JSON, the answer a burstOutput on stdout.
const burstEnv = "EDGEFRONT_BENCH_BURST"

// init turns the process into a burst child when burstEnv says so (see burst).
func init() {
	if spec := os.Getenv(burstEnv); spec != "" {
		os.Exit(burstChild(spec))
	}
}

// burstSpec is one burst, as the parent hands it to the child.
type burstSpec struct {
	N       int
	Pre     string // warms each connection
	URL     string // the request released on every connection
	Timeout time.Duration
}

// burstOutput is what the child measured.
type burstOutput struct {
	Lat    []time.Duration // per request, unsorted
	Failed map[string]int  // failure → requests
	Err    string          // the burst could not run
}

// burst opens n keep-alive connections (each warmed with a request for
// pre), then releases one request for url on every one at the same instant;
// each latency runs from its own request's write to the end of its body.
//
// The requests come from a child process (this binary, re-executed). In the
// bench's own process the n goroutines released at once queue in the same
// Go scheduler as the bench's origin, whose handler for the storm's one
// origin request then waited behind all of them: 14–1,800 ms instead of
// 1–8 ms from run to run, added to every target's waiters alike. Each
// connection is a plain socket read by one goroutine (http.ReadResponse),
// not an http.Transport with three goroutines a request, so the generator
// takes about half the CPU it did from the targets it shares the cores with.
func burst(ctx context.Context, n int, pre, url string, timeout time.Duration) (burstResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return burstResult{}, fmt.Errorf("burst child: %w", err)
	}
	spec, err := json.Marshal(burstSpec{N: n, Pre: pre, URL: url, Timeout: timeout})
	if err != nil {
		return burstResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), burstEnv+"="+string(spec))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return burstResult{}, fmt.Errorf("burst child: %w: %s", err, lastLines([]byte(stderr.String()), 5))
	}
	var o burstOutput
	if err := json.Unmarshal(out, &o); err != nil {
		return burstResult{}, fmt.Errorf("burst child output: %w", err)
	}
	if o.Err != "" {
		return burstResult{}, errors.New(o.Err)
	}
	if len(o.Lat) != n {
		return burstResult{}, fmt.Errorf("burst child: %d latencies for %d requests", len(o.Lat), n)
	}
	lat := o.Lat
	slices.Sort(lat)
	r := burstResult{n: n, ok: n, ttfbs: lat, p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: lat[n-1]}
	for k, v := range o.Failed {
		r.ok -= v
		if len(k) > 60 {
			k = k[:60]
		}
		r.note += fmt.Sprintf("%d× %s; ", v, k)
	}
	return r, nil
}

// burstChild runs the burst burstEnv describes and prints its burstOutput.
func burstChild(spec string) int {
	var s burstSpec
	var o burstOutput
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		o.Err = fmt.Sprintf("burst spec: %v", err)
	} else {
		o = runBurst(s)
	}
	if err := json.NewEncoder(os.Stdout).Encode(o); err != nil {
		fmt.Fprintln(os.Stderr, "burst child:", err)
		return 1
	}
	return 0
}

// burstConn is one keep-alive connection of a burst.
type burstConn struct {
	c  net.Conn
	br *bufio.Reader
}

// get sends a GET for the request line's target and reads the whole
// response, failing on anything but a complete 200 the server keeps the
// connection open after.
func (bc *burstConn) get(req []byte, deadline time.Time) error {
	_ = bc.c.SetDeadline(deadline)
	if _, err := bc.c.Write(req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bc.br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return errors.New(resp.Status)
	case resp.Close:
		return errors.New("the server closed the connection")
	}
	return nil
}

// runBurst is the burst itself, in the child.
func runBurst(s burstSpec) burstOutput {
	u, err := neturl.Parse(s.URL)
	if err != nil {
		return burstOutput{Err: err.Error()}
	}
	pu, err := neturl.Parse(s.Pre)
	if err != nil {
		return burstOutput{Err: err.Error()}
	}
	request := func(target string) []byte {
		return []byte("GET " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: Go-http-client/1.1\r\n\r\n")
	}
	pre, req := request(pu.RequestURI()), request(u.RequestURI())

	conns := make([]*burstConn, s.N)
	defer func() {
		for _, bc := range conns {
			if bc != nil {
				bc.c.Close()
			}
		}
	}()
	var next atomic.Int64
	var preErr atomic.Value
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: s.Timeout}
			for {
				i := int(next.Add(1) - 1)
				if i >= s.N || preErr.Load() != nil {
					return
				}
				c, err := d.Dial("tcp", u.Host)
				if err != nil {
					preErr.Store(err)
					return
				}
				bc := &burstConn{c: c, br: bufio.NewReaderSize(c, 4096)}
				conns[i] = bc
				if err := bc.get(pre, time.Now().Add(s.Timeout)); err != nil {
					preErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e, ok := preErr.Load().(error); ok {
		return burstOutput{Err: fmt.Sprintf("pre-connecting %d connections: %v", s.N, e)}
	}
	start := make(chan struct{})
	lat := make([]time.Duration, s.N)
	failed := make([]string, s.N)
	for i, bc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t := time.Now()
			if err := bc.get(req, t.Add(s.Timeout)); err != nil {
				failed[i] = err.Error()
			}
			lat[i] = time.Since(t)
		}()
	}
	close(start)
	wg.Wait()
	o := burstOutput{Lat: lat, Failed: map[string]int{}}
	for _, f := range failed {
		if f != "" {
			o.Failed[f]++
		}
	}
	return o
}

// warm requests base+"{0..n-1}" with c workers; it returns the number of
// failures.
func warm(ctx context.Context, base string, n, c int, done *atomic.Int64) int64 {
	return warmRange(ctx, base, 0, n, c, done)
}

// warmRange is warm for keys from to to-1.
func warmRange(ctx context.Context, base string, from, to, c int, done *atomic.Int64) int64 {
	keys := make([]int, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		keys = append(keys, i)
	}
	return replayTrace(ctx, base, keys, c, done)
}

// replayTrace sends GET base+key for every key of trace, in order, from
// workers keep-alive connections, and returns the number of failures;
// done (when not nil) counts the requests made.
func replayTrace(ctx context.Context, base string, trace []int, workers int, done *atomic.Int64) int64 {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, bad atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(trace)) {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+strconv.Itoa(trace[i]), nil)
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad.Add(1)
				}
				if done != nil {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return bad.Load()
}

// ttfb fetches url, returning the time to the response headers and the
// time to the end of the body.
func ttfb(ctx context.Context, client *http.Client, url string) (first, total time.Duration, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	first = time.Since(t)
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return first, time.Since(t), err
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	v = slices.DeleteFunc(v, math.IsNaN)
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
