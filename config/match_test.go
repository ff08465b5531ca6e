package config

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPatternMatchLongSegments compares Match with the dynamic-programming
// reference (refMatch) on random patterns whose '?'-bearing segments span
// several 64-bit words of the Shift-And state, which short fuzz inputs
// rarely reach.
func TestPatternMatchLongSegments(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 7))
	pick := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for i := range 600 {
		// Mostly '?' and 'a' so that long segments occur and nearly match.
		pat := "/" + pick(1+rng.IntN(MaxPathPatternLen-1), "aaaa?????b*")
		path := "/" + pick(rng.IntN(700), "aaaaaaab")
		if i%3 == 0 { // a path the pattern matches, with its '*'s and '?'s filled in
			path = strings.Map(func(r rune) rune {
				if r == '?' {
					return 'a'
				}
				return r
			}, strings.ReplaceAll(pat, "*", pick(rng.IntN(20), "ab")))
		}
		p, err := CompilePattern(pat)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Match(path), refMatch(pat, path); got != want {
			t.Fatalf("%q.Match(%q) = %v, reference says %v", pat, path, got, want)
		}
	}
}

// adversarialPatterns returns n distinct patterns of MaxPathPatternLen
// characters built to be slow to match against a path of 'a's: many
// one-byte segments (the old matcher's worst case), one long '?'-bearing
// segment (the widest Shift-And state), a long literal that nearly
// occurs everywhere, many short '?' segments, and those that fail only at
// the very end of the scan.
func adversarialPatterns(n int) []string {
	fit := func(s string) string { // exactly MaxPathPatternLen characters
		for len(s) < MaxPathPatternLen {
			s += "a"
		}
		return s[:MaxPathPatternLen]
	}
	families := []func(k int) string{
		func(k int) string { // "/*a*a*a…*a", the k-th a made a '?'
			s := []byte(fit("/" + strings.Repeat("*a", MaxPathPatternLen)))
			s[2+2*(k%126)] = '?'
			return string(s)
		},
		func(k int) string { // "/*a?a?…a?*", one 252-byte wild segment
			s := []byte(fit("/*" + strings.Repeat("a?", 126) + "*"))
			s[len(s)-2] = '*'
			s[3+2*(k%125)] = 'a'
			return string(s)
		},
		func(k int) string { // the same never found: it ends in b
			s := []byte(fit("/*" + strings.Repeat("a?", 126) + "*"))
			s[len(s)-2], s[len(s)-3] = '*', 'b'
			s[3+2*(k%124)] = 'a'
			return string(s)
		},
		func(k int) string { // "/*aaa…ab*": a literal that nearly occurs everywhere
			return fit("/*" + strings.Repeat("a", 200+k%50) + "b*")
		},
		func(k int) string { // "/*a?*a?*…*?", short wild segments, ending in '?' as the brief's "*a*a*…?"
			s := []byte(fit("/" + strings.Repeat("*a?", MaxPathPatternLen)))
			s[len(s)-1] = '?'
			s[3+3*(k%80)] = 'a'
			return string(s)
		},
	}
	seen := map[string]bool{}
	var out []string
	for k := 0; len(out) < n; k++ {
		p := fit(families[k%len(families)](k / len(families)))
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// maxBehaviorsDistribution parses a distribution with one cache behaviour
// per pattern.
func maxBehaviorsDistribution(t testing.TB, patterns []string) *Distribution {
	t.Helper()
	type behavior struct {
		PathPattern, TargetOriginId, ViewerProtocolPolicy, CachePolicyId string
	}
	bs := make([]behavior, len(patterns))
	for i, p := range patterns {
		bs[i] = behavior{p, "o", "allow-all", "Managed-CachingOptimized"}
	}
	doc := map[string]any{
		"CallerReference":      "adversarial",
		"Origins":              map[string]any{"Items": []any{map[string]any{"Id": "o", "DomainName": "o.example.com"}}},
		"DefaultCacheBehavior": map[string]any{"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": "Managed-CachingOptimized"},
		"CacheBehaviors":       map[string]any{"Items": bs},
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("adversarial.json", data)
	if err != nil {
		t.Fatalf("a distribution with %d behaviours (the quota): %v", len(patterns), err)
	}
	return cfg.Distributions[0]
}

// TestPatternMatchWorkIsLinear matches a 4,000-character path against a
// distribution with the maximum number of cache behaviours, each an
// adversarial 255-character pattern, and bounds the work each pattern
// does: at most one pass over the path per word of Shift-And state
// (maxSegmentWords) plus the pattern's length. The backtracking matcher
// this replaced did up to len(pattern)·len(path) steps per pattern: about
// 26 million for the distribution on the first path, against 0.3 million
// units of work here.
func TestPatternMatchWorkIsLinear(t *testing.T) {
	patterns := adversarialPatterns(DefaultCacheBehaviorsPerDistribution)
	d := maxBehaviorsDistribution(t, patterns)
	paths := []string{
		"/" + strings.Repeat("a", 3999),
		"/" + strings.Repeat("a", 3998) + "b",
		"/" + strings.Repeat("ab", 1999) + "a",
	}
	for _, path := range paths {
		total := 0
		for i, b := range d.Behaviors {
			ok, work := b.Pattern.match(path)
			if limit := maxSegmentWords*len(path) + MaxPathPatternLen; work > limit {
				t.Errorf("behaviour %d (%s…): %d units of work on a %d-byte path, more than %d", i, b.PathPattern[:20], work, len(path), limit)
			}
			if i < 5 { // one of each family against the reference
				if want := refMatch(b.Pattern.norm, path); ok != want {
					t.Errorf("%q.Match(%q…) = %v, reference says %v", b.PathPattern, path[:10], ok, want)
				}
			}
			total += work
		}
		t.Logf("path %q…: %d units of work for %d behaviours", path[:8], total, len(d.Behaviors))
		d.Match(path)
	}
}

// BenchmarkDistributionMatchAdversarial is the cost of trying every cache
// behaviour of a distribution at the quota of adversarial behaviours on a
// 4,000-character path (as for a path only the default behaviour matches).
func BenchmarkDistributionMatchAdversarial(b *testing.B) {
	d := maxBehaviorsDistribution(b, adversarialPatterns(DefaultCacheBehaviorsPerDistribution))
	path := "/" + strings.Repeat("a", 3999)
	b.SetBytes(int64(len(path)))
	for b.Loop() {
		for _, bh := range d.Behaviors {
			bh.Pattern.Match(path)
		}
	}
}

// BenchmarkPatternMatch is the cost of matching typical patterns.
func BenchmarkPatternMatch(b *testing.B) {
	for _, tc := range []struct{ pattern, path string }{
		{"/images/*.jpg", "/images/products/2024/shoe.jpg"},
		{"*.js", "/static/app.123.js"},
		{"/api/v?/*", "/api/v2/users/42"},
	} {
		p, err := CompilePattern(tc.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.pattern, func(b *testing.B) {
			for b.Loop() {
				p.Match(tc.path)
			}
		})
	}
}
