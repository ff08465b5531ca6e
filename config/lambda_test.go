package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// lambdaDoc is a settings file with the given lambdaFunctions (and
// lambdaEndpoint), CloudFront Function and default-behaviour Lambda@Edge
// associations, read from testdata/lambda.
func lambdaDoc(functions, endpoint, fnAssoc, assoc string) string {
	doc := "distributions:\n  - config:\n      CallerReference: la\n" +
		"      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}\n" +
		"      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled"
	if fnAssoc != "" {
		doc += ", FunctionAssociations: {Items: [" + fnAssoc + "]}"
	}
	if assoc != "" {
		doc += ", LambdaFunctionAssociations: {Items: [" + assoc + "]}"
	}
	doc += "}\nfunctions:\n  - {name: fn, code: \"function handler(e) { return e.request; }\"}\n"
	if functions != "" {
		doc += "lambdaFunctions:\n" + functions
	}
	if endpoint != "" {
		doc += "lambdaEndpoint: " + endpoint + "\n"
	}
	return doc
}

// TestLambdaFunctions: the settings' lambdaFunctions and lambdaEndpoint and
// the LambdaFunctionAssociations that name them (CloudFront Developer
// Guide, "Restrictions on Lambda@Edge": a numbered version; "Lambda@Edge
// event structure": IncludeBody on request events). Each problem names the
// field and the reason.
func TestLambdaFunctions(t *testing.T) {
	const (
		arn    = "arn:aws:lambda:us-east-1:123456789012:function:rewrite:3"
		fn     = "  - {arn: \"" + arn + "\", runtime: nodejs20.x, handler: index.handler, codeDir: lambda, timeout: 2s}\n"
		assocQ = `{EventType: origin-request, LambdaFunctionARN: "` + arn + `"}`
	)
	assoc := func(event, arn, more string) string {
		return `{EventType: ` + event + `, LambdaFunctionARN: "` + arn + `"` + more + `}`
	}
	tests := []struct {
		name                                string
		functions, endpoint, fnAssoc, assoc string
		want                                []string // "field: reason" substrings; none means it loads
		runs                                int      // the event type that runs the function (-1: none)
	}{
		{"a function by its full ARN", fn, "", "", assocQ, nil, LambdaOriginRequest},
		{"another version and account name it by its name", fn, "", "",
			assoc("viewer-response", "arn:aws:lambda:us-east-1:111122223333:function:rewrite:9", ""), nil, LambdaViewerResponse},
		{"an unversioned settings ARN", "  - {arn: \"arn:aws:lambda:us-east-1:123456789012:function:rewrite\", runtime: python3.12, handler: app.handler, codeDir: lambda}\n",
			"", "", assocQ, nil, LambdaOriginRequest},
		{"IncludeBody on a request event", fn, "", "", assoc("viewer-request", arn, ", IncludeBody: true"), nil, LambdaViewerRequest},
		{"unknown functions go to the endpoint", fn, "http://127.0.0.1:3001", "",
			assoc("origin-response", "arn:aws:lambda:us-east-1:123456789012:function:other:1", ""), nil, LambdaOriginResponse},
		{"unknown functions without an endpoint", fn, "", "", assoc("origin-request", "arn:aws:lambda:us-east-1:123456789012:function:other:1", ""),
			[]string{`LambdaFunctionAssociations.Items[0].LambdaFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:other:1" names no function of the settings' lambdaFunctions`}, -1},
		{"no functions at all: a warning", "", "", "", assocQ, nil, -1},
		{"IncludeBody on a response event", fn, "", "", assoc("origin-response", arn, ", IncludeBody: true"),
			[]string{"LambdaFunctionAssociations.Items[0].IncludeBody: is for request events only"}, -1},
		{"a CloudFront Function on the same viewer event", fn, "", `{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::123456789012:function/fn"}`,
			assoc("viewer-request", arn, ""), []string{"LambdaFunctionAssociations.Items[0].EventType: viewer-request already has a CloudFront Function"}, -1},
		{"a CloudFront Function on the other viewer event", fn, "", `{EventType: viewer-request, FunctionARN: "arn:aws:cloudfront::123456789012:function/fn"}`,
			assoc("viewer-response", arn, ""), nil, LambdaViewerResponse},
		{"an unknown event type", fn, "", "", assoc("viewer", arn, ""), []string{"LambdaFunctionAssociations.Items[0].EventType: must be one of"}, -1},
		{"two on one event", fn, "", "", assocQ + ", " + assocQ, []string{"LambdaFunctionAssociations.Items[1].EventType: origin-request already has"}, -1},
		{"not an ARN", fn, "", "", assoc("origin-request", "rewrite", ""), []string{`LambdaFunctionARN: "rewrite" is not a Lambda function ARN`}, -1},
		{"a bad settings ARN", "  - {arn: rewrite, runtime: nodejs20.x, handler: index.handler, codeDir: lambda}\n", "", "", "",
			[]string{`lambdaFunctions[0].arn: "rewrite" is not a Lambda function ARN`}, -1},
		{"an unknown runtime", "  - {arn: \"" + arn + "\", runtime: java21, handler: index.handler, codeDir: lambda}\n", "", "", "",
			[]string{"lambdaFunctions[0].runtime: must be one of"}, -1},
		{"no handler function", "  - {arn: \"" + arn + "\", runtime: nodejs20.x, handler: index, codeDir: lambda}\n", "", "", "",
			[]string{`lambdaFunctions[0].handler: "index" is not FILE.FUNCTION`}, -1},
		{"a missing codeDir", "  - {arn: \"" + arn + "\", runtime: nodejs20.x, handler: index.handler, codeDir: gone}\n", "", "", "",
			[]string{"lambdaFunctions[0].codeDir: "}, -1},
		{"a timeout over 30 s", "  - {arn: \"" + arn + "\", runtime: nodejs20.x, handler: index.handler, codeDir: lambda, timeout: 31s}\n", "", "", "",
			[]string{"lambdaFunctions[0].timeout: is 31s, Lambda@Edge's maximum is 30s"}, -1},
		{"a bad endpoint", "", "ftp://x", "", "", []string{`lambdaEndpoint: "ftp://x" is not an http`}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join("testdata", "edgefront.yaml"), []byte(lambdaDoc(tt.functions, tt.endpoint, tt.fnAssoc, tt.assoc)))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				b := cfg.Distributions[0].Default
				for kind, a := range b.Lambda {
					if (a != nil) != (kind == tt.runs) {
						t.Errorf("Lambda[%s] = %v, want it set only for %d", LambdaEventTypes[kind], a, tt.runs)
					}
				}
				if tt.runs < 0 && len(cfg.Warnings()) != 1 {
					t.Errorf("warnings %v, want one (the function does not run)", cfg.Warnings())
				}
				if tt.runs >= 0 && tt.endpoint == "" {
					if f := b.Lambda[tt.runs].Function; f == nil || f.Name != "rewrite" || f.CodeDir != filepath.Join("testdata", "lambda") {
						t.Errorf("function %+v", f)
					}
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse: %v, want errors %q", err, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("errors %v\nlack %q", err, w)
				}
			}
		})
	}
}
