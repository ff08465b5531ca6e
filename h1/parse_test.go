package h1

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseHead: what parseHead accepts reads exactly as net/http reads it;
// the rest goes to the general server.
func TestParseHead(t *testing.T) {
	tests := []struct {
		name, head string
		ok         bool
		path, raw  string
		query      string
		close      bool
	}{
		{"plain GET", "GET /a/b.txt HTTP/1.1\r\nHost: example.com\r\n\r\n", true, "/a/b.txt", "", "", false},
		{"query", "GET /a?x=1&y=%20z HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n", true, "/a", "", "x=1&y=%20z", false},
		{"escaped path", "GET /a%20b/%2F HTTP/1.1\r\nHost: h\r\n\r\n", true, "/a b//", "/a%20b/%2F", "", false},
		{"HEAD with port", "HEAD / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", true, "/", "", "", false},
		{"connection close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n", true, "/", "", "", true},
		{"lower-case names", "GET / HTTP/1.1\r\nhost: h\r\nx-my-header: v\r\n\r\n", true, "/", "", "", false},
		{"content-length 0", "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", true, "/p", "", "", false},
		{"repeated header", "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n", true, "/", "", "", false},
		{"ows around value", "GET / HTTP/1.1\r\nHost: h\r\nX: \t v \t\r\n\r\n", true, "/", "", "", false},
		{"obs-text value", "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", true, "/", "", "", false},

		{"body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n", false, "", "", "", false},
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", false, "", "", "", false},
		{"expect", "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", false, "", "", "", false},
		{"upgrade", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false, "", "", "", false},
		{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"absolute form", "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"no host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", false, "", "", "", false},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false, "", "", "", false},
		{"odd host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", false, "", "", "", false},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", false, "", "", "", false},
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", false, "", "", "", false},
		{"bare LF", "GET / HTTP/1.1\nHost: h\n\n", false, "", "", "", false},
		{"CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", false, "", "", "", false},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", false, "", "", "", false},
		{"bad escape", "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"control in target", "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", false, "", "", "", false},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseHead(tt.head, http.Header{})
			if (err == nil) != tt.ok {
				t.Fatalf("parseHead error = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if r.path != tt.path || r.rawPath != tt.raw || r.rawQuery != tt.query || r.close != tt.close {
				t.Errorf("path %q raw %q query %q close %v; want %q %q %q %v",
					r.path, r.rawPath, r.rawQuery, r.close, tt.path, tt.raw, tt.query, tt.close)
			}
			agreesWithNetHTTP(t, tt.head, r)
		})
	}
}

// agreesWithNetHTTP fails unless net/http reads head as parseHead did.
func agreesWithNetHTTP(t *testing.T, head string, r request) {
	t.Helper()
	want, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
	if err != nil {
		t.Fatalf("parseHead accepted what net/http refuses (%v): %q", err, head)
	}
	got := map[string]any{
		"method": r.method, "uri": r.target, "host": r.host, "path": r.path, "rawPath": r.rawPath,
		"query": r.rawQuery, "header": r.header, "close": r.close,
	}
	exp := map[string]any{
		"method": want.Method, "uri": want.RequestURI, "host": want.Host, "path": want.URL.Path,
		"rawPath": want.URL.RawPath, "query": want.URL.RawQuery, "header": want.Header, "close": want.Close,
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("parseHead and net/http differ on %q:\n got  %#v\n want %#v", head, got, exp)
	}
}

// seedHeads returns the request heads in testdata/heads (written with LF
// line ends for reading), with CRLF line ends.
func seedHeads(f *testing.F) []string {
	f.Helper()
	paths, _ := filepath.Glob("testdata/heads/*.http")
	if len(paths) == 0 {
		f.Fatal("no seeds in testdata/heads")
	}
	heads := make([]string, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		heads = append(heads, strings.ReplaceAll(string(b), "\n", "\r\n"))
	}
	return heads
}

// FuzzParseHead: parseHead and checkHead never panic; whatever parseHead
// accepts, checkHead accepts too, and net/http accepts and reads the same
// way; whatever checkHead accepts, net/http frames the same way (or
// refuses), so that a guarded connection and net/http agree on where each
// request ends.
func FuzzParseHead(f *testing.F) {
	for _, head := range seedHeads(f) {
		f.Add(head)
	}
	for _, a := range attackSeeds() {
		if i := strings.Index(a, "\r\n\r\n"); i >= 0 {
			f.Add(a[:i+4])
		}
	}
	f.Fuzz(func(t *testing.T, head string) {
		if !strings.HasSuffix(head, "\r\n\r\n") || strings.Index(head, "\r\n\r\n") != len(head)-4 {
			return // parseHead is only given one complete head
		}
		fr, cerr := checkHead(head)
		if cerr == nil {
			framedAsNetHTTP(t, head, fr)
		}
		r, err := parseHead(head, http.Header{})
		if err != nil {
			return
		}
		if cerr != nil {
			t.Fatalf("parseHead accepted what checkHead refuses (%v): %q", cerr, head)
		}
		agreesWithNetHTTP(t, head, r)
	})
}

// framedAsNetHTTP fails if net/http accepts head but frames its body
// otherwise than checkHead did.
func framedAsNetHTTP(t *testing.T, head string, f framing) {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
	if f.kind == bodyUnsupported {
		if err == nil {
			t.Fatalf("net/http accepts a transfer coding checkHead expects it to refuse: %q", head)
		}
		return
	}
	if err != nil {
		return // refused: the connection ends there
	}
	chunked := len(req.TransferEncoding) > 0
	var want int64
	switch f.kind {
	case bodyLength:
		want = f.length
	case bodyChunked:
		want = -1
	}
	if chunked != (f.kind == bodyChunked) || req.ContentLength != want {
		t.Fatalf("framing of %q: checkHead %+v, net/http chunked=%v length %d", head, f, chunked, req.ContentLength)
	}
}
