package control_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgefront/edgefront/control"
)

func TestGetAndListDistributions(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	cfg := e.proxy.Config()
	for _, d := range cfg.Distributions {
		out, err := e.cf.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: aws.String(d.ID)})
		if err != nil {
			t.Fatalf("GetDistribution %s: %v", d.ID, err)
		}
		got := out.Distribution
		if *got.Id != d.ID || *got.DomainName != d.DomainName || *got.Status != "Deployed" || aws.ToString(out.ETag) != d.ETag ||
			*got.ARN != "arn:aws:cloudfront::123456789012:distribution/"+d.ID || got.LastModifiedTime == nil {
			t.Errorf("GetDistribution %s = %s %s %s %s %s", d.ID, *got.Id, *got.DomainName, *got.Status, aws.ToString(out.ETag), *got.ARN)
		}
		if c := got.DistributionConfig; *c.CallerReference != d.Raw.CallerReference || *c.Comment != d.Comment ||
			*c.Origins.Quantity != 1 || *c.Origins.Items[0].Id != "web" || *c.DefaultCacheBehavior.CachePolicyId != "Managed-CachingOptimized" {
			t.Errorf("GetDistribution %s config = %+v", d.ID, c)
		}
		cout, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(d.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(cout.ETag) != d.ETag || *cout.DistributionConfig.CallerReference != d.Raw.CallerReference {
			t.Errorf("GetDistributionConfig %s: ETag %s", d.ID, aws.ToString(cout.ETag))
		}
	}
	for _, call := range []func() error{
		func() error {
			_, err := e.cf.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: aws.String("ENOSUCHDIST01")})
			return err
		},
		func() error {
			_, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String("ENOSUCHDIST01")})
			return err
		},
	} {
		if code, status := apiCode(t, call()); code != "NoSuchDistribution" || status != 404 {
			t.Errorf("unknown distribution: %s %d", code, status)
		}
	}

	var ids []string
	p := cloudfront.NewListDistributionsPaginator(e.cf, &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if *out.DistributionList.Quantity != 1 {
			t.Errorf("page of %d", *out.DistributionList.Quantity)
		}
		for _, s := range out.DistributionList.Items {
			ids = append(ids, *s.Id)
			if *s.Status != "Deployed" || *s.DomainName == "" || *s.Origins.Items[0].Id != "web" || !*s.Enabled || s.ETag == nil {
				t.Errorf("summary %+v", s)
			}
		}
	}
	if strings.Join(ids, ",") != one+","+two {
		t.Errorf("ListDistributions = %v", ids)
	}
	_, err := e.cf.ListDistributions(ctx(t), &cloudfront.ListDistributionsInput{Marker: aws.String(two)})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateDistribution changes a distribution with the real client and
// checks the change through the proxy.
func TestUpdateDistribution(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	cur, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.status("www.example.test", "/a.txt"); st != 403 {
		t.Fatalf("an unknown host: %d, want 403", st)
	}
	e.get(oneHost, "/a.txt")
	if x, _ := e.get(oneHost, "/a.txt"); x != "Hit from cloudfront" {
		t.Fatalf("before: %q", x)
	}

	// An alias and the CachingDisabled policy.
	dc := cur.DistributionConfig
	dc.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.example.test"}}
	dc.DefaultCacheBehavior.CachePolicyId = aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
	dc.Comment = aws.String("updated through the API")
	upd, err := e.cf.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(one), IfMatch: cur.ETag, DistributionConfig: dc})
	if err != nil {
		t.Fatalf("UpdateDistribution: %v", err)
	}
	if aws.ToString(upd.ETag) == aws.ToString(cur.ETag) || *upd.Distribution.DistributionConfig.Comment != "updated through the API" {
		t.Errorf("update answered ETag %s (was %s), comment %q", aws.ToString(upd.ETag), aws.ToString(cur.ETag), *upd.Distribution.DistributionConfig.Comment)
	}
	if x, _ := e.get("www.example.test", "/a.txt"); x != "Miss from cloudfront" {
		t.Errorf("the new alias: X-Cache %q", x)
	}
	if x, _ := e.get(oneHost, "/fresh.txt"); x != "Miss from cloudfront" {
		t.Errorf("CachingDisabled first: %q", x)
	}
	if x, _ := e.get(oneHost, "/fresh.txt"); x != "Miss from cloudfront" {
		t.Errorf("CachingDisabled second: %q", x)
	}
	if n := e.origin.count("/fresh.txt"); n != 2 {
		t.Errorf("origin fetches with CachingDisabled = %d, want 2", n)
	}
	now, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(now.ETag) != aws.ToString(upd.ETag) || now.DistributionConfig.Aliases.Items[0] != "www.example.test" {
		t.Errorf("GetDistributionConfig after the update: ETag %s, aliases %v", aws.ToString(now.ETag), now.DistributionConfig.Aliases.Items)
	}

	// Errors: the running configuration keeps serving.
	bad := func(mut func(*types.DistributionConfig)) *types.DistributionConfig {
		c, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
		if err != nil {
			t.Fatal(err)
		}
		mut(c.DistributionConfig)
		return c.DistributionConfig
	}
	good := now.DistributionConfig
	tests := []struct {
		name    string
		id      string
		ifMatch *string
		dc      *types.DistributionConfig
		code    string
		status  int
	}{
		{"no If-Match", one, nil, good, "InvalidIfMatchVersion", 400},
		{"stale If-Match", one, cur.ETag, good, "PreconditionFailed", 412},
		{"unknown distribution", "ENOSUCHDIST01", now.ETag, good, "NoSuchDistribution", 404},
		{"unknown target origin", one, now.ETag, bad(func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.TargetOriginId = aws.String("nowhere")
		}), "InvalidArgument", 400},
		{"unknown cache policy", one, now.ETag, bad(func(c *types.DistributionConfig) {
			c.DefaultCacheBehavior.CachePolicyId = aws.String("no-such-policy")
		}), "InvalidArgument", 400},
		{"alias of another distribution", one, now.ETag, bad(func(c *types.DistributionConfig) {
			c.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{twoHost}}
		}), "InvalidArgument", 400},
		{"quantity mismatch", one, now.ETag, bad(func(c *types.DistributionConfig) {
			c.Aliases = &types.Aliases{Quantity: aws.Int32(3), Items: []string{"x.example.test"}}
		}), "InconsistentQuantities", 400},
		{"caller reference changed", one, now.ETag, bad(func(c *types.DistributionConfig) {
			c.CallerReference = aws.String("other")
		}), "IllegalUpdate", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cf.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(tc.id), IfMatch: tc.ifMatch, DistributionConfig: tc.dc})
			if code, status := apiCode(t, err); code != tc.code || status != tc.status {
				t.Errorf("error = %s %d (%v), want %s %d", code, status, err, tc.code, tc.status)
			}
			after, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(after.ETag) != aws.ToString(now.ETag) {
				t.Errorf("a refused update changed the ETag to %s", aws.ToString(after.ETag))
			}
			if x, _ := e.get("www.example.test", "/a.txt"); x == "" {
				t.Errorf("the running configuration stopped serving")
			}
		})
	}
}

// TestDistributionConfigRoundTrip reads a DistributionConfig that sets
// nearly every field with the real client and writes it back unchanged:
// every element name and list item name must be the SDK's, or a field
// would be lost on the way.
func TestDistributionConfigRoundTrip(t *testing.T) {
	e := newEnv(t, "full.yaml", control.Options{})
	const id = "EFULL0000001"
	want := e.proxy.Config().Distributions[0]
	got, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ETag) != want.ETag {
		t.Errorf("ETag %s, want %s", aws.ToString(got.ETag), want.ETag)
	}
	// What the SDK decoded, as JSON, is what the fixture says (the SDK's
	// JSON names are the API's).
	var fixture struct{ DistributionConfig json.RawMessage }
	data, err := os.ReadFile(filepath.Join("testdata", "full-distribution.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &fixture); err != nil {
		t.Fatal(err)
	}
	if diff := jsonDiff(t, fixture.DistributionConfig, got.DistributionConfig); diff != "" {
		t.Errorf("the SDK read a different DistributionConfig: %s", diff)
	}
	upd, err := e.cf.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(id), IfMatch: got.ETag, DistributionConfig: got.DistributionConfig})
	if err != nil {
		t.Fatalf("UpdateDistribution with what GetDistributionConfig returned: %v", err)
	}
	if aws.ToString(upd.ETag) != want.ETag {
		t.Errorf("an unchanged config got a new ETag %s (was %s)", aws.ToString(upd.ETag), want.ETag)
	}
	now := e.proxy.Config().Distributions[0]
	if !reflect.DeepEqual(now.Raw, want.Raw) {
		a, _ := json.Marshal(want.Raw)
		b, _ := json.Marshal(now.Raw)
		t.Errorf("the round trip changed the config:\n%s\n%s", a, b)
	}
}

// jsonDiff compares two values by their JSON, ignoring null and absent
// members; it returns the first difference.
func jsonDiff(t *testing.T, want json.RawMessage, got any) string {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g, &b); err != nil {
		t.Fatal(err)
	}
	return diffValues("", prune(a), prune(b))
}

// prune drops nulls and empty strings (the SDK's zero enums).
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if val == nil || val == "" {
				continue
			}
			out[k] = prune(val)
		}
		return out
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
	}
	return v
}

func diffValues(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path + ": not an object"
		}
		for k := range x {
			if d := diffValues(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return path + "." + k + ": unexpected"
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path + ": lists differ"
		}
		for i := range x {
			if d := diffValues(path+"[]", x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return path + ": " + string(ja) + " != " + string(jb)
	}
	return ""
}
