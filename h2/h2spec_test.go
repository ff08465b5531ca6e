package h2

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestH2spec runs h2spec (github.com/summerwind/h2spec, a tool of this
// module: go tool h2spec) against a TLS listener served by Server; every
// test must pass. H2SPEC names another h2spec binary, H2SPEC_ARGS adds
// arguments (--strict):
//
//	go test -run TestH2spec -v ./h2/
func TestH2spec(t *testing.T) {
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "hello from edgefront h2\n")
	}))
	_, port, _ := net.SplitHostPort(ts.addr)
	args := []string{"-t", "-k", "-h", "127.0.0.1", "-p", port, "-o", "3"}
	if s := os.Getenv("H2SPEC_ARGS"); s != "" {
		args = append(args, strings.Fields(s)...)
	}
	cmd := exec.Command("go", append([]string{"tool", "h2spec"}, args...)...)
	if bin := os.Getenv("H2SPEC"); bin != "" {
		cmd = exec.Command(bin, args...)
	}
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Log(string(out))
	summary := lines[len(lines)-1]
	t.Logf("summary: %s", summary)
	if err != nil || !strings.Contains(summary, " 0 failed") {
		t.Fatalf("h2spec: %v: %s", err, summary)
	}
}
