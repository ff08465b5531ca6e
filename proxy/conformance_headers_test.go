// End-to-end rows for response headers policies and ranges served from the
// cache, each citing the CloudFront rule it checks.

package proxy_test

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// rhpPolicies is a custom response headers policy for the rows below.
const rhpPolicies = `
responseHeadersPolicies:
  - Id: 00000000-0000-0000-0000-0000000000a1
    ResponseHeadersPolicyConfig:
      Name: custom-headers
      CorsConfig:
        AccessControlAllowOrigins: {Items: ["https://app.example.com"]}
        AccessControlAllowHeaders: {Items: [X-Api-Key]}
        AccessControlAllowMethods: {Items: [GET, PUT]}
        AccessControlAllowCredentials: true
        AccessControlMaxAgeSec: 600
        OriginOverride: true
      CustomHeadersConfig:
        Items: [{Header: X-Served-By, Value: edgefront, Override: true}]
      RemoveHeadersConfig:
        Items: [{Header: X-Powered-By}]
      ServerTimingHeadersConfig: {Enabled: true, SamplingRate: 0}
`

// TestConformanceResponseHeadersPolicy: a response headers policy changes
// the responses "that it serves from the cache and the ones that it forwards
// from the origin" ("Add or remove HTTP headers in CloudFront responses with
// a policy"), never what is cached.
func TestConformanceResponseHeadersPolicy(t *testing.T) {
	type step struct {
		method, path string
		hdr          []string
		status       int
		xcache       string
		want         map[string]string // "" = absent
	}
	cases := []struct {
		rule     string
		policy   string // ResponseHeadersPolicyId
		origin   http.HandlerFunc
		steps    []step
		wantHits int64
	}{
		{"SimpleCORS: Access-Control-Allow-Origin: * on the miss and on the hit", "60669652-455b-4ae9-85a4-c4c02393f86c",
			static("obj", "Cache-Control", "max-age=60"),
			[]step{
				{"GET", "/a", []string{"Origin", "https://app.example.com"}, 200, "Miss from cloudfront", map[string]string{"Access-Control-Allow-Origin": "*"}},
				{"GET", "/a", []string{"Origin", "https://app.example.com"}, 200, "Hit from cloudfront", map[string]string{"Access-Control-Allow-Origin": "*"}},
				{"GET", "/a", nil, 200, "Hit from cloudfront", map[string]string{"Access-Control-Allow-Origin": ""}},
			}, 1},
		{"SecurityHeadersPolicy: nosniff overrides the origin's, X-Frame-Options keeps it", "SecurityHeadersPolicy",
			static("obj", "Cache-Control", "max-age=60", "X-Frame-Options", "DENY", "X-Content-Type-Options", "off"),
			[]step{
				{"GET", "/s", nil, 200, "Miss from cloudfront", map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
					"Strict-Transport-Security": "max-age=31536000", "Referrer-Policy": "strict-origin-when-cross-origin", "X-Xss-Protection": "1; mode=block"}},
				{"GET", "/s", nil, 200, "Hit from cloudfront", map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}},
			}, 1},
		{"SecurityHeadersPolicy: on an origin's error response too", "SecurityHeadersPolicy",
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) },
			[]step{{"GET", "/missing", nil, 404, "Error from cloudfront", map[string]string{"X-Content-Type-Options": "nosniff"}}},
			1},
		{"CORS-With-Preflight: the preflight goes to the origin, CloudFront adds the preflight headers",
			"5cc3b908-e619-4b99-88e5-2cf7f45965bd",
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
			[]step{{"OPTIONS", "/api", []string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT"}, 204, "",
				map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
					"Access-Control-Allow-Headers": "*"}}},
			1},
		{"custom policy: a listed origin is reflected with credentials and Vary: Origin; X-Powered-By removed; X-Served-By added",
			"00000000-0000-0000-0000-0000000000a1",
			static("obj", "Cache-Control", "max-age=60", "X-Powered-By", "PHP", "X-Served-By", "origin", "Access-Control-Allow-Origin", "*"),
			[]step{
				{"GET", "/c", []string{"Origin", "https://app.example.com"}, 200, "Miss from cloudfront", map[string]string{
					"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true", "Vary": "Origin",
					"X-Powered-By": "", "X-Served-By": "edgefront", "Access-Control-Max-Age": ""}},
				{"GET", "/c", []string{"Origin", "https://evil.example"}, 200, "Hit from cloudfront", map[string]string{
					"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "X-Powered-By": ""}},
			}, 1},
		{"custom policy: Server-Timing at sampling rate 0 only for Pragma: server-timing", "00000000-0000-0000-0000-0000000000a1",
			static("obj", "Cache-Control", "max-age=60"),
			[]step{
				{"GET", "/t", nil, 200, "Miss from cloudfront", map[string]string{"Server-Timing": ""}},
				{"GET", "/t", []string{"Pragma", "server-timing"}, 200, "Hit from cloudfront", nil},
			}, 1},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			o := newOrigin(t, c.origin)
			e := newEdge(t, policyDist(rhpPolicies, "CachingOptimized", ", ResponseHeadersPolicyId: "+c.policy), map[string]string{"web": o.URL})
			for i, s := range c.steps {
				r := e.do(s.method, s.path, s.hdr...)
				if r.status != s.status || (s.xcache != "" && r.xcache() != s.xcache) {
					t.Fatalf("step %d: %d %q, want %d %q", i, r.status, r.xcache(), s.status, s.xcache)
				}
				for name, want := range s.want {
					if got := strings.Join(r.header.Values(name), ", "); got != want {
						t.Errorf("step %d: %s = %q, want %q", i, name, got, want)
					}
				}
			}
			if n := o.hits.Load(); n != c.wantHits {
				t.Errorf("origin hits %d, want %d", n, c.wantHits)
			}
		})
	}
}

// TestConformanceServerTimingMetrics: the metrics name the cache result,
// the POP and the request ID of the same response ("Server-Timing header").
func TestConformanceServerTimingMetrics(t *testing.T) {
	o := newOrigin(t, static("obj", "Cache-Control", "max-age=60", "Server-Timing", "db;dur=53"))
	e := newEdge(t, policyDist(rhpPolicies, "CachingOptimized", ", ResponseHeadersPolicyId: 00000000-0000-0000-0000-0000000000a1"),
		map[string]string{"web": o.URL})
	for _, want := range []struct {
		cache, origin string
		has           bool
	}{{"cdn-cache-miss", "db;dur=53", true}, {"cdn-cache-hit", "db;dur=53", false}} {
		r := e.do("GET", "/st", "Pragma", "server-timing")
		st := r.header.Get("Server-Timing")
		for _, m := range []string{want.cache, fmt.Sprintf(`cdn-pop;desc="%s"`, r.header.Get("X-Amz-Cf-Pop")),
			fmt.Sprintf(`cdn-rid;desc="%s"`, r.header.Get("X-Amz-Cf-Id")), "cdn-downstream-fbl;dur="} {
			if !strings.Contains(st, m) {
				t.Errorf("Server-Timing %q lacks %q", st, m)
			}
		}
		if strings.Contains(st, want.origin) != want.has {
			t.Errorf("Server-Timing %q: origin's metric present = %v, want %v", st, !want.has, want.has)
		}
	}
}

// TestConformanceRangeGETs: ranges are served from the whole cached object
// ("How CloudFront processes partial requests for an object (range GETs)").
func TestConformanceRangeGETs(t *testing.T) {
	const body = "0123456789abcdefghijklmnopqrstuvwxyz"
	cases := []struct {
		rule    string
		hdr     []string
		status  int
		body    string
		headers map[string]string
	}{
		{"one range: 206 from the cache", []string{"Range", "bytes=0-9"}, 206, "0123456789",
			map[string]string{"Content-Range": "bytes 0-9/36", "Content-Length": "10"}},
		{"bytes=30-", []string{"Range", "bytes=30-"}, 206, "uvwxyz", map[string]string{"Content-Range": "bytes 30-35/36"}},
		{"bytes=-6", []string{"Range", "bytes=-6"}, 206, "uvwxyz", map[string]string{"Content-Range": "bytes 30-35/36"}},
		{"ranges not in ascending order: the whole object with 200", []string{"Range", "bytes=10-19,0-9"}, 200, body,
			map[string]string{"Content-Range": ""}},
		{"overlapping ranges: the whole object with 200", []string{"Range", "bytes=0-9,5-14"}, 200, body, nil},
		{"a negative value: the whole object with 200", []string{"Range", "bytes=-5-10"}, 200, body, nil},
		{"unsatisfiable: 416 with Content-Range: bytes */36", []string{"Range", "bytes=36-"}, 416, "",
			map[string]string{"Content-Range": "bytes */36"}},
		{"If-Range with an old ETag: the whole object", []string{"Range", "bytes=0-3", "If-Range", `"old"`}, 200, body, nil},
		{"If-Range with the ETag: the range", []string{"Range", "bytes=0-3", "If-Range", `"v1"`}, 206, "0123", nil},
	}
	o := newOrigin(t, static(body, "Cache-Control", "max-age=600", "ETag", `"v1"`, "Content-Type", "text/plain"))
	e := newEdge(t, policyDist("", "CachingOptimized", ""), map[string]string{"web": o.URL})
	if r := e.do("GET", "/obj"); r.status != 200 || r.body != body {
		t.Fatalf("priming: %d %q", r.status, r.body)
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			r := e.do("GET", "/obj", c.hdr...)
			if r.status != c.status || r.body != c.body || r.xcache() != "Hit from cloudfront" {
				t.Fatalf("%d %q %q, want %d %q (a hit)", r.status, r.body, r.xcache(), c.status, c.body)
			}
			for name, want := range c.headers {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
	t.Run("two ascending ranges: multipart/byteranges", func(t *testing.T) {
		r := e.do("GET", "/obj", "Range", "bytes=0-3,10-13")
		mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
		if r.status != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
		}
		mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
		var got []string
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			got = append(got, p.Header.Get("Content-Range")+" "+string(b))
		}
		if want := []string{"bytes 0-3/36 0123", "bytes 10-13/36 abcd"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("parts %q, want %q", got, want)
		}
	})
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin hits %d, want 1: every range came from the cached object", n)
	}
}
