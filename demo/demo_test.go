package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"sigs.k8s.io/yaml"

	"github.com/edgefront/edgefront/config"
)

func start(t *testing.T) *Demo {
	t.Helper()
	d, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// TestBucket reads the seeded objects through the real S3 client, as the
// proxy's S3 origin does.
func TestBucket(t *testing.T) {
	d := start(t)
	client := s3.New(s3.Options{
		BaseEndpoint:               aws.String(d.S3URL()),
		UsePathStyle:               true,
		Region:                     Region,
		Credentials:                credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})

	for _, tc := range []struct {
		key, contentType, cacheControl, contains string
		minSize                                  int
	}{
		{"index.html", "text/html; charset=utf-8", "max-age=60", "X-Cache", 0},
		{"about/index.html", "text/html; charset=utf-8", "max-age=60", "About edgefront", 0},
		{"404.html", "text/html; charset=utf-8", "", "CustomErrorResponses", 0},
		{"assets/style.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", "--accent", 0},
		{"assets/app.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "/api/time", 0},
		{"assets/logo.svg", "image/svg+xml", "public, max-age=31536000, immutable", "<svg", 0},
		{"assets/data.json", "application/json", "public, max-age=31536000, immutable", `"records"`, 15 << 10},
	} {
		t.Run(tc.key, func(t *testing.T) {
			out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(Bucket), Key: aws.String(tc.key)})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.ContentType); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := aws.ToString(out.CacheControl); got != tc.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", got, tc.cacheControl)
			}
			if out.LastModified == nil || out.ETag == nil {
				t.Errorf("Last-Modified %v, ETag %v: want both", out.LastModified, out.ETag)
			}
			if !bytes.Contains(body, []byte(tc.contains)) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			if len(body) < tc.minSize {
				t.Errorf("body is %d bytes, want at least %d", len(body), tc.minSize)
			}
			if strings.HasSuffix(tc.key, ".json") && !json.Valid(body) {
				t.Error("body is not valid JSON")
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		_, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(Bucket), Key: aws.String("missing")})
		var nsk *types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Errorf("GetObject(missing) error = %v, want NoSuchKey", err)
		}
	})
}

// TestAPI sends real requests to the API origin, as the proxy would after
// prefixing the origin path and setting Host to the origin's domain name.
func TestAPI(t *testing.T) {
	d := start(t)
	apiHost := hostname(d.APIURL()[len("http://"):])

	for _, tc := range []struct {
		name, method, path, host string
		header                   http.Header
		body                     string
		status                   int
		cacheControl             string
		check                    func(t *testing.T, body map[string]any)
	}{
		{name: "time", method: "GET", path: "/prod/api/time", status: 200, cacheControl: "no-store",
			check: func(t *testing.T, b map[string]any) {
				ts, _ := b["time"].(string)
				if tm, err := time.Parse(time.RFC3339Nano, ts); err != nil || time.Since(tm).Abs() > time.Minute {
					t.Errorf("time = %q (%v), want now", ts, err)
				}
			}},
		{name: "time HEAD", method: "HEAD", path: "/prod/api/time", status: 200, cacheControl: "no-store"},
		{name: "echo", method: "POST", path: "/prod/api/echo?x=1&x=2&y=", body: `{"hello":"world"}`,
			header: http.Header{"X-Test": {"a", "b"}, "Content-Type": {"application/json"}},
			status: 200, cacheControl: "no-store",
			check: func(t *testing.T, b map[string]any) {
				want := map[string]any{
					"method": "POST", "path": "/prod/api/echo", "body": `{"hello":"world"}`, "isBase64Encoded": false,
					"query": map[string]any{"x": []any{"1", "2"}, "y": []any{""}},
				}
				for k, v := range want {
					if !reflect.DeepEqual(b[k], v) {
						t.Errorf("%s = %#v, want %#v", k, b[k], v)
					}
				}
				h, _ := b["headers"].(map[string]any)
				if !reflect.DeepEqual(h["X-Test"], []any{"a", "b"}) || !reflect.DeepEqual(h["Host"], []any{APIDomainName}) {
					t.Errorf("headers = %v, want X-Test [a b] and Host %s", h, APIDomainName)
				}
			}},
		{name: "echo binary body", method: "PUT", path: "/prod/api/echo", body: "\xff\xfe", status: 200, cacheControl: "no-store",
			check: func(t *testing.T, b map[string]any) {
				if b["body"] != "//4=" || b["isBase64Encoded"] != true {
					t.Errorf("body %v isBase64Encoded %v, want //4= true", b["body"], b["isBase64Encoded"])
				}
			}},
		{name: "hello", method: "GET", path: "/prod/api/hello?name=Ada", status: 200,
			check: func(t *testing.T, b map[string]any) {
				if b["message"] != "Hello, Ada!" {
					t.Errorf("message = %v", b["message"])
				}
			}},
		{name: "hello world", method: "GET", path: "/prod/api/hello", status: 200,
			check: func(t *testing.T, b map[string]any) {
				if b["message"] != "Hello, world!" {
					t.Errorf("message = %v", b["message"])
				}
			}},
		{name: "Host with port", method: "GET", path: "/prod/api/time", host: APIDomainName + ":443", status: 200, cacheControl: "no-store"},
		{name: "unknown route", method: "GET", path: "/prod/api/nope", status: 404, check: wantMessage("Not Found")},
		{name: "wrong method", method: "DELETE", path: "/prod/api/time", status: 404, check: wantMessage("Not Found")},
		{name: "no stage", method: "GET", path: "/api/time", status: 404, check: wantMessage("Not Found")},
		{name: "viewer Host forwarded", method: "GET", path: "/prod/api/time", host: DomainName, status: 403, check: wantMessage("Forbidden")},
		{name: "loopback Host", method: "GET", path: "/prod/api/time", host: apiHost, status: 403, check: wantMessage("Forbidden")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, d.APIURL()+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			req.Host = APIDomainName
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.status, raw)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := resp.Header.Get("Cache-Control"); tc.cacheControl != "" && got != tc.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", got, tc.cacheControl)
			}
			if resp.Header.Get("Apigw-Requestid") == "" {
				t.Error("no Apigw-Requestid")
			}
			if tc.method == "HEAD" {
				if len(raw) != 0 {
					t.Errorf("HEAD answered a body of %d bytes", len(raw))
				}
				return
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %q: %v", raw, err)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func wantMessage(m string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
		t.Helper()
		if len(b) != 1 || b["message"] != m {
			t.Errorf("body = %v, want {\"message\":%q}", b, m)
		}
	}
}

// TestConfigYAML checks the filled template without the config loader: it
// is YAML, and the addresses are where Start put the origins.
func TestConfigYAML(t *testing.T) {
	d := start(t)
	listen := config.Listen{HTTP: "127.0.0.1:8080", HTTPS: "[::1]:8443", Admin: ""}
	data, err := d.configYAML(listen)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Listen        map[string]string
		TLS           map[string]string `json:"tls"`
		Distributions []struct {
			ID                string `json:"id"`
			DomainName        string `json:"domainName"`
			OriginEndpoints   map[string]string
			OriginCredentials map[string]map[string]string
			Config            map[string]any
		}
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if want := map[string]string{"http": "127.0.0.1:8080", "https": "[::1]:8443", "admin": ""}; !reflect.DeepEqual(doc.Listen, want) {
		t.Errorf("listen = %v, want %v", doc.Listen, want)
	}
	if len(doc.Distributions) != 1 {
		t.Fatalf("%d distributions, want 1", len(doc.Distributions))
	}
	dist := doc.Distributions[0]
	if dist.ID != DistributionID || dist.DomainName != DomainName {
		t.Errorf("id %q domainName %q", dist.ID, dist.DomainName)
	}
	if want := map[string]string{BucketOriginID: d.S3URL(), APIOriginID: d.APIURL()}; !reflect.DeepEqual(dist.OriginEndpoints, want) {
		t.Errorf("originEndpoints = %v, want %v", dist.OriginEndpoints, want)
	}
	if got := dist.OriginCredentials[BucketOriginID]["secretAccessKey"]; got != SecretAccessKey {
		t.Errorf("secretAccessKey = %q", got)
	}
	if dist.Config["DefaultRootObject"] != "index.html" {
		t.Errorf("DefaultRootObject = %v", dist.Config["DefaultRootObject"])
	}
}

// TestConfig compiles the demo distribution with the config loader.
func TestConfig(t *testing.T) {
	d := start(t)
	listen := config.Listen{HTTP: "127.0.0.1:8080", HTTPS: "127.0.0.1:8443", Admin: "127.0.0.1:9090"}
	c := parse(t, d, listen)

	if c.Listen != listen {
		t.Errorf("Listen = %+v, want %+v", c.Listen, listen)
	}
	if len(c.Distributions) != 1 {
		t.Fatalf("%d distributions, want 1", len(c.Distributions))
	}
	dist := c.Distributions[0]
	if dist.ID != DistributionID || dist.DomainName != DomainName || !dist.Enabled || dist.DefaultRootObject != "index.html" {
		t.Errorf("distribution %s %s enabled %v root %q", dist.ID, dist.DomainName, dist.Enabled, dist.DefaultRootObject)
	}

	bucket, api := dist.Origins[BucketOriginID], dist.Origins[APIOriginID]
	if bucket == nil || api == nil {
		t.Fatalf("origins = %v, want %s and %s", dist.Origins, BucketOriginID, APIOriginID)
	}
	if bucket.S3 == nil || bucket.S3.Bucket != Bucket || bucket.S3.Region != Region {
		t.Errorf("bucket origin S3 = %+v, want bucket %s in %s", bucket.S3, Bucket, Region)
	}
	if !reflect.DeepEqual(bucket.Endpoints, []string{d.S3URL()}) {
		t.Errorf("bucket endpoints = %v, want [%s]", bucket.Endpoints, d.S3URL())
	}
	if bucket.Credentials == nil || bucket.Credentials.AccessKeyID != AccessKeyID || bucket.Credentials.SecretAccessKey != SecretAccessKey {
		t.Errorf("bucket credentials = %+v", bucket.Credentials)
	}
	if api.Custom == nil || api.OriginPath != APIStage || api.DomainName != APIDomainName {
		t.Errorf("api origin = %+v, want custom origin %s%s", api, APIDomainName, APIStage)
	}
	if !reflect.DeepEqual(api.Endpoints, []string{d.APIURL()}) {
		t.Errorf("api endpoints = %v, want [%s]", api.Endpoints, d.APIURL())
	}

	for _, tc := range []struct {
		path, origin string
		caching      bool
	}{
		{"/", BucketOriginID, true},
		{"/assets/style.css", BucketOriginID, true},
		{"/api/time", APIOriginID, false},
		{"/api/echo", APIOriginID, false},
		{"/apix", BucketOriginID, true},
	} {
		b := dist.Match(tc.path)
		if b.TargetOriginID != tc.origin || b.CachePolicy.Caching() != tc.caching {
			t.Errorf("Match(%s) = origin %s caching %v, want %s %v", tc.path, b.TargetOriginID, b.CachePolicy.Caching(), tc.origin, tc.caching)
		}
	}
	if b := dist.Match("/api/echo"); !b.AllowedMethods.Has(http.MethodPost) || b.CachedMethods.Has(http.MethodPost) {
		t.Errorf("/api/* methods allowed %v cached %v", b.AllowedMethods, b.CachedMethods)
	}
	if !dist.Default.Compress {
		t.Error("default behaviour does not compress")
	}
	e := dist.ErrorResponses[404]
	if e == nil || e.ResponsePagePath != "/404.html" || e.ResponseCode != 404 || dist.ErrorCachingMinTTL(404) != 10*time.Second {
		t.Errorf("error response 404 = %+v", e)
	}
}

// parse calls Config and fails the test on an error.
func parse(t *testing.T, d *Demo, listen config.Listen) *config.Config {
	t.Helper()
	c, err := d.Config(listen)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestURLs(t *testing.T) {
	for _, tc := range []struct {
		listen config.Listen
		first  string
	}{
		{config.Listen{HTTP: "127.0.0.1:8080", HTTPS: "127.0.0.1:8443"}, "http://127.0.0.1:8080/"},
		{config.Listen{HTTP: "0.0.0.0:8080"}, "http://localhost:8080/"},
		{config.Listen{HTTP: ":8080"}, "http://localhost:8080/"},
		{config.Listen{HTTP: "[::]:8080"}, "http://localhost:8080/"},
		{config.Listen{HTTP: "[::1]:8080"}, "http://[::1]:8080/"},
		{config.Listen{HTTPS: "127.0.0.1:8443"}, "https://127.0.0.1:8443/"},
		{config.Listen{}, ""},
	} {
		urls := URLs(tc.listen)
		var first string
		if len(urls) > 0 {
			first = urls[0]
		}
		if first != tc.first {
			t.Errorf("URLs(%+v)[0] = %q, want %q", tc.listen, first, tc.first)
		}
		base := strings.TrimSuffix(tc.first, "/")
		for _, p := range []string{"/api/time", "/api/echo?x=1", "/missing"} {
			if tc.first != "" && !contains(urls, base+p) {
				t.Errorf("URLs(%+v) = %v, want %s among them", tc.listen, urls, base+p)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestClose(t *testing.T) {
	d, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, u := range []string{d.S3URL(), d.APIURL()} {
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "http://"), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", u)
		}
	}
}
