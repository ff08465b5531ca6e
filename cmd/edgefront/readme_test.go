package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// TestReadmeTrueToTheBinary: what README.md says about the command line is
// what the binary does — the listener defaults, the commands it lists (each
// answers --help), the install step, and shell lines that work as written.
func TestReadmeTrueToTheBinary(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, want := range []string{
		fmt.Sprintf("`%s`, `%s`, `%s`", config.DefaultHTTPAddr, config.DefaultHTTPSAddr, config.DefaultAdminAddr),
		"go install ./cmd/edgefront",
		`$(go env GOPATH)/bin`,
		`export AWS_PAGER=""`,
		"-race` needs cgo and so a C compiler",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	// GNU grep calls a Brotli body binary and prints no header line
	// unless told the input is text (-a).
	for _, line := range strings.Split(readme, "\n") {
		if strings.Contains(line, "Accept-Encoding: br") && strings.Contains(line, "| grep") && !regexp.MustCompile(`grep -\w*a`).MatchString(line) {
			t.Errorf("a Brotli line without grep -a: %s", line)
		}
	}
	// Every command the Commands section lists exists.
	block := readme[strings.Index(readme, "## Commands"):]
	block = block[strings.Index(block, "```")+3:]
	block = block[:strings.Index(block, "```")]
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "edgefront" {
			t.Errorf("the Commands block has %q", line)
			continue
		}
		cmd := strings.Trim(f[1], "[]")
		var out bytes.Buffer
		if code := run([]string{cmd, "--help"}, &out, io.Discard); code != 0 && cmd != "version" {
			t.Errorf("edgefront %s --help: exit %d", cmd, code)
		}
	}
}
