package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgefront/edgefront/internal/freeport"
)

// childEnv carries the serve arguments (one per line) of a child process
// started by startChild: the test binary re-executed, running only
// TestDiskChildProcess, which runs edgefront serve with them.
const childEnv = "EDGEFRONT_DISK_TEST_CHILD"

// TestDiskChildProcess is the child process's body (skipped otherwise): it
// is edgefront serve, so that the parent can SIGTERM or SIGKILL it.
func TestDiskChildProcess(t *testing.T) {
	args := os.Getenv(childEnv)
	if args == "" {
		t.Skip("runs only as the child process of the disk restart tests")
	}
	os.Exit(run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
}

// child is a running edgefront process.
type child struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan error
}

// startChild runs edgefront serve args in a child process and returns once
// its listeners are up (it prints its welcome text then).
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskChildProcess$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\n"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		welcomed := false
		for sc.Scan() {
			if !welcomed && strings.HasPrefix(sc.Text(), "edgefront ") {
				welcomed = true
				up <- true
			}
		}
		if !welcomed {
			up <- false
		}
		c.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case ok := <-up:
		if !ok {
			t.Fatalf("edgefront exited before listening:\n%s", c.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("edgefront did not start in 30 s:\n%s", c.stderr.String())
	}
	return c
}

// stop ends the child with sig and waits for it.
func (c *child) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("edgefront did not exit on %v", sig)
	}
}

// originObjects is what the test origin serves: path → size.
var originObjects = map[string]int{"/small": 1 << 10, "/medium": 200 << 10, "/large": 3 << 20, "/gone": 2 << 10}

func objectBody(path string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = path[1+i%(len(path)-1)] + byte(i>>10)
	}
	return b
}

// diskOrigin serves originObjects, counting requests per path.
type diskOrigin struct {
	mu   sync.Mutex
	hits map[string]int
}

func (o *diskOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, ok := originObjects[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	o.mu.Lock()
	o.hits[r.URL.Path]++
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=600")
	w.Header().Set("ETag", `"v-`+r.URL.Path[1:]+`"`)
	w.Header().Set("Last-Modified", "Fri, 20 Nov 2026 10:00:00 GMT")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	_, _ = w.Write(objectBody(r.URL.Path, n))
}

func (o *diskOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

// fetch GETs url with extra headers and returns the response and body.
func diskFetch(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp, b
}

// metricValue returns the value of the metric line that starts with name
// (its labels included) on the admin listener's /metrics.
func metricValue(t *testing.T, admin, name string) float64 {
	t.Helper()
	_, b := diskFetch(t, "http://"+admin+"/metrics")
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// waitMetric polls /metrics (back to back, no sleeping) until name reaches
// at least want, for up to 20 s: the disk tier writes off the request path.
func waitMetric(t *testing.T, admin, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := metricValue(t, admin, name)
		if v >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 20 s, want %v", name, v, want)
		}
	}
}

// TestDiskRestartChildProcess: objects cached by one edgefront process are
// hits in the next one started on the same --cache-disk, whether the first
// was stopped with SIGTERM or killed with SIGKILL: the same body, ETag,
// Last-Modified, an Age counted from the first fetch, no origin request —
// including an object larger than RAM's largest (disk only, streamed to
// disk as it was fetched) and a Range of it (sent with sendfile). An
// invalidation made before the restart still holds after it.
func TestDiskRestartChildProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts edgefront processes")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			origin := &diskOrigin{hits: map[string]int{}}
			o := httptest.NewServer(origin)
			defer o.Close()
			dir := t.TempDir()
			addrs := freeport.For(t, 3)
			httpAddr, httpsAddr, adminAddr := addrs[0], addrs[1], addrs[2]
			args := []string{"serve", "--origin", o.URL, "--http", httpAddr, "--https", httpsAddr, "--admin", adminAddr,
				"--http3=false", "--cache-size", "16MiB", "--cache-disk", dir + ":64MiB"}
			base := "http://" + httpAddr

			first := startChild(t, args...)
			for path, n := range originObjects {
				resp, b := diskFetch(t, base+path)
				if resp.StatusCode != 200 || len(b) != n || resp.Header.Get("X-Cache") != "Miss from cloudfront" {
					t.Fatalf("%s: %d, %d bytes, %q", path, resp.StatusCode, len(b), resp.Header.Get("X-Cache"))
				}
			}
			waitMetric(t, adminAddr, `edgefront_cache_tier_items{tier="disk"}`, float64(len(originObjects)))
			cf := cloudfront.New(cloudfront.Options{
				BaseEndpoint: aws.String("http://" + adminAddr), Region: "us-east-1",
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryMaxAttempts: 1,
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
				DistributionId: aws.String("EQUICKSTART"),
				InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String("r1"),
					Paths: &types.Paths{Quantity: aws.Int32(1), Items: []string{"/gone"}}},
			}); err != nil {
				t.Fatalf("CreateInvalidation: %v", err)
			}
			stoppedAt := time.Now()
			first.stop(t, sig)

			second := startChild(t, args...)
			for path, n := range originObjects {
				if path == "/gone" {
					continue
				}
				resp, b := diskFetch(t, base+path)
				if resp.StatusCode != 200 || !bytes.Equal(b, objectBody(path, n)) {
					t.Errorf("%s after restart: %d, %d bytes (equal %v)", path, resp.StatusCode, len(b), bytes.Equal(b, objectBody(path, n)))
				}
				if got := resp.Header.Get("X-Cache"); got != "Hit from cloudfront" {
					t.Errorf("%s after restart: X-Cache %q", path, got)
				}
				if resp.Header.Get("ETag") != `"v-`+path[1:]+`"` || resp.Header.Get("Last-Modified") == "" {
					t.Errorf("%s after restart: validators %q %q", path, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
				}
				age, err := strconv.Atoi(resp.Header.Get("Age"))
				if err != nil || time.Duration(age)*time.Second > time.Since(stoppedAt)+time.Minute {
					t.Errorf("%s after restart: Age %q", path, resp.Header.Get("Age"))
				}
				if c := origin.count(path); c != 1 {
					t.Errorf("%s: %d origin requests, want 1", path, c)
				}
			}
			resp, b := diskFetch(t, base+"/large", "Range", "bytes=1000000-1001999")
			if want := objectBody("/large", 3<<20)[1000000:1002000]; resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, want) {
				t.Errorf("range of /large: %d, %d bytes (equal %v)", resp.StatusCode, len(b), bytes.Equal(b, want))
			}
			if resp, _ := diskFetch(t, base+"/gone"); resp.Header.Get("X-Cache") != "Miss from cloudfront" || origin.count("/gone") != 2 {
				t.Errorf("/gone, invalidated before the restart: X-Cache %q, %d origin requests", resp.Header.Get("X-Cache"), origin.count("/gone"))
			}
			sendfiles := metricValue(t, adminAddr, "edgefront_h1_sendfile_total")
			if sendfiles < 2 {
				t.Errorf("edgefront_h1_sendfile_total = %v: disk hits did not use sendfile", sendfiles)
			}
			// TLS: the same file, read and written by the TLS connection.
			tc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableCompression: true}}
			tresp, err := tc.Get("https://" + httpsAddr + "/large")
			if err != nil {
				t.Fatal(err)
			}
			tb, err := io.ReadAll(tresp.Body)
			tresp.Body.Close()
			if err != nil || !bytes.Equal(tb, objectBody("/large", 3<<20)) || tresp.Header.Get("X-Cache") != "Hit from cloudfront" {
				t.Errorf("https /large: %v, %d bytes, %q", err, len(tb), tresp.Header.Get("X-Cache"))
			}
			if v := metricValue(t, adminAddr, "edgefront_h1_sendfile_total"); v != sendfiles {
				t.Errorf("a TLS response counted as sendfile (%v → %v)", sendfiles, v)
			}
			if v := metricValue(t, adminAddr, `edgefront_cache_hits_total{tier="disk"}`); v < 3 {
				t.Errorf(`edgefront_cache_hits_total{tier="disk"} = %v, want at least 3`, v)
			}
			for _, op := range []string{"write", "read", "verify"} {
				if v := metricValue(t, adminAddr, fmt.Sprintf(`edgefront_cache_disk_errors_total{op=%q}`, op)); v != 0 {
					t.Errorf("disk %s errors: %v", op, v)
				}
			}
			second.stop(t, syscall.SIGTERM)
		})
	}
}

// TestDiskUnusableKeepsServing: a --cache-disk that cannot be created (a
// path under a regular file) is not fatal: edgefront serves from memory
// and the origin, and counts the disk's errors.
func TestDiskUnusableKeepsServing(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "body of "+r.URL.Path)
	}))
	defer o.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{origin: o.URL, cacheDisk: filepath.Join(file, "cache") + ":1GiB"})
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		resp, body := get(t, c, "http://"+e.addrs["http"]+"/a")
		if resp.StatusCode != 200 || body != "body of /a" || resp.Header.Get("X-Cache") != want {
			t.Errorf("request %d: %d %q %q", i, resp.StatusCode, body, resp.Header.Get("X-Cache"))
		}
	}
	e.store.WaitDisk()
	_, metrics := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	for _, want := range []string{
		`edgefront_cache_disk_errors_total{op="open"} 1`,
		`edgefront_cache_disk_errors_total{op="write"} 1`,
		`edgefront_cache_tier_items{tier="disk"} 0`,
		`edgefront_cache_tier_items{tier="ram"} 1`,
		`edgefront_cache_hits_total{tier="ram"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
