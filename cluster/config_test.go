package cluster_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/edgefront/edgefront/control"
)

// securityHeadersPolicy is Managed-SecurityHeadersPolicy: it adds
// X-Frame-Options: SAMEORIGIN to every response, hits included.
const securityHeadersPolicy = "67f7725c-6f97-4210-82d7-5512b31e9d03"

// header requests path through nd's viewer listener and returns the
// response's header name.
func (nd *node) header(t *testing.T, path, name string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, nd.edge.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := nd.edge.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// The whole answer, as a viewer reads it: one that leaves after the
	// headers may end the origin fetch before the body is in (a fetch no
	// viewer waits for any longer stops), and the object is not stored.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get(name)
}

// distConfig returns nd's DistributionConfig of the distribution and its
// ETag.
func (nd *node) distConfig(t *testing.T) (*cloudfront.GetDistributionConfigOutput, string) {
	t.Helper()
	out, err := nd.cf.GetDistributionConfig(testContext(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(dist)})
	if err != nil {
		t.Fatalf("%s: GetDistributionConfig: %v", nd.name, err)
	}
	return out, aws.ToString(out.ETag)
}

// TestUpdateDistributionReachesEveryNode: UpdateDistribution sent to node
// b changes what nodes a and c serve within a second, and every node then
// reports the same new ETag — one derived from the bucket's revision.
func TestUpdateDistributionReachesEveryNode(t *testing.T) {
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	tc.warm("/a.txt")
	for _, nd := range tc.nodes {
		if got := nd.header(t, "/a.txt", "X-Frame-Options"); got != "" {
			t.Fatalf("%s before the update: X-Frame-Options %q", nd.name, got)
		}
	}
	cur, etag := b.distConfig(t)
	if _, other := a.distConfig(t); other != etag {
		t.Fatalf("a's ETag %s, b's %s: one distribution, one version", other, etag)
	}
	dc := cur.DistributionConfig
	dc.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(securityHeadersPolicy)
	dc.Comment = aws.String("updated on b")
	out, err := b.cf.UpdateDistribution(testContext(t), &cloudfront.UpdateDistributionInput{
		Id: aws.String(dist), IfMatch: aws.String(etag), DistributionConfig: dc})
	if err != nil {
		t.Fatalf("b: UpdateDistribution: %v", err)
	}
	newETag := aws.ToString(out.ETag)
	if newETag == "" || newETag == etag {
		t.Fatalf("b: UpdateDistribution answered ETag %q (was %q)", newETag, etag)
	}
	if got := b.header(t, "/a.txt", "X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("b right after its update: X-Frame-Options %q", got)
	}
	for _, nd := range []*node{a, c} {
		eventually(t, time.Second, nd.name+" serves the updated behaviour", func() bool {
			return nd.header(t, "/a.txt", "X-Frame-Options") == "SAMEORIGIN"
		})
	}
	for _, nd := range tc.nodes {
		got, tag := nd.distConfig(t)
		if tag != newETag || aws.ToString(got.DistributionConfig.Comment) != "updated on b" {
			t.Errorf("%s: ETag %s comment %q, want %s %q", nd.name, tag, aws.ToString(got.DistributionConfig.Comment), newETag, "updated on b")
		}
	}
	// The update's If-Match is now stale on every node.
	if _, err := c.cf.UpdateDistribution(testContext(t), &cloudfront.UpdateDistributionInput{
		Id: aws.String(dist), IfMatch: aws.String(etag), DistributionConfig: dc}); apiCode(err) != "PreconditionFailed" {
		t.Errorf("c: UpdateDistribution with the old ETag: %v, want PreconditionFailed", err)
	}
}

// TestConcurrentUpdatesOneWins: nodes a, b and c each send an
// UpdateDistribution with the same If-Match at once: exactly one wins,
// the others get PreconditionFailed (412), and every node serves the
// winner's configuration.
func TestConcurrentUpdatesOneWins(t *testing.T) {
	tc := newTestCluster(t, 3)
	cur, etag := tc.nodes[0].distConfig(t)
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make([]error, len(tc.nodes))
		etags := make([]string, len(tc.nodes))
		start := make(chan struct{})
		for i, nd := range tc.nodes {
			dc := *cur.DistributionConfig
			dc.Comment = aws.String("written by " + nd.name)
			wg.Go(func() {
				<-start
				out, err := nd.cf.UpdateDistribution(testContext(t), &cloudfront.UpdateDistributionInput{
					Id: aws.String(dist), IfMatch: aws.String(etag), DistributionConfig: &dc})
				errs[i] = err
				if err == nil {
					etags[i] = aws.ToString(out.ETag)
				}
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch code := apiCode(err); code {
			case "":
				if winner >= 0 {
					t.Fatalf("round %d: both %s and %s won with If-Match %s", round, tc.nodes[winner].name, tc.nodes[i].name, etag)
				}
				winner = i
			case "PreconditionFailed":
				var re interface{ HTTPStatusCode() int }
				if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusPreconditionFailed {
					t.Errorf("round %d: %s: PreconditionFailed with status %v", round, tc.nodes[i].name, err)
				}
			default:
				t.Fatalf("round %d: %s: %v", round, tc.nodes[i].name, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody won: %v", round, errs)
		}
		want := "written by " + tc.nodes[winner].name
		for _, nd := range tc.nodes {
			eventually(t, time.Second, nd.name+" has the winner's configuration", func() bool {
				got, tag := nd.distConfig(t)
				return tag == etags[winner] && aws.ToString(got.DistributionConfig.Comment) == want
			})
		}
		cur, etag = tc.nodes[0].distConfig(t)
	}
}

// apiCode is the API error code of err ("" for none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestFunctionsAndStoresReachEveryNode: a function and a key value store
// made through the API of one node are there on the others within a
// second, with the same ETags; two nodes creating a function of the same
// name at once: one creates it, the other gets FunctionAlreadyExists.
func TestFunctionsAndStoresReachEveryNode(t *testing.T) {
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	ctx := testContext(t)
	code := []byte("function handler(event) { return event.request; }")
	fc := &types.FunctionConfig{Comment: aws.String("pass"), Runtime: types.FunctionRuntimeCloudfrontJs20}
	fn, err := a.cf.CreateFunction(ctx, &cloudfront.CreateFunctionInput{Name: aws.String("pass"), FunctionCode: code, FunctionConfig: fc})
	if err != nil {
		t.Fatalf("a: CreateFunction: %v", err)
	}
	st, err := b.cf.CreateKeyValueStore(ctx, &cloudfront.CreateKeyValueStoreInput{Name: aws.String("flags"), Comment: aws.String("made on b")})
	if err != nil {
		t.Fatalf("b: CreateKeyValueStore: %v", err)
	}
	for _, nd := range tc.nodes {
		eventually(t, time.Second, nd.name+" has the function and the store", func() bool {
			f, err := nd.cf.DescribeFunction(ctx, &cloudfront.DescribeFunctionInput{Name: aws.String("pass")})
			if err != nil || aws.ToString(f.ETag) != aws.ToString(fn.ETag) {
				return false
			}
			s, err := nd.cf.DescribeKeyValueStore(ctx, &cloudfront.DescribeKeyValueStoreInput{Name: aws.String("flags")})
			return err == nil && aws.ToString(s.ETag) == aws.ToString(st.ETag) && aws.ToString(s.KeyValueStore.ARN) == aws.ToString(st.KeyValueStore.ARN)
		})
	}
	// c publishes what a created.
	if _, err := c.cf.PublishFunction(ctx, &cloudfront.PublishFunctionInput{Name: aws.String("pass"), IfMatch: fn.ETag}); err != nil {
		t.Fatalf("c: PublishFunction: %v", err)
	}
	eventually(t, time.Second, "a sees the function published", func() bool {
		f, err := a.cf.DescribeFunction(ctx, &cloudfront.DescribeFunctionInput{Name: aws.String("pass"), Stage: types.FunctionStageLive})
		return err == nil && f.FunctionSummary.FunctionMetadata.Stage == types.FunctionStageLive
	})

	var wg sync.WaitGroup
	errs := make([]error, 2)
	start := make(chan struct{})
	for i, nd := range []*node{a, b} {
		wg.Go(func() {
			<-start
			_, errs[i] = nd.cf.CreateFunction(ctx, &cloudfront.CreateFunctionInput{Name: aws.String("twice"), FunctionCode: code, FunctionConfig: fc})
		})
	}
	close(start)
	wg.Wait()
	codes := []string{apiCode(errs[0]), apiCode(errs[1])}
	if !(codes[0] == "" && codes[1] == "FunctionAlreadyExists" || codes[1] == "" && codes[0] == "FunctionAlreadyExists") {
		t.Errorf("CreateFunction of one name on a and b at once: %q, want one success and one FunctionAlreadyExists", codes)
	}
}

// TestUnappliableEntryDoesNotStopANode: an entry of the shared
// configuration a node cannot load (here, a distribution its settings do
// not have) is skipped — the node still starts, serves, and applies the
// other entries.
func TestUnappliableEntryDoesNotStopANode(t *testing.T) {
	tc := newTestCluster(t, 3)
	a, c := tc.nodes[0], tc.nodes[2]
	bogus := []byte(`{"config":{"CallerReference":"x","Origins":{"Quantity":0},"DefaultCacheBehavior":{"TargetOriginId":"none"}}}`)
	if _, err := a.cn.Write(testContext(t), control.SharedEntry{Key: "dist.ENOSUCHDIST1", Value: bogus}); err != nil {
		t.Fatal(err)
	}
	cur, etag := a.distConfig(t)
	cur.DistributionConfig.Comment = aws.String("applied after the bad entry")
	if _, err := a.cf.UpdateDistribution(testContext(t), &cloudfront.UpdateDistributionInput{
		Id: aws.String(dist), IfMatch: aws.String(etag), DistributionConfig: cur.DistributionConfig}); err != nil {
		t.Fatalf("a: UpdateDistribution: %v", err)
	}
	c.stop()
	if err := tc.start(testContext(t), c); err != nil {
		t.Fatalf("c with an entry it cannot apply: %v", err)
	}
	if got, _ := c.distConfig(t); aws.ToString(got.DistributionConfig.Comment) != "applied after the bad entry" {
		t.Errorf("c after its restart: comment %q", aws.ToString(got.DistributionConfig.Comment))
	}
	if x := c.get(t, "/a.txt"); x != miss && x != hit {
		t.Errorf("c serves: X-Cache %q", x)
	}
}
