package config

// DistributionConfig is CloudFront's DistributionConfig as the API and
// `aws cloudfront get-distribution-config` print it (PascalCase fields).
type DistributionConfig struct {
	// TODO(config helper): every field of the current CloudFront API.
}
