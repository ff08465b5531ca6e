package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// This file gives the attributes Terraform only knows after apply the
// values edgefront derives, deterministically and the way the
// CloudFormation reader derives them (cfnvalues.go): the "Attribute
// Reference" of each resource's page in the AWS provider's documentation,
// with generated names and IDs hashed from the resource's address. The
// region is the aws provider's region argument (else us-east-1), the
// account 123456789012; --parameter AWS::Region / AWS::AccountId set them.

// region is the aws provider's region.
func (m *tfModule) region() string {
	if v, ok := m.inputs.Parameters["AWS::Region"]; ok {
		return v
	}
	if m.provider != nil {
		if a, ok := m.provider.body.Attributes["region"]; ok {
			if v, err := m.eval(a.Expr, nil); err == nil {
				if s, err := ctyString(v); err == nil && s != "" {
					return s
				}
			}
		}
	}
	return DefaultTemplateRegion
}

// account is the AWS account ID.
func (m *tfModule) account() string {
	if v, ok := m.inputs.Parameters["AWS::AccountId"]; ok {
		return v
	}
	return DefaultTemplateAccount
}

// tfComputedNames lists the attributes computed for a resource type.
func tfComputedNames(typ string) []string {
	switch typ {
	case "aws_s3_bucket":
		return []string{"id", "bucket", "arn", "bucket_domain_name", "bucket_regional_domain_name", "region"}
	case "aws_lb", "aws_alb":
		return []string{"id", "arn", "name", "dns_name", "arn_suffix"}
	case "aws_apigatewayv2_api":
		return []string{"id", "api_endpoint", "arn", "execution_arn"}
	case "aws_lambda_function":
		return []string{"id", "arn", "qualified_arn", "version", "function_name", "invoke_arn"}
	case "aws_lambda_function_url":
		return []string{"id", "function_url", "url_id"}
	case "aws_cloudfront_distribution":
		return []string{"id", "arn", "domain_name", "hosted_zone_id", "status", "etag"}
	case "aws_cloudfront_cache_policy", "aws_cloudfront_origin_request_policy", "aws_cloudfront_response_headers_policy",
		"aws_cloudfront_key_group":
		return []string{"id", "etag"}
	case "aws_cloudfront_origin_access_control":
		return []string{"id", "etag"}
	case "aws_cloudfront_origin_access_identity":
		return []string{"id", "cloudfront_access_identity_path", "iam_arn", "s3_canonical_user_id", "etag"}
	case "aws_cloudfront_public_key":
		return []string{"id", "name", "etag", "caller_reference"}
	case "aws_cloudfront_key_value_store":
		return []string{"id", "arn", "etag"}
	case "aws_cloudfront_function":
		return []string{"arn", "etag", "live_stage_etag", "status"}
	case "aws_acm_certificate":
		return []string{"id", "arn"}
	}
	return nil
}

// tfGeneratedName is the name Terraform generates for a resource without
// one: prefix and 26 digits (a timestamp and counter in Terraform; here a
// hash of the address), cut to max.
func tfGeneratedName(address, prefix string, max int) string {
	sum := hashUint32("tfname", address)
	digits := fmt.Sprintf("%026d", uint64(sum)*uint64(hashUint32("tfname2", address)))
	s := prefix + digits
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// nameArg is the resource's name argument, else name_prefix plus a
// generated suffix, else a generated name.
func (m *tfModule) nameArg(in *tfInstance, arg, def string, max int) (string, error) {
	name, err := m.argString(in, arg)
	if err != nil || name != "" {
		return name, err
	}
	prefix, err := m.argString(in, arg+"_prefix")
	if err != nil {
		return "", err
	}
	if prefix == "" {
		prefix = def
	}
	return tfGeneratedName(in.address(), prefix, max), nil
}

// computed returns a derived attribute of in; ok is false when the
// attribute is not derived (it may be an argument).
func (m *tfModule) computed(in *tfInstance, name string) (v cty.Value, ok bool, err error) {
	addr := in.address()
	region, account := m.region(), m.account()
	str := func(s string) (cty.Value, bool, error) { return cty.StringVal(s), true, nil }
	switch in.res.typ {
	case "aws_s3_bucket":
		bucket, err := m.nameArg(in, "bucket", "terraform-", 63)
		if err != nil {
			return cty.NilVal, true, err
		}
		switch name {
		case "id", "bucket":
			return str(bucket)
		case "arn":
			return str("arn:aws:s3:::" + bucket)
		case "bucket_domain_name":
			return str(bucket + ".s3.amazonaws.com")
		case "bucket_regional_domain_name":
			return str(bucket + ".s3." + region + ".amazonaws.com")
		case "region":
			return str(region)
		}
	case "aws_lb", "aws_alb":
		lbName, err := m.nameArg(in, "name", "tf-lb-", 32)
		if err != nil {
			return cty.NilVal, true, err
		}
		typ := "app"
		if t, _ := m.argString(in, "load_balancer_type"); t == "network" {
			typ = "net"
		}
		suffix := fmt.Sprintf("%s/%s/%s", typ, lbName, derivedLower(16, "lb", addr))
		arn := "arn:aws:elasticloadbalancing:" + region + ":" + account + ":loadbalancer/" + suffix
		switch name {
		case "id", "arn":
			return str(arn)
		case "arn_suffix":
			return str(suffix)
		case "name":
			return str(lbName)
		case "dns_name":
			dns := strings.ToLower(lbName) + "-" + strconv.FormatUint(uint64(hashUint32("dns", addr)), 10) + "." + region + ".elb.amazonaws.com"
			if internal, _ := m.argString(in, "internal"); internal == "true" {
				dns = "internal-" + dns
			}
			return str(dns)
		}
	case "aws_apigatewayv2_api":
		id := derivedLower(10, "httpapi", addr)
		switch name {
		case "id":
			return str(id)
		case "api_endpoint":
			return str("https://" + id + ".execute-api." + region + ".amazonaws.com")
		case "arn":
			return str("arn:aws:apigateway:" + region + "::/apis/" + id)
		case "execution_arn":
			return str("arn:aws:execute-api:" + region + ":" + account + ":" + id)
		}
	case "aws_lambda_function":
		fn, err := m.argString(in, "function_name")
		if err != nil {
			return cty.NilVal, true, err
		}
		arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + fn
		version := "$LATEST"
		if publish, _ := m.argString(in, "publish"); publish == "true" {
			version = "1"
		}
		switch name {
		case "id", "function_name":
			return str(fn)
		case "arn":
			return str(arn)
		case "qualified_arn":
			return str(arn + ":" + version)
		case "version":
			return str(version)
		case "invoke_arn":
			return str("arn:aws:apigateway:" + region + ":lambda:path/2015-03-31/functions/" + arn + "/invocations")
		}
	case "aws_lambda_function_url":
		id := derivedLower(32, "lambdaurl", addr)
		switch name {
		case "url_id":
			return str(id)
		case "function_url":
			return str("https://" + id + ".lambda-url." + region + ".on.aws/")
		case "id":
			fn, err := m.argString(in, "function_name")
			return cty.StringVal(fn), true, err
		}
	case "aws_cloudfront_distribution":
		id := tfDistributionID(addr)
		switch name {
		case "id":
			return str(id)
		case "arn":
			return str("arn:aws:cloudfront::" + account + ":distribution/" + id)
		case "domain_name":
			return str(strings.ToLower(DeriveDomainName(id)))
		case "hosted_zone_id":
			return str("Z2FDTNDATAQYW2")
		case "status":
			return str("Deployed")
		case "etag":
			return str("E" + hashChars("etag\x00"+addr, 13))
		}
	case "aws_cloudfront_cache_policy", "aws_cloudfront_origin_request_policy", "aws_cloudfront_response_headers_policy",
		"aws_cloudfront_key_group":
		switch name {
		case "id":
			return str(tfPolicyID(in.res.typ, addr))
		case "etag":
			return str("E" + hashChars("etag\x00"+addr, 13))
		}
	case "aws_cloudfront_origin_access_control", "aws_cloudfront_origin_access_identity":
		id := "E" + hashChars("oac\x00"+addr, 13)
		switch name {
		case "id":
			return str(id)
		case "etag":
			return str("E" + hashChars("etag\x00"+addr, 13))
		case "cloudfront_access_identity_path":
			return str("origin-access-identity/cloudfront/" + id)
		case "iam_arn":
			return str("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity " + id)
		case "s3_canonical_user_id":
			return str(derivedLower(64, "canonical", addr))
		}
	case "aws_cloudfront_public_key":
		switch name {
		case "id":
			return str("K" + hashChars("key\x00"+addr, 13))
		case "name":
			n, err := m.nameArg(in, "name", "tf-", 128)
			return cty.StringVal(n), true, err
		case "etag":
			return str("E" + hashChars("etag\x00"+addr, 13))
		case "caller_reference":
			return str("terraform-" + derivedLower(20, "caller", addr))
		}
	case "aws_cloudfront_key_value_store":
		id := derivedUUID("aws_cloudfront_key_value_store", addr)
		switch name {
		case "id":
			return str(id)
		case "arn":
			return str("arn:aws:cloudfront::" + account + ":key-value-store/" + id)
		case "etag":
			return str("E" + hashChars("etag\x00"+addr, 13))
		}
	case "aws_cloudfront_function":
		fn, err := m.argString(in, "name")
		if err != nil {
			return cty.NilVal, true, err
		}
		switch name {
		case "arn":
			return str("arn:aws:cloudfront::" + account + ":function/" + fn)
		case "etag", "live_stage_etag":
			return str("E" + hashChars("etag\x00"+addr, 13))
		case "status":
			return str("UNASSOCIATED")
		}
	case "aws_acm_certificate":
		if name == "id" || name == "arn" {
			return str("arn:aws:acm:" + region + ":" + account + ":certificate/" + derivedUUID("certificate", addr))
		}
	}
	return cty.NilVal, false, nil
}

// tfDistributionID is the distribution ID of the resource at address.
func tfDistributionID(address string) string { return DeriveDistributionID("terraform:" + address) }

// tfPolicyID is the ID of a policy or key group resource at address.
func tfPolicyID(typ, address string) string { return derivedUUID(typ, address) }

// dataValue is data.typ.name: the data sources that name what edgefront
// knows — managed CloudFront policies, the account and the region.
func (m *tfModule) dataValue(typ, name string, at hcl.Expression) (cty.Value, error) {
	r := m.data[typ][name]
	if r == nil {
		return cty.NilVal, m.exprError(at, fmt.Sprintf("no data source data.%s.%s in the module", typ, name))
	}
	in := &tfInstance{res: r}
	v, err := m.memoized(r.address(), func() (any, error) {
		attrs := map[string]cty.Value{}
		switch typ {
		case "aws_caller_identity":
			attrs["account_id"] = cty.StringVal(m.account())
			attrs["id"] = attrs["account_id"]
			attrs["arn"] = cty.StringVal("arn:aws:iam::" + m.account() + ":root")
		case "aws_region":
			attrs["name"] = cty.StringVal(m.region())
			attrs["region"] = attrs["name"]
			attrs["id"] = attrs["name"]
		case "aws_partition":
			attrs["partition"] = cty.StringVal("aws")
			attrs["dns_suffix"] = cty.StringVal("amazonaws.com")
			attrs["id"] = attrs["partition"]
		case "aws_cloudfront_cache_policy", "aws_cloudfront_origin_request_policy", "aws_cloudfront_response_headers_policy":
			key, err := m.argString(in, "name")
			if err != nil {
				return nil, err
			}
			if key == "" {
				if key, err = m.argString(in, "id"); err != nil {
					return nil, err
				}
			}
			id, pname, ok := m.managedPolicy(typ, key)
			if !ok {
				return nil, fmt.Errorf("data.%s.%s: %q is no managed policy edgefront knows; a custom policy is a resource of the module", typ, name, key)
			}
			attrs["id"], attrs["name"] = cty.StringVal(id), cty.StringVal(pname)
		default:
			return nil, fmt.Errorf("edgefront does not read the data source %s; write the value itself", typ)
		}
		return cty.ObjectVal(attrs), nil
	})
	if err != nil {
		return cty.NilVal, m.exprError(at, err.Error())
	}
	return v.(cty.Value), nil
}

// managedPolicy finds a managed policy by name or ID.
func (m *tfModule) managedPolicy(typ, key string) (id, name string, ok bool) {
	if m.pol == nil {
		return "", "", false
	}
	switch typ {
	case "aws_cloudfront_cache_policy":
		if c, ok := m.pol.cachePolicy(key); ok {
			return c.ID, c.Name, true
		}
	case "aws_cloudfront_origin_request_policy":
		if c, ok := m.pol.originRequestPolicy(key); ok {
			return c.ID, c.Name, true
		}
	case "aws_cloudfront_response_headers_policy":
		if c, ok := m.pol.responseHeadersPolicy(key); ok {
			return c.ID, c.Name, true
		}
	}
	return "", "", false
}
