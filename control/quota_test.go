package control_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
)

// TestUpdateDistributionQuotas sends UpdateDistribution with the real
// client beyond each of CloudFront's per-distribution quotas (cache
// behaviours, origins, origin groups): each is refused with CloudFront's
// error code (400) and the running configuration keeps serving unchanged.
// At the quota the update is accepted and serves.
func TestUpdateDistributionQuotas(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	cur, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	e.get(oneHost, "/b0/x")
	if x, _ := e.get(oneHost, "/b0/x"); x != "Hit from cloudfront" {
		t.Fatalf("before: %q", x)
	}
	// with returns the current config changed by mut.
	with := func(mut func(*types.DistributionConfig)) *types.DistributionConfig {
		c, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
		if err != nil {
			t.Fatal(err)
		}
		mut(c.DistributionConfig)
		return c.DistributionConfig
	}
	tests := []struct {
		name string
		dc   *types.DistributionConfig
		code string
	}{
		{"cache behaviours", with(func(c *types.DistributionConfig) {
			c.CacheBehaviors = behaviors(c, config.DefaultCacheBehaviorsPerDistribution+1)
		}), "TooManyCacheBehaviors"},
		{"2,000 cache behaviours", with(func(c *types.DistributionConfig) { c.CacheBehaviors = behaviors(c, 2000) }), "TooManyCacheBehaviors"},
		{"origins", with(func(c *types.DistributionConfig) {
			c.Origins = origins(c, config.DefaultOriginsPerDistribution+1)
		}), "TooManyOrigins"},
		{"origin groups", with(func(c *types.DistributionConfig) {
			c.Origins = origins(c, 2*(config.DefaultOriginGroupsPerDistribution+1))
			c.OriginGroups = originGroups(config.DefaultOriginGroupsPerDistribution + 1)
		}), "TooManyOriginGroupsPerDistribution"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cf.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(one), IfMatch: cur.ETag, DistributionConfig: tc.dc})
			if code, status := apiCode(t, err); code != tc.code || status != 400 {
				t.Errorf("error = %s %d (%v), want %s 400", code, status, err, tc.code)
			}
			after, err := e.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(after.ETag) != aws.ToString(cur.ETag) {
				t.Errorf("a refused update changed the ETag to %s", aws.ToString(after.ETag))
			}
			if x, _ := e.get(oneHost, "/b0/x"); x != "Hit from cloudfront" {
				t.Errorf("the running configuration: X-Cache %q, want its cached hit", x)
			}
		})
	}

	// At the quota: accepted, and the behaviours serve.
	dc := with(func(c *types.DistributionConfig) {
		c.CacheBehaviors = behaviors(c, config.DefaultCacheBehaviorsPerDistribution)
		c.CacheBehaviors.Items[0].CachePolicyId = aws.String("4135ea2d-6df8-44a3-9df3-4b5a84be39ad") // CachingDisabled on /b0/*
	})
	if _, err := e.cf.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(one), IfMatch: cur.ETag, DistributionConfig: dc}); err != nil {
		t.Fatalf("%d cache behaviours (the quota): %v", config.DefaultCacheBehaviorsPerDistribution, err)
	}
	if x, _ := e.get(oneHost, "/b0/x"); x != "Miss from cloudfront" {
		t.Errorf("/b0/x under its new CachingDisabled behaviour: X-Cache %q", x)
	}
}

// behaviors returns n cache behaviours /b0/*, /b1/*, … like c's default.
func behaviors(c *types.DistributionConfig, n int) *types.CacheBehaviors {
	d := c.DefaultCacheBehavior
	items := make([]types.CacheBehavior, n)
	for i := range items {
		items[i] = types.CacheBehavior{PathPattern: aws.String(fmt.Sprintf("/b%d/*", i)), TargetOriginId: d.TargetOriginId,
			ViewerProtocolPolicy: d.ViewerProtocolPolicy, CachePolicyId: d.CachePolicyId}
	}
	return &types.CacheBehaviors{Quantity: aws.Int32(int32(n)), Items: items}
}

// origins returns c's origins and copies of its first up to n in all.
func origins(c *types.DistributionConfig, n int) *types.Origins {
	items := append([]types.Origin(nil), c.Origins.Items...)
	for i := len(items); i < n; i++ {
		o := c.Origins.Items[0]
		o.Id = aws.String(fmt.Sprintf("copy%d", i))
		items = append(items, o)
	}
	return &types.Origins{Quantity: aws.Int32(int32(len(items))), Items: items}
}

// originGroups returns n groups, group i failing over from origin copy2i
// (the first: the original origin) to copy2i+1.
func originGroups(n int) *types.OriginGroups {
	id := func(i int) *string {
		if i == 0 {
			return aws.String("web")
		}
		return aws.String(fmt.Sprintf("copy%d", i))
	}
	items := make([]types.OriginGroup, n)
	for i := range items {
		items[i] = types.OriginGroup{
			Id: aws.String(fmt.Sprintf("group%d", i)),
			FailoverCriteria: &types.OriginGroupFailoverCriteria{
				StatusCodes: &types.StatusCodes{Quantity: aws.Int32(1), Items: []int32{500}},
			},
			Members: &types.OriginGroupMembers{Quantity: aws.Int32(2), Items: []types.OriginGroupMember{
				{OriginId: id(2 * i)}, {OriginId: id(2*i + 1)},
			}},
		}
	}
	return &types.OriginGroups{Quantity: aws.Int32(int32(n)), Items: items}
}
