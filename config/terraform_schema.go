package config

// This file is the Terraform AWS provider's spelling of CloudFront's
// resources ("aws_cloudfront_distribution" and friends, Argument Reference
// of each resource's page in the provider's documentation), as schemas of
// the same cfnProp kind the CloudFormation reader uses: each argument names
// the API field it sets. Repeated blocks (origin, ordered_cache_behavior …)
// and string lists become the API's {Quantity, Items} lists; a block that
// may appear once (default_cache_behavior, viewer_certificate …) is an
// object, whether it comes as a block, as a one-element list (`terraform
// show -json`) or as an object.

// tfArg is an argument named name in Terraform and api in the API.
func tfArg(name, api string, kind cfnKind) cfnProp { return cfnProp{name: name, api: api, kind: kind} }

// tfBlock is a nested block that may appear once.
func tfBlock(name, api string, elem cfnType) cfnProp {
	return cfnProp{name: name, api: api, kind: cfnObject, elem: elem}
}

// tfBlocks is a repeated block: the API list at api (its Items).
func tfBlocks(name, api string, elem cfnType) cfnProp {
	return cfnProp{name: name, api: api, kind: cfnList, elem: elem}
}

// tfStrings is a list of strings: the API list at api (its Items).
func tfStrings(name, api string) cfnProp { return cfnProp{name: name, api: api, kind: cfnList} }

// tfIgnored is an argument that only Terraform reads (tags,
// retain_on_delete …): accepted, with no effect on the edge.
func tfIgnored(name string) cfnProp { return cfnProp{name: name, kind: cfnLegacy} }

func tfCacheBehaviorSchema(withPath bool) cfnType {
	t := cfnType{
		tfStrings("allowed_methods", "AllowedMethods"),
		tfStrings("cached_methods", "AllowedMethods.CachedMethods"),
		tfArg("cache_policy_id", "CachePolicyId", cfnString),
		tfArg("compress", "Compress", cfnBool),
		tfArg("default_ttl", "DefaultTTL", cfnInt),
		tfArg("field_level_encryption_id", "FieldLevelEncryptionId", cfnString),
		tfBlock("forwarded_values", "ForwardedValues", cfnType{
			tfBlock("cookies", "Cookies", cfnType{
				tfArg("forward", "Forward", cfnString),
				tfStrings("whitelisted_names", "WhitelistedNames"),
			}),
			tfStrings("headers", "Headers"),
			tfArg("query_string", "QueryString", cfnBool),
			tfStrings("query_string_cache_keys", "QueryStringCacheKeys"),
		}),
		tfBlocks("function_association", "FunctionAssociations", cfnType{
			tfArg("event_type", "EventType", cfnString),
			tfArg("function_arn", "FunctionARN", cfnString),
		}),
		tfBlock("grpc_config", "GrpcConfig", cfnType{tfArg("enabled", "Enabled", cfnBool)}),
		tfBlocks("lambda_function_association", "LambdaFunctionAssociations", cfnType{
			tfArg("event_type", "EventType", cfnString),
			tfArg("include_body", "IncludeBody", cfnBool),
			tfArg("lambda_arn", "LambdaFunctionARN", cfnString),
		}),
		tfArg("max_ttl", "MaxTTL", cfnInt),
		tfArg("min_ttl", "MinTTL", cfnInt),
		tfArg("origin_request_policy_id", "OriginRequestPolicyId", cfnString),
		tfArg("realtime_log_config_arn", "RealtimeLogConfigArn", cfnString),
		tfArg("response_headers_policy_id", "ResponseHeadersPolicyId", cfnString),
		tfArg("smooth_streaming", "SmoothStreaming", cfnBool),
		tfArg("target_origin_id", "TargetOriginId", cfnString),
		{name: "trusted_key_groups", api: "TrustedKeyGroups", kind: cfnList, enable: true},
		{name: "trusted_signers", api: "TrustedSigners", kind: cfnList, enable: true},
		tfArg("viewer_protocol_policy", "ViewerProtocolPolicy", cfnString),
	}
	if withPath {
		t = append(t, tfArg("path_pattern", "PathPattern", cfnString))
	}
	return t
}

func tfOriginSchema() cfnType {
	return cfnType{
		tfArg("connection_attempts", "ConnectionAttempts", cfnInt),
		tfArg("connection_timeout", "ConnectionTimeout", cfnInt),
		tfBlocks("custom_header", "CustomHeaders", cfnType{
			tfArg("name", "HeaderName", cfnString),
			tfArg("value", "HeaderValue", cfnString),
		}),
		tfBlock("custom_origin_config", "CustomOriginConfig", cfnType{
			tfArg("http_port", "HTTPPort", cfnInt),
			tfArg("https_port", "HTTPSPort", cfnInt),
			tfArg("ip_address_type", "IpAddressType", cfnString),
			tfArg("origin_keepalive_timeout", "OriginKeepaliveTimeout", cfnInt),
			tfArg("origin_protocol_policy", "OriginProtocolPolicy", cfnString),
			tfArg("origin_read_timeout", "OriginReadTimeout", cfnInt),
			tfStrings("origin_ssl_protocols", "OriginSslProtocols"),
		}),
		tfArg("domain_name", "DomainName", cfnString),
		tfArg("origin_access_control_id", "OriginAccessControlId", cfnString),
		tfArg("origin_id", "Id", cfnString),
		tfArg("origin_path", "OriginPath", cfnString),
		tfBlock("origin_shield", "OriginShield", cfnType{
			tfArg("enabled", "Enabled", cfnBool),
			tfArg("origin_shield_region", "OriginShieldRegion", cfnString),
		}),
		tfArg("response_completion_timeout", "ResponseCompletionTimeout", cfnInt),
		tfBlock("s3_origin_config", "S3OriginConfig", cfnType{
			tfArg("origin_access_identity", "OriginAccessIdentity", cfnString),
		}),
		tfBlock("vpc_origin_config", "VpcOriginConfig", cfnType{
			tfArg("origin_keepalive_timeout", "OriginKeepaliveTimeout", cfnInt),
			tfArg("origin_read_timeout", "OriginReadTimeout", cfnInt),
			tfArg("owner_account_id", "OwnerAccountId", cfnString),
			tfArg("vpc_origin_id", "VpcOriginId", cfnString),
		}),
	}
}

// tfDistributionSchema is aws_cloudfront_distribution's arguments.
func tfDistributionSchema() cfnType {
	return cfnType{
		tfStrings("aliases", "Aliases"),
		tfArg("anycast_ip_list_id", "AnycastIpListId", cfnString),
		tfArg("comment", "Comment", cfnString),
		tfArg("continuous_deployment_policy_id", "ContinuousDeploymentPolicyId", cfnString),
		tfBlocks("custom_error_response", "CustomErrorResponses", cfnType{
			tfArg("error_caching_min_ttl", "ErrorCachingMinTTL", cfnInt),
			tfArg("error_code", "ErrorCode", cfnInt),
			tfArg("response_code", "ResponseCode", cfnString),
			tfArg("response_page_path", "ResponsePagePath", cfnString),
		}),
		tfBlock("default_cache_behavior", "DefaultCacheBehavior", tfCacheBehaviorSchema(false)),
		tfArg("default_root_object", "DefaultRootObject", cfnString),
		tfArg("enabled", "Enabled", cfnBool),
		tfArg("http_version", "HttpVersion", cfnString),
		tfArg("is_ipv6_enabled", "IsIPV6Enabled", cfnBool),
		{name: "logging_config", api: "Logging", kind: cfnObject, enable: true, elem: cfnType{
			tfArg("bucket", "Bucket", cfnString),
			tfArg("include_cookies", "IncludeCookies", cfnBool),
			tfArg("prefix", "Prefix", cfnString),
		}},
		tfBlocks("ordered_cache_behavior", "CacheBehaviors", tfCacheBehaviorSchema(true)),
		tfBlocks("origin", "Origins", tfOriginSchema()),
		tfBlocks("origin_group", "OriginGroups", cfnType{
			tfBlock("failover_criteria", "FailoverCriteria", cfnType{
				{name: "status_codes", api: "StatusCodes", kind: cfnList, item: cfnInt},
			}),
			tfBlocks("member", "Members", cfnType{tfArg("origin_id", "OriginId", cfnString)}),
			tfArg("origin_id", "Id", cfnString),
		}),
		tfArg("price_class", "PriceClass", cfnString),
		tfBlock("restrictions", "Restrictions", cfnType{
			tfBlock("geo_restriction", "GeoRestriction", cfnType{
				tfStrings("locations", "."),
				tfArg("restriction_type", "RestrictionType", cfnString),
			}),
		}),
		tfArg("staging", "Staging", cfnBool),
		tfBlock("viewer_certificate", "ViewerCertificate", cfnType{
			tfArg("acm_certificate_arn", "ACMCertificateArn", cfnString),
			tfArg("cloudfront_default_certificate", "CloudFrontDefaultCertificate", cfnBool),
			tfArg("iam_certificate_id", "IAMCertificateId", cfnString),
			tfArg("minimum_protocol_version", "MinimumProtocolVersion", cfnString),
			tfArg("ssl_support_method", "SSLSupportMethod", cfnString),
		}),
		tfArg("web_acl_id", "WebACLId", cfnString),
		tfIgnored("retain_on_delete"), tfIgnored("wait_for_deployment"), tfIgnored("tags"), tfIgnored("tags_all"),
	}
}

// tfItems is an {items = [...]} block of the policies: the API's {Items}.
func tfItems(name, api string) cfnProp {
	return tfBlock(name, api, cfnType{{name: "items", api: "Items", kind: cfnArray}})
}

// tfCachePolicySchema is aws_cloudfront_cache_policy's arguments, below
// CachePolicyConfig.
func tfCachePolicySchema() cfnType {
	return cfnType{
		tfArg("comment", "Comment", cfnString),
		tfArg("default_ttl", "DefaultTTL", cfnInt),
		tfArg("max_ttl", "MaxTTL", cfnInt),
		tfArg("min_ttl", "MinTTL", cfnInt),
		tfArg("name", "Name", cfnString),
		tfBlock("parameters_in_cache_key_and_forwarded_to_origin", "ParametersInCacheKeyAndForwardedToOrigin", cfnType{
			tfBlock("cookies_config", "CookiesConfig", cfnType{
				tfArg("cookie_behavior", "CookieBehavior", cfnString), tfItems("cookies", "Cookies"),
			}),
			tfArg("enable_accept_encoding_brotli", "EnableAcceptEncodingBrotli", cfnBool),
			tfArg("enable_accept_encoding_gzip", "EnableAcceptEncodingGzip", cfnBool),
			tfBlock("headers_config", "HeadersConfig", cfnType{
				tfArg("header_behavior", "HeaderBehavior", cfnString), tfItems("headers", "Headers"),
			}),
			tfBlock("query_strings_config", "QueryStringsConfig", cfnType{
				tfArg("query_string_behavior", "QueryStringBehavior", cfnString), tfItems("query_strings", "QueryStrings"),
			}),
		}),
	}
}

// tfOriginRequestPolicySchema is aws_cloudfront_origin_request_policy's
// arguments, below OriginRequestPolicyConfig.
func tfOriginRequestPolicySchema() cfnType {
	return cfnType{
		tfArg("comment", "Comment", cfnString),
		tfBlock("cookies_config", "CookiesConfig", cfnType{
			tfArg("cookie_behavior", "CookieBehavior", cfnString), tfItems("cookies", "Cookies"),
		}),
		tfBlock("headers_config", "HeadersConfig", cfnType{
			tfArg("header_behavior", "HeaderBehavior", cfnString), tfItems("headers", "Headers"),
		}),
		tfArg("name", "Name", cfnString),
		tfBlock("query_strings_config", "QueryStringsConfig", cfnType{
			tfArg("query_string_behavior", "QueryStringBehavior", cfnString), tfItems("query_strings", "QueryStrings"),
		}),
	}
}

// tfResponseHeadersPolicySchema is aws_cloudfront_response_headers_policy's
// arguments, below ResponseHeadersPolicyConfig.
func tfResponseHeadersPolicySchema() cfnType {
	override := tfArg("override", "Override", cfnBool)
	return cfnType{
		tfArg("comment", "Comment", cfnString),
		tfBlock("cors_config", "CorsConfig", cfnType{
			tfArg("access_control_allow_credentials", "AccessControlAllowCredentials", cfnBool),
			tfItems("access_control_allow_headers", "AccessControlAllowHeaders"),
			tfItems("access_control_allow_methods", "AccessControlAllowMethods"),
			tfItems("access_control_allow_origins", "AccessControlAllowOrigins"),
			tfItems("access_control_expose_headers", "AccessControlExposeHeaders"),
			tfArg("access_control_max_age_sec", "AccessControlMaxAgeSec", cfnInt),
			tfArg("origin_override", "OriginOverride", cfnBool),
		}),
		tfBlock("custom_headers_config", "CustomHeadersConfig", cfnType{
			tfBlocks("items", ".", cfnType{
				tfArg("header", "Header", cfnString), override, tfArg("value", "Value", cfnString),
			}),
		}),
		tfArg("name", "Name", cfnString),
		tfBlock("remove_headers_config", "RemoveHeadersConfig", cfnType{
			tfBlocks("items", ".", cfnType{tfArg("header", "Header", cfnString)}),
		}),
		tfBlock("security_headers_config", "SecurityHeadersConfig", cfnType{
			tfBlock("content_security_policy", "ContentSecurityPolicy", cfnType{
				tfArg("content_security_policy", "ContentSecurityPolicy", cfnString), override,
			}),
			tfBlock("content_type_options", "ContentTypeOptions", cfnType{override}),
			tfBlock("frame_options", "FrameOptions", cfnType{tfArg("frame_option", "FrameOption", cfnString), override}),
			tfBlock("referrer_policy", "ReferrerPolicy", cfnType{tfArg("referrer_policy", "ReferrerPolicy", cfnString), override}),
			tfBlock("strict_transport_security", "StrictTransportSecurity", cfnType{
				tfArg("access_control_max_age_sec", "AccessControlMaxAgeSec", cfnInt),
				tfArg("include_subdomains", "IncludeSubdomains", cfnBool),
				override,
				tfArg("preload", "Preload", cfnBool),
			}),
			tfBlock("xss_protection", "XSSProtection", cfnType{
				tfArg("mode_block", "ModeBlock", cfnBool), override,
				tfArg("protection", "Protection", cfnBool), tfArg("report_uri", "ReportUri", cfnString),
			}),
		}),
		tfBlock("server_timing_headers_config", "ServerTimingHeadersConfig", cfnType{
			tfArg("enabled", "Enabled", cfnBool), tfArg("sampling_rate", "SamplingRate", cfnString),
		}),
		tfIgnored("etag"),
	}
}

// tfPolicyKinds maps the policy resource types to the API's configuration
// key, the schema and the CloudFormation type their compiled form shares.
func tfPolicyKind(typ string) (key string, schema cfnType, cfnTyp string, ok bool) {
	switch typ {
	case "aws_cloudfront_cache_policy":
		return "CachePolicyConfig", tfCachePolicySchema(), "AWS::CloudFront::CachePolicy", true
	case "aws_cloudfront_origin_request_policy":
		return "OriginRequestPolicyConfig", tfOriginRequestPolicySchema(), "AWS::CloudFront::OriginRequestPolicy", true
	case "aws_cloudfront_response_headers_policy":
		return "ResponseHeadersPolicyConfig", tfResponseHeadersPolicySchema(), "AWS::CloudFront::ResponseHeadersPolicy", true
	}
	return "", nil, "", false
}
