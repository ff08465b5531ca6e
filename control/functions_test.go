package control_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgefront/edgefront/control"
)

// credentialModes are the two ways the API authenticates: signatures
// verified against configured keys, or only required to be well formed.
var credentialModes = []struct {
	name string
	opts control.Options
}{
	{"verified", control.Options{Credentials: map[string]string{testKeyID: testSecret}}},
	{"unverified", control.Options{}},
}

const helloJS = "function handler(event) { console.log('hi ' + event.request.uri); return {statusCode: 200, statusDescription: 'OK', body: 'hello'}; }\n"

// associate sets (arn != "") or clears the viewer-request function of
// distribution id's default behaviour with UpdateDistribution.
func (e *env) associate(id, arn string) error {
	e.t.Helper()
	cur, err := e.cf.GetDistributionConfig(ctx(e.t), &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	dc := cur.DistributionConfig
	dc.DefaultCacheBehavior.FunctionAssociations = &types.FunctionAssociations{Quantity: aws.Int32(0)}
	if arn != "" {
		dc.DefaultCacheBehavior.FunctionAssociations = &types.FunctionAssociations{Quantity: aws.Int32(1),
			Items: []types.FunctionAssociation{{EventType: types.EventTypeViewerRequest, FunctionARN: aws.String(arn)}}}
	}
	_, err = e.cf.UpdateDistribution(ctx(e.t), &cloudfront.UpdateDistributionInput{Id: aws.String(id), IfMatch: cur.ETag, DistributionConfig: dc})
	return err
}

// TestFunctionsLifecycle drives every Functions operation with the real
// CloudFront client, in order, as CloudFront's API reference describes
// them (CreateFunction … DeleteFunction, TestFunction): stages, ETags and
// If-Match, the statuses, the code checks and the errors.
func TestFunctionsLifecycle(t *testing.T) {
	for _, mode := range credentialModes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, "edge.yaml", mode.opts)
			c := ctx(t)
			fc := &types.FunctionConfig{Comment: aws.String("says hello"), Runtime: types.FunctionRuntimeCloudfrontJs10}
			created, err := e.cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("hello"), FunctionConfig: fc, FunctionCode: []byte(helloJS)})
			if err != nil {
				t.Fatalf("CreateFunction: %v", err)
			}
			s := created.FunctionSummary
			if aws.ToString(created.ETag) == "" || aws.ToString(s.Status) != "UNPUBLISHED" || s.FunctionMetadata.Stage != types.FunctionStageDevelopment ||
				aws.ToString(s.FunctionMetadata.FunctionARN) != "arn:aws:cloudfront::123456789012:function/hello" || aws.ToString(s.FunctionConfig.Comment) != "says hello" {
				t.Fatalf("CreateFunction: %+v %+v", created, s.FunctionMetadata)
			}
			devETag := aws.ToString(created.ETag)

			// Errors, each as CloudFront answers it.
			big := "function handler(event) { return event.request; }\n//" + strings.Repeat("x", 10*1024)
			for _, tc := range []struct {
				name   string
				call   func() error
				code   string
				status int
			}{
				{"create twice", func() error {
					_, err := e.cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("hello"), FunctionConfig: fc, FunctionCode: []byte(helloJS)})
					return err
				}, "FunctionAlreadyExists", 409},
				{"syntax error", func() error {
					_, err := e.cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("broken"), FunctionConfig: fc, FunctionCode: []byte("function handler(event) {\n  return {;\n}")})
					return err
				}, "InvalidArgument", 400},
				{"2.0 feature in 1.0", func() error {
					_, err := e.cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("letfn"), FunctionConfig: fc, FunctionCode: []byte("function handler(event) { let x = 1; return event.request; }")})
					return err
				}, "InvalidArgument", 400},
				{"over 10 KB", func() error {
					_, err := e.cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("big"), FunctionConfig: fc, FunctionCode: []byte(big)})
					return err
				}, "FunctionSizeLimitExceeded", 413},
				{"describe LIVE before publish", func() error {
					_, err := e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: aws.String("hello"), Stage: types.FunctionStageLive})
					return err
				}, "NoSuchFunctionExists", 404},
				{"describe a missing function", func() error {
					_, err := e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: aws.String("nope")})
					return err
				}, "NoSuchFunctionExists", 404},
				{"update without If-Match", func() error {
					_, err := e.cf.UpdateFunction(c, &cloudfront.UpdateFunctionInput{Name: aws.String("hello"), IfMatch: aws.String(""), FunctionConfig: fc, FunctionCode: []byte(helloJS)})
					return err
				}, "InvalidIfMatchVersion", 400},
				{"update with a stale If-Match", func() error {
					_, err := e.cf.UpdateFunction(c, &cloudfront.UpdateFunctionInput{Name: aws.String("hello"), IfMatch: aws.String("ESTALE"), FunctionConfig: fc, FunctionCode: []byte(helloJS)})
					return err
				}, "PreconditionFailed", 412},
				{"publish with a stale If-Match", func() error {
					_, err := e.cf.PublishFunction(c, &cloudfront.PublishFunctionInput{Name: aws.String("hello"), IfMatch: aws.String("ESTALE")})
					return err
				}, "PreconditionFailed", 412},
				{"associate an unpublished function", func() error {
					return e.associate("EONE00000001", "arn:aws:cloudfront::123456789012:function/hello")
				}, "InvalidFunctionAssociation", 400},
			} {
				code, status := apiCode(t, tc.call())
				if code != tc.code || status != tc.status {
					t.Errorf("%s: %s %d, want %s %d", tc.name, code, status, tc.code, tc.status)
				}
			}

			got, err := e.cf.GetFunction(c, &cloudfront.GetFunctionInput{Name: aws.String("hello")})
			if err != nil || string(got.FunctionCode) != helloJS || aws.ToString(got.ContentType) != "application/octet-stream" || aws.ToString(got.ETag) != devETag {
				t.Fatalf("GetFunction: %v %+v", err, got)
			}
			updated, err := e.cf.UpdateFunction(c, &cloudfront.UpdateFunctionInput{Name: aws.String("hello"), IfMatch: aws.String(devETag), FunctionConfig: fc,
				FunctionCode: []byte(strings.Replace(helloJS, "'hello'", "'hello again'", 1))})
			if err != nil || aws.ToString(updated.ETag) == "" || aws.ToString(updated.ETag) == devETag {
				t.Fatalf("UpdateFunction: %v %+v", err, updated)
			}
			devETag = aws.ToString(updated.ETag)

			// TestFunction on the DEVELOPMENT stage.
			event := `{"version":"1.0","context":{"eventType":"viewer-request"},"viewer":{"ip":"192.0.2.1"},"request":{"method":"GET","uri":"/x","querystring":{},"headers":{},"cookies":{}}}`
			tr, err := e.cf.TestFunction(c, &cloudfront.TestFunctionInput{Name: aws.String("hello"), IfMatch: aws.String(devETag), Stage: types.FunctionStageDevelopment, EventObject: []byte(event)})
			if err != nil {
				t.Fatalf("TestFunction: %v", err)
			}
			res := tr.TestResult
			var out struct {
				Response struct {
					StatusCode int    `json:"statusCode"`
					Body       string `json:"body"`
				} `json:"response"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(res.FunctionOutput)), &out); err != nil || out.Response.StatusCode != 200 || out.Response.Body != "hello again" {
				t.Errorf("TestFunction output %q (%v)", aws.ToString(res.FunctionOutput), err)
			}
			if len(res.FunctionExecutionLogs) != 1 || res.FunctionExecutionLogs[0] != "hi /x" || aws.ToString(res.FunctionErrorMessage) != "" ||
				aws.ToString(res.ComputeUtilization) == "" || aws.ToString(res.FunctionSummary.Name) != "hello" {
				t.Errorf("TestFunction result %+v", res)
			}
			if _, err := e.cf.TestFunction(c, &cloudfront.TestFunctionInput{Name: aws.String("hello"), IfMatch: aws.String("ESTALE"), EventObject: []byte(event)}); err == nil {
				t.Error("TestFunction with a stale If-Match succeeded")
			}

			pub, err := e.cf.PublishFunction(c, &cloudfront.PublishFunctionInput{Name: aws.String("hello"), IfMatch: aws.String(devETag)})
			if err != nil || aws.ToString(pub.FunctionSummary.Status) != "UNASSOCIATED" || pub.FunctionSummary.FunctionMetadata.Stage != types.FunctionStageLive {
				t.Fatalf("PublishFunction: %v %+v", err, pub)
			}
			live, err := e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: aws.String("hello"), Stage: types.FunctionStageLive})
			if err != nil || aws.ToString(live.ETag) == "" {
				t.Fatalf("DescribeFunction LIVE: %v", err)
			}
			list, err := e.cf.ListFunctions(c, &cloudfront.ListFunctionsInput{Stage: types.FunctionStageLive})
			if err != nil || aws.ToInt32(list.FunctionList.Quantity) != 1 || aws.ToString(list.FunctionList.Items[0].Name) != "hello" {
				t.Fatalf("ListFunctions LIVE: %v %+v", err, list)
			}
			all, err := e.cf.ListFunctions(c, &cloudfront.ListFunctionsInput{MaxItems: aws.Int32(1)})
			if err != nil || aws.ToInt32(all.FunctionList.Quantity) != 1 || aws.ToString(all.FunctionList.NextMarker) == "" {
				t.Fatalf("ListFunctions page 1: %v %+v", err, all)
			}
			rest, err := e.cf.ListFunctions(c, &cloudfront.ListFunctionsInput{Marker: all.FunctionList.NextMarker})
			if err != nil || aws.ToInt32(rest.FunctionList.Quantity) != 1 || rest.FunctionList.Items[0].FunctionMetadata.Stage != types.FunctionStageLive {
				t.Fatalf("ListFunctions page 2: %v %+v", err, rest)
			}

			// Associated: DEPLOYED, and it cannot be deleted.
			if err := e.associate("EONE00000001", "arn:aws:cloudfront::123456789012:function/hello"); err != nil {
				t.Fatalf("associate: %v", err)
			}
			if b := e.proxy.Config().Distributions[0].Default; b.ViewerRequestFunction == nil || b.ViewerRequestFunction.Name != "hello" {
				t.Fatalf("the serving configuration does not run hello: %+v", b.ViewerRequestFunction)
			}
			d, _ := e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: aws.String("hello")})
			if aws.ToString(d.FunctionSummary.Status) != "DEPLOYED" {
				t.Errorf("status after association: %s", aws.ToString(d.FunctionSummary.Status))
			}
			_, err = e.cf.DeleteFunction(c, &cloudfront.DeleteFunctionInput{Name: aws.String("hello"), IfMatch: aws.String(devETag)})
			if code, status := apiCode(t, err); code != "FunctionInUse" || status != 409 {
				t.Errorf("DeleteFunction while associated: %s %d", code, status)
			}
			if err := e.associate("EONE00000001", ""); err != nil {
				t.Fatalf("disassociate: %v", err)
			}
			if _, err := e.cf.DeleteFunction(c, &cloudfront.DeleteFunctionInput{Name: aws.String("hello"), IfMatch: aws.String(devETag)}); err != nil {
				t.Fatalf("DeleteFunction: %v", err)
			}
			_, err = e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: aws.String("hello")})
			if code, _ := apiCode(t, err); code != "NoSuchFunctionExists" {
				t.Errorf("DescribeFunction after delete: %v", err)
			}
		})
	}
}

// TestSettingsFunctions: a function of the settings is shown at both
// stages (the settings' code), DEPLOYED while a behaviour runs it; an API
// update and publish of it replace what runs; deleting it is refused.
func TestSettingsFunctions(t *testing.T) {
	e := newEnv(t, "functions.yaml", control.Options{})
	c := ctx(t)
	name := aws.String("from-settings")
	for _, stage := range []types.FunctionStage{types.FunctionStageDevelopment, types.FunctionStageLive} {
		d, err := e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: name, Stage: stage})
		if err != nil || aws.ToString(d.FunctionSummary.Status) != "DEPLOYED" || aws.ToString(d.ETag) == "" {
			t.Fatalf("DescribeFunction %s: %v %+v", stage, err, d)
		}
	}
	dev, _ := e.cf.DescribeFunction(c, &cloudfront.DescribeFunctionInput{Name: name})
	_, err := e.cf.DeleteFunction(c, &cloudfront.DeleteFunctionInput{Name: name, IfMatch: dev.ETag})
	if code, _ := apiCode(t, err); code != "UnsupportedOperation" {
		t.Errorf("DeleteFunction of a settings function: %v", err)
	}
	fc := &types.FunctionConfig{Comment: aws.String("from the API"), Runtime: types.FunctionRuntimeCloudfrontJs10}
	upd, err := e.cf.UpdateFunction(c, &cloudfront.UpdateFunctionInput{Name: name, IfMatch: dev.ETag, FunctionConfig: fc, FunctionCode: []byte(helloJS)})
	if err != nil {
		t.Fatalf("UpdateFunction of a settings function: %v", err)
	}
	if fn := e.proxy.Config().Distributions[0].Default.ViewerRequestFunction; fn == nil || fn.Code == helloJS {
		t.Fatalf("an unpublished update runs: %+v", fn)
	}
	if _, err := e.cf.PublishFunction(c, &cloudfront.PublishFunctionInput{Name: name, IfMatch: upd.ETag}); err != nil {
		t.Fatal(err)
	}
	if fn := e.proxy.Config().Distributions[0].Default.ViewerRequestFunction; fn == nil || fn.Code != helloJS {
		t.Errorf("after publishing, the behaviour runs %+v", fn)
	}
	got, err := e.cf.GetFunction(c, &cloudfront.GetFunctionInput{Name: name, Stage: types.FunctionStageLive})
	if err != nil || string(got.FunctionCode) != helloJS {
		t.Errorf("GetFunction LIVE: %v %q", err, got.FunctionCode)
	}
}
