package control_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/edgefront/edgefront/control"
)

// TestUnsupportedOperations: an operation of CloudFront's API that
// edgefront does not serve is answered with InvalidAction naming it, as the
// real SDK sends it — the user learns what is missing, not a path.
func TestUnsupportedOperations(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	cases := []struct {
		op   string
		call func() error
	}{
		{"CreateDistribution", func() error {
			_, err := e.cf.CreateDistribution(ctx(t), &cloudfront.CreateDistributionInput{DistributionConfig: &types.DistributionConfig{
				CallerReference: aws.String("x"), Comment: aws.String(""), Enabled: aws.Bool(true),
				Origins:              &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{Id: aws.String("o"), DomainName: aws.String("o.example.com")}}},
				DefaultCacheBehavior: &types.DefaultCacheBehavior{TargetOriginId: aws.String("o"), ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll},
			}})
			return err
		}},
		{"DeleteDistribution", func() error {
			_, err := e.cf.DeleteDistribution(ctx(t), &cloudfront.DeleteDistributionInput{Id: aws.String("EDGE00000001"), IfMatch: aws.String("E1")})
			return err
		}},
		{"ListCachePolicies", func() error {
			_, err := e.cf.ListCachePolicies(ctx(t), &cloudfront.ListCachePoliciesInput{})
			return err
		}},
		{"GetCachePolicyConfig", func() error {
			_, err := e.cf.GetCachePolicyConfig(ctx(t), &cloudfront.GetCachePolicyConfigInput{Id: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")})
			return err
		}},
		{"ListCloudFrontOriginAccessIdentities", func() error {
			_, err := e.cf.ListCloudFrontOriginAccessIdentities(ctx(t), &cloudfront.ListCloudFrontOriginAccessIdentitiesInput{})
			return err
		}},
		{"ListTagsForResource", func() error {
			_, err := e.cf.ListTagsForResource(ctx(t), &cloudfront.ListTagsForResourceInput{Resource: aws.String("arn:aws:cloudfront::123456789012:distribution/EDGE00000001")})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			err := c.call()
			code, status := apiCode(t, err)
			var ae smithy.APIError
			errors.As(err, &ae)
			if code != "InvalidAction" || status != 400 || ae == nil || !strings.HasPrefix(ae.ErrorMessage(), c.op+" is not supported") {
				t.Errorf("%s: %v", c.op, err)
			}
		})
	}
}
