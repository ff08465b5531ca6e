package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// lambdaSettings is a distribution whose behaviours run the Lambda@Edge
// handler of lambdaedge/testdata/cjs at viewer-request (/vr/*) and
// origin-request (/or/*), beside a CloudFront Function at viewer-response.
func lambdaSettings(t *testing.T, originURL string, withLambda bool) string {
	t.Helper()
	dir, err := filepath.Abs("../../lambdaedge/testdata/cjs")
	if err != nil {
		t.Fatal(err)
	}
	js, err := filepath.Abs("../../edge/testdata")
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:cjs:1"
	assoc := func(event string) string {
		if !withLambda {
			return ""
		}
		return `, LambdaFunctionAssociations: {Items: [{EventType: ` + event + `, LambdaFunctionARN: "` + arn + `"}]}`
	}
	return `
functions:
  - {name: secure-headers, codeFile: "` + js + `/secure-headers.js"}
lambdaFunctions:
  - {arn: "` + arn + `", runtime: nodejs20.x, handler: index.handler, codeDir: "` + dir + `"}
distributions:
  - id: ELAMBDACMD001
    originEndpoints: {web: "` + originURL + `"}
    config:
      CallerReference: lambda-cmd
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
      CacheBehaviors:
        Items:
          - {PathPattern: "/vr/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled` + assoc("viewer-request") + `,
             FunctionAssociations: {Items: [{EventType: viewer-response, FunctionARN: "arn:aws:cloudfront::123456789012:function/secure-headers"}]}}
          - {PathPattern: "/or/*", TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized` + assoc("origin-request") + `}
`
}

// TestLambdaServe: Lambda@Edge through the whole program (serve): the
// workers start with the configuration; a viewer-request function and a
// CloudFront Function on the same behaviour both run; an origin-request
// answer is cached; failures carry CloudFront's X-Cache; the metrics count
// runs by function; a reload that drops the functions stops their
// workers, and shutdown leaves no worker process behind.
func TestLambdaServe(t *testing.T) {
	var o pathOrigin
	srv := httptest.NewServer(&o)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	if err := os.WriteFile(file, []byte(lambdaSettings(t, srv.URL, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	c := &http.Client{}
	base := "http://" + e.addrs["http"]

	resp, body := get(t, c, base+"/vr/generate")
	if resp.StatusCode != 200 || body != "made at the edge" || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("/vr/generate: %d %q, HSTS %q (a generated answer does not run viewer-response code)", resp.StatusCode, body, resp.Header.Get("Strict-Transport-Security"))
	}
	resp, _ = get(t, c, base+"/vr/other")
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("/vr/other: %d, the CloudFront Function's header %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		resp, body := get(t, c, base+"/or/generate")
		if resp.StatusCode != 200 || body != "generated at origin-request" || resp.Header.Get("X-Cache") != want {
			t.Errorf("/or/generate #%d: %d %q %q, want %s", i, resp.StatusCode, body, resp.Header.Get("X-Cache"), want)
		}
	}
	if resp, _ := get(t, c, base+"/vr/throw"); resp.StatusCode != 503 || resp.Header.Get("X-Cache") != "LambdaExecutionError from cloudfront" {
		t.Errorf("/vr/throw: %d %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	if resp, _ := get(t, c, base+"/vr/status-700"); resp.StatusCode != 502 || resp.Header.Get("X-Cache") != "LambdaValidationError from cloudfront" {
		t.Errorf("/vr/status-700: %d %q", resp.StatusCode, resp.Header.Get("X-Cache"))
	}
	if got := o.take(); len(got) != 1 || got[0] != "/vr/other" {
		t.Errorf("the origin was asked for %q, want [/vr/other]", got)
	}
	_, metrics := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	const arn = `function="arn:aws:lambda:us-east-1:123456789012:function:cjs:1"`
	for _, want := range []string{
		`edgefront_lambda_invocations_total{` + arn + `} 5`,
		`edgefront_lambda_errors_total{` + arn + `,kind="LambdaExecutionError"} 1`,
		`edgefront_lambda_errors_total{` + arn + `,kind="LambdaValidationError"} 1`,
		`edgefront_lambda_duration_seconds_count{` + arn + `} 5`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	pids := e.lambda.cur.Load().WorkerPIDs()
	if len(pids) == 0 {
		t.Fatal("no worker processes")
	}
	if err := os.WriteFile(file, []byte(lambdaSettings(t, srv.URL, false)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.reload()
	if resp, body := get(t, c, base+"/vr/generate"); resp.StatusCode != 200 || body != "origin /vr/generate" {
		t.Errorf("after the reload without Lambda@Edge: %d %q", resp.StatusCode, body)
	}
	checkProcessesGone(t, pids)

	if err := os.WriteFile(file, []byte(lambdaSettings(t, srv.URL, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.reload()
	if resp, body := get(t, c, base+"/vr/generate"); resp.StatusCode != 200 || body != "made at the edge" {
		t.Errorf("after the reload with Lambda@Edge again: %d %q", resp.StatusCode, body)
	}
	pids = e.lambda.cur.Load().WorkerPIDs()
	e.close()
	checkProcessesGone(t, pids)
}

// checkProcessesGone fails t when one of pids still runs.
func checkProcessesGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("worker process %d is still running", pid)
		}
	}
}

// TestLambdaInlineTemplateCode: a template's AWS::Lambda::Function with
// inline code (Code.ZipFile), associated through its AWS::Lambda::Version,
// runs as the distribution's Lambda@Edge function with no lambdaFunctions
// entry: it answers one path itself and adds a header on the others.
func TestLambdaInlineTemplateCode(t *testing.T) {
	inline := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inline <- r.Header.Get("X-Inline")
		w.Write([]byte("origin"))
	}))
	defer srv.Close()
	tmpl, err := filepath.Abs("testdata/lambda-inline.template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	settings := "distributions:\n  - {template: \"" + tmpl + "\", resource: Site, originEndpoints: {app: \"" + srv.URL + "\"}}\n"
	if err := os.WriteFile(file, []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	c := &http.Client{}
	base := "http://" + e.addrs["http"]
	if resp, body := get(t, c, base+"/inline/hello"); resp.StatusCode != 200 || body != "hello from inline code" ||
		resp.Header.Get("X-Cache") != "LambdaGeneratedResponse from cloudfront" {
		t.Errorf("/inline/hello: %d %q %q", resp.StatusCode, body, resp.Header.Get("X-Cache"))
	}
	if resp, _ := get(t, c, base+"/page"); resp.StatusCode != 200 {
		t.Fatalf("/page: %d", resp.StatusCode)
	}
	if got := <-inline; got != "yes" {
		t.Errorf("the origin got X-Inline %q, want yes (added by the inline function)", got)
	}
}
