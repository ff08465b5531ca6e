// Package config reads edgefront's configuration: CloudFront's own
// DistributionConfig (as `aws cloudfront get-distribution-config` prints it,
// in JSON or YAML) plus the edgefront settings that sit beside it, validates
// both with CloudFront's rules, and compiles them into the immutable runtime
// model of model.go.
//
// Every problem is reported as an Error naming the file, the field path (for
// example DistributionConfig.CacheBehaviors.Items[0].PathPattern) and the
// reason; Load and Parse collect all of them instead of stopping at the first.
//
// CloudFormation/CDK templates are read as they are (cloudformation.go,
// cfnvalues.go, cfnsettings.go): references resolve to the values
// CloudFormation would produce, and what only a stack knows comes from
// TemplateInputs. Terraform is read the same way (terraform.go and its
// neighbours): .tf files with HCL's own reader, or `terraform show -json`
// output, each aws_cloudfront_* resource converted into the API's shape and
// compiled like any other. Settings that are accepted but not emulated are listed
// once (ignored.go) and reported by Config.Warnings.
//
// CloudFront Functions and their key value stores (functions.go, and
// cfnfunctions.go for templates) are read, size-checked and parsed here;
// behaviours point at the functions their FunctionAssociations name, and
// package edge runs them.
//
// CloudFront's defaults, ranges and managed policies live here, once: other
// packages read the compiled model and never re-derive them.
package config
