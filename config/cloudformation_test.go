package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadTemplateYAML(t *testing.T) {
	cfg, err := Load("testdata/cloudformation/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Distributions) != 2 {
		t.Fatalf("%d distributions, want 2 (Website, Api)", len(cfg.Distributions))
	}
	web, api := cfg.Distributions[0], cfg.Distributions[1]
	app := web.Origins["app"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"IDs are the logical IDs", []string{web.ID, api.ID}, []string{"Website", "Api"}},
		{"domain derived from the ID", web.DomainName, DeriveDomainName("Website")},
		{"default settings", cfg.Listen.HTTP, DefaultHTTPAddr},
		{"Aliases from !Ref with Default", web.Aliases, []string{"www.example.com"}},
		{"Aliases from a CommaDelimitedList Default", api.Aliases, []string{"api.example.com", "api2.example.com"}},
		{"Comment from !Sub", web.Comment, "site for www.example.com"},
		{"IPV6Enabled as a string", web.IPv6, true},
		{"S3 origin", web.Origins["site"].S3 != nil, true},
		{"OriginCustomHeaders", app.CustomHeaders, []Header{{Name: "X-Origin-Token", Value: "secret"}}},
		{"HTTPPort as a string", app.Custom.HTTPPort, 80},
		{"OriginReadTimeout from a Number parameter", app.Custom.ReadTimeout, 45 * time.Second},
		{"OriginSSLProtocols", app.Custom.SSLProtocols, []string{"TLSv1.2"}},
		{"ConnectionAttempts", app.ConnectionAttempts, 2},
		{"OriginPath", app.OriginPath, "/v1"},
		{"AllowedMethods list", web.Default.AllowedMethods.String(), "GET,HEAD,OPTIONS"},
		{"CachedMethods sibling list", web.Default.CachedMethods.String(), "GET,HEAD"},
		{"behaviour", web.Behaviors[0].PathPattern, "/api/*"},
		{"behaviour methods", web.Behaviors[0].AllowedMethods.String(), "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"},
		{"geo restriction", web.GeoRestriction, GeoRestriction{Type: "blacklist", Countries: []string{"KP"}}},
		{"error response", web.ErrorResponses[404].ResponseCode, 200},
		{"AWS::NoValue omits the property", web.Raw.DefaultCacheBehavior.RealtimeLogConfigArn, ""},
		{"Logging enabled", *web.Raw.Logging.Enabled, true},
		{"ViewerCertificate renamed", web.Raw.ViewerCertificate.SSLSupportMethod, "sni-only"},
		{"managed policy by name", api.Default.CachePolicy != nil, true},
	}
	for _, c := range checks {
		if !equalAny(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case []string:
		return slices.Equal(x, b.([]string))
	case []Header:
		return slices.Equal(x, b.([]Header))
	case GeoRestriction:
		y := b.(GeoRestriction)
		return x.Type == y.Type && slices.Equal(x.Countries, y.Countries)
	}
	return a == b
}

func TestLoadTemplateJSON(t *testing.T) {
	cfg, err := Load("testdata/cloudformation/site.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Distributions) != 1 {
		t.Fatalf("%d distributions, want 1", len(cfg.Distributions))
	}
	d := cfg.Distributions[0]
	if d.ID != "Website" || !d.Enabled || d.Origins["web"].Custom.HTTPPort != 8080 {
		t.Errorf("got ID %q, Enabled %v, HTTPPort %d; want Website, true, 8080", d.ID, d.Enabled, d.Origins["web"].Custom.HTTPPort)
	}
	if er := d.ErrorResponses[503]; er == nil || !er.HasCachingMinTTL || er.ErrorCachingMinTTL != 0 {
		t.Errorf("ErrorResponses[503] = %+v, want ErrorCachingMinTTL 0", er)
	}
}

func TestLoadTemplateBroken(t *testing.T) {
	_, err := Load("testdata/cloudformation/broken.yaml")
	const dc = "testdata/cloudformation/broken.yaml: Resources.Broken.Properties.DistributionConfig."
	want := []string{
		dc + `Aliases[0]: Ref Domain: the parameter has no Default, so its value is only known when the stack is created; give it (--parameter Domain=VALUE)`,
		dc + `Origins[0].DomainName: Fn::GetAtt Bucket.RegionalDomainName: no resource Bucket in the template`,
		dc + `Origins[0].CustomOriginConfig.OriginProtocolPolicy: must be one of http-only, match-viewer, https-only (got "https")`,
		dc + `Origins[0].CustomOriginConfig.OriginSSLProtocol: unknown field (did you mean OriginSSLProtocols?)`,
		dc + `Origins[1].Id: duplicate origin Id "web" (also Origins[0])`,
		dc + `DefaultCacheBehavior.TargetOriginId: "missing" names no origin or origin group (known: web)`,
		dc + `DefaultCacheBehavior.ViewerProtocolPolicy: must be one of allow-all, redirect-to-https, https-only (got "sometimes")`,
		dc + `DefaultCacheBehavior.CachedMethods: GET,HEAD,OPTIONS is not a subset of the allowed methods GET,HEAD`,
		dc + `DefaultCacheBehavior.CachePolicyId: Ref MyCachePolicy: no parameter, pseudo parameter or resource has that name`,
		dc + `CacheBehaviors[0].CachePolicyId: "NoSuchPolicy" names no managed or custom cache policy`,
		dc + `Restrictions.GeoRestriction.Locations[0]: "usa" is not an upper-case ISO 3166-1 alpha-2 country code`,
		dc + `IPv6Enabled: unknown field (did you mean IPV6Enabled?)`,
		dc + `CNAMEs: sets the same setting as Resources.Broken.Properties.DistributionConfig.Aliases`,
		`testdata/cloudformation/broken.yaml: Resources.Bad-Id: logical ID "Bad-Id" cannot be a distribution ID (1 to 128 letters and digits)`,
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTemplateIntrinsics covers one template feature per row: the value
// CloudFormation would give (want, or a pattern for generated names), or the
// single error expected. Return values follow each resource type's "Return
// values" in the CloudFormation Template Reference; pseudo parameters "Get
// AWS values using pseudo parameters" (CloudFormation User Guide).
func TestTemplateIntrinsics(t *testing.T) {
	const head = `Parameters:
  Host: {Type: String, Default: o.example.com}
  Bare: {Type: String}
  Env: {Type: String, Default: dev}
  Ssm: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /x}
Mappings:
  Hosts: {us-east-1: {Origin: use1.example.com}, eu-west-1: {Origin: euw1.example.com}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Mixed: !And [!Not [Condition: IsProd], !Or [!Equals [a, b], !Equals [!Ref 'AWS::Partition', aws]]]
  Loop: !Not [Condition: Loop]
Resources:
  Site: {Type: 'AWS::S3::Bucket', Properties: {BucketName: site-bucket}}
  Logs: {Type: 'AWS::S3::Bucket'}
  Alb: {Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: {Name: web-alb}}
  Inner: {Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: {Scheme: internal}}
  Api: {Type: 'AWS::ApiGateway::RestApi', Properties: {Name: api}}
  HttpApi: {Type: 'AWS::ApiGatewayV2::Api', Properties: {Name: http, ProtocolType: HTTP}}
  FnUrl: {Type: 'AWS::Lambda::Url', Properties: {AuthType: NONE, TargetFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f'}}
  Queue: {Type: 'AWS::SQS::Queue'}
  Self: {Type: 'AWS::S3::Bucket', Properties: {BucketName: !GetAtt Self.Arn}}
  D:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`
	origin := func(domain string) string {
		return head + "        Origins: [{Id: o, DomainName: " + domain + ", CustomOriginConfig: {OriginProtocolPolicy: http-only}}]\n"
	}
	params := func(kv ...string) TemplateInputs {
		in := TemplateInputs{Parameters: map[string]string{}, Imports: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			in.Parameters[kv[i]] = kv[i+1]
		}
		return in
	}
	const at = "x.yaml: Resources.D.Properties.DistributionConfig.Origins[0].DomainName: "
	tests := []struct {
		name, doc string
		in        TemplateInputs
		want      string // the DomainName, or a regular expression when it starts with ^
		err       string
	}{
		{"literal", origin("o.example.com"), params(), "o.example.com", ""},
		{"Ref with Default", origin("!Ref Host"), params(), "o.example.com", ""},
		{"long-form Ref", origin("{Ref: Host}"), params(), "o.example.com", ""},
		{"Ref with a given value over the Default", origin("!Ref Host"), params("Host", "given.example.com"), "given.example.com", ""},
		{"Sub with parameter", origin(`!Sub "${Host}"`), params(), "o.example.com", ""},
		{"Sub with variables", origin(`!Sub ["${A}.example.com", {A: !Ref Host}]`), params(), "o.example.com.example.com", ""},
		{"Join", origin(`!Join [".", [o, example, com]]`), params(), "o.example.com", ""},
		{"Ref without Default", origin("!Ref Bare"), params(), "", at + "Ref Bare: the parameter has no Default, so its value is only known when the stack is created; give it (--parameter Bare=VALUE)"},
		{"Ref without Default, given", origin("!Ref Bare"), params("Bare", "b.example.com"), "b.example.com", ""},
		{"Ref of SSM parameter", origin("!Ref Ssm"), params(), "", at + "Ref Ssm: an SSM parameter's value is only known to the stack; give it (--parameter Ssm=VALUE)"},
		{"Ref of SSM parameter, given", origin("!Ref Ssm"), params("Ssm", "ssm.example.com"), "ssm.example.com", ""},
		{"AWS::Region", origin(`!Sub "${AWS::Region}.example.com"`), params(), "us-east-1.example.com", ""},
		{"AWS::Region given", origin(`!Sub "${AWS::Region}.example.com"`), params("AWS::Region", "eu-west-1"), "eu-west-1.example.com", ""},
		{"AWS::URLSuffix and AWS::Partition", origin(`!Sub "${AWS::Partition}.s3.${AWS::URLSuffix}"`), params(), "aws.s3.amazonaws.com", ""},
		{"AWS::StackName from the file name", origin(`!Sub "${AWS::StackName}.example.com"`), params(), "x.example.com", ""},
		{"AWS::AccountId", origin(`!Sub "a${AWS::AccountId}.example.com"`), params(), "a123456789012.example.com", ""},
		{"bucket RegionalDomainName", origin("!GetAtt Site.RegionalDomainName"), params(), "site-bucket.s3.us-east-1.amazonaws.com", ""},
		{"bucket DomainName, long form", origin("{'Fn::GetAtt': [Site, DomainName]}"), params(), "site-bucket.s3.amazonaws.com", ""},
		{"bucket attribute in Sub", origin(`!Sub "${Site.DomainName}"`), params(), "site-bucket.s3.amazonaws.com", ""},
		{"Ref bucket", origin(`!Sub "${Site}.example.com"`), params(), "site-bucket.example.com", ""},
		{"generated bucket name", origin("!GetAtt Logs.DomainName"), params(), `^x-logs-[a-z2-7]{12}\.s3\.amazonaws\.com$`, ""},
		{"load balancer DNSName", origin("!GetAtt Alb.DNSName"), params(), `^web-alb-[0-9]+\.us-east-1\.elb\.amazonaws\.com$`, ""},
		{"internal load balancer", origin("!GetAtt Inner.DNSName"), params(), `^internal-x-inner-[a-z2-7]{12}-[0-9]+\.us-east-1\.elb\.amazonaws\.com$`, ""},
		{"REST API domain", origin(`!Sub "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"`), params(), `^[a-z2-7]{10}\.execute-api\.us-east-1\.amazonaws\.com$`, ""},
		{"HTTP API endpoint, Select and Split", origin(`!Select [1, !Split ["//", !GetAtt HttpApi.ApiEndpoint]]`), params(), `^[a-z2-7]{10}\.execute-api\.us-east-1\.amazonaws\.com$`, ""},
		{"Lambda function URL as CDK splits it", origin(`!Select [2, !Split ["/", !GetAtt FnUrl.FunctionUrl]]`), params(), `^[a-z2-7]{32}\.lambda-url\.us-east-1\.on\.aws$`, ""},
		{"If false", origin("!If [IsProd, prod.example.com, dev.example.com]"), params(), "dev.example.com", ""},
		{"If true by a given parameter", origin("!If [IsProd, prod.example.com, dev.example.com]"), params("Env", "prod"), "prod.example.com", ""},
		{"And, Or, Not, Condition", origin("!If [Mixed, yes.example.com, no.example.com]"), params(), "yes.example.com", ""},
		{"condition that refers to itself", origin("!If [Loop, a, b]"), params(), "", at + "Fn::If: Conditions.Loop: condition Loop refers to itself"},
		{"unknown condition", origin("!If [Nope, a, b]"), params(), "", at + "Fn::If: condition Nope is not in the template's Conditions"},
		{"FindInMap", origin(`!FindInMap [Hosts, !Ref "AWS::Region", Origin]`), params(), "use1.example.com", ""},
		{"FindInMap missing", origin(`!FindInMap [Hosts, ap-south-1, Origin]`), params(), "", at + "Fn::FindInMap: Mappings.Hosts.ap-south-1.Origin is not in the template"},
		{"ImportValue", origin("!ImportValue x"), params(), "", at + "Fn::ImportValue x: the export is another stack's; give its value (--parameter x=VALUE)"},
		{"ImportValue given", origin("!ImportValue x"), TemplateInputs{Imports: map[string]string{"x": "imp.example.com"}}, "imp.example.com", ""},
		{"Ref to nothing", origin("!Ref Nope"), params(), "", at + "Ref Nope: no parameter, pseudo parameter or resource has that name"},
		{"Ref to a resource type edgefront does not know", origin("!Ref Queue"), params(), "", at + "Ref Queue: edgefront does not know what CloudFormation returns for a AWS::SQS::Queue; write the value itself"},
		{"unknown attribute", origin("!GetAtt Site.Nope"), params(), "", at + "Fn::GetAtt Site.Nope: edgefront does not know the Nope attribute of AWS::S3::Bucket; write the value itself"},
		{"a value that depends on itself", origin("!GetAtt Self.DomainName"), params(), "", at + "Resources.Self.Properties.BucketName: Resources.Self: its value depends on itself"},
		{"GetAZs", origin("!Select [0, !GetAZs '']"), params(), "", at + "Fn::Select: Fn::GetAZs cannot be resolved outside CloudFormation; write the value itself"},
		{"alias", "a: &x 1\nResources: {b: *x}\n", params(), "", "x.yaml: (syntax): invalid YAML: line 2: edgefront does not read YAML aliases in templates"},
		{"no distribution", "Resources: {B: {Type: 'AWS::S3::Bucket'}}\n", params(), "", "x.yaml: Resources: has no AWS::CloudFront::Distribution resource"},
		{"unknown section", "Resource: {}\nAWSTemplateFormatVersion: 2010-09-09\n", params(), "", "x.yaml: Resource: unknown field (did you mean Resources?)"},
		{"legacy S3Origin", head + "        S3Origin: {DNSName: b.s3.amazonaws.com}\n        Origins: [{Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]\n", params(),
			"", "x.yaml: Resources.D.Properties.DistributionConfig.S3Origin: is a legacy property edgefront does not read; use Origins and DefaultCacheBehavior"},
		{"wrong type", head + "        Aliases: a.example.com\n        Origins: [{Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]\n", params(),
			"", `x.yaml: Resources.D.Properties.DistributionConfig.Aliases: expected a list, got the string "a.example.com"`},
		{"missing Origins", head, params(), "", "x.yaml: Resources.D.Properties.DistributionConfig.Origins: at least one origin is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseWith("x.yaml", []byte(tt.doc), tt.in)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				got := cfg.Distributions[0].Origins["o"].DomainName
				if strings.HasPrefix(tt.want, "^") {
					if !regexp.MustCompile(tt.want).MatchString(got) {
						t.Errorf("DomainName = %q, want it to match %s", got, tt.want)
					}
				} else if got != tt.want {
					t.Errorf("DomainName = %q, want %q", got, tt.want)
				}
				again, _ := ParseWith("x.yaml", []byte(tt.doc), tt.in)
				if again.Distributions[0].Origins["o"].DomainName != got {
					t.Errorf("not deterministic: %q then %q", got, again.Distributions[0].Origins["o"].DomainName)
				}
				return
			}
			got := errorLines(t, err)
			if !slices.Contains(got, tt.err) {
				t.Errorf("errors:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), tt.err)
			}
		})
	}
}

// FuzzTemplate feeds templates to Parse: it must return a configuration or
// Errors, never panic, and every error must name a field.
func FuzzTemplate(f *testing.F) {
	for _, name := range []string{"site.yaml", "site.json", "broken.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "cloudformation", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, data)
	}
	f.Add("t.yaml", []byte("Resources: {D: {Type: AWS::CloudFront::Distribution, Properties: {DistributionConfig: {Origins: !Ref X}}}}"))
	f.Add("t.json", []byte(`{"Resources": {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Comment": {"Fn::Sub": "${!x}${"}}}}}}`))
	for _, name := range []string{"WebStack.template.json", "ApiStack.template.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "cdk", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, data)
	}
	f.Add("t.yaml", []byte("Conditions: {C: !Not [Condition: C]}\nResources: {B: {Type: AWS::S3::Bucket, Properties: {BucketName: !GetAtt B.Arn}}, D: {Type: AWS::CloudFront::Distribution, Condition: C, Properties: {DistributionConfig: {Comment: !Select [9, !Split [',', !Base64 !FindInMap [M, !Ref B, x]]]}}}}"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		cfg, err := Parse(filepath.Join("testdata", filepath.Base(name)), data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", cfg, err)
		}
		if err != nil {
			for _, line := range errorLines(t, err) {
				if strings.Count(line, ": ") < 2 {
					t.Errorf("error %q names no field", line)
				}
			}
		}
	})
}
