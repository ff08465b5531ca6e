package config

import (
	"os"
	"path/filepath"
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
		dc + `Aliases[0]: Ref Domain: the parameter has no Default, so its value is only known when the stack is created; give it a Default or write the value`,
		dc + `Origins[0].DomainName: Fn::GetAtt cannot be resolved outside CloudFormation; write the value itself`,
		dc + `Origins[0].CustomOriginConfig.OriginProtocolPolicy: must be one of http-only, match-viewer, https-only (got "https")`,
		dc + `Origins[0].CustomOriginConfig.OriginSSLProtocol: unknown field (did you mean OriginSSLProtocols?)`,
		dc + `Origins[1].Id: duplicate origin Id "web" (also Origins[0])`,
		dc + `DefaultCacheBehavior.TargetOriginId: "missing" names no origin or origin group (known: web)`,
		dc + `DefaultCacheBehavior.ViewerProtocolPolicy: must be one of allow-all, redirect-to-https, https-only (got "sometimes")`,
		dc + `DefaultCacheBehavior.CachedMethods: GET,HEAD,OPTIONS is not a subset of the allowed methods GET,HEAD`,
		dc + `DefaultCacheBehavior.CachePolicyId: Ref MyCachePolicy: references to resources cannot be resolved outside CloudFormation; write the value itself (e.g. the policy or origin access control ID)`,
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

// TestTemplateIntrinsics covers one template feature per row; want is the
// single error expected ("" for none).
func TestTemplateIntrinsics(t *testing.T) {
	const head = "Parameters:\n  Host: {Type: String, Default: o.example.com}\n  Bare: {Type: String}\n  Ssm: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /x}\nResources:\n  D:\n    Type: AWS::CloudFront::Distribution\n    Properties:\n      DistributionConfig:\n        Enabled: true\n        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}\n"
	origin := func(domain string) string {
		return head + "        Origins: [{Id: o, DomainName: " + domain + ", CustomOriginConfig: {OriginProtocolPolicy: http-only}}]\n"
	}
	const at = "x.yaml: Resources.D.Properties.DistributionConfig.Origins[0].DomainName: "
	tests := []struct {
		name, doc, want, domain string
	}{
		{"literal", origin("o.example.com"), "", "o.example.com"},
		{"Ref with Default", origin("!Ref Host"), "", "o.example.com"},
		{"long-form Ref", origin("{Ref: Host}"), "", "o.example.com"},
		{"Sub with parameter", origin(`!Sub "${Host}"`), "", "o.example.com"},
		{"Sub with variables", origin(`!Sub ["${A}.example.com", {A: !Ref Host}]`), "", "o.example.com.example.com"},
		{"Join", origin(`!Join [".", [o, example, com]]`), "", "o.example.com"},
		{"Ref without Default", origin("!Ref Bare"), at + "Ref Bare: the parameter has no Default, so its value is only known when the stack is created; give it a Default or write the value", ""},
		{"Ref of SSM parameter", origin("!Ref Ssm"), at + "Ref Ssm: an SSM parameter cannot be resolved outside CloudFormation; write the value itself", ""},
		{"pseudo parameter", origin(`!Sub "${AWS::Region}.example.com"`), at + "Ref AWS::Region: pseudo parameters cannot be resolved outside CloudFormation; write the value itself", ""},
		{"GetAtt in Sub", origin(`!Sub "${B.DomainName}"`), at + "Fn::Sub ${B.DomainName}: attributes of resources cannot be resolved outside CloudFormation; write the value itself", ""},
		{"ImportValue", origin("!ImportValue x"), at + "Fn::ImportValue cannot be resolved outside CloudFormation; write the value itself", ""},
		{"If", origin("!If [c, a, b]"), at + "Fn::If cannot be resolved outside CloudFormation; write the value itself", ""},
		{"alias", "a: &x 1\nResources: {b: *x}\n", "x.yaml: (syntax): invalid YAML: line 2: edgefront does not read YAML aliases in templates", ""},
		{"no distribution", "Resources: {B: {Type: 'AWS::S3::Bucket'}}\n", "x.yaml: Resources: has no AWS::CloudFront::Distribution resource", ""},
		{"unknown section", "Resource: {}\nAWSTemplateFormatVersion: 2010-09-09\n", "x.yaml: Resource: unknown field (did you mean Resources?)", ""},
		{"legacy S3Origin", head + "        S3Origin: {DNSName: b.s3.amazonaws.com}\n        Origins: [{Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]\n",
			"x.yaml: Resources.D.Properties.DistributionConfig.S3Origin: is a legacy property edgefront does not read; use Origins and DefaultCacheBehavior", ""},
		{"wrong type", head + "        Aliases: a.example.com\n        Origins: [{Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]\n",
			`x.yaml: Resources.D.Properties.DistributionConfig.Aliases: expected a list, got the string "a.example.com"`, ""},
		{"missing Origins", head, "x.yaml: Resources.D.Properties.DistributionConfig.Origins: at least one origin is required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("x.yaml", []byte(tt.doc))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got := cfg.Distributions[0].Origins["o"].DomainName; got != tt.domain {
					t.Errorf("DomainName = %q, want %q", got, tt.domain)
				}
				return
			}
			got := errorLines(t, err)
			if !slices.Contains(got, tt.want) {
				t.Errorf("errors:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), tt.want)
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
