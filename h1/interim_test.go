package h1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestInterim: a handler's 1xx responses go out before the final one, each
// with the header as it was (RFC 9110 §15.2; RFC 8297 §2: the fields stay
// for the final response unless the handler removes them), and 101 is
// never sent.
func TestInterim(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusProcessing)
		w.WriteHeader(http.StatusSwitchingProtocols) // ignored
		w.Header().Del("Link")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "final")
	}))
	c := dial(t, ts.addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var heads []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "HTTP/1.1 200") {
			break
		}
		heads = append(heads, strings.TrimSpace(line))
	}
	want := []string{"HTTP/1.1 103 Early Hints", "Link: </style.css>; rel=preload; as=style", "",
		"HTTP/1.1 102 Processing", "Link: </style.css>; rel=preload; as=style", ""}
	if strings.Join(heads, "|") != strings.Join(want, "|") {
		t.Errorf("interim heads:\n%q\nwant\n%q", heads, want)
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader("HTTP/1.1 200 OK\r\n"), br)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "final" || resp.Header.Get("Link") != "" {
		t.Errorf("final: %q, Link %q", body, resp.Header.Get("Link"))
	}
}
