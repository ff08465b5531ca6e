package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// This file is Lambda@Edge: the settings `lambdaFunctions` (code on this
// machine, run by package lambdaedge's node and python3 workers) and
// `lambdaEndpoint` (a Lambda Invoke API that runs the rest), matched to a
// behaviour's LambdaFunctionAssociations by ARN.

// Lambda@Edge event types, in request order: a Behavior's Lambda is
// indexed by them (the order of proxy.HookPoint).
const (
	LambdaViewerRequest = iota
	LambdaOriginRequest
	LambdaOriginResponse
	LambdaViewerResponse
)

// LambdaEventTypes are CloudFront's names of the Lambda@Edge event types,
// indexed by LambdaViewerRequest….
var LambdaEventTypes = [4]string{"viewer-request", "origin-request", "origin-response", "viewer-response"}

// LambdaRuntimes are the runtimes lambdaFunctions may name: the Node.js and
// Python runtimes Lambda@Edge supports.
var LambdaRuntimes = []string{"nodejs18.x", "nodejs20.x", "nodejs22.x",
	"python3.9", "python3.10", "python3.11", "python3.12", "python3.13"}

// MaxLambdaTimeout is Lambda@Edge's longest timeout (origin events).
const MaxLambdaTimeout = 30 * time.Second

// LambdaFunction is one Lambda@Edge function whose code is on this machine.
type LambdaFunction struct {
	// ARN is the function's ARN as the settings give it, versioned
	// (arn:aws:lambda:us-east-1:ACCOUNT:function:NAME:VERSION) or not.
	ARN     string
	Name    string // NAME of the ARN
	Runtime string // one of LambdaRuntimes
	// Handler is "FILE.FUNCTION" (Node.js: FILE is a module path below
	// CodeDir without its extension; Python: a module, dots or slashes).
	Handler string
	// CodeDir is the directory holding the code; Code, when set, is the
	// code of a template's inline Code.ZipFile instead (CodeDir is then
	// "", and the runner writes Code to index.js / index.py).
	CodeDir string
	Code    string
	// Timeout caps CloudFront's (5 s for viewer events, 30 s for origin
	// events); 0: CloudFront's.
	Timeout time.Duration
}

// Node reports whether f runs on Node.js (else Python).
func (f *LambdaFunction) Node() bool { return strings.HasPrefix(f.Runtime, "nodejs") }

// LambdaAssociation is one compiled LambdaFunctionAssociation.
type LambdaAssociation struct {
	EventType   string // one of LambdaEventTypes
	ARN         string // LambdaFunctionARN as the distribution gives it
	IncludeBody bool
	// Function is the settings' function the ARN names; nil: it is invoked
	// through the configuration's LambdaEndpoint by ARN.
	Function *LambdaFunction
}

type lambdaFunctionSettings struct {
	ARN     string   `json:"arn"`
	Runtime string   `json:"runtime"`
	Handler string   `json:"handler"`
	CodeDir string   `json:"codeDir"`
	Timeout duration `json:"timeout"`
}

// lambdaSet is what a behaviour's LambdaFunctionAssociations may name.
type lambdaSet struct {
	functions map[string]*LambdaFunction // by ARN
	endpoint  string
	// strict: an association naming no function is an error even when
	// no function is defined (a template names its own functions).
	strict bool
}

// lambdaARN matches a Lambda function ARN, with or without a version.
var lambdaARN = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:([a-z0-9-]+):([0-9]{12}):function:([a-zA-Z0-9_-]{1,64})(?::([a-zA-Z0-9$_-]+))?$`)

// splitLambdaARN returns the unversioned ARN, the function name and the
// version ("" when none) of arn; ok is false when arn is no Lambda ARN.
func splitLambdaARN(arn string) (unversioned, name, version string, ok bool) {
	m := lambdaARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", false
	}
	unversioned = strings.TrimSuffix(arn, ":"+m[4])
	if m[4] == "" {
		unversioned = arn
	}
	return unversioned, m[3], m[4], true
}

// compileLambda reads the settings' lambdaFunctions and lambdaEndpoint into
// cfg; dir resolves relative directories.
func compileLambda(p *problems, fs []lambdaFunctionSettings, endpoint, dir string, cfg *Config) {
	cfg.LambdaFunctions = map[string]*LambdaFunction{}
	if endpoint != "" {
		if u, err := url.Parse(endpoint); err != nil || !isHTTPURL(endpoint) || u.Host == "" {
			p.add("lambdaEndpoint", "%q is not an http:// or https:// URL", endpoint)
		} else {
			cfg.LambdaEndpoint = strings.TrimSuffix(endpoint, "/")
		}
	}
	for i, s := range fs {
		at := index("lambdaFunctions", i)
		_, name, _, ok := splitLambdaARN(s.ARN)
		if !ok {
			p.add(join(at, "arn"), "%q is not a Lambda function ARN (arn:aws:lambda:us-east-1:ACCOUNT:function:NAME:VERSION)", s.ARN)
			continue
		}
		if _, dup := cfg.LambdaFunctions[s.ARN]; dup {
			p.add(join(at, "arn"), "%q is defined twice", s.ARN)
			continue
		}
		f := &LambdaFunction{ARN: s.ARN, Name: name, Runtime: s.Runtime, Handler: s.Handler, CodeDir: resolve(dir, s.CodeDir), Timeout: s.Timeout.d}
		switch {
		case s.Runtime == "":
			p.add(join(at, "runtime"), "is required (one of %s)", strings.Join(LambdaRuntimes, ", "))
			continue
		case !oneOf(p, join(at, "runtime"), s.Runtime, LambdaRuntimes...):
			continue
		}
		if fn, ok := strings.CutPrefix(filepath.Ext(s.Handler), "."); !ok || fn == "" || strings.TrimSuffix(s.Handler, "."+fn) == "" {
			p.add(join(at, "handler"), "%q is not FILE.FUNCTION, e.g. index.handler", s.Handler)
			continue
		}
		if s.CodeDir == "" {
			p.add(join(at, "codeDir"), "is required: the directory of the function's code")
			continue
		}
		if st, err := os.Stat(f.CodeDir); err != nil || !st.IsDir() {
			p.add(join(at, "codeDir"), "%q is not a directory", f.CodeDir)
			continue
		}
		if f.Timeout > MaxLambdaTimeout {
			p.add(join(at, "timeout"), "is %v, Lambda@Edge's maximum is %v", f.Timeout, MaxLambdaTimeout)
			continue
		}
		cfg.LambdaFunctions[f.ARN] = f
	}
}

// lambdaByARN finds the function an association names: by its ARN, else by
// its unversioned ARN, else by its name (a DistributionConfig copied from
// AWS names the real account and version).
func lambdaByARN(fns map[string]*LambdaFunction, arn string) (*LambdaFunction, bool) {
	if f, ok := fns[arn]; ok {
		return f, true
	}
	unversioned, name, _, ok := splitLambdaARN(arn)
	if !ok {
		return nil, false
	}
	var byName *LambdaFunction
	for _, a := range slices.Sorted(mapKeys(fns)) {
		f := fns[a]
		if u, _, _, _ := splitLambdaARN(f.ARN); u == unversioned {
			return f, true
		}
		if f.Name == name && byName == nil {
			byName = f
		}
	}
	return byName, byName != nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compileLambdaAssociations resolves a behaviour's
// LambdaFunctionAssociations (at path) into b.Lambda. An association naming
// no function of the settings is invoked through lambdaEndpoint when there
// is one; otherwise it is an error when the settings define lambdaFunctions
// (or a template names it), and a warning (it does not run) when they
// define none.
func compileLambdaAssociations(p *problems, path string, bc *CacheBehaviorConfig, b *Behavior, d *Distribution, ls *lambdaSet) {
	if ls == nil {
		ls = &lambdaSet{}
	}
	for i, la := range bc.LambdaFunctionAssociations.All() {
		at := index(join(path, "LambdaFunctionAssociations.Items"), i)
		kind := slices.Index(LambdaEventTypes[:], la.EventType)
		if kind < 0 {
			p.add(join(at, "EventType"), "must be one of %s (got %q)", strings.Join(LambdaEventTypes[:], ", "), la.EventType)
			continue
		}
		if b.Lambda[kind] != nil {
			p.add(join(at, "EventType"), "%s already has a Lambda@Edge function (%s)", la.EventType, b.Lambda[kind].ARN)
			continue
		}
		if (kind == LambdaViewerRequest && b.ViewerRequestFunction != nil) || (kind == LambdaViewerResponse && b.ViewerResponseFunction != nil) {
			p.add(join(at, "EventType"), "%s already has a CloudFront Function: CloudFront refuses a CloudFront Function and a Lambda@Edge function on the same viewer event of a cache behavior", la.EventType)
			continue
		}
		body := boolOf(la.IncludeBody)
		if body && (kind == LambdaOriginResponse || kind == LambdaViewerResponse) {
			p.add(join(at, "IncludeBody"), "is for request events only (viewer-request, origin-request), not %s", la.EventType)
			continue
		}
		if _, _, _, ok := splitLambdaARN(la.LambdaFunctionARN); !ok {
			p.add(join(at, "LambdaFunctionARN"), "%q is not a Lambda function ARN (arn:aws:lambda:us-east-1:ACCOUNT:function:NAME:VERSION)", la.LambdaFunctionARN)
			continue
		}
		a := &LambdaAssociation{EventType: la.EventType, ARN: la.LambdaFunctionARN, IncludeBody: body}
		if f, ok := lambdaByARN(ls.functions, la.LambdaFunctionARN); ok {
			a.Function = f
		} else if ls.endpoint == "" {
			if len(ls.functions) > 0 || ls.strict {
				p.add(join(at, "LambdaFunctionARN"), "%q names no function of the settings' lambdaFunctions (%s) and there is no lambdaEndpoint to invoke it at",
					la.LambdaFunctionARN, describeLambdas(ls.functions))
			} else {
				d.Ignored = append(d.Ignored, &Error{File: p.file, Field: join(at, "LambdaFunctionARN"),
					Reason: "accepted but not emulated: " + la.LambdaFunctionARN + " is not among the settings' lambdaFunctions and there is no lambdaEndpoint, so it does not run"})
			}
			continue
		}
		b.Lambda[kind] = a
	}
}

func describeLambdas(fns map[string]*LambdaFunction) string {
	if len(fns) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(mapKeys(fns)), ", ")
}

// lambdaSet returns the Lambda@Edge functions c's behaviours may name.
func (c *Config) lambdaSet() *lambdaSet {
	return &lambdaSet{functions: c.LambdaFunctions, endpoint: c.LambdaEndpoint}
}

// HasLambda reports whether any behaviour of c has a Lambda@Edge function.
func (c *Config) HasLambda() bool {
	for _, d := range c.Distributions {
		for _, b := range append([]*Behavior{d.Default}, d.Behaviors...) {
			if b != nil && b.Lambda != [4]*LambdaAssociation{} {
				return true
			}
		}
	}
	return false
}

// String names the association for logs.
func (a *LambdaAssociation) String() string { return fmt.Sprintf("%s %s", a.EventType, a.ARN) }
