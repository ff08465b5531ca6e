package config

import (
	"errors"
	"strings"
	"testing"
)

// TestCloudFrontAcceptsOrRefuses: configuration CloudFront's API accepts or
// refuses, with the error code it answers (Error.Code; "" is
// InvalidArgument). One row per rule, citing the Developer Guide page.
func TestCloudFrontAcceptsOrRefuses(t *testing.T) {
	const origin = `
CallerReference: r
DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
Origins:
  Items:
    - Id: o
      DomainName: o.example.com
`
	custom := func(extra string) string {
		return origin + "      CustomOriginConfig: {OriginProtocolPolicy: https-only" + extra + "}\n"
	}
	withHeader := func(name string) string {
		return custom("") + "      CustomHeaders: {Items: [{HeaderName: " + name + ", HeaderValue: v}]}\n"
	}
	group := func(codes string) string {
		return custom("") + `    - {Id: p, DomainName: p.example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}
OriginGroups:
  Items:
    - Id: g
      Members: {Items: [{OriginId: o}, {OriginId: p}]}
      FailoverCriteria: {StatusCodes: {Items: [` + codes + `]}}
`
	}
	const settings = `distributions: [{id: E1, config: {CallerReference: r, Origins: {Items: [{Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}]},
  DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}}}]
`
	cachePolicy := func(header string) string {
		return settings + `cachePolicies:
  - Id: cp-1
    CachePolicyConfig:
      Name: keyed
      MinTTL: 0
      ParametersInCacheKeyAndForwardedToOrigin:
        EnableAcceptEncodingGzip: false
        HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [` + header + `]}}
        CookiesConfig: {CookieBehavior: none}
        QueryStringsConfig: {QueryStringBehavior: none}
`
	}
	originRequestPolicy := func(header string) string {
		return settings + `originRequestPolicies:
  - Id: orp-1
    OriginRequestPolicyConfig:
      Name: fwd
      HeadersConfig: {HeaderBehavior: whitelist, Headers: {Items: [` + header + `]}}
      CookiesConfig: {CookieBehavior: none}
      QueryStringsConfig: {QueryStringBehavior: none}
`
	}
	removeHeader := func(name string) string {
		return settings + `responseHeadersPolicies:
  - Id: rhp-1
    ResponseHeadersPolicyConfig:
      Name: strip
      RemoveHeadersConfig: {Items: [{Header: ` + name + `}]}
`
	}

	tests := []struct {
		name, guide string
		file, doc   string // file: "d.yaml" (a DistributionConfig) or "s.yaml" (a settings file)
		wantField   string // "" when accepted
		wantReason  string
		wantCode    string
	}{
		{"ORP listing Authorization refused", "add-origin-custom-headers (Configure CloudFront to forward the Authorization header)",
			"s.yaml", originRequestPolicy("Authorization"),
			"originRequestPolicies[0].OriginRequestPolicyConfig.HeadersConfig.Headers.Items[0]", "Authorization cannot be forwarded", ""},
		{"custom header Host refused", "add-origin-custom-headers (Custom headers that CloudFront can't add to origin requests)",
			"d.yaml", withHeader("host"),
			"DistributionConfig.Origins.Items[0].CustomHeaders.Items[0].HeaderName", "Host is a header CloudFront can't add", ""},
		{"custom header X-Amz-* refused", "add-origin-custom-headers",
			"d.yaml", withHeader("X-Amz-Date"),
			"DistributionConfig.Origins.Items[0].CustomHeaders.Items[0].HeaderName", "X-Amz-Date is a header CloudFront can't add", ""},
		{"custom header X-Edge-* refused", "add-origin-custom-headers",
			"d.yaml", withHeader("X-Edge-Origin"),
			"DistributionConfig.Origins.Items[0].CustomHeaders.Items[0].HeaderName", "X-Edge-Origin is a header CloudFront can't add", ""},
		{"custom header X-Real-IP refused", "add-origin-custom-headers",
			"d.yaml", withHeader("X-Real-IP"),
			"DistributionConfig.Origins.Items[0].CustomHeaders.Items[0].HeaderName", "X-Real-Ip is a header CloudFront can't add", ""},
		{"custom header X-Origin-Verify accepted", "add-origin-custom-headers",
			"d.yaml", withHeader("X-Origin-Verify"), "", "", ""},
		{"remove Content-Length refused", "understanding-response-headers-policies (Headers that you can't remove)",
			"s.yaml", removeHeader("Content-Length"),
			"responseHeadersPolicies[0].ResponseHeadersPolicyConfig.RemoveHeadersConfig.Items[0].Header", "Content-Length cannot be removed", ""},
		{"remove X-Amz-Cf-Pop refused", "understanding-response-headers-policies (X-Amz-Cf-.*)",
			"s.yaml", removeHeader("X-Amz-Cf-Pop"),
			"responseHeadersPolicies[0].ResponseHeadersPolicyConfig.RemoveHeadersConfig.Items[0].Header", "X-Amz-Cf-Pop cannot be removed", ""},
		{"remove X-Cache refused", "understanding-response-headers-policies",
			"s.yaml", removeHeader("X-Cache"),
			"responseHeadersPolicies[0].ResponseHeadersPolicyConfig.RemoveHeadersConfig.Items[0].Header", "X-Cache cannot be removed", ""},
		{"remove X-Powered-By accepted", "understanding-response-headers-policies (Remove headers)",
			"s.yaml", removeHeader("X-Powered-By"), "", "", ""},
		{"failover on 400 accepted", "high_availability_origin_failover",
			"d.yaml", group("400, 503"), "", "", ""},
		{"failover on 416 accepted", "high_availability_origin_failover",
			"d.yaml", group("416"), "", "", ""},
		{"failover on 501 refused", "high_availability_origin_failover",
			"d.yaml", group("501"),
			"DistributionConfig.OriginGroups.Items[0].FailoverCriteria.StatusCodes.Items[0]", "501 is not a failover status code", ""},
		{"OriginReadTimeout 120 accepted", "cloudfront-limits (Response timeout per origin: 1-120 seconds)",
			"d.yaml", custom(", OriginReadTimeout: 120"), "", "", ""},
		{"OriginReadTimeout 121 refused", "cloudfront-limits (Response timeout per origin: 1-120 seconds)",
			"d.yaml", custom(", OriginReadTimeout: 121"),
			"DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginReadTimeout", "must be between 1 and 120 (got 121)", "InvalidOriginReadTimeout"},
		{"OriginKeepaliveTimeout 121 refused", "cloudfront-limits (Keep-alive timeout per origin: 1-120 seconds)",
			"d.yaml", custom(", OriginKeepaliveTimeout: 121"),
			"DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginKeepaliveTimeout", "must be between 1 and 120 (got 121)", "InvalidOriginKeepaliveTimeout"},
		{"ResponseCompletionTimeout under the read timeout refused", "DownloadDistValuesOrigin (Response completion timeout)",
			"d.yaml", strings.Replace(custom(", OriginReadTimeout: 30"), "      DomainName", "      ResponseCompletionTimeout: 10\n      DomainName", 1),
			"DistributionConfig.Origins.Items[0].ResponseCompletionTimeout", "must be at least the origin read timeout (30 s), got 10", ""},
		{"ResponseCompletionTimeout accepted", "DownloadDistValuesOrigin (Response completion timeout)",
			"d.yaml", strings.Replace(custom(""), "      DomainName", "      ResponseCompletionTimeout: 90\n      DomainName", 1), "", "", ""},
		{"cache policy keying CloudFront-Viewer-Address refused", "adding-cloudfront-headers",
			"s.yaml", cachePolicy("CloudFront-Viewer-Address"),
			"cachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers.Items[0]",
			"Cloudfront-Viewer-Address can be added in an origin request policy, but not in a cache policy", ""},
		{"cache policy keying CloudFront-Viewer-ASN refused", "adding-cloudfront-headers",
			"s.yaml", cachePolicy("CloudFront-Viewer-ASN"),
			"cachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers.Items[0]", "Cloudfront-Viewer-Asn can be added", ""},
		{"cache policy keying CloudFront-Viewer-TLS refused", "adding-cloudfront-headers",
			"s.yaml", cachePolicy("CloudFront-Viewer-TLS"),
			"cachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers.Items[0]", "Cloudfront-Viewer-Tls can be added", ""},
		{"cache policy keying CloudFront-Viewer-JA3-Fingerprint refused", "adding-cloudfront-headers",
			"s.yaml", cachePolicy("CloudFront-Viewer-JA3-Fingerprint"),
			"cachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers.Items[0]", "Cloudfront-Viewer-Ja3-Fingerprint can be added", ""},
		{"cache policy keying CloudFront-Viewer-JA4-Fingerprint refused", "adding-cloudfront-headers",
			"s.yaml", cachePolicy("CloudFront-Viewer-JA4-Fingerprint"),
			"cachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers.Items[0]", "Cloudfront-Viewer-Ja4-Fingerprint can be added", ""},
		{"cache policy keying CloudFront-Viewer-City accepted", "adding-cloudfront-headers",
			"s.yaml", cachePolicy("CloudFront-Viewer-City"), "", "", ""},
		{"origin request policy forwarding JA3 and JA4 accepted", "adding-cloudfront-headers",
			"s.yaml", originRequestPolicy("CloudFront-Viewer-JA3-Fingerprint, CloudFront-Viewer-JA4-Fingerprint, CloudFront-Viewer-Address"), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.doc))
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("refused (%s): %v", tt.guide, err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("accepted, want %s refused (%s); err %v", tt.wantField, tt.guide, err)
			}
			for _, e := range es {
				if e.Field != tt.wantField {
					continue
				}
				if !strings.Contains(e.Reason, tt.wantReason) {
					t.Errorf("reason %q, want it to contain %q (%s)", e.Reason, tt.wantReason, tt.guide)
				}
				if e.Code != tt.wantCode {
					t.Errorf("code %q, want %q (%s)", e.Code, tt.wantCode, tt.guide)
				}
				return
			}
			t.Fatalf("no error at %s (%s); got:\n%v", tt.wantField, tt.guide, err)
		})
	}
}
