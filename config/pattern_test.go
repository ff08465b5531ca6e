package config

import (
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*", "/", true},
		{"*", "/anything/at/all.html", true},
		{"*.jpg", "/a.jpg", true},
		{"*.jpg", "/images/deep/a.jpg", true}, // '*' crosses '/'
		{"*.jpg", "/a.JPG", false},            // case-sensitive
		{"*.jpg", "/a.jpg.png", false},
		{"images/*.jpg", "/images/a.jpg", true}, // leading '/' implied
		{"/images/*.jpg", "/images/a.jpg", true},
		{"images/*.jpg", "/images/product1/a.jpg", true},
		{"images/*.jpg", "/other/images/a.jpg", false},
		{"images/*", "/images/sample.gif", true},
		{"a??.jpg", "/ant.jpg", true},
		{"/a??.jpg", "/an.jpg", false}, // '?' is exactly one character
		{"/a??.jpg", "/antt.jpg", false},
		{"*.doc*", "/f.doc", true},
		{"*.doc*", "/f.docx", true},
		{"*.doc?", "/f.doc", false},
		{"/api/*", "/api/", true},
		{"/api/*", "/api", false},
		{"/api/*", "/API/x", false},
		{"/4xx-errors/*", "/4xx-errors/403-forbidden.html", true},
		{"/exact.html", "/exact.html", true},
		{"/exact.html", "/exact.html2", false},
		{"/a*b*c", "/aXXbYYc", true},
		{"/a*b*c", "/aXXbYY", false},
		{"/**", "/", true},
		{"/x?", "/x", false},
	}
	for _, tt := range tests {
		p, err := CompilePattern(tt.pattern)
		if err != nil {
			t.Fatalf("CompilePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.path); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
		if p.String() != tt.pattern {
			t.Errorf("String() = %q, want %q", p.String(), tt.pattern)
		}
	}
}

func TestCompilePatternErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty"},
		{"/a b", `contains ' '`},
		{"/a%20b", `contains '%'`},
		{"/" + strings.Repeat("a", 255), "256 characters long"},
	}
	for _, tt := range tests {
		_, err := CompilePattern(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CompilePattern(%q) = %v, want error containing %q", tt.pattern, err, tt.want)
		}
	}
	for _, ok := range []string{`/_-.*?$/~"'@:+&`, strings.Repeat("a", 255)} {
		if _, err := CompilePattern(ok); err != nil {
			t.Errorf("CompilePattern(%q): %v", ok, err)
		}
	}
}

// TestPatternNotExponential matches a pattern that makes naive backtracking
// exponential; it must finish at once.
func TestPatternNotExponential(t *testing.T) {
	p, err := CompilePattern("/" + strings.Repeat("*a", 60) + "b")
	if err != nil {
		t.Fatal(err)
	}
	if p.Match("/" + strings.Repeat("a", 10000)) {
		t.Fatal("matched without the trailing b")
	}
}

// refMatch is the obvious dynamic-programming wildcard matcher.
func refMatch(pat, s string) bool {
	// m[j] reports whether pat[:i] matches s[:j], row by row.
	m := make([]bool, len(s)+1)
	m[0] = true
	for i := 0; i < len(pat); i++ {
		next := make([]bool, len(s)+1)
		switch pat[i] {
		case '*':
			seen := false
			for j := 0; j <= len(s); j++ {
				seen = seen || m[j]
				next[j] = seen
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = m[j-1] && (pat[i] == '?' || pat[i] == s[j-1])
			}
		}
		m = next
	}
	return m[len(s)]
}

func FuzzPattern(f *testing.F) {
	f.Add("images/*.jpg", "/images/a/b.jpg")
	f.Add("a??.jpg", "/abc.jpg")
	f.Add("*", "")
	f.Add("/*a*a*a*b", "/aaaaaaaaaaaa")
	f.Add("*.doc?", "/x.doc")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p, err := CompilePattern(pattern)
		if err != nil {
			return
		}
		norm := pattern
		if pattern[0] != '/' && pattern[0] != '*' {
			norm = "/" + pattern
		}
		if got, want := p.Match(path), refMatch(norm, path); got != want {
			t.Fatalf("%q.Match(%q) = %v, reference says %v", pattern, path, got, want)
		}
	})
}
