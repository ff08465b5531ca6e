package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAccessLogOwnsStdout: with --access-log - the access log owns stdout —
// every line of it is the log's — while the welcome text and edgefront's
// own log go to stderr. Quick mode has no file to reload, so the welcome
// text does not offer SIGHUP.
func TestAccessLogOwnsStdout(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer o.Close()
	var stdout, stderr syncBuffer
	f, log, err := parseServeFlags([]string{"--origin", o.URL, "--access-log", "-", "--http", "127.0.0.1:0", "--https", "", "--admin", ""}, io.Discard, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, f, log, &stdout, &stderr, time.Hour) }()
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(stderr.String(), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "http" {
				base = f[1]
			}
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no welcome text on stderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	}
	for range 2 {
		resp, err := http.Get(base + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 || lines[0] != "#Version: 1.0" || !strings.HasPrefix(lines[1], "#Fields: ") {
		t.Fatalf("stdout is not just the access log:\n%s", stdout.String())
	}
	for _, l := range lines[2:] {
		if n := len(strings.Split(l, "\t")); n != 33 {
			t.Errorf("access log line with %d fields: %q", n, l)
		}
	}
	for _, want := range []string{"edgefront ", "Ctrl-C stops.", "shutting down"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "SIGHUP") {
		t.Errorf("quick mode has nothing to reload, yet the welcome text offers SIGHUP:\n%s", stderr.String())
	}
}
