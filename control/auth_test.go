package control_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/edgefront/edgefront/control"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{Credentials: map[string]string{testKeyID: testSecret}})
	tests := []struct {
		name        string
		keyID, secr string
		code        string
	}{
		{"right key", testKeyID, testSecret, ""},
		{"wrong secret", testKeyID, "not-the-secret", "SignatureDoesNotMatch"},
		{"unknown key", "AKIDUNKNOWN", testSecret, "InvalidClientTokenId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cf := newClient(e.api.URL, tc.keyID, tc.secr)
			// A GET with a query string, a POST with a body.
			_, err := cf.ListInvalidations(ctx(t), &cloudfront.ListInvalidationsInput{DistributionId: aws.String(one), MaxItems: aws.Int32(5), Marker: aws.String("I0000 x/y~z")})
			if code, status := apiCode(t, err); code != tc.code || tc.code != "" && status != 403 {
				t.Errorf("ListInvalidations: %s %d (%v), want %q", code, status, err, tc.code)
			}
			out, err := cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(one), InvalidationBatch: batch("auth-"+tc.name, "/a.txt", "/ü ber*")})
			if code, _ := apiCode(t, err); code != tc.code {
				t.Errorf("CreateInvalidation: %s (%v), want %q", code, err, tc.code)
			}
			if tc.code == "" && *out.Invalidation.Status != "InProgress" {
				t.Errorf("status %s", *out.Invalidation.Status)
			}
		})
	}
}

// TestRawRequests sends requests the SDK would not: unsigned, malformed,
// without a body.
func TestRawRequests(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	const sig = "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		code                           string
	}{
		{"unsigned", "GET", "/2020-05-31/distribution", "", "", 403, "MissingAuthenticationToken"},
		{"not SigV4", "GET", "/2020-05-31/distribution", "Basic dXNlcjpwYXNz", "", 403, "IncompleteSignature"},
		{"any signature accepted without credentials", "GET", "/2020-05-31/distribution", sig, "", 200, ""},
		{"no body", "POST", "/2020-05-31/distribution/" + one + "/invalidation", sig, "", 400, "MissingBody"},
		{"not XML", "POST", "/2020-05-31/distribution/" + one + "/invalidation", sig, "paths=/a", 400, "MalformedInput"},
		{"unknown element", "POST", "/2020-05-31/distribution/" + one + "/invalidation", sig,
			`<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>x</CallerReference><Paths><Quantity>1</Quantity><Items><Path>/a</Path></Items></Paths><Tags/></InvalidationBatch>`, 400, "MalformedInput"},
		{"wrong item element", "POST", "/2020-05-31/distribution/" + one + "/invalidation", sig,
			`<InvalidationBatch><CallerReference>x</CallerReference><Paths><Quantity>1</Quantity><Items><Name>/a</Name></Items></Paths></InvalidationBatch>`, 400, "MalformedInput"},
		{"Quantity omitted", "POST", "/2020-05-31/distribution/" + one + "/invalidation", sig,
			`<InvalidationBatch><CallerReference>y</CallerReference><Paths><Items><Path>/a</Path></Items></Paths></InvalidationBatch>`, 201, ""},
		{"no If-Match", "PUT", "/2020-05-31/distribution/" + one + "/config", sig, "<DistributionConfig/>", 400, "InvalidIfMatchVersion"},
		{"bad MaxItems", "GET", "/2020-05-31/distribution?MaxItems=lots", sig, "", 400, "InvalidArgument"},
		{"not implemented", "DELETE", "/2020-05-31/distribution/" + one, sig, "", 400, "InvalidAction"},
		{"body too large", "POST", "/2020-05-31/distribution/" + one + "/invalidation", sig, strings.Repeat(" ", control.MaxRequestBody+1), 413, "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.api.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := e.api.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body strings.Builder
			_, _ = io_Copy(&body, resp)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, body.String())
			}
			if resp.Header.Get("X-Amz-Request-Id") == "" {
				t.Error("no x-amz-request-id")
			}
			if tc.code != "" {
				want := "<Error><Type>Sender</Type><Code>" + tc.code + "</Code>"
				if !strings.Contains(body.String(), want) || !strings.Contains(body.String(), "<RequestId>") ||
					!strings.Contains(body.String(), `<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">`) {
					t.Errorf("body %s, want %s…", body.String(), want)
				}
			}
		})
	}
}
