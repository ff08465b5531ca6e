package lambdaedge_test

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	arnCJS      = "arn:aws:lambda:us-east-1:123456789012:function:cjs:1"
	arnESM      = "arn:aws:lambda:us-east-1:123456789012:function:esm:1"
	arnCallback = "arn:aws:lambda:us-east-1:123456789012:function:callback:1"
	arnPython   = "arn:aws:lambda:us-east-1:123456789012:function:python:1"
	arnHang     = "arn:aws:lambda:us-east-1:123456789012:function:hang:1"
)

// settings is a distribution with two loopback origins and a behaviour per
// Lambda@Edge event type and runner.
const settings = `
lambdaFunctions:
  - {arn: "` + arnCJS + `", runtime: nodejs20.x, handler: index.handler, codeDir: "{{testdata}}/cjs"}
  - {arn: "` + arnESM + `", runtime: nodejs22.x, handler: app.handle, codeDir: "{{testdata}}/esm"}
  - {arn: "` + arnCallback + `", runtime: nodejs18.x, handler: index.handler, codeDir: "{{testdata}}/callback"}
  - {arn: "` + arnPython + `", runtime: python3.12, handler: handlers.viewer_request, codeDir: "{{testdata}}/python"}
  - {arn: "` + arnHang + `", runtime: nodejs20.x, handler: index.handler, codeDir: "{{testdata}}/hang", timeout: 1s}
distributions:
  - id: ELAMBDA000001
    originEndpoints: {web: "{{web}}", api: "{{api}}"}
    config:
      CallerReference: lambda
      Enabled: true
      Origins:
        Items:
          - {Id: web, DomainName: web.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: api, DomainName: api.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
        LambdaFunctionAssociations: {Items: [{EventType: viewer-response, LambdaFunctionARN: "` + arnCJS + `"}]}
      CacheBehaviors:
        Items:
          - PathPattern: "/vr/*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingDisabled
            OriginRequestPolicyId: AllViewer
            AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}
            LambdaFunctionAssociations: {Items: [{EventType: viewer-request, IncludeBody: true, LambdaFunctionARN: "` + arnCJS + `"}]}
          - PathPattern: "/or/*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingOptimized
            LambdaFunctionAssociations: {Items: [{EventType: origin-request, LambdaFunctionARN: "` + arnCJS + `"}]}
          - PathPattern: "/missing*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingOptimized
            LambdaFunctionAssociations: {Items: [{EventType: origin-response, LambdaFunctionARN: "` + arnCJS + `"}]}
          - PathPattern: "/gone*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingOptimized
            LambdaFunctionAssociations: {Items: [{EventType: viewer-response, LambdaFunctionARN: "` + arnCJS + `"}]}
          - PathPattern: "/esm/*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingDisabled
            LambdaFunctionAssociations: {Items: [{EventType: viewer-request, LambdaFunctionARN: "` + arnESM + `"}]}
          - PathPattern: "/cb/*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingDisabled
            LambdaFunctionAssociations: {Items: [{EventType: viewer-request, LambdaFunctionARN: "` + arnCallback + `"}]}
          - PathPattern: "/py/*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingDisabled
            LambdaFunctionAssociations: {Items: [{EventType: viewer-request, LambdaFunctionARN: "` + arnPython + `"}]}
          - PathPattern: "/hang/*"
            TargetOriginId: web
            ViewerProtocolPolicy: allow-all
            CachePolicyId: CachingDisabled
            LambdaFunctionAssociations: {Items: [{EventType: viewer-request, LambdaFunctionARN: "` + arnHang + `"}]}
`

// TestViewerRequest: a viewer-request function's results, one row per
// rule (CloudFront Developer Guide, "Lambda@Edge event structure",
// "Generate HTTP responses in request triggers", "Restrictions on all edge
// functions", "HTTP 502 status code (Lambda validation error)", "HTTP 503
// status code (Lambda execution error)"): a changed request reaches the
// origin; a generated answer does not, and is not cached; a thrown error
// is 503 LambdaExecutionError; a result that breaks a rule is 502
// LambdaValidationError.
func TestViewerRequest(t *testing.T) {
	web, api := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, settings, web, api)
	tests := []struct {
		name, path string
		status     int
		xcache     string // "" when any
		body       string // a substring; "" when any
	}{
		{"a rewrite", "/vr/rewrite", 200, "Miss from cloudfront", "web /rewritten?from=lambda"},
		{"a generated answer", "/vr/generate", 200, "", "made at the edge"},
		{"a base64 body", "/vr/base64", 200, "", "binary \x00 body"},
		{"a thrown error", "/vr/throw", 503, "LambdaExecutionError from cloudfront", ""},
		{"a status outside 200-599", "/vr/status-700", 502, "LambdaValidationError from cloudfront", "failed validation"},
		{"a disallowed header added", "/vr/disallowed", 502, "LambdaValidationError from cloudfront", ""},
		{"a read-only header changed", "/vr/read-only", 502, "LambdaValidationError from cloudfront", ""},
		{"a generated answer over 40 KB", "/vr/too-big", 502, "LambdaValidationError from cloudfront", ""},
		{"a result that is no object", "/vr/not-an-object", 502, "LambdaValidationError from cloudfront", ""},
		{"a changed method", "/vr/method", 502, "LambdaValidationError from cloudfront", ""},
		{"unchanged", "/vr/other", 200, "Miss from cloudfront", "web /vr/other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", tt.path, "")
			if r.status != tt.status || (tt.xcache != "" && r.xcache() != tt.xcache) || !strings.Contains(r.body, tt.body) {
				t.Errorf("%s: %d %q %q, want %d %q %q", tt.path, r.status, r.xcache(), r.body, tt.status, tt.xcache, tt.body)
			}
		})
	}
	if req, _ := web.request("/rewritten"); req == nil || req.Header.Get("X-Added") != "by viewer-request" {
		t.Errorf("the origin did not get the added header: %v", req)
	}
	// Generated answers are not cached: the function runs each time, and
	// nothing reaches the origin.
	before := e.invocations(arnCJS)
	if r := e.do("GET", "/vr/generate", ""); r.xcache() != "LambdaGeneratedResponse from cloudfront" {
		t.Errorf("a viewer-request answer's X-Cache %q, want LambdaGeneratedResponse from cloudfront", r.xcache())
	}
	if n := e.invocations(arnCJS) - before; n != 1 {
		t.Errorf("a second /vr/generate ran the function %d times, want 1 (not cached)", n)
	}
	if n := web.count("/vr/generate"); n != 0 {
		t.Errorf("a generated answer reached the origin %d times", n)
	}
}

// TestEventShape: the event a viewer-request function gets
// ("Lambda@Edge event structure", request events).
func TestEventShape(t *testing.T) {
	web, api := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, settings, web, api)
	r := e.do("GET", "/vr/event?a=1&b=2", "", "User-Agent", "edge-test", "X-Amz-Cf-Id", "viewer's own")
	var cf struct {
		Config  map[string]string `json:"config"`
		Request struct {
			ClientIP    string                         `json:"clientIp"`
			Headers     map[string][]map[string]string `json:"headers"`
			Method      string                         `json:"method"`
			Querystring string                         `json:"querystring"`
			URI         string                         `json:"uri"`
			Body        map[string]any                 `json:"body"`
		} `json:"request"`
	}
	if err := json.Unmarshal([]byte(r.body), &cf); err != nil {
		t.Fatalf("%d %q: %v", r.status, r.body, err)
	}
	want := map[string]string{"distributionDomainName": e.host, "distributionId": "ELAMBDA000001", "eventType": "viewer-request",
		"requestId": r.header.Get("X-Amz-Cf-Id")}
	for k, v := range want {
		if cf.Config[k] != v {
			t.Errorf("config.%s = %q, want %q", k, cf.Config[k], v)
		}
	}
	q := cf.Request
	if q.ClientIP != "127.0.0.1" || q.Method != "GET" || q.URI != "/vr/event" || q.Querystring != "a=1&b=2" {
		t.Errorf("request %+v", q)
	}
	if h := q.Headers["host"]; len(h) != 1 || h[0]["key"] != "Host" || h[0]["value"] != e.host {
		t.Errorf("host %v", h)
	}
	if h := q.Headers["user-agent"]; len(h) != 1 || h[0]["value"] != "edge-test" {
		t.Errorf("user-agent %v", h)
	}
	if _, ok := q.Headers["x-amz-cf-id"]; ok {
		t.Errorf("a disallowed header is in the event: %v", q.Headers)
	}
	if q.Body == nil || q.Body["data"] != "" || q.Body["inputTruncated"] != false || q.Body["encoding"] != "base64" || q.Body["action"] != "read-only" {
		t.Errorf("IncludeBody without a body: %v", q.Body)
	}
}
