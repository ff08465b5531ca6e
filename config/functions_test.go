package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// functionsDoc is a settings file with the given functions, key value
// stores and default-behaviour associations, read from testdata/functions.
func functionsDoc(functions, stores, assoc string) string {
	doc := "distributions:\n  - config:\n      CallerReference: fn\n" +
		"      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}\n" +
		"      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled"
	if assoc != "" {
		doc += ", FunctionAssociations: {Items: [" + assoc + "]}"
	}
	doc += "}\n"
	if functions != "" {
		doc += "functions:\n" + functions
	}
	if stores != "" {
		doc += "keyValueStores:\n" + stores
	}
	return doc
}

// TestFunctions: functions and key value stores of the settings, and the
// associations that name them (CloudFront Developer Guide, "Quotas on
// CloudFront Functions": 10 KB of code; "Restrictions on all edge
// functions": one association per event type). Each problem names the
// field and the reason.
func TestFunctions(t *testing.T) {
	const okARN = `"arn:aws:cloudfront::123456789012:function/ok"`
	tests := []struct {
		name                     string
		functions, stores, assoc string
		want                     []string // "field: reason" substrings; none means it loads
	}{
		{"a function and its association", "  - {name: ok, codeFile: ok.js}\n", "", "{EventType: viewer-request, FunctionARN: " + okARN + "}", nil},
		{"inline code, runtime 2.0 with let and a store",
			"  - {name: two, runtime: cloudfront-js-2.0, keyValueStores: [s], code: \"import cf from 'cloudfront';\\nlet kv = cf.kvs();\\nasync function handler(e) { return e.request; }\"}\n",
			"  - {name: s, file: kvs.json}\n", "", nil},
		{"an ARN of another account names the function by its name", "  - {name: ok, codeFile: ok.js}\n", "",
			`{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::111122223333:function/ok"}`, nil},
		{"a syntax error", "  - {name: broken, codeFile: broken.js}\n", "", "",
			[]string{"functions[0].codeFile: function broken: syntax error at line 4, column"}},
		{"let in a 1.0 function", "  - {name: scoped, codeFile: block-scoped.js}\n", "", "",
			[]string{"functions[0].codeFile: function scoped: let is a cloudfront-js-2.0 feature"}},
		{"import in a 1.0 function", "  - {name: imp, code: \"import cf from 'cloudfront';\\nfunction handler(e) { return e.request; }\"}\n", "", "",
			[]string{"functions[0].code: function imp: import is a cloudfront-js-2.0 feature"}},
		{"over 10 KB", "  - {name: big, code: \"function handler(e) { return e.request; }\\n//" + strings.Repeat("x", MaxFunctionSize) + "\"}\n", "", "",
			[]string{"functions[0].code: function big: the code is 10284 bytes, CloudFront's maximum is 10240 (10 KB)"}},
		{"an unknown runtime", "  - {name: ok, runtime: nodejs20.x, codeFile: ok.js}\n", "", "",
			[]string{"functions[0].runtime: "}},
		{"no code", "  - {name: empty}\n", "", "", []string{"functions[0]: codeFile or code is required"}},
		{"a missing file", "  - {name: gone, codeFile: gone.js}\n", "", "", []string{"functions[0].codeFile: "}},
		{"an unknown store", "  - {name: ok, codeFile: ok.js, keyValueStores: [nope]}\n", "", "",
			[]string{`functions[0].keyValueStores[0]: "nope" names no keyValueStores entry`}},
		{"a bad store file", "", "  - {name: s, file: kvs-dup.json}\n", "",
			[]string{`keyValueStores[0].file: data[1].key: "a" appears twice`}},
		{"an association naming no function", "  - {name: ok, codeFile: ok.js}\n", "",
			`{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::123456789012:function/other"}`,
			[]string{`distributions[0].config.DefaultCacheBehavior.FunctionAssociations.Items[0].FunctionARN: "arn:aws:cloudfront::123456789012:function/other" names no function of the settings' functions (ok;`}},
		{"two associations for one event type", "  - {name: ok, codeFile: ok.js}\n", "",
			"{EventType: viewer-request, FunctionARN: " + okARN + "}, {EventType: viewer-request, FunctionARN: " + okARN + "}",
			[]string{"distributions[0].config.DefaultCacheBehavior.FunctionAssociations.Items[1].EventType: viewer-request already has FunctionAssociations.Items[0]"}},
		{"an origin event", "  - {name: ok, codeFile: ok.js}\n", "", "{EventType: origin-request, FunctionARN: " + okARN + "}",
			[]string{"distributions[0].config.DefaultCacheBehavior.FunctionAssociations.Items[0].EventType: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join("testdata", "functions", "edgefront.yaml"), []byte(functionsDoc(tt.functions, tt.stores, tt.assoc)))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tt.assoc != "" && cfg.Distributions[0].Default.ViewerRequestFunction != cfg.Functions["arn:aws:cloudfront::123456789012:function/ok"] {
					t.Error("the association did not reach the behaviour")
				}
				for _, w := range cfg.Warnings() {
					if strings.Contains(w.Field, "FunctionAssociations") {
						t.Errorf("a running function is reported as not emulated: %v", w)
					}
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want Errors", err)
			}
			all := errs.Error()
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors:\n%s\nwant one containing %q", all, w)
				}
			}
		})
	}
}

// TestParseKeyValueStore: CloudFront's import format, and what it refuses.
func TestParseKeyValueStore(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{`{"data":[{"key":"k","value":"v"},{"key":"j","value":""}]}`, map[string]string{"k": "v", "j": ""}, ""},
		{`{"data":[]}`, map[string]string{}, ""},
		{`{"data":[{"key":"","value":"v"}]}`, nil, "data[0].key: is 0 bytes"},
		{`{"data":[{"key":"k"}]}`, nil, "data[0]: key and value are required"},
		{`{"data":[{"key":"k","value":"` + strings.Repeat("v", 1025) + `"}]}`, nil, "data[0].value: is 1025 bytes"},
		{`{"data":[{"key":"k","value":"v","extra":1}]}`, nil, "not a key value store import file"},
		{`{"data":[]} {}`, nil, "data after the document"},
		{`[1]`, nil, "not a key value store import file"},
	}
	for _, tt := range tests {
		got, err := ParseKeyValueStore([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%.40s: err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("%.40s: %v %v", tt.in, got, err)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%.40s: %q = %q, want %q", tt.in, k, got[k], v)
			}
		}
	}
}

// FuzzParseKeyValueStore: any input either parses into keys and values
// within CloudFront's bounds or is an error; it never panics.
func FuzzParseKeyValueStore(f *testing.F) {
	f.Add([]byte(`{"data":[{"key":"k","value":"v"}]}`))
	f.Add([]byte(`{"data":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}`))
	f.Add([]byte(`{"data":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseKeyValueStore(data)
		if err != nil {
			return
		}
		for k, v := range m {
			if len(k) == 0 || len(k) > 512 || len(v) > 1024 {
				t.Fatalf("accepted key %q value of %d bytes", k, len(v))
			}
		}
	})
}

// TestTemplateFunctions: a template's AWS::CloudFront::Function resources
// (inline FunctionCode, FunctionConfig.Runtime, KeyValueStoreAssociations
// to an AWS::CloudFront::KeyValueStore) are the functions its
// distribution's FunctionAssociations name through Fn::GetAtt.
func TestTemplateFunctions(t *testing.T) {
	cfg, err := Load("testdata/cloudformation/functions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Distributions[0]
	idx, redirect := d.Default.ViewerRequestFunction, d.Behaviors[0].ViewerRequestFunction
	if idx == nil || idx.Name != "index-rewrite" || idx.Runtime != FunctionRuntime1 || idx.ARN != FunctionARN("index-rewrite") {
		t.Fatalf("default behaviour's function %+v", idx)
	}
	if redirect == nil || redirect.Name != "functions-redirect" || redirect.Runtime != FunctionRuntime2 ||
		len(redirect.KeyValueStores) != 1 || redirect.KeyValueStores[0].Name != "redirects" {
		t.Fatalf("/go/*'s function %+v", redirect)
	}
	if !strings.Contains(redirect.Script, "var cf = require('cloudfront');") {
		t.Errorf("the import was not rewritten: %q", redirect.Script)
	}
	for _, w := range cfg.Warnings() {
		if strings.Contains(w.Field, "FunctionAssociations") {
			t.Errorf("reported as not emulated: %v", w)
		}
	}
}

// TestWithFunctions: a new set of functions is bound to every behaviour's
// FunctionAssociations; an association naming no function becomes a
// warning, never an error, and the distributions keep their ETags.
func TestWithFunctions(t *testing.T) {
	cfg, err := Parse("with-functions.yaml", []byte(`
distributions:
  - id: EWITHFNS0001
    originEndpoints: {web: "http://127.0.0.1:1"}
    config:
      CallerReference: with-functions
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
        FunctionAssociations: {Items: [{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::123456789012:function/a"}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewFunction("a", FunctionRuntime1, "function handler(event) { return event.request; }")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewFunction("b", FunctionRuntime1, "function handler(event) { return event.request; }")
	tests := []struct {
		name    string
		fns     map[string]*Function
		runs    *Function
		warning bool
	}{
		{"the named function defined", map[string]*Function{a.ARN: a}, a, false},
		{"another function only", map[string]*Function{b.ARN: b}, nil, true},
		{"none", map[string]*Function{}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := cfg.WithFunctions(tc.fns, nil)
			d := next.Distributions[0]
			if d.Default.ViewerRequestFunction != tc.runs {
				t.Errorf("runs %+v, want %+v", d.Default.ViewerRequestFunction, tc.runs)
			}
			if d.ETag != cfg.Distributions[0].ETag {
				t.Errorf("ETag %s, was %s", d.ETag, cfg.Distributions[0].ETag)
			}
			warned := false
			for _, w := range d.Ignored {
				warned = warned || strings.Contains(w.Field, "FunctionAssociations")
			}
			if warned != tc.warning {
				t.Errorf("warning %v, want %v (%v)", warned, tc.warning, d.Ignored)
			}
			if cfg.Distributions[0].Default.ViewerRequestFunction != nil {
				t.Error("the original configuration was modified")
			}
		})
	}
}
