package proxy_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// failing is a distribution whose origin "web" has one connection attempt
// and a 1 s read timeout.
const failing = `
distributions:
  - id: ETESTDIST0001
    originEndpoints: {web: "{{web}}"}
    config:
      CallerReference: test
      Enabled: true
      Origins:
        Items:
          - Id: web
            DomainName: origin.example.com
            ConnectionAttempts: 1
            ConnectionTimeout: 2
            CustomOriginConfig: {OriginProtocolPolicy: http-only, OriginReadTimeout: 1}
      DefaultCacheBehavior:
        TargetOriginId: web
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
`

// TestOriginUnreachable: an origin that refuses connections gives the viewer
// CloudFront's 502 page with X-Cache "Error from cloudfront", and that error
// is cached for the error caching minimum TTL (10 s by default).
func TestOriginUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused

	e := newEdge(t, failing, map[string]string{"web": "http://" + addr})
	r := e.do("GET", "/x")
	if r.status != 502 || r.xcache() != "Error from cloudfront" || !strings.Contains(r.body, "502 ERROR") {
		t.Fatalf("unreachable origin: %d %q %q", r.status, r.xcache(), r.body)
	}
	if r.header.Get("Server") != "CloudFront" {
		t.Errorf("Server %q", r.header.Get("Server"))
	}

	// The origin comes back, but the 502 is cached for 10 s.
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("cannot listen on %s again: %v", addr, err)
	}
	o := newOriginOn(t, ln2, static("back", "Cache-Control", "max-age=60"))
	e.clock.Advance(9 * time.Second)
	if r := e.do("GET", "/x"); r.status != 502 {
		t.Errorf("within ErrorCachingMinTTL: %d, want the cached 502", r.status)
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("origin hits within ErrorCachingMinTTL: %d", n)
	}
	e.clock.Advance(2 * time.Second)
	if r := e.do("GET", "/x"); r.status != 200 || r.body != "back" {
		t.Errorf("after ErrorCachingMinTTL: %d %q", r.status, r.body)
	}
}

// TestOriginTimeout: an origin that does not answer within the origin read
// timeout gives the viewer 504.
func TestOriginTimeout(t *testing.T) {
	stall := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	defer close(stall)
	e := newEdge(t, failing, map[string]string{"web": o.URL})
	start := time.Now()
	r := e.do("GET", "/slow")
	took := time.Since(start)
	if r.status != 504 || r.xcache() != "Error from cloudfront" || !strings.Contains(r.body, "504 ERROR") {
		t.Errorf("stalled origin: %d %q", r.status, r.xcache())
	}
	if took < 900*time.Millisecond || took > 10*time.Second {
		t.Errorf("504 after %v, want about the 1 s read timeout", took)
	}
}

// TestOriginErrorPassedThrough: an origin's own 404 reaches the viewer with
// its body and X-Cache "Error from cloudfront", and is cached for the error
// caching minimum TTL.
func TestOriginErrorPassedThrough(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page", http.StatusNotFound)
	})
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	for i := 0; i < 2; i++ {
		r := e.do("GET", "/missing")
		if r.status != 404 || r.body != "no such page\n" || r.xcache() != "Error from cloudfront" {
			t.Errorf("request %d: %d %q %q", i, r.status, r.body, r.xcache())
		}
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin hits %d, want 1 (404 cached for 10 s)", n)
	}
	e.clock.Advance(11 * time.Second)
	e.do("GET", "/missing")
	if n := o.hits.Load(); n != 2 {
		t.Errorf("origin hits %d after ErrorCachingMinTTL, want 2", n)
	}
}

// TestS3Origin: an S3 REST origin reached through the AWS SDK against a real
// S3-compatible server (gofakes3) on loopback.
func TestS3Origin(t *testing.T) {
	s3srv, client := newS3(t, "site-bucket")
	ctx := context.Background()
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("site-bucket"), Key: aws.String("static/index.html"),
		Body: strings.NewReader("<h1>from s3</h1>"), ContentType: aws.String("text/html"),
		CacheControl: aws.String("max-age=120"),
	}); err != nil {
		t.Fatal(err)
	}

	e := newEdge(t, `
distributions:
  - id: ETESTDIST0001
    originEndpoints: {bucket: "{{s3}}"}
    originCredentials: {bucket: {accessKeyId: AKIDTEST, secretAccessKey: secret, region: us-east-1}}
    config:
      CallerReference: test
      Enabled: true
      DefaultRootObject: index.html
      Origins:
        Items:
          - Id: bucket
            DomainName: site-bucket.s3.us-east-1.amazonaws.com
            OriginPath: /static
            S3OriginConfig: {OriginAccessIdentity: ""}
      DefaultCacheBehavior:
        TargetOriginId: bucket
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingOptimized
`, map[string]string{"s3": s3srv})

	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		r := e.do("GET", "/")
		if r.status != 200 || r.body != "<h1>from s3</h1>" || r.xcache() != want {
			t.Errorf("request %d: %d %q %q", i, r.status, r.body, r.xcache())
		}
		if r.header.Get("Content-Type") != "text/html" || r.header.Get("ETag") == "" {
			t.Errorf("request %d: Content-Type %q ETag %q", i, r.header.Get("Content-Type"), r.header.Get("ETag"))
		}
	}
	r := e.do("GET", "/nope.html")
	if r.status != 404 || !strings.Contains(r.body, "<Code>NoSuchKey</Code>") || r.xcache() != "Error from cloudfront" {
		t.Errorf("missing key: %d %q %q", r.status, r.body, r.xcache())
	}
}
