package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
)

// This file is CloudFront Functions and their KeyValueStores: the settings
// `functions` and `keyValueStores`, matched to a behaviour's
// FunctionAssociations by ARN. The code is parsed here, so `validate` and a
// reload report a syntax error; package edge runs it.

// CloudFront Functions runtimes.
const (
	FunctionRuntime1 = "cloudfront-js-1.0"
	FunctionRuntime2 = "cloudfront-js-2.0"
)

// MaxFunctionSize is CloudFront's quota on a function's code: 10 KB.
const MaxFunctionSize = 10 * 1024

// ErrFunctionSize is matched (errors.Is) by the error of code over
// MaxFunctionSize, so the control API can answer FunctionSizeLimitExceeded.
var ErrFunctionSize = errors.New("function code over CloudFront's 10 KB quota")

// sizeError is code over MaxFunctionSize.
type sizeError struct{ msg string }

func (e *sizeError) Error() string        { return e.msg }
func (e *sizeError) Is(target error) bool { return target == ErrFunctionSize }

// DefaultFunctionAccount is the account in the ARN of a function from the
// settings (arn:aws:cloudfront::123456789012:function/NAME), the same
// placeholder account templates get.
const DefaultFunctionAccount = DefaultTemplateAccount

// Function is one CloudFront Function.
type Function struct {
	Name    string
	ARN     string // arn:aws:cloudfront::<account>:function/<name>
	Runtime string // FunctionRuntime1 | FunctionRuntime2
	// Code is the JavaScript source as written; File the file it was read
	// from ("" when inline).
	Code string
	File string
	// Script is Code as a classic script: a top-level `import x from 'm'`
	// (2.0) becomes `var x = require('m')` on the same line, so positions
	// stay those of Code.
	Script         string
	KeyValueStores []*KeyValueStore
}

// KeyValueStore is one CloudFront KeyValueStore, read from a file in
// CloudFront's import format.
type KeyValueStore struct {
	Name string
	ID   string
	ARN  string
	File string
	Data map[string]string
	// Modified is when File last changed (zero without a file): meta()'s
	// creation and update time.
	Modified time.Time
}

// FunctionARN returns the ARN of the function named name in the default
// account.
func FunctionARN(name string) string {
	return "arn:aws:cloudfront::" + DefaultFunctionAccount + ":function/" + name
}

type functionSettings struct {
	Name           string   `json:"name"`
	Runtime        string   `json:"runtime"`
	CodeFile       string   `json:"codeFile"`
	Code           string   `json:"code"`
	KeyValueStores []string `json:"keyValueStores"`
}

type keyValueStoreSettings struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	File string `json:"file"`
}

var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// compileFunctions reads the settings' key value stores and functions into
// cfg.Functions (by ARN) and cfg.KeyValueStores (by name); dir resolves
// relative file names.
func compileFunctions(p *problems, fs []functionSettings, ks []keyValueStoreSettings, dir string, cfg *Config) {
	cfg.KeyValueStores = map[string]*KeyValueStore{}
	for i, k := range ks {
		at := index("keyValueStores", i)
		if !functionName.MatchString(k.Name) {
			p.add(join(at, "name"), "%q is not a store name (1 to 64 letters, digits, - and _)", k.Name)
			continue
		}
		if _, dup := cfg.KeyValueStores[k.Name]; dup {
			p.add(join(at, "name"), "%q is defined twice", k.Name)
			continue
		}
		kv := &KeyValueStore{Name: k.Name, ID: k.ID, File: resolve(dir, k.File), Data: map[string]string{}}
		if kv.ID == "" {
			kv.ID = derivedUUID("key-value-store", k.Name)
		}
		kv.ARN = "arn:aws:cloudfront::" + DefaultFunctionAccount + ":key-value-store/" + kv.ID
		if k.File != "" {
			cfg.Files = append(cfg.Files, kv.File) // a change reloads, as the settings' own
			data, err := os.ReadFile(kv.File)
			if st, serr := os.Stat(kv.File); serr == nil {
				kv.Modified = st.ModTime().UTC()
			}
			if err == nil {
				kv.Data, err = ParseKeyValueStore(data)
			}
			if err != nil {
				p.add(join(at, "file"), "%v", err)
			}
		}
		cfg.KeyValueStores[k.Name] = kv
	}
	cfg.Functions = map[string]*Function{}
	for i, f := range fs {
		at := index("functions", i)
		if !functionName.MatchString(f.Name) {
			p.add(join(at, "name"), "%q is not a function name (1 to 64 letters, digits, - and _)", f.Name)
			continue
		}
		fn := &Function{Name: f.Name, ARN: FunctionARN(f.Name), Runtime: f.Runtime, Code: f.Code}
		if _, dup := cfg.Functions[fn.ARN]; dup {
			p.add(join(at, "name"), "%q is defined twice", f.Name)
			continue
		}
		if fn.Runtime == "" {
			fn.Runtime = FunctionRuntime1
		}
		oneOf(p, join(at, "runtime"), fn.Runtime, FunctionRuntime1, FunctionRuntime2)
		switch {
		case f.CodeFile != "" && f.Code != "":
			p.add(at, "give codeFile or code, not both")
			continue
		case f.CodeFile != "":
			fn.File = resolve(dir, f.CodeFile)
			cfg.Files = append(cfg.Files, fn.File)
			data, err := os.ReadFile(fn.File)
			if err != nil {
				p.add(join(at, "codeFile"), "%v", err)
				continue
			}
			fn.Code = string(data)
		case f.Code == "":
			p.add(at, "codeFile or code is required")
			continue
		}
		for j, name := range f.KeyValueStores {
			kv, ok := cfg.KeyValueStores[name]
			if !ok {
				p.add(index(join(at, "keyValueStores"), j), "%q names no keyValueStores entry", name)
				continue
			}
			fn.KeyValueStores = append(fn.KeyValueStores, kv)
		}
		if len(fn.KeyValueStores) > 1 {
			p.add(join(at, "keyValueStores"), "a function can use one key value store, not %d", len(fn.KeyValueStores))
		}
		field := join(at, "code")
		if f.CodeFile != "" {
			field = join(at, "codeFile")
		}
		if err := checkFunctionCode(fn); err != nil {
			p.add(field, "%v", err)
			continue
		}
		cfg.Functions[fn.ARN] = fn
	}
}

// checkFunctionCode checks fn's code against CloudFront's size quota, parses
// it and, for cloudfront-js-1.0, refuses what only 2.0 has, and sets
// fn.Script.
func checkFunctionCode(fn *Function) error {
	if len(fn.Code) > MaxFunctionSize {
		return &sizeError{fmt.Sprintf("function %s: the code is %d bytes, CloudFront's maximum is %d (10 KB)", fn.Name, len(fn.Code), MaxFunctionSize)}
	}
	script, imports := scriptOf(fn.Code)
	if imports && fn.Runtime == FunctionRuntime1 {
		return fmt.Errorf("function %s: import is a cloudfront-js-2.0 feature (this function's runtime is %s)", fn.Name, fn.Runtime)
	}
	prog, err := parser.ParseFile(nil, fn.Name, script, 0, parser.WithDisableSourceMaps)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			e := list[0]
			return fmt.Errorf("function %s: syntax error at line %d, column %d: %s", fn.Name, e.Position.Line, e.Position.Column, e.Message)
		}
		return fmt.Errorf("function %s: %w", fn.Name, err)
	}
	if fn.Runtime == FunctionRuntime1 {
		if what := only2(prog); what != "" {
			return fmt.Errorf("function %s: %s is a cloudfront-js-2.0 feature (this function's runtime is %s)", fn.Name, what, fn.Runtime)
		}
	}
	fn.Script = script
	return nil
}

// importLine matches a top-level default import of a module, the one form
// of import CloudFront Functions use: import cf from 'cloudfront'.
var importLine = regexp.MustCompile(`(?m)^[ \t]*import[ \t]+([A-Za-z_$][A-Za-z0-9_$]*)[ \t]+from[ \t]+(['"])([a-z]+)(['"])[ \t]*;?`)

// scriptOf rewrites src's default imports as require calls on the same
// line, and reports whether there were any.
func scriptOf(src string) (string, bool) {
	found := false
	out := importLine.ReplaceAllStringFunc(src, func(m string) string {
		found = true
		s := importLine.FindStringSubmatch(m)
		return "var " + s[1] + " = require(" + s[2] + s[3] + s[4] + ");"
	})
	return out, found
}

// only2 returns the first cloudfront-js-2.0 feature prog uses (let, const,
// async, await), or "".
func only2(prog *ast.Program) string {
	var found string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if found != "" || !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			switch n := v.Interface().(type) {
			case *ast.LexicalDeclaration:
				found = "let"
				if n.Token == token.CONST {
					found = "const"
				}
				return
			case *ast.AwaitExpression:
				found = "await"
				return
			case *ast.FunctionLiteral:
				if n.Async {
					found = "async"
					return
				}
			case *ast.ArrowFunctionLiteral:
				if n.Async {
					found = "async"
					return
				}
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(prog))
	return found
}

// MaxKeyValueStoreSize is CloudFront's quota on a key value store: 5 MB.
const MaxKeyValueStoreSize = 5 << 20

// functionByARN finds the function an association names: by its ARN, or
// by the name in an ARN of another account (a DistributionConfig copied
// from AWS names the real account, the settings' functions the default
// one).
func functionByARN(fns map[string]*Function, arn string) (*Function, bool) {
	if fn, ok := fns[arn]; ok {
		return fn, true
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws:cloudfront::")
	account, name, ok2 := strings.Cut(rest, ":function/")
	if !ok || !ok2 || len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return nil, false
	}
	for _, fn := range fns {
		if fn.Name == name {
			return fn, true
		}
	}
	return nil, false
}

// ParseKeyValueStore reads a KeyValueStore in CloudFront's import format,
// {"data":[{"key":"k","value":"v"},…]}: keys are 1 to 512 bytes, values at
// most 1 KB, a key appears once, and the file is at most 5 MB.
func ParseKeyValueStore(data []byte) (map[string]string, error) {
	if len(data) > MaxKeyValueStoreSize {
		return nil, fmt.Errorf("the file is %d bytes, CloudFront's maximum for a key value store is %d (5 MB)", len(data), MaxKeyValueStoreSize)
	}
	var doc struct {
		Data []struct {
			Key   *string `json:"key"`
			Value *string `json:"value"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a key value store import file ({\"data\":[{\"key\":…,\"value\":…}]}): %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a key value store import file: data after the document")
	}
	out := make(map[string]string, len(doc.Data))
	for i, e := range doc.Data {
		switch {
		case e.Key == nil || e.Value == nil:
			return nil, fmt.Errorf("data[%d]: key and value are required", i)
		case len(*e.Key) == 0 || len(*e.Key) > 512:
			return nil, fmt.Errorf("data[%d].key: is %d bytes, must be 1 to 512", i, len(*e.Key))
		case len(*e.Value) > 1024:
			return nil, fmt.Errorf("data[%d].value: is %d bytes, the maximum is 1024", i, len(*e.Value))
		}
		if _, dup := out[*e.Key]; dup {
			return nil, fmt.Errorf("data[%d].key: %q appears twice", i, *e.Key)
		}
		out[*e.Key] = *e.Value
	}
	return out, nil
}

// compileFunctionAssociations resolves a behaviour's FunctionAssociations
// (at path) against the configuration's functions. A function the
// configuration does not define is an error when it defines functions; when
// it defines none (a DistributionConfig copied from AWS without its code)
// it is a warning and the function does not run.
func compileFunctionAssociations(p *problems, path string, bc *CacheBehaviorConfig, b *Behavior, d *Distribution, pol *policySet) {
	seen := map[string]int{}
	for i, fa := range bc.FunctionAssociations.All() {
		at := index(join(path, "FunctionAssociations.Items"), i)
		if !oneOf(p, join(at, "EventType"), fa.EventType, "viewer-request", "viewer-response") {
			continue
		}
		if j, dup := seen[fa.EventType]; dup {
			p.add(join(at, "EventType"), "%s already has FunctionAssociations.Items[%d]", fa.EventType, j)
			continue
		}
		seen[fa.EventType] = i
		fn, ok := functionByARN(pol.functions, fa.FunctionARN)
		if !ok {
			names := slices.Sorted(func(yield func(string) bool) {
				for _, f := range pol.functions {
					if !yield(f.Name) {
						return
					}
				}
			})
			if len(names) > 0 && !pol.unresolvedWarns {
				p.add(join(at, "FunctionARN"), "%q names no function of the settings' functions (%s; the ARN is arn:aws:cloudfront::%s:function/NAME)",
					fa.FunctionARN, strings.Join(names, ", "), DefaultFunctionAccount)
			} else {
				d.Ignored = append(d.Ignored, &Error{File: p.file, Field: join(at, "FunctionARN"),
					Reason: "accepted but not emulated: " + fa.FunctionARN + " is not among the settings' functions, so it does not run"})
			}
			continue
		}
		if fa.EventType == "viewer-request" {
			b.ViewerRequestFunction = fn
		} else {
			b.ViewerResponseFunction = fn
		}
	}
}

// NewFunction checks a function's code as the settings' functions are
// checked (size, syntax, runtime features) and returns it with the default
// account's ARN; kvs are its key value stores.
func NewFunction(name, runtime, code string, kvs ...*KeyValueStore) (*Function, error) {
	if !functionName.MatchString(name) {
		return nil, fmt.Errorf("%q is not a function name (1 to 64 letters, digits, - and _)", name)
	}
	if runtime != FunctionRuntime1 && runtime != FunctionRuntime2 {
		return nil, fmt.Errorf("function %s: runtime %q is not %s or %s", name, runtime, FunctionRuntime1, FunctionRuntime2)
	}
	fn := &Function{Name: name, ARN: FunctionARN(name), Runtime: runtime, Code: code, KeyValueStores: kvs}
	if err := checkFunctionCode(fn); err != nil {
		return nil, err
	}
	return fn, nil
}

// ValidName reports whether s is a valid CloudFront Function or
// KeyValueStore name: 1 to 64 letters, digits, - and _.
func ValidName(s string) bool { return functionName.MatchString(s) }
