package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tfDistribution is a distribution written as the provider's documentation
// writes one; dist, behavior and origin are extra arguments of the
// resource, its default_cache_behavior and its origin.
func tfDistribution(dist, behavior, origin string) string {
	policy := `
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"`
	if strings.Contains(behavior, "cache_policy_id") {
		policy = ""
	}
	vpp := `
    viewer_protocol_policy = "allow-all"`
	if strings.Contains(behavior, "viewer_protocol_policy") {
		vpp = ""
	}
	restrictions := `
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }`
	if strings.Contains(dist, "restrictions {") {
		restrictions = ""
	}
	cert := `
  viewer_certificate {
    cloudfront_default_certificate = true
  }`
	if strings.Contains(dist, "viewer_certificate {") {
		cert = ""
	}
	return `
resource "aws_cloudfront_distribution" "d" {
  enabled = true
  origin {
    domain_name = "app.example.com"
    origin_id   = "app"
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "http-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
` + origin + `
  }
  default_cache_behavior {
    target_origin_id       = "app"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]` + vpp + policy + `
` + behavior + `
  }` + restrictions + cert + `
` + dist + `
}
`
}

// loadTF writes files into a new directory and loads it.
func loadTF(t *testing.T, files map[string]string, params map[string]string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := files["edgefront.yaml"]; ok {
		return LoadWith(filepath.Join(dir, "edgefront.yaml"), TemplateInputs{Parameters: params})
	}
	return LoadWith(dir, TemplateInputs{Parameters: params})
}

// jsonOf is v as compact JSON, for comparing a DistributionConfig field.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTerraformMapping: each argument of aws_cloudfront_distribution (the
// provider's Argument Reference) lands in its DistributionConfig field.
func TestTerraformMapping(t *testing.T) {
	tests := []struct {
		name                   string
		dist, behavior, origin string
		got                    func(*DistributionConfig) any
		want                   string
	}{
		{"aliases", `aliases = ["www.example.com"]
  viewer_certificate {
    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/1"
    ssl_support_method = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }`, "", "", func(d *DistributionConfig) any { return d.Aliases.Items }, `["www.example.com"]`},
		{"comment", `comment = "hi"`, "", "", func(d *DistributionConfig) any { return d.Comment }, `"hi"`},
		{"default_root_object", `default_root_object = "index.html"`, "", "", func(d *DistributionConfig) any { return d.DefaultRootObject }, `"index.html"`},
		{"enabled false", ``, "", "", func(d *DistributionConfig) any { return *d.Enabled }, `true`},
		{"is_ipv6_enabled", `is_ipv6_enabled = true`, "", "", func(d *DistributionConfig) any { return *d.IsIPV6Enabled }, `true`},
		{"http_version", `http_version = "http2and3"`, "", "", func(d *DistributionConfig) any { return d.HttpVersion }, `"http2and3"`},
		{"price_class", `price_class = "PriceClass_100"`, "", "", func(d *DistributionConfig) any { return d.PriceClass }, `"PriceClass_100"`},
		{"web_acl_id", `web_acl_id = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/1"`, "", "", func(d *DistributionConfig) any { return d.WebACLId }, `"arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/1"`},
		{"staging", `staging = false`, "", "", func(d *DistributionConfig) any { return *d.Staging }, `false`},
		{"tags and retain_on_delete accepted", `tags = {a = "b"}
  retain_on_delete = true
  wait_for_deployment = false`, "", "", func(d *DistributionConfig) any { return d.Comment }, `""`},
		{"logging_config", `logging_config {
    bucket = "logs.s3.amazonaws.com"
    prefix = "cf/"
    include_cookies = true
  }`, "", "", func(d *DistributionConfig) any { return d.Logging }, `{"Enabled":true,"IncludeCookies":true,"Bucket":"logs.s3.amazonaws.com","Prefix":"cf/"}`},
		{"custom_error_response", `custom_error_response {
    error_code = 404
    response_code = 200
    response_page_path = "/index.html"
    error_caching_min_ttl = 5
  }`, "", "", func(d *DistributionConfig) any { return d.CustomErrorResponses.Items },
			`[{"ErrorCode":404,"ResponsePagePath":"/index.html","ResponseCode":"200","ErrorCachingMinTTL":5}]`},
		{"geo_restriction", `restrictions {
    geo_restriction {
      restriction_type = "blacklist"
      locations = ["KP"]
    }
  }`, "", "", func(d *DistributionConfig) any { return d.Restrictions.GeoRestriction },
			`{"RestrictionType":"blacklist","Quantity":1,"Items":["KP"]}`},
		{"viewer_certificate", ``, "", "", func(d *DistributionConfig) any { return d.ViewerCertificate }, `{"CloudFrontDefaultCertificate":true}`},
		{"origin_group", `origin {
    domain_name = "b.example.com"
    origin_id = "b"
    custom_origin_config {
      http_port = 80
      https_port = 443
      origin_protocol_policy = "http-only"
      origin_ssl_protocols = ["TLSv1.2"]
    }
  }
  origin_group {
    origin_id = "group"
    failover_criteria {
      status_codes = [500, 502]
    }
    member {
      origin_id = "app"
    }
    member {
      origin_id = "b"
    }
  }`, "", "", func(d *DistributionConfig) any { return d.OriginGroups.Items[0] },
			`{"Id":"group","FailoverCriteria":{"StatusCodes":{"Quantity":2,"Items":[500,502]}},"Members":{"Quantity":2,"Items":[{"OriginId":"app"},{"OriginId":"b"}]}}`},
		{"ordered_cache_behavior", `ordered_cache_behavior {
    path_pattern = "/api/*"
    target_origin_id = "app"
    viewer_protocol_policy = "https-only"
    allowed_methods = ["GET", "HEAD", "OPTIONS"]
    cached_methods = ["GET", "HEAD"]
    cache_policy_id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    origin_request_policy_id = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    response_headers_policy_id = "67f7725c-6f97-4210-82d7-5512b31e9d03"
    compress = true
    smooth_streaming = false
    realtime_log_config_arn = "arn:aws:cloudfront::123456789012:realtime-log-config/x"
  }`, "", "", func(d *DistributionConfig) any {
			b := d.CacheBehaviors.Items[0]
			return []any{b.PathPattern, b.ViewerProtocolPolicy, b.AllowedMethods, b.CachePolicyId, b.OriginRequestPolicyId, b.ResponseHeadersPolicyId, *b.Compress, b.RealtimeLogConfigArn}
		},
			`["/api/*","https-only",{"Quantity":3,"Items":["GET","HEAD","OPTIONS"],"CachedMethods":{"Quantity":2,"Items":["GET","HEAD"]}},"4135ea2d-6df8-44a3-9df3-4b5a84be39ad","b689b0a8-53d0-40ab-baf2-68738e2966ac","67f7725c-6f97-4210-82d7-5512b31e9d03",true,"arn:aws:cloudfront::123456789012:realtime-log-config/x"]`},
		{"forwarded_values and TTLs", "", `cache_policy_id = null # the deprecated way
    forwarded_values {
      query_string = true
      query_string_cache_keys = ["q"]
      headers = ["Origin"]
      cookies {
        forward = "whitelist"
        whitelisted_names = ["session"]
      }
    }
    min_ttl = 0
    default_ttl = 60
    max_ttl = 600`, "", func(d *DistributionConfig) any {
			b := d.DefaultCacheBehavior
			return []any{b.ForwardedValues, *b.MinTTL, *b.DefaultTTL, *b.MaxTTL}
		}, `[{"QueryString":true,"Cookies":{"Forward":"whitelist","WhitelistedNames":{"Quantity":1,"Items":["session"]}},"Headers":{"Quantity":1,"Items":["Origin"]},"QueryStringCacheKeys":{"Quantity":1,"Items":["q"]}},0,60,600]`},
		{"lambda_function_association", "", `lambda_function_association {
      event_type = "origin-request"
      lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:f:1"
      include_body = true
    }`, "", func(d *DistributionConfig) any { return d.DefaultCacheBehavior.LambdaFunctionAssociations.Items },
			`[{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:f:1","EventType":"origin-request","IncludeBody":true}]`},
		{"trusted_key_groups = [] is unset", "", `trusted_key_groups = []`, "", func(d *DistributionConfig) any { return d.DefaultCacheBehavior.TrustedKeyGroups }, `null`},
		{"grpc_config and field_level_encryption_id", "", `grpc_config {
      enabled = false
    }
    field_level_encryption_id = ""`, "", func(d *DistributionConfig) any {
			return []any{d.DefaultCacheBehavior.GrpcConfig, d.DefaultCacheBehavior.FieldLevelEncryptionId}
		}, `[{"Enabled":false},""]`},
		{"origin arguments", "", "", `origin_path = "/v1"
    connection_attempts = 2
    connection_timeout = 5
    response_completion_timeout = 60
    custom_header {
      name = "X-Key"
      value = "k"
    }
    origin_shield {
      enabled = true
      origin_shield_region = "us-east-2"
    }`, func(d *DistributionConfig) any {
			o := d.Origins.Items[0]
			return []any{o.OriginPath, *o.ConnectionAttempts, *o.ConnectionTimeout, *o.ResponseCompletionTimeout, o.CustomHeaders.Items, o.OriginShield}
		}, `["/v1",2,5,60,[{"HeaderName":"X-Key","HeaderValue":"k"}],{"Enabled":true,"OriginShieldRegion":"us-east-2"}]`},
		{"custom_origin_config", "", "", "", func(d *DistributionConfig) any { return d.Origins.Items[0].CustomOriginConfig },
			`{"HTTPPort":80,"HTTPSPort":443,"OriginProtocolPolicy":"http-only","OriginSslProtocols":{"Quantity":1,"Items":["TLSv1.2"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.tf": tfDistribution(tt.dist, tt.behavior, tt.origin)}
			if tt.name == "lambda_function_association" { // a Lambda@Edge ARN needs somewhere to run
				files["edgefront.yaml"] = "lambdaEndpoint: http://127.0.0.1:1\ndistributions: [{terraform: .}]\n"
			}
			cfg, err := loadTF(t, files, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonOf(tt.got(cfg.Distributions[0].Raw)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestLoadTerraformSite reads testdata/terraform/site as it is and checks
// what its references, variables, dynamic blocks and data sources resolved
// to.
func TestLoadTerraformSite(t *testing.T) {
	type check struct {
		name string
		got  func(*Config) string
		want string // a regular expression when it starts with ^
	}
	d := func(c *Config) *Distribution { return c.Distributions[0] }
	tests := []struct {
		name   string
		params map[string]string
		checks []check
	}{
		{"terraform.tfvars and defaults", nil, []check{
			{"ID derived from the address", func(c *Config) string { return d(c).ID }, tfDistributionID("aws_cloudfront_distribution.site")},
			{"variable from terraform.tfvars", func(c *Config) string { return d(c).Comment }, "edgefront terraform fixture (prod)"},
			{"bucket_regional_domain_name, S3 with OAC", func(c *Config) string {
				o := d(c).Origins["siteS3"]
				return o.DomainName + " " + o.S3.Bucket + " " + o.OriginAccessControlID
			}, `^edgefront-site-prod\.s3\.us-east-1\.amazonaws\.com edgefront-site-prod E[A-Z2-7]{13}$`},
			{"api_endpoint through replace()", func(c *Config) string { return d(c).Origins["api"].DomainName }, `^[a-z2-7]{10}\.execute-api\.us-east-1\.amazonaws\.com$`},
			{"dynamic origin from a local map", func(c *Config) string {
				o := d(c).Origins["legacy"]
				return o.DomainName + " " + o.CustomHeaders[0].Name + "=" + o.CustomHeaders[0].Value
			}, `^app-[0-9]+\.us-east-1\.elb\.amazonaws\.com X-Origin-Verify=edgefront$`},
			{"dynamic behaviours over a list variable", func(c *Config) string {
				var out []string
				for _, b := range d(c).Behaviors {
					out = append(out, b.PathPattern)
				}
				return strings.Join(out, ",")
			}, "/api/*,/legacy/*,/old/*,/go/*"},
			{"custom cache policy by reference", func(c *Config) string {
				cp := d(c).Behaviors[0].CachePolicy
				return cp.Name + " " + cp.MaxTTL.String() + " " + strings.Join(cp.QueryStrings.Items, ",") + " " + strings.Join(cp.Headers.Items, ",")
			}, "api-prod 1h0m0s q Authorization"},
			{"managed policies by data source", func(c *Config) string {
				return d(c).Default.CachePolicy.Name + " " + d(c).Behaviors[0].OriginRequestPolicy.Name + " " + d(c).Behaviors[1].CachePolicy.Name
			}, "Managed-CachingOptimized Managed-AllViewerExceptHostHeader Managed-CachingDisabled"},
			{"custom origin request policy", func(c *Config) string {
				orp := d(c).Behaviors[1].OriginRequestPolicy
				return orp.Name + " " + strings.Join(orp.Headers.Items, ",") + " " + orp.QueryStrings.Behavior
			}, "legacy X-Tenant all"},
			{"response headers policy with a variable", func(c *Config) string {
				rp := d(c).Default.ResponseHeadersPolicy
				return rp.Name + " " + rp.Custom[0].Name + "=" + rp.Custom[0].Value
			}, "headers X-Env=prod"},
			{"function from file() with its key value store", func(c *Config) string {
				fn := d(c).Behaviors[3].ViewerRequestFunction
				if fn == nil {
					return "no function"
				}
				return fn.Name + " " + fn.Runtime + " " + fn.KeyValueStores[0].Name + " " + fn.ARN
			}, "redirect cloudfront-js-2.0 redirects arn:aws:cloudfront::123456789012:function/redirect"},
			{"custom error response", func(c *Config) string { return d(c).ErrorResponses[404].ResponsePagePath }, "/404.html"},
			{"the .js file is watched", func(c *Config) string { return strings.Join(c.Files, ",") }, `^.*main\.tf.*redirect\.js`},
			{"nothing ignored", func(c *Config) string { return strings.Join(errStrings(c.Warnings()), "; ") }, ""},
		}},
		{"--parameter overrides tfvars; a list variable as HCL; region", map[string]string{
			"env": "dev", "legacy_paths": `["/v0/*"]`, "region": "eu-west-1",
		}, []check{
			{"env", func(c *Config) string { return d(c).Comment }, "edgefront terraform fixture (dev)"},
			{"list", func(c *Config) string { return d(c).Behaviors[1].PathPattern + " " + d(c).Behaviors[2].PathPattern }, "/v0/* /go/*"},
			{"provider region", func(c *Config) string { return d(c).Origins["siteS3"].DomainName }, "edgefront-site-dev.s3.eu-west-1.amazonaws.com"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadWith("testdata/terraform/site", TemplateInputs{Parameters: tt.params})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				got := c.got(cfg)
				ok := got == c.want
				if strings.HasPrefix(c.want, "^") {
					ok = regexp.MustCompile(c.want).MatchString(got)
				}
				if !ok {
					t.Errorf("%s: got %q, want %q", c.name, got, c.want)
				}
			}
		})
	}
}

// TestTerraformExpressions: count and for_each over literal values, locals,
// jsonencode and templatefile, as Terraform evaluates them.
func TestTerraformExpressions(t *testing.T) {
	files := map[string]string{
		"main.tf": `
locals {
  paths = toset(["/a/*", "/b/*"])
  body  = jsonencode({ greeting = "hi" })
}
resource "aws_s3_bucket" "b" {
  count  = 2
  bucket = "bucket-${count.index}"
}
resource "aws_cloudfront_function" "f" {
  for_each = { one = "cloudfront-js-1.0" }
  name     = "fn-${each.key}"
  runtime  = each.value
  code     = templatefile("${path.module}/fn.tftpl", { body = local.body })
}
` + tfDistribution(`comment = aws_s3_bucket.b[1].bucket_regional_domain_name
  dynamic "ordered_cache_behavior" {
    for_each = local.paths
    iterator = p
    content {
      path_pattern = p.value
      target_origin_id = "app"
      viewer_protocol_policy = "allow-all"
      allowed_methods = ["GET", "HEAD"]
      cached_methods = ["GET", "HEAD"]
      cache_policy_id = "658327ea-f89d-4fab-a63d-7e88639e58f6"
      function_association {
        event_type = "viewer-request"
        function_arn = aws_cloudfront_function.f["one"].arn
      }
    }
  }`, "", ""),
		"fn.tftpl": "function handler(event) { return {statusCode: 200, statusDescription: 'OK', body: '${body}'}; }\n",
	}
	cfg, err := loadTF(t, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Distributions[0]
	if d.Comment != "bucket-1.s3.us-east-1.amazonaws.com" {
		t.Errorf("count: comment %q", d.Comment)
	}
	if len(d.Behaviors) != 2 || d.Behaviors[0].PathPattern != "/a/*" || d.Behaviors[1].PathPattern != "/b/*" {
		t.Fatalf("dynamic over a set: %d behaviours", len(d.Behaviors))
	}
	fn := d.Behaviors[0].ViewerRequestFunction
	if fn == nil || fn.Name != "fn-one" || !strings.Contains(fn.Code, `body: '{"greeting":"hi"}'`) {
		t.Errorf("for_each function with templatefile: %+v", fn)
	}
}

// TestTerraformErrors: what edgefront cannot evaluate, or CloudFront would
// refuse, is an error naming the file, the argument, the line and the
// expression as written.
func TestTerraformErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		errs  []string
	}{
		{"unsupported function", map[string]string{"main.tf": tfDistribution(`comment = timestamp()`, "", "")},
			[]string{"main.tf: aws_cloudfront_distribution.d.comment: main.tf:31: Call to unknown function: There is no function named \"timestamp\". (in `timestamp()`)"}},
		{"variable without a default", map[string]string{"main.tf": "variable \"env\" {}\n" + tfDistribution(`comment = var.env`, "", "")},
			[]string{"aws_cloudfront_distribution.d.comment: main.tf:32: var.env (main.tf:1) has no default, so its value is only known to terraform apply; give it (--parameter env=VALUE, or terraform.tfvars) (in `var.env`)"}},
		{"unknown attribute of a resource", map[string]string{"main.tf": "resource \"aws_s3_bucket\" \"b\" {}\n" + tfDistribution(`comment = aws_s3_bucket.b.website_endpoint`, "", "")},
			[]string{"main.tf:32: edgefront does not know the website_endpoint attribute of aws_s3_bucket; write the value itself (in `aws_s3_bucket.b.website_endpoint`)"}},
		{"unknown argument", map[string]string{"main.tf": tfDistribution(`coment = "x"`, "", "")},
			[]string{"aws_cloudfront_distribution.d.coment: unknown field (did you mean comment?)"}},
		{"CloudFront's rule, at the argument's line", map[string]string{"main.tf": tfDistribution("", `viewer_protocol_policy = "sometimes"`, "")},
			[]string{`aws_cloudfront_distribution.d.default_cache_behavior.viewer_protocol_policy: main.tf:`}},
		{"module call", map[string]string{"main.tf": "module \"cdn\" {\n  source = \"./cdn\"\n}\n"},
			[]string{"main.tf: module.cdn: line 1: edgefront reads a root module's own resources"}},
		{"syntax", map[string]string{"main.tf": "resource \"aws_cloudfront_distribution\" \"d\" {\n  enabled = \n}\n"},
			[]string{"main.tf: (syntax): line 2: Invalid expression"}},
		{"no distribution", map[string]string{"main.tf": "resource \"aws_s3_bucket\" \"b\" {}\n"},
			[]string{"aws_cloudfront_distribution: the configuration has no aws_cloudfront_distribution resource"}},
		{"unknown data source", map[string]string{"main.tf": "data \"aws_vpc\" \"v\" {}\n" + tfDistribution(`comment = data.aws_vpc.v.id`, "", "")},
			[]string{"edgefront does not read the data source aws_vpc; write the value itself (in `data.aws_vpc.v.id`)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTF(t, tt.files, nil)
			if err == nil {
				t.Fatal("loaded; want errors")
			}
			for _, want := range tt.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("errors lack %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestTerraformShowJSON reads `terraform show -json` output: a state
// (testdata/terraform/show/state.json, hand-written in the documented
// format) and a plan's planned_values.
func TestTerraformShowJSON(t *testing.T) {
	cfg, err := Load("testdata/terraform/show/state.json")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Distributions[0]
	for _, c := range []struct{ name, got, want string }{
		{"the state's ID and domain", d.ID + " " + d.DomainName, "E2QWRUHAPOMQZL d111111abcdef8.cloudfront.net"},
		{"S3 origin", d.Origins["siteS3"].S3.Bucket, "edgefront-site-prod"},
		{"custom policy by its state ID", d.Behaviors[0].CachePolicy.Name + " " + strings.Join(d.Behaviors[0].CachePolicy.QueryStrings.Items, ","), "api-prod q"},
		{"managed policy", d.Default.CachePolicy.Name, "Managed-CachingOptimized"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	plan := `{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{
	  "address": "aws_cloudfront_distribution.p", "mode": "managed", "type": "aws_cloudfront_distribution", "name": "p",
	  "values": {"enabled": true, "origin": [{"domain_name": "a.example.com", "origin_id": "a",
	    "custom_origin_config": [{"http_port": 80, "https_port": 443, "origin_protocol_policy": "http-only", "origin_ssl_protocols": ["TLSv1.2"]}]}],
	    "default_cache_behavior": [{"target_origin_id": "a", "viewer_protocol_policy": "allow-all", "allowed_methods": ["GET", "HEAD"],
	      "cached_methods": ["GET", "HEAD"], "cache_policy_id": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}],
	    "restrictions": [{"geo_restriction": [{"restriction_type": "none"}]}], "viewer_certificate": [{"cloudfront_default_certificate": true}]}}]}}}`
	cfg, err = Parse("plan.json", []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Distributions[0]; d.ID != tfDistributionID("aws_cloudfront_distribution.p") || d.Default.CachePolicy.Name != "Managed-CachingDisabled" {
		t.Errorf("plan: %s %s", d.ID, d.Default.CachePolicy.Name)
	}
}

// TestTerraformInSettings: a settings file's distribution names a Terraform
// directory; originEndpoints keyed by resource address or origin_id reach
// the origins.
func TestTerraformInSettings(t *testing.T) {
	const head = "distributions:\n  - terraform: terraform/site\n"
	tests := []struct {
		name, doc string
		want      map[string][]string
		errs      []string
	}{
		{"by address and origin_id", head + "    originEndpoints: {aws_s3_bucket.site: 'http://127.0.0.1:9000', aws_apigatewayv2_api.api: 'http://127.0.0.1:9001', legacy: 'http://127.0.0.1:9002'}\n",
			map[string][]string{"siteS3": {"http://127.0.0.1:9000"}, "api": {"http://127.0.0.1:9001"}, "legacy": {"http://127.0.0.1:9002"}}, nil},
		{"settings parameters give variables", "parameters: {env: staging}\n" + head + "    resource: aws_cloudfront_distribution.site\n    originEndpoints: {aws_s3_bucket.site: 'http://127.0.0.1:9000'}\n",
			map[string][]string{"siteS3": {"http://127.0.0.1:9000"}}, nil},
		{"unknown resource", head + "    resource: aws_cloudfront_distribution.nope\n", nil,
			[]string{`s.yaml: distributions[0].resource: "aws_cloudfront_distribution.nope" is not an aws_cloudfront_distribution of the configuration (aws_cloudfront_distribution.site)`}},
		{"terraform and template", head + "    template: cdk/WebStack.template.json\n", nil,
			[]string{"s.yaml: distributions[0]: give one of template, terraform, configFile and config"}},
		{"missing directory", "distributions:\n  - terraform: nope/\n", nil, []string{"s.yaml: distributions[0].terraform: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("testdata/s.yaml", []byte(tt.doc))
			if tt.errs != nil {
				if err == nil {
					t.Fatal("loaded; want errors")
				}
				for _, want := range tt.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("errors lack %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tt.want {
				if got := cfg.Distributions[0].Origins[id].Endpoints; strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("origin %s endpoints %v, want %v", id, got, want)
				}
			}
		})
	}
}

// FuzzParseTerraform: the HCL reader never panics, whatever the .tf file
// holds.
func FuzzParseTerraform(f *testing.F) {
	site, err := os.ReadFile("testdata/terraform/site/main.tf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(site)
	f.Add([]byte(tfDistribution(`comment = jsonencode({a = [for x in range(3) : x * 2]})`, "", "")))
	f.Add([]byte("locals {\n  a = local.b\n  b = local.a\n}\n" + tfDistribution("comment = local.a", "", "")))
	f.Add([]byte(`resource "aws_s3_bucket" "b" { count = -1 }`))
	f.Add([]byte(`resource "aws_cloudfront_distribution" "d" { dynamic "origin" { for_each = 3 } }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		name := filepath.Join(t.TempDir(), "main.tf")
		cfg, err := parseTerraform(name, src, TemplateInputs{})
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
	})
}
