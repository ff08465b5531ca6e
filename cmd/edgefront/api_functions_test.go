package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
)

// apiEdgeSettings is one distribution without any function: what the
// control API adds runs on it.
func apiEdgeSettings(originURL, comment string) string {
	return `
distributions:
  - id: EAPIFUNCS0001
    originEndpoints: {web: "` + originURL + `"}
    config:
      CallerReference: api-functions
      Comment: "` + comment + `"
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
`
}

// apiClients are the real CloudFront and cloudfront-keyvaluestore clients
// pointed at an edge's admin listener.
func apiClients(admin string) (*cloudfront.Client, *kvs.Client) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEDGEFRONT", "secret", "")
	cf := cloudfront.New(cloudfront.Options{BaseEndpoint: aws.String("http://" + admin), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
	// The keyvaluestore client puts the store's account in front of the
	// endpoint's host (123456789012.127.0.0.1:PORT): dial the admin
	// listener whatever the name.
	dial := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, admin)
	}}
	kc := kvs.New(kvs.Options{BaseEndpoint: aws.String("http://" + admin), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: dial}})
	return cf, kc
}

// TestAPIFunctionsServe: a function made with the CloudFront API —
// created, published, associated through UpdateDistribution — changes
// the viewer's response; a PutKey to its key value store changes what it
// answers on the next request; a reload (SIGHUP) keeps all of it, until
// the settings file changes the distribution it replaced.
func TestAPIFunctionsServe(t *testing.T) {
	var o pathOrigin
	srv := httptest.NewServer(&o)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	if err := os.WriteFile(file, []byte(apiEdgeSettings(srv.URL, "v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	cf, kc := apiClients(e.addrs["admin"])
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	viewer := "http://" + e.addrs["http"] + "/greet"
	body := func() string {
		t.Helper()
		_, b := get(t, http.DefaultClient, viewer)
		return b
	}
	if got := body(); got != "origin /greet" {
		t.Fatalf("before any function: %q", got)
	}

	st, err := cf.CreateKeyValueStore(c, &cloudfront.CreateKeyValueStoreInput{Name: aws.String("greetings")})
	if err != nil {
		t.Fatal(err)
	}
	arn := st.KeyValueStore.ARN
	d, err := kc.DescribeKeyValueStore(c, &kvs.DescribeKeyValueStoreInput{KvsARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	put, err := kc.PutKey(c, &kvs.PutKeyInput{KvsARN: arn, Key: aws.String("greeting"), Value: aws.String("hello"), IfMatch: d.ETag})
	if err != nil {
		t.Fatal(err)
	}
	code := "import cf from 'cloudfront';\nasync function handler(event) {\n  const g = await cf.kvs().get('greeting');\n  return {statusCode: 200, statusDescription: 'OK', body: g};\n}\n"
	fn, err := cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("greet"), FunctionCode: []byte(code),
		FunctionConfig: &types.FunctionConfig{Comment: aws.String("greets"), Runtime: types.FunctionRuntimeCloudfrontJs20,
			KeyValueStoreAssociations: &types.KeyValueStoreAssociations{Quantity: aws.Int32(1), Items: []types.KeyValueStoreAssociation{{KeyValueStoreARN: arn}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cf.PublishFunction(c, &cloudfront.PublishFunctionInput{Name: aws.String("greet"), IfMatch: fn.ETag}); err != nil {
		t.Fatal(err)
	}
	if got := body(); got != "origin /greet" {
		t.Fatalf("a published function runs before any association: %q", got)
	}
	cur, err := cf.GetDistributionConfig(c, &cloudfront.GetDistributionConfigInput{Id: aws.String("EAPIFUNCS0001")})
	if err != nil {
		t.Fatal(err)
	}
	cur.DistributionConfig.DefaultCacheBehavior.FunctionAssociations = &types.FunctionAssociations{Quantity: aws.Int32(1),
		Items: []types.FunctionAssociation{{EventType: types.EventTypeViewerRequest, FunctionARN: aws.String("arn:aws:cloudfront::123456789012:function/greet")}}}
	if _, err := cf.UpdateDistribution(c, &cloudfront.UpdateDistributionInput{Id: aws.String("EAPIFUNCS0001"), IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig}); err != nil {
		t.Fatalf("UpdateDistribution: %v", err)
	}
	if got := body(); got != "hello" {
		t.Fatalf("after the association: %q, want the function's hello", got)
	}
	if _, err := kc.PutKey(c, &kvs.PutKeyInput{KvsARN: arn, Key: aws.String("greeting"), Value: aws.String("bonjour"), IfMatch: put.ETag}); err != nil {
		t.Fatal(err)
	}
	if got := body(); got != "bonjour" {
		t.Fatalf("the request after PutKey: %q, want bonjour", got)
	}

	e.reload() // as SIGHUP does
	if got := body(); got != "bonjour" {
		t.Errorf("after a reload: %q, want the API's function and data kept", got)
	}
	if err := os.WriteFile(file, []byte(apiEdgeSettings(srv.URL, "v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	e.reload()
	if got := body(); got != "origin /greet" {
		t.Errorf("after the file changed the distribution: %q, want the file's (no association)", got)
	}
	if d, err := cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: aws.String("greet"), Stage: types.FunctionStageLive}); err != nil ||
		aws.ToString(d.FunctionSummary.Status) != "UNASSOCIATED" {
		t.Errorf("the function after the file won: %v %+v", err, d)
	}
}

// TestAWSCLITestFunction runs `aws cloudfront test-function` — the real
// CLI — against a function made with `aws cloudfront create-function`.
// Without the CLI it skips locally and fails in CI (CI is set).
func TestAWSCLITestFunction(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the aws CLI is not on PATH (.ci/run installs it)")
		}
		t.Skip("the aws CLI is not on PATH")
	}
	var o pathOrigin
	srv := httptest.NewServer(&o)
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "edgefront.yaml")
	if err := os.WriteFile(file, []byte(apiEdgeSettings(srv.URL, "cli")), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	code, event := filepath.Join(dir, "fn.js"), filepath.Join(dir, "event.json")
	if err := os.WriteFile(code, []byte("function handler(event) { console.log('uri ' + event.request.uri); event.request.uri += 'index.html'; return event.request; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(event, []byte(`{"version":"1.0","context":{"eventType":"viewer-request"},"viewer":{"ip":"192.0.2.1"},"request":{"method":"GET","uri":"/docs/","querystring":{},"headers":{},"cookies":{}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsCLI, append(args, "--endpoint-url", "http://"+e.addrs["admin"], "--region", "us-east-1", "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEDGEFRONT", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=",
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("aws %s printed %q: %v", strings.Join(args, " "), out, err)
		}
		return doc
	}
	created := run("cloudfront", "create-function", "--name", "index", "--function-code", "fileb://"+code,
		"--function-config", "Comment=adds index.html,Runtime=cloudfront-js-1.0")
	etag, _ := created["ETag"].(string)
	if etag == "" {
		t.Fatalf("create-function printed %v", created)
	}
	res := run("cloudfront", "test-function", "--name", "index", "--if-match", etag, "--event-object", "fileb://"+event)
	tr, _ := res["TestResult"].(map[string]any)
	output, _ := tr["FunctionOutput"].(string)
	var out struct {
		Request struct {
			URI string `json:"uri"`
		} `json:"request"`
	}
	if err := json.Unmarshal([]byte(output), &out); err != nil || out.Request.URI != "/docs/index.html" {
		t.Errorf("test-function FunctionOutput %q (%v)", output, err)
	}
	if logs, _ := tr["FunctionExecutionLogs"].([]any); len(logs) != 1 || logs[0] != "uri /docs/" {
		t.Errorf("test-function FunctionExecutionLogs %v", tr["FunctionExecutionLogs"])
	}
}
