package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// errorLines returns err's lines, failing the test when err is not Errors.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Error())
	}
	return lines
}

func TestLoadBrokenSettings(t *testing.T) {
	_, err := Load("testdata/broken.yaml")
	want := []string{
		`testdata/broken.yaml: cache.size: size "12 parsecs": unknown unit " parsecs" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`,
		`testdata/broken.yaml: distributions[0].config.CacheBehaviors.Items[0].CachePolicyId: "NoSuchPolicy" names no managed or custom cache policy`,
		`testdata/broken.yaml: distributions[0].config.CacheBehaviors.Items[0].PathPatern: unknown field (did you mean PathPattern?)`,
		`testdata/broken.yaml: distributions[0].config.CacheBehaviors.Items[1].DefaultTTL: must not be less than MinTTL (10 < 100; CloudFront: InvalidTTLOrder)`,
		`testdata/broken.yaml: distributions[0].config.CacheBehaviors.Items[1].ViewerProtocolPolicy: must be one of allow-all, redirect-to-https, https-only (got "sometimes")`,
		`testdata/broken.yaml: distributions[0].config.CacheBehaviors.Items[2].AllowedMethods.CachedMethods: GET,HEAD,OPTIONS is not a subset of the allowed methods GET,HEAD`,
		`testdata/broken.yaml: distributions[0].config.CacheBehaviors.Items[2].PathPattern: "b/*" duplicates CacheBehaviors.Items[1].PathPattern`,
		`testdata/broken.yaml: distributions[0].config.CustomErrorResponses.Items[0].ErrorCode: 418 is not an error code CloudFront can customise (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)`,
		`testdata/broken.yaml: distributions[0].config.CustomErrorResponses.Items[1].ResponseCode: "299" is not a response code CloudFront allows (200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)`,
		`testdata/broken.yaml: distributions[0].config.CustomErrorResponses.Items[1].ResponsePagePath: must start with / (got "errors/404.html")`,
		`testdata/broken.yaml: distributions[0].config.DefaultCacheBehavior.AllowedMethods.Items: must be GET,HEAD or GET,HEAD,OPTIONS or GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE (got GET,POST)`,
		`testdata/broken.yaml: distributions[0].config.DefaultCacheBehavior.TargetOriginId: "missing" names no origin or origin group (known: web)`,
		`testdata/broken.yaml: distributions[0].config.DefaultCacheBehavior.CachePolicyId: is required (or the legacy ForwardedValues with MinTTL, DefaultTTL and MaxTTL)`,
		`testdata/broken.yaml: distributions[0].config.DefaultRootObject: must not start with / (got "/index.html")`,
		`testdata/broken.yaml: distributions[0].config.Enabled: expected true or false, got the string "yes"`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[0].ConnectionAttempts: must be between 1 and 3 (got 5)`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[0].CustomOriginConfig.HTTPSPort: must be between 1 and 65535 (got 70000)`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[0].CustomOriginConfig.OriginProtocolPolicy: must be one of http-only, match-viewer, https-only (got "https")`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[0].CustomOriginConfig.OriginReadTimeout: must be between 1 and 120 (got 200)`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[0].OriginPath: must not end with / (got "/v1/")`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[1].DomainName: "not a host" is not a host name`,
		`testdata/broken.yaml: distributions[0].config.Origins.Items[1].Id: duplicate origin Id "web" (also Origins.Items[0])`,
		`testdata/broken.yaml: distributions[0].config.Origins.Quantity: is 3 but Items has 2 entries`,
		`testdata/broken.yaml: distributions[0].id: "E-BAD" is not a distribution ID (1 to 128 letters and digits)`,
		`testdata/broken.yaml: distributions[0].originEndpoints.nosuch: "nosuch" names no origin of this distribution (origins: web)`,
		`testdata/broken.yaml: distributions[0].originEndpoints.web: "ftp://example.com" is not an http:// or https:// URL with a host`,
		`testdata/broken.yaml: listen.http: "localhost" is not a host:port address`,
		`testdata/broken.yaml: tls.mode: must be one of self-signed, files, acme (got "letsencrypt")`,
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoadBrokenJSON checks that a JSON file reports in file order and that
// the errors of a configFile name that file.
func TestLoadBrokenJSON(t *testing.T) {
	_, err := Load("testdata/broken-settings.json")
	want := []string{
		`testdata/broken-settings.json: distributions[0].domainName: "d1_bad.cloudfront.net" is not a host name`,
		`testdata/broken-settings.json: distributions[1].configFile: open testdata/missing.json: no such file or directory`,
		`testdata/broken-settings.json: distributions[2]: template, configFile or config is required`,
		`testdata/broken-distribution.json: DistributionConfig.Origins: at least one origin is required`,
		`testdata/broken-distribution.json: DistributionConfig.DefaultCacheBehavior.TargetOriginId: "s3" names no origin or origin group (known: )`,
		`testdata/broken-distribution.json: DistributionConfig.DefaultCacheBehavior.ForwardedValues.Cookies.Forward: must be one of none, whitelist, all (got "some")`,
		`testdata/broken-distribution.json: DistributionConfig.DefaultCacheBehavior.ForwardedValues.QueryString: is required`,
		`testdata/broken-distribution.json: DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy: is required (one of allow-all, redirect-to-https, https-only)`,
		`testdata/broken-distribution.json: DistributionConfig.Comment: expected a string, got a list`,
		`testdata/broken-distribution.json: DistributionConfig.Restrictions.GeoRestriction.Items[0]: "usa" is not an upper-case ISO 3166-1 alpha-2 country code`,
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadSettings(t *testing.T) {
	cfg, err := Load("testdata/edgefront.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != "testdata/edgefront.yaml" || cfg.Pop != "TEST1-C1" {
		t.Errorf("Source, Pop = %q, %q", cfg.Source, cfg.Pop)
	}
	if want := (Listen{HTTP: "127.0.0.1:18080", HTTPS: "", Admin: DefaultAdminAddr}); cfg.Listen != want {
		t.Errorf("Listen = %+v, want %+v", cfg.Listen, want)
	}
	if want := (Cache{Size: 1 << 30, MaxObjectSize: 1 << 27}); cfg.Cache != want {
		t.Errorf("Cache = %+v, want %+v", cfg.Cache, want)
	}
	if cfg.TLS.Mode != TLSSelfSigned {
		t.Errorf("TLS.Mode = %q", cfg.TLS.Mode)
	}
	if len(cfg.Distributions) != 2 {
		t.Fatalf("%d distributions, want 2", len(cfg.Distributions))
	}

	d := cfg.Distributions[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", d.ID, "E2EXAMPLE"},
		{"DomainName", d.DomainName, "d111111abcdef8.cloudfront.net"},
		{"Aliases", strings.Join(d.Aliases, ","), "www.example.com,example.com"},
		{"HTTPVersion", d.HTTPVersion, "http2and3"},
		{"PriceClass", d.PriceClass, "PriceClass_100"},
		{"Enabled", d.Enabled, true},
		{"IPv6", d.IPv6, true},
		{"DefaultRootObject", d.DefaultRootObject, "index.html"},
		{"S3 bucket", d.Origins["my-bucket"].S3.Bucket, "my-bucket"},
		{"S3 region", d.Origins["my-bucket"].S3.Region, "eu-west-1"},
		{"S3 OAC", d.Origins["my-bucket"].OriginAccessControlID, "E3OAC0EXAMPLE1"},
		{"S3 endpoint", strings.Join(d.Origins["my-bucket"].Endpoints, ","), "http://127.0.0.1:9000"},
		{"S3 credentials", d.Origins["my-bucket"].Credentials.AccessKeyID, "AKIDEXAMPLE"},
		{"website origin is custom", d.Origins["backup-bucket"].S3 == nil && d.Origins["backup-bucket"].Custom != nil, true},
		{"api endpoints", strings.Join(d.Origins["api"].Endpoints, ","), "http://127.0.0.1:9001,http://127.0.0.1:9002"},
		{"api path", d.Origins["api"].OriginPath, "/prod"},
		{"api header", d.Origins["api"].CustomHeaders, []Header{{"X-Origin-Secret", "s3cr3t"}}},
		{"api attempts", d.Origins["api"].ConnectionAttempts, 2},
		{"api connect timeout", d.Origins["api"].ConnectionTimeout, 5 * time.Second},
		{"api read timeout", d.Origins["api"].Custom.ReadTimeout, 60 * time.Second},
		{"api policy", d.Origins["api"].Custom.ProtocolPolicy, HTTPSOnly},
		{"group members", strings.Join(d.OriginGroups["static-group"].Members, ","), "my-bucket,backup-bucket"},
		{"group codes", d.OriginGroups["static-group"].FailoverCodes, []int{500, 502, 503, 504}},
		{"default target", d.Default.TargetOriginID, "static-group"},
		{"default pattern", d.Default.PathPattern, "*"},
		{"default cache policy", d.Default.CachePolicy.Name, "Managed-CachingOptimized"},
		{"default ORP is empty", *d.Default.OriginRequestPolicy, OriginRequestPolicy{Headers: none(), Cookies: none(), QueryStrings: none()}},
		{"default RHP", d.Default.ResponseHeadersPolicy.Name, "Managed-SecurityHeadersPolicy"},
		{"default methods", d.Default.AllowedMethods.String(), "GET,HEAD"},
		{"api methods", d.Behaviors[0].AllowedMethods.String(), "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"},
		{"api cached", d.Behaviors[0].CachedMethods.String(), "GET,HEAD,OPTIONS"},
		{"api caching", d.Behaviors[0].CachePolicy.Caching(), false},
		{"api ORP", d.Behaviors[0].OriginRequestPolicy.Name, "Managed-AllViewerExceptHostHeader"},
		{"legacy", d.Behaviors[1].CachePolicy.Legacy, true},
		{"legacy TTLs", []time.Duration{d.Behaviors[1].CachePolicy.MinTTL, d.Behaviors[1].CachePolicy.DefaultTTL, d.Behaviors[1].CachePolicy.MaxTTL},
			[]time.Duration{0, 86400 * time.Second, 31536000 * time.Second}},
		{"legacy headers", d.Behaviors[1].CachePolicy.Headers, Selection{Behavior: SelectWhitelist, Items: []string{"Origin"}}},
		{"legacy qs key", d.Behaviors[1].CachePolicy.QueryStrings, Selection{Behavior: SelectWhitelist, Items: []string{"w"}}},
		{"legacy qs forwarded", d.Behaviors[1].OriginRequestPolicy.QueryStrings.Behavior, SelectAll},
		{"key groups", d.Behaviors[1].TrustedKeyGroups, []string{"b3f8e1a2-0000-4c6d-9e7f-111111111111"}},
		{"match api", d.Match("/api/v1/users").PathPattern, "/api/*"},
		{"match images", d.Match("/images/x/y.jpg").PathPattern, "images/*.jpg"},
		{"match default", d.Match("/index.html").PathPattern, "*"},
		{"404 page", d.ErrorResponses[404].ResponsePagePath, "/errors/404.html"},
		{"404 TTL", d.ErrorCachingMinTTL(404), 60 * time.Second},
		{"503 TTL", d.ErrorCachingMinTTL(503), time.Duration(0)},
		{"500 TTL", d.ErrorCachingMinTTL(500), DefaultErrorCachingMinTTL},
		{"geo", d.GeoRestriction, GeoRestriction{Type: "blacklist", Countries: []string{"KP", "IR"}}},
		{"raw kept", d.Raw.CallerReference, "cli-1700000000-123456"},
		{"raw ETag", regexp.MustCompile(`^E[A-Z2-7]{13}$`).MatchString(d.ETag), true},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("distribution 0 %s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	d = cfg.Distributions[1]
	checks = []struct {
		name      string
		got, want any
	}{
		{"derived ID", d.ID, DeriveDistributionID("inline-1")},
		{"derived domain", d.DomainName, DeriveDomainName(d.ID)},
		{"custom cache policy", d.Default.CachePolicy.ID, "11111111-aaaa-bbbb-cccc-000000000001"},
		{"custom TTLs", d.Default.CachePolicy.DefaultTTL, time.Minute},
		{"canonical header", d.Default.CachePolicy.Headers.Items, []string{"Authorization"}},
		{"qs without Quantity", d.Default.CachePolicy.QueryStrings.Items, []string{"page", "size"}},
		{"custom ORP by name", d.Default.OriginRequestPolicy.ID, "22222222-aaaa-bbbb-cccc-000000000002"},
		{"custom ORP header", d.Default.OriginRequestPolicy.Headers.Items, []string{"Accept-Language"}},
		{"RHP CORS", d.Default.ResponseHeadersPolicy.CORS.MaxAgeSec, 600},
		{"RHP HSTS", d.Default.ResponseHeadersPolicy.Security.StrictTransportSecurity.Value, "max-age=63072000; includeSubDomains; preload"},
		{"RHP XSS", d.Default.ResponseHeadersPolicy.Security.XSSProtection.Value, "1; mode=block"},
		{"RHP custom", d.Default.ResponseHeadersPolicy.Custom, []CustomResponseHeader{{Name: "X-Served-By", Value: "edgefront", Override: true}}},
		{"RHP remove", d.Default.ResponseHeadersPolicy.Remove, []string{"X-Powered-By"}},
		{"RHP timing", d.Default.ResponseHeadersPolicy.ServerTimingSampleRate, 12.5},
		{"managed by short name", d.Behaviors[0].CachePolicy.ID, "658327ea-f89d-4fab-a63d-7e88639e58f6"},
		{"managed ORP by API name", d.Behaviors[0].OriginRequestPolicy.ID, "59781a5b-3903-41f3-afcb-af62929ccde1"},
		{"port", d.Origins["app"].Custom.HTTPPort, 8080},
		{"error page code from a YAML number", d.ErrorResponses[403].ResponseCode, 200},
		{"Quantity derived in Raw", *d.Raw.Origins.Quantity, 1},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("distribution 1 %s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// equal compares by Go syntax, so typed and untyped constants compare alike.
func equal(a, b any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

// TestLoadDistributionFile loads a get-distribution-config file directly.
func TestLoadDistributionFile(t *testing.T) {
	cfg, err := Load("testdata/distribution.json")
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Distributions[0]
	if d.ID != DeriveDistributionID("cli-1700000000-123456") {
		t.Errorf("ID = %q", d.ID)
	}
	if !regexp.MustCompile(`^d[a-z2-7]{14}\.cloudfront\.net$`).MatchString(d.DomainName) {
		t.Errorf("DomainName = %q", d.DomainName)
	}
	if cfg.Listen.HTTP != DefaultHTTPAddr || cfg.Cache.Size != DefaultCacheSize || cfg.Cache.MaxObjectSize != DefaultCacheSize/8 ||
		cfg.Pop != DefaultPop || cfg.TLS.Mode != TLSSelfSigned {
		t.Errorf("settings are not the defaults: %+v", cfg)
	}
	again, err := Load("testdata/distribution.json")
	if err != nil {
		t.Fatal(err)
	}
	if again.Distributions[0].ETag != d.ETag {
		t.Errorf("ETag is not stable: %q then %q", d.ETag, again.Distributions[0].ETag)
	}
	data, err := os.ReadFile("testdata/distribution.json")
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Parse("changed.json", []byte(strings.Replace(string(data), `"PriceClass_100"`, `"PriceClass_200"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Distributions[0].ETag == d.ETag {
		t.Error("ETag did not change with the config")
	}
}

// TestParseGetDistribution accepts get-distribution's output, taking the Id
// and DomainName from it.
func TestParseGetDistribution(t *testing.T) {
	doc := `{"ETag": "E1", "Distribution": {"Id": "EDFDVBD632BHDS5", "ARN": "arn:aws:cloudfront::123456789012:distribution/EDFDVBD632BHDS5",
	 "Status": "Deployed", "LastModifiedTime": "2024-01-01T00:00:00Z", "InProgressInvalidationBatches": 0,
	 "DomainName": "d2oxqriwljiwed.cloudfront.net", "ActiveTrustedSigners": {"Enabled": false, "Quantity": 0},
	 "ActiveTrustedKeyGroups": {"Enabled": false, "Quantity": 0},
	 "DistributionConfig": {"CallerReference": "x", "Comment": "", "Enabled": true,
	  "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "bucket.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
	  "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": "CachingDisabled"}}}}`
	cfg, err := Parse("get-distribution.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Distributions[0]
	if d.ID != "EDFDVBD632BHDS5" || d.DomainName != "d2oxqriwljiwed.cloudfront.net" {
		t.Errorf("ID, DomainName = %q, %q", d.ID, d.DomainName)
	}
	if s3 := d.Origins["o"].S3; s3 == nil || s3.Bucket != "bucket" || s3.Region != DefaultS3Region {
		t.Errorf("S3 = %+v", s3)
	}
}

// TestParseErrors checks one rule per row on a bare DistributionConfig.
func TestParseErrors(t *testing.T) {
	const base = `
CallerReference: r
Origins:
  Items:
    - {Id: o, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}
DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"no origins", "DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}",
			[]string{
				`d.yaml: DistributionConfig.DefaultCacheBehavior.TargetOriginId: "o" names no origin or origin group (known: )`,
				`d.yaml: DistributionConfig.Origins: at least one origin is required`,
			}},
		{"no default behaviour", "Origins: {Items: [{Id: o, DomainName: o.example.com}]}",
			[]string{`d.yaml: DistributionConfig.DefaultCacheBehavior: is required`}},
		{"ORP without cache policy", base + `CacheBehaviors: {Items: [{PathPattern: /x, TargetOriginId: o, ViewerProtocolPolicy: allow-all,
  OriginRequestPolicyId: AllViewer, ForwardedValues: {QueryString: false, Cookies: {Forward: none}}}]}`,
			[]string{`d.yaml: DistributionConfig.CacheBehaviors.Items[0].OriginRequestPolicyId: requires a CachePolicyId (it cannot be combined with legacy ForwardedValues)`}},
		{"policy and legacy", base + `CacheBehaviors: {Items: [{PathPattern: /x, TargetOriginId: o, ViewerProtocolPolicy: allow-all,
  CachePolicyId: CachingDisabled, ForwardedValues: {QueryString: false, Cookies: {Forward: none}}}]}`,
			[]string{`d.yaml: DistributionConfig.CacheBehaviors.Items[0].ForwardedValues: cannot be used together with CachePolicyId: the cache policy holds the cache key and TTLs (CloudFront: InvalidArgument)`}},
		{"policy and legacy TTLs", base + `CacheBehaviors: {Items: [{PathPattern: /x, TargetOriginId: o, ViewerProtocolPolicy: allow-all,
  CachePolicyId: CachingDisabled, MinTTL: 0, DefaultTTL: 5, MaxTTL: 60}]}`,
			[]string{
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].DefaultTTL: cannot be used together with CachePolicyId: the cache policy holds the cache key and TTLs (CloudFront: InvalidArgument)`,
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].MaxTTL: cannot be used together with CachePolicyId: the cache policy holds the cache key and TTLs (CloudFront: InvalidArgument)`,
			}},
		{"managed policy names misspelt", base + `CacheBehaviors: {Items: [{PathPattern: /x, TargetOriginId: o, ViewerProtocolPolicy: allow-all,
  CachePolicyId: CachingOptimised, OriginRequestPolicyId: AllViewers, ResponseHeadersPolicyId: Managed-SecurityHeaderPolicy}]}`,
			[]string{
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].CachePolicyId: "CachingOptimised" names no managed or custom cache policy (did you mean CachingOptimized?)`,
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].OriginRequestPolicyId: "AllViewers" names no managed or custom origin request policy (did you mean AllViewer?)`,
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].ResponseHeadersPolicyId: "Managed-SecurityHeaderPolicy" names no managed or custom response headers policy (did you mean SecurityHeadersPolicy?)`,
			}},
		{"error page path without /", base + `CustomErrorResponses: {Items: [{ErrorCode: 404, ResponseCode: "404", ResponsePagePath: errors/404.html}]}`,
			[]string{`d.yaml: DistributionConfig.CustomErrorResponses.Items[0].ResponsePagePath: must start with / (got "errors/404.html")`}},
		{"unknown ORP and RHP", base + `CacheBehaviors: {Items: [{PathPattern: /x, TargetOriginId: o, ViewerProtocolPolicy: allow-all,
  CachePolicyId: CachingDisabled, OriginRequestPolicyId: nope, ResponseHeadersPolicyId: 00000000-0000-0000-0000-000000000000}]}`,
			[]string{
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].OriginRequestPolicyId: "nope" names no managed or custom origin request policy`,
				`d.yaml: DistributionConfig.CacheBehaviors.Items[0].ResponseHeadersPolicyId: "00000000-0000-0000-0000-000000000000" names no managed or custom response headers policy`,
			}},
		{"bad pattern", base + `CacheBehaviors: {Items: [{PathPattern: "/a b", TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}]}`,
			[]string{`d.yaml: DistributionConfig.CacheBehaviors.Items[0].PathPattern: path pattern contains ' ', which CloudFront does not allow (allowed: A-Z a-z 0-9 _ - . * ? $ / ~ " ' @ : + &)`}},
		{"origin path", `
Origins: {Items: [{Id: o, DomainName: o.example.com, OriginPath: prod, ConnectionTimeout: 11}]}
DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}`,
			[]string{
				`d.yaml: DistributionConfig.Origins.Items[0].ConnectionTimeout: must be between 1 and 10 (got 11)`,
				`d.yaml: DistributionConfig.Origins.Items[0].OriginPath: must start with / (got "prod")`,
			}},
		{"both origin kinds", `
Origins: {Items: [{Id: o, DomainName: b.s3.amazonaws.com, S3OriginConfig: {}, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}`,
			[]string{`d.yaml: DistributionConfig.Origins.Items[0]: only one of S3OriginConfig, CustomOriginConfig and VpcOriginConfig may be given`}},
		{"origin group", base + `OriginGroups: {Items: [{Id: g, Members: {Items: [{OriginId: o}]}, FailoverCriteria: {StatusCodes: {Items: [500, 501]}}}]}`,
			[]string{
				`d.yaml: DistributionConfig.OriginGroups.Items[0].FailoverCriteria.StatusCodes.Items[1]: 501 is not a failover status code (use 400, 403, 404, 416, 500, 502, 503, 504)`,
				`d.yaml: DistributionConfig.OriginGroups.Items[0].Members: must name exactly two origins, the primary and the secondary (got 1)`,
			}},
		{"legacy TTLs", base + `CacheBehaviors: {Items: [{PathPattern: /x, TargetOriginId: o, ViewerProtocolPolicy: allow-all,
  ForwardedValues: {QueryString: false, Cookies: {Forward: none}}, MinTTL: 0, DefaultTTL: 100, MaxTTL: 50}]}`,
			[]string{`d.yaml: DistributionConfig.CacheBehaviors.Items[0].MaxTTL: must not be less than DefaultTTL (50 < 100; CloudFront: InvalidTTLOrder)`}},
		{"aliases", base + `Aliases: {Quantity: 2, Items: ["*.example.com", "bad_host"]}`,
			[]string{`d.yaml: DistributionConfig.Aliases.Items[1]: "bad_host" is not a host name`}},
		{"wrong types", base + `IsIPV6Enabled: 1
HttpVersion: http9
CustomErrorResponses: {Items: [{ErrorCode: "404"}]}`,
			[]string{
				`d.yaml: DistributionConfig.CustomErrorResponses.Items[0].ErrorCode: expected an integer, got the string "404"`,
				`d.yaml: DistributionConfig.HttpVersion: must be one of http1.1, http2, http3, http2and3 (got "http9")`,
				`d.yaml: DistributionConfig.IsIPV6Enabled: expected true or false, got the number 1`,
			}},
		{"error response pairs", base + `CustomErrorResponses: {Items: [{ErrorCode: 404, ResponseCode: "200"}, {ErrorCode: 404}]}`,
			[]string{
				`d.yaml: DistributionConfig.CustomErrorResponses.Items[0].ResponsePagePath: is required with ResponseCode`,
				`d.yaml: DistributionConfig.CustomErrorResponses.Items[1].ErrorCode: 404 is configured twice`,
			}},
		{"syntax", "Origins: [", []string{`d.yaml: (syntax): invalid YAML: yaml: line 1: did not find expected node content`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("d.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseSettingsErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"no distributions", "pop: X1", []string{`s.yaml: distributions: at least one distribution is required`}},
		{"tls files", "tls: {mode: files}\ndistributions: []", []string{
			`s.yaml: distributions: at least one distribution is required`,
			`s.yaml: tls.certificates: is required when tls.mode is files`,
		}},
		{"object too big", "cache: {size: 1MiB, maxObjectSize: 2MiB}\ndistributions: []", []string{
			`s.yaml: cache.maxObjectSize: is larger than cache.size (2097152 > 1048576 bytes)`,
			`s.yaml: distributions: at least one distribution is required`,
		}},
		{"disk without path or size", "cache: {disk: {}}\ndistributions: []", []string{
			`s.yaml: cache.disk.path: is required (the directory of the cache files)`,
			`s.yaml: cache.disk.size: is required (the most the cache files may take, like "50GiB")`,
			`s.yaml: distributions: at least one distribution is required`,
		}},
		{"disk bad size", "cache: {disk: {path: /c, size: 10 bananas}}\ndistributions: []", []string{
			`s.yaml: cache.disk.size: size "10 bananas": unknown unit " bananas" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`,
			`s.yaml: distributions: at least one distribution is required`,
		}},
		{"disk object too big", "cache: {disk: {path: /c, size: 1GiB, maxObjectSize: 2GiB}}\ndistributions: []", []string{
			`s.yaml: cache.disk.maxObjectSize: is larger than cache.disk.size (2147483648 > 1073741824 bytes)`,
			`s.yaml: distributions: at least one distribution is required`,
		}},
		{"disk unknown key", "cache: {disk: {path: /c, size: 1GiB, sise: 2}}\ndistributions: []", []string{
			`s.yaml: cache.disk.sise: unknown field (did you mean size?)`,
			`s.yaml: distributions: at least one distribution is required`,
		}},
		{"unknown key", "listen: {htp: x}\ndistributions: []", []string{
			`s.yaml: distributions: at least one distribution is required`,
			`s.yaml: listen.htp: unknown field (did you mean http?)`,
		}},
		{"credentials for a custom origin", `distributions:
  - config: {Origins: {Items: [{Id: o, DomainName: o.example.com}]}, DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}}
    originCredentials: {o: {accessKeyId: a, secretAccessKey: b}}`, []string{
			`s.yaml: distributions[0].originCredentials.o: origin "o" is not an S3 origin`,
		}},
		{"duplicate hosts", `distributions:
  - {id: E1, domainName: one.example.net, config: {Aliases: {Items: [a.example.com]}, Origins: {Items: [{Id: o, DomainName: o.example.com}]}, DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}}}
  - {id: E1, domainName: two.example.net, config: {Aliases: {Items: [A.example.com]}, Origins: {Items: [{Id: o, DomainName: o.example.com}]}, DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}}}`, []string{
			`s.yaml: distributions[1]: host name "a.example.com" is also served by distributions[0]`,
			`s.yaml: distributions[1].id: "E1" is also the ID of distributions[0]`,
		}},
		{"custom policy clashes", `cachePolicies:
  - {Id: p1, CachePolicyConfig: {Name: CachingOptimized, MinTTL: 0, DefaultTTL: 10, ParametersInCacheKeyAndForwardedToOrigin: {HeadersConfig: {HeaderBehavior: whitelist}, CookiesConfig: {CookieBehavior: none}, QueryStringsConfig: {QueryStringBehavior: none}}}}
distributions: []`, []string{
			`s.yaml: cachePolicies[0].CachePolicyConfig.Name: "CachingOptimized" is the name or ID of a managed policy`,
			`s.yaml: cachePolicies[0].CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers: at least one name is required with whitelist`,
			`s.yaml: distributions: at least one distribution is required`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestDiskSettings: cache.disk as written, with its defaults; a relative
// path is relative to the settings file.
func TestDiskSettings(t *testing.T) {
	const dist = "\ndistributions: [{config: {Origins: {Items: [{Id: o, DomainName: o.example.com}]}, DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}}}]"
	for _, tc := range []struct {
		doc  string
		want DiskCache
	}{
		{"cache: {disk: {path: /var/cache/edgefront, size: 50GiB}}", DiskCache{Path: "/var/cache/edgefront", Size: 50 << 30, MaxObjectSize: 1 << 30}},
		{"cache: {disk: {path: /c, size: 100MiB}}", DiskCache{Path: "/c", Size: 100 << 20, MaxObjectSize: 100 << 20}},
		{"cache: {disk: {path: cache, size: 2GiB, maxObjectSize: 10MiB}}", DiskCache{Path: filepath.Join("conf", "cache"), Size: 2 << 30, MaxObjectSize: 10 << 20}},
		{"cache: {size: 1GiB}", DiskCache{}},
	} {
		cfg, err := Parse("conf/s.yaml", []byte(tc.doc+dist))
		if err != nil {
			t.Errorf("%s: %v", tc.doc, err)
			continue
		}
		if cfg.Cache.Disk != tc.want {
			t.Errorf("%s: Disk = %+v, want %+v", tc.doc, cfg.Cache.Disk, tc.want)
		}
	}
}

// TestParseDiskFlag: --cache-disk PATH:SIZE.
func TestParseDiskFlag(t *testing.T) {
	for _, tc := range []struct {
		v       string
		want    DiskCache
		wantErr string
	}{
		{v: "/var/cache/e:50GiB", want: DiskCache{Path: "/var/cache/e", Size: 50 << 30, MaxObjectSize: 1 << 30}},
		{v: "/c:512MiB", want: DiskCache{Path: "/c", Size: 512 << 20, MaxObjectSize: 512 << 20}},
		{v: "/c", wantErr: `"/c": want PATH:SIZE, like /var/cache/edgefront:50GiB`},
		{v: "/c:", wantErr: `"/c:": want PATH:SIZE, like /var/cache/edgefront:50GiB`},
		{v: ":1GiB", wantErr: `":1GiB": want PATH:SIZE, like /var/cache/edgefront:50GiB`},
		{v: "/c:lots", wantErr: `"/c:lots": size "lots": expected a number of bytes, optionally with a unit like MiB or GB`},
	} {
		got, err := ParseDiskFlag(tc.v)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseDiskFlag(%q) error = %v, want %s", tc.v, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDiskFlag(%q) = %+v, %v; want %+v", tc.v, got, err, tc.want)
		}
	}
}

func TestForOrigin(t *testing.T) {
	tests := []struct {
		url               string
		domain, path      string
		policy            string
		httpPort, tlsPort int
		endpoints         []string
	}{
		{"http://127.0.0.1:3000", "127.0.0.1", "", HTTPOnly, 3000, 443, nil},
		{"https://api.example.com/v1/", "api.example.com", "/v1", HTTPSOnly, 80, 443, nil},
		{"http://[::1]:8080/", "origin.invalid", "", HTTPOnly, 8080, 443, []string{"http://[::1]:8080"}},
	}
	for _, tt := range tests {
		cfg, err := ForOrigin(tt.url)
		if err != nil {
			t.Fatalf("ForOrigin(%q): %v", tt.url, err)
		}
		d := cfg.Distributions[0]
		o := d.Origins["origin"]
		if d.ID != QuickstartID || o.DomainName != tt.domain || o.OriginPath != tt.path || o.Custom.ProtocolPolicy != tt.policy ||
			o.Custom.HTTPPort != tt.httpPort || o.Custom.HTTPSPort != tt.tlsPort || !slices.Equal(o.Endpoints, tt.endpoints) {
			t.Errorf("ForOrigin(%q): ID %q origin %+v custom %+v", tt.url, d.ID, o, o.Custom)
		}
		if d.Default.CachePolicy.Name != QuickCachePolicyName || d.Default.OriginRequestPolicy.Name != "Managed-AllViewer" ||
			d.Default.ResponseHeadersPolicy != nil || d.Default.ViewerProtocolPolicy != AllowAll ||
			d.Default.AllowedMethods.String() != "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE" || d.Raw == nil || d.ETag == "" {
			t.Errorf("ForOrigin(%q): default behaviour %+v", tt.url, d.Default)
		}
		if cfg.Listen.HTTP != DefaultHTTPAddr {
			t.Errorf("Listen = %+v", cfg.Listen)
		}
	}
	for _, bad := range []string{"ftp://x", "localhost:80", "http://", "http://h/?q=1"} {
		if _, err := ForOrigin(bad); err == nil {
			t.Errorf("ForOrigin(%q) succeeded", bad)
		}
	}
}

// TestQuickModeDefaultPolicy: quick mode's default cache policy honours the
// origin (TTLs 0/0/1 year) and keys all query strings, all cookies and
// Authorization; the origin request policy is AllViewer.
func TestQuickModeDefaultPolicy(t *testing.T) {
	cfg, err := ForOrigin("http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Distributions[0].Default
	cp, orp := b.CachePolicy, b.OriginRequestPolicy
	if cp.ID != QuickCachePolicyID || cp.MinTTL != 0 || cp.DefaultTTL != 0 || cp.MaxTTL != 31536000*time.Second ||
		cp.QueryStrings.Behavior != SelectAll || cp.Cookies.Behavior != SelectAll ||
		cp.Headers.Behavior != SelectWhitelist || !slices.Equal(cp.Headers.Items, []string{"Authorization"}) ||
		!cp.EnableAcceptEncodingGzip || !cp.EnableAcceptEncodingBrotli {
		t.Errorf("cache policy %+v", cp)
	}
	if orp.ID != "216adef6-5c7f-47e4-b989-5492eafa07d3" {
		t.Errorf("origin request policy %+v", orp)
	}
}

// TestQuickModePolicies: the policy flags take a managed policy's name (with
// or without "Managed-") or ID; an unknown one is refused naming the flag.
func TestQuickModePolicies(t *testing.T) {
	tests := []struct {
		name                string
		q                   QuickMode
		cache, origin, resp string
		err                 string
	}{
		{"defaults", QuickMode{}, QuickCachePolicyName, "Managed-AllViewer", "", ""},
		{"short names", QuickMode{CachePolicy: "CachingOptimized", OriginRequestPolicy: "CORS-CustomOrigin", ResponseHeadersPolicy: "SecurityHeadersPolicy"},
			"Managed-CachingOptimized", "Managed-CORS-CustomOrigin", "Managed-SecurityHeadersPolicy", ""},
		{"IDs", QuickMode{CachePolicy: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", OriginRequestPolicy: "b689b0a8-53d0-40ab-baf2-68738e2966ac"},
			"Managed-CachingDisabled", "Managed-AllViewerExceptHostHeader", "", ""},
		{"quick policy by name", QuickMode{CachePolicy: QuickCachePolicyName}, QuickCachePolicyName, "Managed-AllViewer", "", ""},
		{"unknown cache policy", QuickMode{CachePolicy: "Nope"}, "", "", "", `--cache-policy "Nope": no managed policy`},
		{"unknown origin request policy", QuickMode{OriginRequestPolicy: "Nope"}, "", "", "", `--origin-request-policy "Nope"`},
		{"unknown response headers policy", QuickMode{ResponseHeadersPolicy: "Nope"}, "", "", "", `--response-headers-policy "Nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Origin = "http://127.0.0.1:3000"
			cfg, err := tt.q.Config()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b := cfg.Distributions[0].Default
			resp := ""
			if b.ResponseHeadersPolicy != nil {
				resp = b.ResponseHeadersPolicy.Name
			}
			if b.CachePolicy.Name != tt.cache || b.OriginRequestPolicy.Name != tt.origin || resp != tt.resp {
				t.Errorf("policies %q %q %q, want %q %q %q", b.CachePolicy.Name, b.OriginRequestPolicy.Name, resp, tt.cache, tt.origin, tt.resp)
			}
		})
	}
}

func TestS3RESTEndpoint(t *testing.T) {
	tests := []struct {
		domain, bucket, region string
		ok                     bool
	}{
		{"my-bucket.s3.amazonaws.com", "my-bucket", "", true},
		{"my-bucket.s3.us-west-2.amazonaws.com", "my-bucket", "us-west-2", true},
		{"my-bucket.s3-us-west-2.amazonaws.com", "my-bucket", "us-west-2", true},
		{"my.dotted.bucket.s3.eu-west-1.amazonaws.com", "my.dotted.bucket", "eu-west-1", true},
		{"b.s3.dualstack.ap-south-1.amazonaws.com", "b", "ap-south-1", true},
		{"b.s3.cn-north-1.amazonaws.com.cn", "b", "cn-north-1", true},
		{"b.s3-website-us-east-1.amazonaws.com", "", "", false},
		{"b.s3-website.eu-west-1.amazonaws.com", "", "", false},
		{"abc.execute-api.us-east-1.amazonaws.com", "", "", false},
		{"s3.amazonaws.com", "", "", false},
		{"example.com", "", "", false},
	}
	for _, tt := range tests {
		b, r, ok := s3RESTEndpoint(tt.domain)
		if b != tt.bucket || r != tt.region || ok != tt.ok {
			t.Errorf("s3RESTEndpoint(%q) = %q, %q, %v; want %q, %q, %v", tt.domain, b, r, ok, tt.bucket, tt.region, tt.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true},
		{"512MiB", 512 << 20, true},
		{"1GiB", 1 << 30, true},
		{"1.5GB", 1500000000, true},
		{"64 mib", 64 << 20, true},
		{"2k", 2048, true},
		{"10kB", 10000, true},
		{"0", 0, false},
		{"", 0, false},
		{"MiB", 0, false},
		{"5 parsecs", 0, false},
		{"1e3", 0, false},
		{"99999999TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestManagedPolicies(t *testing.T) {
	for _, key := range []string{"658327ea-f89d-4fab-a63d-7e88639e58f6", "CachingOptimized", "Managed-CachingOptimized"} {
		p, ok := ManagedCachePolicy(key)
		if !ok || p.ID != "658327ea-f89d-4fab-a63d-7e88639e58f6" || p.MinTTL != time.Second || !p.EnableAcceptEncodingBrotli {
			t.Errorf("ManagedCachePolicy(%q) = %+v, %v", key, p, ok)
		}
	}
	p, _ := ManagedCachePolicy("Amplify")
	if p.MaxTTL != 600*time.Second || !slices.Equal(p.Headers.Items, []string{"Authorization", "Cloudfront-Viewer-Country", "Host"}) {
		t.Errorf("Amplify = %+v", p)
	}
	p.Headers.Items[0] = "changed"
	if again, _ := ManagedCachePolicy("Amplify"); again.Headers.Items[0] != "Authorization" {
		t.Error("the catalogue shares state between lookups")
	}
	if p, ok := ManagedCachePolicy("CachingDisabled"); !ok || p.Caching() {
		t.Errorf("CachingDisabled = %+v, %v", p, ok)
	}
	for _, key := range []string{"AllViewer", "AllViewerAndCloudFrontHeaders-2022-06", "AllViewerExceptHostHeader", "CORS-CustomOrigin",
		"CORS-S3Origin", "Elemental-MediaTailor-PersonalizedManifests", "HostHeaderOnly", "UserAgentRefererHeaders"} {
		if _, ok := ManagedOriginRequestPolicy(key); !ok {
			t.Errorf("no managed origin request policy %q", key)
		}
	}
	for _, key := range []string{"SimpleCORS", "CORS-With-Preflight", "SecurityHeadersPolicy", "CORS-and-SecurityHeadersPolicy",
		"CORS-With-Preflight-And-SecurityHeadersPolicy", "eaab4381-ed33-4a86-88ca-d9558dc6cd63"} {
		if _, ok := ManagedResponseHeadersPolicy(key); !ok {
			t.Errorf("no managed response headers policy %q", key)
		}
	}
	if _, ok := ManagedCachePolicy("AllViewer"); ok {
		t.Error("AllViewer found among cache policies")
	}
	if len(ManagedCachePolicies()) != 11 || len(ManagedOriginRequestPolicies()) != 8 || len(ManagedResponseHeadersPolicies()) != 5 {
		t.Error("catalogue sizes changed")
	}
}

func TestDerivedIDs(t *testing.T) {
	id := DeriveDistributionID("ref")
	if !regexp.MustCompile(`^E[A-Z2-7]{13}$`).MatchString(id) || id != DeriveDistributionID("ref") || id == DeriveDistributionID("ref2") {
		t.Errorf("DeriveDistributionID = %q", id)
	}
	if d := DeriveDomainName(id); !regexp.MustCompile(`^d[a-z2-7]{14}\.cloudfront\.net$`).MatchString(d) {
		t.Errorf("DeriveDomainName = %q", d)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"distribution.json", "edgefront.yaml", "broken.yaml", "broken-settings.json", "broken-distribution.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, data)
	}
	f.Add("x.json", []byte(`{"DistributionConfig": {"Origins": {"Quantity": -1}}}`))
	f.Add("x", []byte("[1, 2"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		// Only names inside testdata, so a configFile never leaves it.
		cfg, err := Parse(filepath.Join("testdata", filepath.Base(name)), data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", cfg, err)
		}
	})
}
