package control

import "strings"

// apiResources are the CloudFront API's resource collections by their path
// segment under /2020-05-31/, with the singular and plural names its
// operations use (CreateCachePolicy, ListCachePolicies).
var apiResources = map[string][2]string{
	"distribution":                   {"Distribution", "Distributions"},
	"cache-policy":                   {"CachePolicy", "CachePolicies"},
	"origin-request-policy":          {"OriginRequestPolicy", "OriginRequestPolicies"},
	"response-headers-policy":        {"ResponseHeadersPolicy", "ResponseHeadersPolicies"},
	"origin-access-control":          {"OriginAccessControl", "OriginAccessControls"},
	"origin-access-identity":         {"CloudFrontOriginAccessIdentity", "CloudFrontOriginAccessIdentities"},
	"public-key":                     {"PublicKey", "PublicKeys"},
	"key-group":                      {"KeyGroup", "KeyGroups"},
	"realtime-log-config":            {"RealtimeLogConfig", "RealtimeLogConfigs"},
	"continuous-deployment-policy":   {"ContinuousDeploymentPolicy", "ContinuousDeploymentPolicies"},
	"streaming-distribution":         {"StreamingDistribution", "StreamingDistributions"},
	"field-level-encryption":         {"FieldLevelEncryptionConfig", "FieldLevelEncryptionConfigs"},
	"field-level-encryption-profile": {"FieldLevelEncryptionProfile", "FieldLevelEncryptionProfiles"},
	"function":                       {"Function", "Functions"},
	"key-value-store":                {"KeyValueStore", "KeyValueStores"},
	"vpc-origin":                     {"VpcOrigin", "VpcOrigins"},
	"anycast-ip-list":                {"AnycastIpList", "AnycastIpLists"},
}

// operationName names the CloudFront API operation a request is, from its
// method, path and query, as the AWS CLI and SDKs send it ("" when it is
// none edgefront knows): POST /2020-05-31/distribution is
// CreateDistribution, GET /2020-05-31/cache-policy/ID/config is
// GetCachePolicyConfig.
func operationName(method, path, query string) string {
	rest, ok := strings.CutPrefix(path, Version)
	if !ok {
		return ""
	}
	seg := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case seg[0] == "tagging":
		switch {
		case method == "GET":
			return "ListTagsForResource"
		case strings.Contains(query, "Operation=Tag"):
			return "TagResource"
		case strings.Contains(query, "Operation=Untag"):
			return "UntagResource"
		}
		return ""
	case strings.HasPrefix(seg[0], "distributionsBy"):
		return "ListDistributionsBy" + strings.TrimPrefix(seg[0], "distributionsBy")
	}
	names, ok := apiResources[seg[0]]
	if !ok {
		return ""
	}
	seg = seg[1:]
	if names[0] == "CloudFrontOriginAccessIdentity" && len(seg) > 0 && seg[0] == "cloudfront" {
		seg = seg[1:] // origin-access-identity/cloudfront
	}
	one, many := names[0], names[1]
	switch {
	case len(seg) == 0 && method == "POST":
		if strings.Contains(query, "WithTags") {
			return "Create" + one + "WithTags"
		}
		return "Create" + one
	case len(seg) == 0 && method == "GET":
		return "List" + many
	case len(seg) == 1 && method == "GET":
		return "Get" + one
	case len(seg) == 1 && method == "PUT":
		return "Update" + one
	case len(seg) == 1 && method == "DELETE":
		return "Delete" + one
	case len(seg) == 2 && seg[1] == "config" && method == "GET":
		return "Get" + one + "Config"
	case len(seg) == 2 && seg[1] == "config" && method == "PUT":
		return "Update" + one
	case len(seg) == 2 && seg[1] == "copy" && method == "POST":
		return "Copy" + one
	case len(seg) == 2 && seg[1] == "promote-staging-config" && method == "PUT":
		return "UpdateDistributionWithStagingConfig"
	}
	return ""
}
