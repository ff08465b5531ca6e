package edge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// twoOriginDist is a distribution with a custom origin "web" (the
// behaviour's target), an S3 origin "bucket", and a group of the two.
func twoOriginDist() *config.Distribution {
	return &config.Distribution{ID: "EORIGINS", Origins: map[string]*config.Origin{
		"web": {ID: "web", DomainName: "web.example.com", ConnectionAttempts: 3, ConnectionTimeout: 10 * time.Second,
			CustomHeaders: []config.Header{{Name: "X-Origin-Secret", Value: "s"}}, Endpoints: []string{"http://127.0.0.1:1"},
			Custom: &config.CustomOrigin{HTTPPort: 80, HTTPSPort: 443, ProtocolPolicy: config.HTTPOnly, ReadTimeout: 30 * time.Second, KeepaliveTimeout: 5 * time.Second}},
		"bucket": {ID: "bucket", DomainName: "bucket.s3.us-east-1.amazonaws.com", Endpoints: []string{"http://127.0.0.1:2"}, S3: &config.S3Origin{}},
	}, OriginGroups: map[string]*config.OriginGroup{
		"both": {ID: "both", Members: []string{"bucket", "web"}, FailoverCodes: []int{500}},
	}}
}

// TestOriginHelpers: cf.updateRequestOrigin, cf.selectRequestOriginById and
// cf.createRequestOriginGroup (CloudFront Developer Guide, "Helper methods
// for origin modification"), one row per documented rule: what a
// viewer-request function chooses, and the validation error (502) for
// arguments that break the guide's rules.
func TestOriginHelpers(t *testing.T) {
	tests := []struct {
		name, target, code string
		check              func(t *testing.T, out *Outcome)
		wantKind           string
	}{
		{"no helper: no origin", "web", ``, func(t *testing.T, out *Outcome) {
			if out.Origin != nil || out.OriginGroup != nil {
				t.Errorf("%+v", out)
			}
		}, ""},
		{"unspecified settings are inherited", "web", `cf.updateRequestOrigin({originPath: '/v2', connectionAttempts: 1});`, func(t *testing.T, out *Outcome) {
			o := out.Origin
			if o == nil || o.ID != "web" || o.OriginPath != "/v2" || o.ConnectionAttempts != 1 || o.DomainName != "web.example.com" ||
				o.Endpoints[0] != "http://127.0.0.1:1" || len(o.CustomHeaders) != 1 || o.ConnectionTimeout != 10*time.Second {
				t.Errorf("%+v", o)
			}
		}, ""},
		{"the distribution's origin is not changed", "web", `cf.updateRequestOrigin({originPath: '/v2'});`, func(t *testing.T, out *Outcome) {
			if out.Origin == twoOriginDist().Origins["web"] || out.Origin.OriginPath != "/v2" {
				t.Errorf("%+v", out.Origin)
			}
		}, ""},
		{"a domain of another origin of the distribution keeps its endpoints", "web", `cf.updateRequestOrigin({domainName: 'bucket.s3.us-east-1.amazonaws.com'});`, func(t *testing.T, out *Outcome) {
			if o := out.Origin; o.DomainName != "bucket.s3.us-east-1.amazonaws.com" || len(o.Endpoints) != 1 || o.Endpoints[0] != "http://127.0.0.1:2" {
				t.Errorf("%+v", o)
			}
		}, ""},
		{"any other domain is asked by its name", "web", `cf.updateRequestOrigin({domainName: 'elsewhere.example.net'});`, func(t *testing.T, out *Outcome) {
			if o := out.Origin; o.DomainName != "elsewhere.example.net" || o.Endpoints != nil {
				t.Errorf("%+v", o)
			}
		}, ""},
		{"an empty customHeaders resets the origin's", "web", `cf.updateRequestOrigin({customHeaders: {}});`, func(t *testing.T, out *Outcome) {
			if len(out.Origin.CustomHeaders) != 0 {
				t.Errorf("%+v", out.Origin.CustomHeaders)
			}
		}, ""},
		{"customHeaders replace the origin's, re-capitalised", "web", `cf.updateRequestOrigin({customHeaders: {'x-stage': 'production', 'x-region': 'us-east-1'}});`, func(t *testing.T, out *Outcome) {
			h := out.Origin.CustomHeaders
			if len(h) != 2 || h[0] != (config.Header{Name: "X-Region", Value: "us-east-1"}) || h[1] != (config.Header{Name: "X-Stage", Value: "production"}) {
				t.Errorf("%+v", h)
			}
		}, ""},
		{"timeouts", "web", `cf.updateRequestOrigin({timeouts: {readTimeout: 45, connectionTimeout: 2, keepAliveTimeout: 9}});`, func(t *testing.T, out *Outcome) {
			o := out.Origin
			if o.Custom.ReadTimeout != 45*time.Second || o.Custom.KeepaliveTimeout != 9*time.Second || o.ConnectionTimeout != 2*time.Second {
				t.Errorf("%+v %+v", o, o.Custom)
			}
			if twoOriginDist().Origins["web"].Custom.ReadTimeout != 30*time.Second {
				t.Error("the distribution's origin changed")
			}
		}, ""},
		{"customOriginConfig", "web", `cf.updateRequestOrigin({customOriginConfig: {port: 8443, protocol: 'https', sslProtocols: ['TLSv1.2']}});`, func(t *testing.T, out *Outcome) {
			c := out.Origin.Custom
			if c.HTTPSPort != 8443 || c.ProtocolPolicy != config.HTTPSOnly || len(c.SSLProtocols) != 1 {
				t.Errorf("%+v", c)
			}
		}, ""},
		{"customOriginConfig makes an S3 origin a custom one", "bucket", `cf.updateRequestOrigin({customOriginConfig: {port: '80', protocol: 'http', sslProtocols: ['TLSv1.2']}});`, func(t *testing.T, out *Outcome) {
			if o := out.Origin; o.S3 != nil || o.Custom == nil || o.Custom.HTTPPort != 80 || o.Custom.ProtocolPolicy != config.HTTPOnly {
				t.Errorf("%+v", o)
			}
		}, ""},
		{"origin shield and OAC", "bucket", `cf.updateRequestOrigin({originShield: {enabled: true, region: 'us-east-2'},
			originAccessControlConfig: {enabled: true, signingBehavior: 'always', signingProtocol: 'sigv4', originType: 's3'}});`, func(t *testing.T, out *Outcome) {
			if o := out.Origin; !o.OriginShield.Enabled || o.OriginShield.Region != "us-east-2" || o.OriginAccessControlID == "" {
				t.Errorf("%+v", o)
			}
		}, ""},
		{"a group target: its primary is updated", "both", `cf.updateRequestOrigin({originPath: '/p'});`, func(t *testing.T, out *Outcome) {
			if out.Origin.ID != "bucket" || out.Origin.OriginPath != "/p" {
				t.Errorf("%+v", out.Origin)
			}
		}, ""},
		{"calls add up", "web", `cf.updateRequestOrigin({originPath: '/p'}); cf.updateRequestOrigin({connectionAttempts: 2});`, func(t *testing.T, out *Outcome) {
			if out.Origin.OriginPath != "/p" || out.Origin.ConnectionAttempts != 2 {
				t.Errorf("%+v", out.Origin)
			}
		}, ""},
		{"accepted, not emulated", "web", `cf.updateRequestOrigin({hostHeader: 'h.example.com', sni: 'h.example.com'});`, func(t *testing.T, out *Outcome) {
			if out.Origin == nil {
				t.Error("no origin")
			}
		}, ""},
		{"selectRequestOriginById", "web", `cf.selectRequestOriginById('bucket');`, func(t *testing.T, out *Outcome) {
			if out.Origin == nil || out.Origin.ID != "bucket" || out.Origin.S3 == nil {
				t.Errorf("%+v", out.Origin)
			}
		}, ""},
		{"selectRequestOriginById then updateRequestOrigin", "web", `cf.selectRequestOriginById('bucket'); cf.updateRequestOrigin({originPath: '/b'});`, func(t *testing.T, out *Outcome) {
			if out.Origin.ID != "bucket" || out.Origin.OriginPath != "/b" {
				t.Errorf("%+v", out.Origin)
			}
		}, ""},
		{"createRequestOriginGroup with IDs", "web", `cf.createRequestOriginGroup({originIds: ['web', 'bucket'], failoverCriteria: {statusCodes: [500, 503]}});`, func(t *testing.T, out *Outcome) {
			g := out.OriginGroup
			if g == nil || strings.Join(g.Members, ",") != "web,bucket" || len(g.FailoverCodes) != 2 || out.Origin != nil {
				t.Errorf("%+v", out)
			}
		}, ""},
		{"createRequestOriginGroup with {originId}", "web", `cf.createRequestOriginGroup({originIds: [{originId: 'bucket'}, {originId: 'web'}], failoverCriteria: {statusCodes: [404]}, selectionCriteria: 'default'});`, func(t *testing.T, out *Outcome) {
			if g := out.OriginGroup; g == nil || strings.Join(g.Members, ",") != "bucket,web" {
				t.Errorf("%+v", out)
			}
		}, ""},
		{"the last choice wins", "web", `cf.createRequestOriginGroup({originIds: ['web', 'bucket'], failoverCriteria: {statusCodes: [500]}}); cf.selectRequestOriginById('web');`, func(t *testing.T, out *Outcome) {
			if out.OriginGroup != nil || out.Origin.ID != "web" {
				t.Errorf("%+v", out)
			}
		}, ""},
		{"a generated response ignores the choice", "web", `cf.selectRequestOriginById('bucket'); return {statusCode: 204};`, func(t *testing.T, out *Outcome) {
			if out.Response == nil || out.Origin != nil {
				t.Errorf("%+v", out)
			}
		}, ""},

		{"a domain with a colon", "web", `cf.updateRequestOrigin({domainName: 'a.example.com:8080'});`, nil, ValidationError},
		{"a domain that is an IP address", "web", `cf.updateRequestOrigin({domainName: '192.0.2.1'});`, nil, ValidationError},
		{"a domain over 253 characters", "web", `cf.updateRequestOrigin({domainName: new Array(255).join('a')});`, nil, ValidationError},
		{"an origin path ending with /", "web", `cf.updateRequestOrigin({originPath: '/p/'});`, nil, ValidationError},
		{"an origin path without a leading /", "web", `cf.updateRequestOrigin({originPath: 'p'});`, nil, ValidationError},
		{"an origin path over 255 characters", "web", `cf.updateRequestOrigin({originPath: '/' + new Array(257).join('p')});`, nil, ValidationError},
		{"connectionAttempts 4", "web", `cf.updateRequestOrigin({connectionAttempts: 4});`, nil, ValidationError},
		{"connectionTimeout 11", "web", `cf.updateRequestOrigin({timeouts: {connectionTimeout: 11}});`, nil, ValidationError},
		{"readTimeout 0", "web", `cf.updateRequestOrigin({timeouts: {readTimeout: 0}});`, nil, ValidationError},
		{"an upper-case custom header", "web", `cf.updateRequestOrigin({customHeaders: {'X-Stage': 'p'}});`, nil, ValidationError},
		{"a disallowed custom header", "web", `cf.updateRequestOrigin({customHeaders: {'x-amz-cf-id': 'p'}});`, nil, ValidationError},
		{"a custom header the request has", "web", `cf.updateRequestOrigin({customHeaders: {'user-agent': 'p'}});`, nil, ValidationError},
		{"origin shield without a region", "web", `cf.updateRequestOrigin({originShield: {enabled: true}});`, nil, ValidationError},
		{"an OAC signing protocol other than sigv4", "bucket", `cf.updateRequestOrigin({originAccessControlConfig: {enabled: true, signingBehavior: 'always', signingProtocol: 'sigv2', originType: 's3'}});`, nil, ValidationError},
		{"a port CloudFront refuses", "web", `cf.updateRequestOrigin({customOriginConfig: {port: 81, protocol: 'http', sslProtocols: ['TLSv1.2']}});`, nil, ValidationError},
		{"a protocol other than http or https", "web", `cf.updateRequestOrigin({customOriginConfig: {port: 80, protocol: 'ftp', sslProtocols: ['TLSv1.2']}});`, nil, ValidationError},
		{"an unknown property", "web", `cf.updateRequestOrigin({domain: 'x.example.com'});`, nil, ValidationError},
		{"an unknown origin ID", "web", `cf.selectRequestOriginById('nope');`, nil, ValidationError},
		{"a group of one", "web", `cf.createRequestOriginGroup({originIds: ['web'], failoverCriteria: {statusCodes: [500]}});`, nil, ValidationError},
		{"a group naming an unknown origin", "web", `cf.createRequestOriginGroup({originIds: ['web', 'nope'], failoverCriteria: {statusCodes: [500]}});`, nil, ValidationError},
		{"a group failing over on 501", "web", `cf.createRequestOriginGroup({originIds: ['web', 'bucket'], failoverCriteria: {statusCodes: [501]}});`, nil, ValidationError},
		{"a group without failover criteria", "web", `cf.createRequestOriginGroup({originIds: ['web', 'bucket']});`, nil, ValidationError},
		{"a group naming one origin twice", "web", `cf.createRequestOriginGroup({originIds: ['web', 'web'], failoverCriteria: {statusCodes: [500]}});`, nil, ValidationError},
		{"not an object", "web", `cf.updateRequestOrigin('x.example.com');`, nil, ExecutionError},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.code
			if !strings.Contains(body, "return") {
				body += " return event.request;"
			}
			fn := inline(t, "origin"+string(rune('a'+i%26))+string(rune('a'+i/26)), config.FunctionRuntime2,
				"import cf from 'cloudfront';\nfunction handler(event) { "+body+" }")
			info := testInfo
			info.Distribution, info.TargetOriginID = twoOriginDist(), tt.target
			r := httptest.NewRequest("GET", "http://example.com/p", nil)
			r.Header.Set("User-Agent", "test")
			out, err := runtimeFor(t, nil, fn).ViewerRequest(context.Background(), fn, info, r)
			if tt.wantKind != "" {
				var fe *Error
				if !errors.As(err, &fe) || fe.Kind != tt.wantKind {
					t.Fatalf("err = %v, want a %s", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, out)
		})
	}
}

// TestOriginHelpersElsewhere: "You can update the origin on viewer request
// CloudFront Functions only": called at viewer-response the helpers throw
// (an execution error, 503); TestFunction runs them without a distribution
// ("The Test API … don't test whether an origin modification has
// occurred") and the run succeeds.
func TestOriginHelpersElsewhere(t *testing.T) {
	for _, call := range []string{
		`cf.updateRequestOrigin({originPath: '/x'})`,
		`cf.selectRequestOriginById('web')`,
		`cf.createRequestOriginGroup({originIds: ['web', 'bucket'], failoverCriteria: {statusCodes: [500]}})`,
	} {
		fn := inline(t, "late", config.FunctionRuntime2, "import cf from 'cloudfront';\nfunction handler(event) { "+call+"; return event.response; }")
		rt := runtimeFor(t, nil, fn)
		_, err := rt.ViewerResponse(context.Background(), fn, testInfo, httptest.NewRequest("GET", "/", nil), 200, http.Header{})
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != ExecutionError || !strings.Contains(err.Error(), "viewer-request") {
			t.Errorf("%s at viewer-response: %v, want an execution error", call, err)
		}
		early := inline(t, "early", config.FunctionRuntime2, "import cf from 'cloudfront';\nfunction handler(event) { "+call+"; return event.request; }")
		res, err := runtimeFor(t, nil, early).Test(context.Background(), early, []byte(`{"request": {"method": "GET", "uri": "/", "headers": {}, "cookies": {}, "querystring": {}}}`))
		if err != nil || res.ErrorMessage != "" || !strings.Contains(res.Output, `"uri":"/"`) {
			t.Errorf("%s in a test run: %+v %v", call, res, err)
		}
	}
}
