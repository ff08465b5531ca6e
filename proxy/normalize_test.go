package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestNormalizePath: RFC 3986 §5.2.4 dot-segment removal (never above the
// root) with doubled slashes merged; the rows are the RFC's examples and the
// attacks of issue 11.
func TestNormalizePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"", "/"},
		{"/a/b/c", "/a/b/c"},
		{"/a/b/", "/a/b/"},
		{"/a/./b", "/a/b"},
		{"/a/../b", "/b"},
		{"/a/b/c/./../../g", "/a/g"}, // RFC 3986 §5.2.4
		{"/mid/content=5/../6", "/mid/6"},
		{"/../a", "/a"},
		{"/../../..", "/"},
		{"/a/..", "/"},
		{"/a/.", "/a/"},
		{"/a/b/..", "/a/"},
		{"//a//b", "/a/b"},
		{"/public/../private/secret.txt", "/private/secret.txt"},
		{"//private/secret.txt", "/private/secret.txt"},
		{"/private/a/../secret.txt", "/private/secret.txt"},
		{"/a/.../b", "/a/.../b"},
		{"/a/..b/c", "/a/..b/c"},
		{"/a/.b", "/a/.b"},
		{"a/b", "/a/b"},
		{`/..\secret.txt`, `/..\secret.txt`},
	} {
		if got := normalizePath(tc.in); got != tc.want {
			t.Errorf("normalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestNormalizedRequest: the decoded forms of encoded dots and slashes are
// normalised, and the request's RequestURI and escaped path are rebuilt so
// that nothing encoded reaches the origin.
func TestNormalizedRequest(t *testing.T) {
	for _, tc := range []struct{ uri, path, requestURI string }{
		{"/public/%2e%2e/private/secret.txt?x=1", "/private/secret.txt", "/private/secret.txt?x=1"},
		{"/public/..%2fprivate/secret.txt", "/private/secret.txt", "/private/secret.txt"},
		{"/public/%2E%2E%2Fprivate/secret.txt", "/private/secret.txt", "/private/secret.txt"},
		{"/a%2Fb", "/a/b", "/a/b"},
		{"/a%2eb", "/a.b", "/a.b"},
		{"/plain/path", "/plain/path", "/plain/path"},
		{"/with%20space", "/with space", "/with%20space"},
	} {
		u, err := url.ParseRequestURI(tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		r := &http.Request{Method: "GET", URL: u, RequestURI: tc.uri, Header: http.Header{}}
		n := normalizedRequest(r)
		if n.URL.Path != tc.path || n.URL.EscapedPath() != strings.SplitN(tc.requestURI, "?", 2)[0] {
			t.Errorf("%s: path %q escaped %q, want %q", tc.uri, n.URL.Path, n.URL.EscapedPath(), tc.path)
		}
		if n.RequestURI != tc.requestURI && n != r {
			t.Errorf("%s: RequestURI %q, want %q", tc.uri, n.RequestURI, tc.requestURI)
		}
		if n != r && r.URL.Path != u.Path {
			t.Errorf("%s: the viewer's request was modified", tc.uri)
		}
	}
}

// FuzzNormalizePath: whatever the viewer sends, the normal path starts with
// '/', has no empty, "." or ".." segment, is a fixed point, and is returned
// as is when the input was already normal.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "", "/a/../b", "//x", "/./", "/a/b/..", "/..", "a", "/a/.../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		n := normalizePath(p)
		if !strings.HasPrefix(n, "/") {
			t.Fatalf("%q → %q: no leading slash", p, n)
		}
		for _, seg := range strings.Split(n[1:], "/")[:max(0, strings.Count(n, "/")-1)] {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("%q → %q: segment %q left", p, n, seg)
			}
		}
		if last := n[strings.LastIndexByte(n, '/')+1:]; last == "." || last == ".." {
			t.Fatalf("%q → %q: last segment %q", p, n, last)
		}
		if again := normalizePath(n); again != n {
			t.Fatalf("%q → %q → %q: not a fixed point", p, n, again)
		}
		if isNormalPath(p) && n != p {
			t.Fatalf("%q is normal but became %q", p, n)
		}
	})
}
