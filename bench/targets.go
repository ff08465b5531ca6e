package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgefront/edgefront/internal/freeport"
)

// target is one caching proxy under test, run as a process of its own.
type target struct {
	name   string
	h1     string // base URL for HTTP/1.1
	h2     string // base URL for HTTP/2: https:// (TLS) or http:// (h2c)
	h2Note string // "h2 TLS" or "h2c"
	tls    string // base URL for HTTPS over HTTP/1.1 ("" when the target has no TLS listener)
	admin  string // edgefront's admin base URL ("" for peers)
	// cacheDir is NGINX's cache directory, workDir Varnish's working
	// directory (for varnishstat); "" for the others.
	cacheDir, workDir string
	cmd               *exec.Cmd
	exited            chan struct{}
	start             func(ctx context.Context) error // (re)starts the process
	clean             func()                          // removes its on-disk cache (may be nil)
}

// pid is the target's main process ID (0 when not running).
func (t *target) pid() int {
	if t.cmd == nil || t.cmd.Process == nil {
		return 0
	}
	return t.cmd.Process.Pid
}

// run starts the process and remembers it; its output goes to logPath.
func (t *target) run(logPath string, name string, args ...string) error {
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting %s: %w", t.name, err)
	}
	t.cmd = cmd
	t.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(t.exited)
	}()
	return nil
}

// ready waits until url answers, failing early when the process exits.
func (t *target) ready(ctx context.Context, url, logPath string, timeout time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited := t.exited
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := waitHTTP(ctx, url, timeout); err != nil {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("%s exited: %s", t.name, lastLines(b, 5))
		default:
		}
		return fmt.Errorf("%s (see %s): %w", t.name, logPath, err)
	}
	return nil
}

// stop ends the process by its PID: SIGTERM, up to 10 s, then SIGKILL.
func (t *target) stop() {
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(10 * time.Second):
		_ = t.cmd.Process.Kill()
		<-t.exited
	}
	t.cmd = nil
	if t.clean != nil {
		t.clean()
	}
}

// buildEdgefront builds cmd/edgefront into dir.
func buildEdgefront(ctx context.Context, repo, dir string) (string, error) {
	bin := filepath.Join(dir, "edgefront")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/edgefront")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/edgefront: %w\n%s", err, out)
	}
	return bin, nil
}

// newEdgefront is the real edgefront binary in quick mode in front of origin,
// with extra command-line arguments (e.g. --cache-size, --cache-disk). Like
// every target's, its ports come from the run's one Picker, so that targets
// made before any starts never share one.
func newEdgefront(ports *freeport.Picker, bin, run, originURL string, extra ...string) (*target, error) {
	p, err := ports.Ports(3)
	if err != nil {
		return nil, err
	}
	t := &target{
		name: "edgefront", h1: "http://127.0.0.1:" + p[0], h2: "https://127.0.0.1:" + p[1], h2Note: "h2 TLS",
		tls: "https://127.0.0.1:" + p[1], admin: "http://127.0.0.1:" + p[2],
	}
	t.start = func(ctx context.Context) error {
		args := append([]string{"serve", "--origin", originURL, "--cache-policy", "CachingOptimized",
			"--http", "127.0.0.1:" + p[0], "--https", "127.0.0.1:" + p[1], "--admin", "127.0.0.1:" + p[2], "--log-level", "warn"}, extra...)
		if edgefrontPprof {
			args = append(args, "--pprof")
		}
		err := t.run(filepath.Join(run, "edgefront.log"), bin, args...)
		if err != nil {
			return err
		}
		return t.ready(ctx, t.admin+"/healthz", filepath.Join(run, "edgefront.log"), 20*time.Second)
	}
	return t, nil
}

// newNginx is NGINX configured from peersDir/nginx/nginx.conf.in exactly as
// peers.sh fills it in for its "shared" setup (worker_processes auto,
// sendfile on, tcp_nopush off, cache on /dev/shm).
func newNginx(ports *freeport.Picker, peersDir, run, originPort string) (*target, error) {
	return newNginxSized(ports, peersDir, run, originPort, "")
}

var nginxMaxSize = regexp.MustCompile(`max_size=\S+`)

// newNginxSized is newNginx with the cache's max_size set to maxSize (as
// NGINX writes sizes; "" keeps the template's).
func newNginxSized(ports *freeport.Picker, peersDir, run, originPort, maxSize string) (*target, error) {
	return newNginxCache(ports, peersDir, run, originPort, fmt.Sprintf("/dev/shm/edgefront-bench-nginx-%d", os.Getpid()), maxSize)
}

// newNginxCache is newNginxSized with its cache files in cache (the disk
// scenario: cache files on disk, bounded like edgefront's disk tier).
func newNginxCache(ports *freeport.Picker, peersDir, run, originPort, cache, maxSize string) (*target, error) {
	tmpl, err := os.ReadFile(filepath.Join(peersDir, "nginx", "nginx.conf.in"))
	if err != nil {
		return nil, fmt.Errorf("nginx template: %w", err)
	}
	if maxSize != "" {
		tmpl = nginxMaxSize.ReplaceAll(tmpl, []byte("max_size="+maxSize))
	}
	p, err := ports.Ports(3)
	if err != nil {
		return nil, err
	}
	// A directory of its own: the disk and hit-ratio scenarios start
	// other NGINXes beside the main one, whose configuration (its ports)
	// must survive them for its restart in the memory scenario.
	dir, err := os.MkdirTemp(run, "nginx-")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o755); err != nil {
		return nil, err
	}
	if err := writeCert(filepath.Join(dir, "tls")); err != nil {
		return nil, err
	}
	conf := strings.NewReplacer(
		"@WORKERS@", "auto", "@SENDFILE@", "on", "@NOPUSH@", "off", "@RUN@", dir, "@CACHE@", cache,
		"@ORIGIN@", "127.0.0.1:"+originPort, "@PORT_H1@", p[0], "@PORT_H2C@", p[1], "@PORT_H2TLS@", p[2],
	).Replace(string(tmpl))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	// The TLS port serves HTTP/1.1 too (ALPN, or none offered: wrk).
	t := &target{name: "nginx", h1: "http://127.0.0.1:" + p[0], h2: "https://127.0.0.1:" + p[2], h2Note: "h2 TLS",
		tls: "https://127.0.0.1:" + p[2], cacheDir: cache}
	t.clean = func() { os.RemoveAll(cache); os.RemoveAll(cache + "-temp") }
	t.start = func(ctx context.Context) error {
		t.clean()
		if err := t.run(filepath.Join(run, "nginx.log"), "nginx", "-p", dir+"/", "-c", confPath, "-g", "daemon off;"); err != nil {
			return err
		}
		return t.ready(ctx, t.h1+"/obj/1k", filepath.Join(run, "nginx.log"), 20*time.Second)
	}
	return t, nil
}

var vclPort = regexp.MustCompile(`(\.port\s*=\s*")\d+(")`)

// newVarnish is varnishd started as peers.sh starts it, with
// peersDir/varnish/default.vcl whose backend port is set to the origin's.
func newVarnish(ports *freeport.Picker, peersDir, run, originPort string) (*target, error) {
	return newVarnishSized(ports, peersDir, run, originPort, "1G")
}

// newVarnishSized is newVarnish with a malloc storage of size (as varnishd
// writes sizes: 1G, 16M, or bytes).
func newVarnishSized(ports *freeport.Picker, peersDir, run, originPort, size string) (*target, error) {
	vcl, err := os.ReadFile(filepath.Join(peersDir, "varnish", "default.vcl"))
	if err != nil {
		return nil, fmt.Errorf("varnish VCL: %w", err)
	}
	p, err := ports.Ports(2)
	if err != nil {
		return nil, err
	}
	vcl = vclPort.ReplaceAll(vcl, []byte("${1}"+originPort+"${2}"))
	vclPath := filepath.Join(run, "default.vcl")
	if err := os.WriteFile(vclPath, vcl, 0o644); err != nil {
		return nil, err
	}
	work := filepath.Join(run, "varnish")
	t := &target{name: "varnish", h1: "http://127.0.0.1:" + p[0], h2: "http://127.0.0.1:" + p[0], h2Note: "h2c", workDir: work}
	t.start = func(ctx context.Context) error {
		os.RemoveAll(work)
		if err := t.run(filepath.Join(run, "varnish.log"), "varnishd", "-F", "-n", work, "-a", "127.0.0.1:"+p[0],
			"-T", "127.0.0.1:"+p[1], "-f", vclPath, "-s", "malloc,"+size, "-p", "feature=+http2"); err != nil {
			return err
		}
		return t.ready(ctx, t.h1+"/obj/1k", filepath.Join(run, "varnish.log"), 30*time.Second)
	}
	return t, nil
}

// writeCert writes a self-signed P-256 certificate for 127.0.0.1 to
// dir/cert.pem and dir/key.pem (what peers.sh makes with openssl).
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// ensureTools installs the missing programs with apt-get when possible and
// reports which are available afterwards.
func ensureTools(ctx context.Context, log io.Writer, peers bool) map[string]bool {
	want := []struct{ bin, pkg string }{{"wrk", "wrk"}, {"h2load", "nghttp2-client"}}
	if peers {
		want = append(want, struct{ bin, pkg string }{"nginx", "nginx"}, struct{ bin, pkg string }{"varnishd", "varnish"})
	}
	have := map[string]bool{}
	var need []string
	for _, w := range want {
		if _, err := exec.LookPath(w.bin); err == nil {
			have[w.bin] = true
		} else {
			need = append(need, w.pkg)
		}
	}
	if len(need) == 0 {
		return have
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		fmt.Fprintf(log, "bench: %s not installed and apt-get is not usable here (need root); install them yourself\n", strings.Join(need, ", "))
		return have
	}
	fmt.Fprintf(log, "bench: installing %s with apt-get (load generators and peers) …\n", strings.Join(need, " "))
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y"}, need...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, lastLines(out, 3))
		}
		return nil
	}
	if err := install(); err != nil {
		_ = exec.CommandContext(ctx, "apt-get", "update").Run()
		if err := install(); err != nil {
			fmt.Fprintf(log, "bench: apt-get install failed: %v\n", err)
		}
	}
	for _, w := range want {
		if _, err := exec.LookPath(w.bin); err == nil {
			have[w.bin] = true
		}
	}
	return have
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// memUse is a process tree's memory in KiB.
type memUse struct{ rss, pss int64 }

// treeMem sums Rss and Pss (smaps_rollup) over pid and its descendants.
func treeMem(pid int) memUse {
	var m memUse
	for _, p := range descendants(pid) {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 2 {
				continue
			}
			n, _ := strconv.ParseInt(fs[1], 10, 64)
			switch fs[0] {
			case "Rss:":
				m.rss += n
			case "Pss:":
				m.pss += n
			}
		}
		f.Close()
	}
	return m
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on every
// Linux architecture Go runs on).
const clockTick = 10 * time.Millisecond

// treeCPU is the user + system time the processes of pid's tree have used
// so far (threads included; processes that have exited are not).
func treeCPU(pid int) time.Duration {
	var ticks int64
	for _, p := range descendants(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces), from field 3:
		// utime and stime are fields 14 and 15.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fs := strings.Fields(string(b[i+1:]))
		if len(fs) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(fs[11], 10, 64)
		s, _ := strconv.ParseInt(fs[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * clockTick
}

// descendants is pid and every process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fs := strings.Fields(s[i+1:])
		if len(fs) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(fs[1])
		children[pp] = append(children[pp], p)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// shmUsedKB is the space used on /dev/shm (NGINX keeps its cache there).
func shmUsedKB() int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return 0
	}
	return int64(st.Blocks-st.Bfree) * st.Bsize / 1024
}

// metric reads one unlabelled sample from edgefront's admin /metrics.
func metric(admin, name string) (float64, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var sum float64
	found := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		fs := strings.Fields(line)
		v, err := strconv.ParseFloat(fs[len(fs)-1], 64)
		if err != nil {
			continue
		}
		sum += v // labelled series are summed
		found = true
	}
	if !found {
		return 0, fmt.Errorf("metric %s not found", name)
	}
	return sum, nil
}
