package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestIsLoopbackAddr: which admin addresses only this machine can reach.
func TestIsLoopbackAddr(t *testing.T) {
	cases := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:9090", true},
		{"127.0.0.2:9090", true}, // all of 127.0.0.0/8
		{"127.255.255.254:0", true},
		{"[::1]:9090", true},
		{"[::ffff:127.0.0.1]:9090", true},
		{"localhost:9090", true},
		{"LocalHost.:9090", true},
		{"0.0.0.0:9090", false},
		{":9090", false}, // every interface
		{"[::]:9090", false},
		{"10.0.0.5:9090", false},
		{"192.168.1.10:9090", false},
		{"[fe80::1%eth0]:9090", false},
		{"admin.internal:9090", false}, // names are not resolved
		{"127.0.0.1", false},           // no port: not a listen address
	}
	for _, c := range cases {
		if got := isLoopbackAddr(c.addr); got != c.want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", c.addr, got, c.want)
		}
	}
}

// TestAdminOffLoopbackRefused: serve refuses an admin listener off loopback
// without --control-credentials, whether --admin or the configuration
// file's listen.admin set it, and says how to fix it; with credentials it
// starts.
func TestAdminOffLoopbackRefused(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer o.Close()
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	cfg := `
listen: {http: 127.0.0.1:0, https: "", admin: 0.0.0.0:0}
distributions:
  - id: EADMIN0000001
    originEndpoints: {web: "` + o.URL + `"}
    config:
      CallerReference: admin
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
`
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"--admin", []string{"serve", "--origin", o.URL, "--http", "127.0.0.1:0", "--https", "", "--admin", "0.0.0.0:0"},
			[]string{"admin listener 0.0.0.0:0 (--admin) is not a loopback address", "--control-credentials KEYID:SECRET", "--admin-insecure"}},
		{"every interface", []string{"serve", "--origin", o.URL, "--http", "127.0.0.1:0", "--https", "", "--admin", ":0"},
			[]string{"admin listener :0 (--admin)", "--control-credentials", "--admin-insecure"}},
		{"config file", []string{"serve", "--config", file},
			[]string{"admin listener 0.0.0.0:0 (listen.admin in " + file + ")", "--control-credentials", "--admin-insecure"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var errOut bytes.Buffer
			f, log, err := parseServeFlags(c.args[1:], io.Discard, &errOut)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			// Were it to start, its welcome text would stop it.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			started := &cancelWriter{cancel: cancel}
			err = runServe(ctx, f, log, started, &errOut, time.Hour)
			if started.wrote.Load() || err == nil {
				t.Fatalf("started anyway (err %v)\nstderr: %s", err, errOut.String())
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%v", s, err)
				}
			}
			// What the command line prints and its exit code.
			var out bytes.Buffer
			errOut.Reset()
			if code := run(c.args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), c.want[0]) {
				t.Errorf("exit %d, stderr %q", code, errOut.String())
			}
		})
	}
	t.Run("with credentials", func(t *testing.T) {
		f := serveFlags{origin: o.URL, controlCredentials: "AKID:s3cret"}
		base, logs := runServeFor(t, f, "0.0.0.0:0")
		if resp, body := get(t, http.DefaultClient, base+"/healthz"); resp.StatusCode != 200 || body != "ok\n" {
			t.Errorf("/healthz: %d %q", resp.StatusCode, body)
		}
		if strings.Contains(logs.String(), "admin-insecure") {
			t.Errorf("warning logged with credentials:\n%s", logs.String())
		}
	})
}

// TestAdminInsecure: --admin-insecure starts the admin listener off
// loopback without credentials, and logs a warning saying so.
func TestAdminInsecure(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer o.Close()
	base, logs := runServeFor(t, serveFlags{origin: o.URL, adminInsecure: true}, "0.0.0.0:0")
	if resp, body := get(t, http.DefaultClient, base+"/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "--admin-insecure") || !strings.Contains(l, "addr=0.0.0.0:0") {
		t.Errorf("no warning about the open admin listener:\n%s", l)
	}
}

// cancelWriter calls cancel at its first write.
type cancelWriter struct {
	cancel context.CancelFunc
	wrote  atomic.Bool
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.wrote.Store(true)
	w.cancel()
	return len(p), nil
}

// runServeFor starts the edge as serve does, with f and the admin listener
// on admin, until the test ends; it returns the admin listener's base URL
// (over loopback) and the log.
func runServeFor(t *testing.T, f serveFlags, admin string) (string, *syncBuffer) {
	t.Helper()
	f.http, f.https, f.admin = "127.0.0.1:0", "", admin
	f.set = map[string]bool{"http": true, "https": true, "admin": true}
	var logs syncBuffer
	e, err := startEdge(context.Background(), f, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(e.close)
	_, port, err := net.SplitHostPort(e.addrs["admin"])
	if err != nil {
		t.Fatalf("admin listener %q: %v", e.addrs["admin"], err)
	}
	return "http://127.0.0.1:" + port, &logs
}

// TestPprof: /debug/pprof/ is off without --pprof; with --pprof and
// --control-credentials it needs HTTP Basic authentication with a
// KEYID:SECRET pair; /debug/pprof/cmdline (which would show the
// credentials) is never served.
func TestPprof(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer o.Close()
	type try struct {
		path       string
		user, pass string // Basic auth when user != ""
		status     int
	}
	cases := []struct {
		name  string
		flags serveFlags
		tries []try
	}{
		{"off by default", serveFlags{origin: o.URL}, []try{
			{"/debug/pprof/", "", "", 404},
			{"/debug/pprof/profile?seconds=1", "", "", 404},
			{"/debug/pprof/heap", "", "", 404},
		}},
		{"off by default with credentials", serveFlags{origin: o.URL, controlCredentials: "AKID:s3cret"}, []try{
			{"/debug/pprof/", "AKID", "s3cret", 404},
		}},
		{"on with credentials", serveFlags{origin: o.URL, pprof: true, controlCredentials: "AKID:s3cret,OTHER:other"}, []try{
			{"/debug/pprof/", "", "", 401},
			{"/debug/pprof/heap", "", "", 401},
			{"/debug/pprof/symbol", "", "", 401},
			{"/debug/pprof/", "AKID", "wrong", 401},
			{"/debug/pprof/", "AKID", "other", 401}, // another key's secret
			{"/debug/pprof/", "NOBODY", "s3cret", 401},
			{"/debug/pprof/", "AKID", "s3cret", 200},
			{"/debug/pprof/heap", "OTHER", "other", 200},
			{"/debug/pprof/cmdline", "AKID", "s3cret", 404},
		}},
		{"on without credentials (loopback)", serveFlags{origin: o.URL, pprof: true}, []try{
			{"/debug/pprof/", "", "", 200},
			{"/debug/pprof/cmdline", "", "", 404},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := testEdge(t, c.flags)
			for _, tr := range c.tries {
				req, _ := http.NewRequest("GET", "http://"+e.addrs["admin"]+tr.path, nil)
				if tr.user != "" {
					req.SetBasicAuth(tr.user, tr.pass)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tr.status {
					t.Errorf("GET %s as %q: %d, want %d\n%.200s", tr.path, tr.user, resp.StatusCode, tr.status, body)
				}
				if tr.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("GET %s: 401 without a Basic challenge", tr.path)
				}
			}
		})
	}
}
