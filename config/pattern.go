package config

// Pattern is a compiled CloudFront path pattern: '*' matches zero or more
// characters (including '/'), '?' exactly one; matching is case-sensitive and
// against the URI path only.
type Pattern struct {
	src string
}

// CompilePattern compiles a CloudFront path pattern.
func CompilePattern(s string) (Pattern, error) {
	panic("TODO(config helper)")
}

// Match reports whether path matches the pattern.
func (p Pattern) Match(path string) bool {
	panic("TODO(config helper)")
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }
