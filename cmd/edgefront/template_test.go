package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingOrigin answers every request with what it saw, with the
// Cache-Control it is given, and remembers the requests.
type recordingOrigin struct {
	cacheControl string
	mu           sync.Mutex
	seen         []*http.Request
}

func (o *recordingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.seen = append(o.seen, r)
	o.mu.Unlock()
	w.Header().Set("Cache-Control", o.cacheControl)
	io.WriteString(w, r.URL.RequestURI()+" auth="+r.Header.Get("Authorization")+" tenant="+r.Header.Get("X-Tenant"))
}

func (o *recordingOrigin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}

// TestServeTemplate serves the templates of config/testdata/cdk end to end:
// a settings file names the template, originEndpoints are keyed by the
// logical IDs of the bucket, load balancer and function URL, --parameter
// answers a parameter without a Default; requests go through the real
// listeners to real origins with the policies the templates define.
func TestServeTemplate(t *testing.T) {
	type req struct {
		url, auth, tenant string
		origin            int    // index of the origin that must answer, -1 for none (a Hit)
		xcache, body      string // body: a regular expression when it starts with ^
		header            string // "Name: value" the response must carry
	}
	const miss, hit = "Miss from cloudfront", "Hit from cloudfront"
	tests := []struct {
		name     string
		template string
		keys     []string // originEndpoints keys, one per origin below
		params   map[string]string
		cc       []string // each origin's Cache-Control
		reqs     []req
	}{
		{"WebStack: S3 bucket with OAC and an ALB", "WebStack.template.json",
			[]string{"SiteBucket397A1860", "AppLoadBalancerBE9C4B4F"}, nil, []string{"", "max-age=60"}, []req{
				// DefaultRootObject, CachingOptimized (DefaultTTL one day); the
				// S3 request (path style, through the AWS SDK) names the bucket
				// CloudFormation would have generated.
				{url: "http:///", origin: 0, xcache: miss, body: `^/webstack-sitebucket397a1860-[a-z2-7]{12}/index\.html\?x-id=GetObject auth= tenant=$`},
				{url: "http:///", origin: -1, xcache: hit},
				// /api/* is redirect-to-https with the template's ApiCachePolicy:
				// all query strings and Authorization in the key.
				{url: "https:///api/items?q=1", auth: "Bearer a", origin: 1, xcache: miss, body: "/api/items?q=1 auth=Bearer a tenant="},
				{url: "https:///api/items?q=1", auth: "Bearer a", origin: -1, xcache: hit},
				{url: "https:///api/items?q=1", auth: "Bearer b", origin: 1, xcache: miss, body: "/api/items?q=1 auth=Bearer b tenant="},
				{url: "https:///api/items?q=2", auth: "Bearer a", origin: 1, xcache: miss},
			}},
		{"ApiStack: function URL, --parameter Env=prod", "ApiStack.template.yaml",
			[]string{"HandlerUrl"}, map[string]string{"Env": "prod"}, []string{"max-age=60"}, []req{
				// The cache key has q only; the origin request policy
				// forwards every query string and X-Tenant; the response
				// headers policy adds X-Env from the parameter.
				{url: "http:///v?q=a&x=1", tenant: "t1", origin: 0, xcache: miss, body: "/v?q=a&x=1 auth= tenant=t1", header: "X-Env: prod"},
				{url: "http:///v?q=a&x=2", tenant: "t2", origin: -1, xcache: hit, body: "/v?q=a&x=1 auth= tenant=t1", header: "X-Env: prod"},
				{url: "http:///v?q=b&x=1", origin: 0, xcache: miss},
			}},
	}
	abs, err := filepath.Abs("../../config/testdata/cdk")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var origins []*recordingOrigin
			var endpoints []string
			for i, key := range tt.keys {
				o := &recordingOrigin{cacheControl: tt.cc[i]}
				srv := httptest.NewServer(o)
				defer srv.Close()
				origins = append(origins, o)
				endpoints = append(endpoints, key+": '"+srv.URL+"'")
			}
			settings := filepath.Join(t.TempDir(), "edgefront.yaml")
			doc := "distributions:\n  - template: " + filepath.Join(abs, tt.template) + "\n    originEndpoints: {" + strings.Join(endpoints, ", ") + "}\n"
			if err := os.WriteFile(settings, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			e := testEdge(t, serveFlags{config: settings, parameters: tt.params})
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableCompression: true}}
			for i, r := range tt.reqs {
				before := make([]int, len(origins))
				for j, o := range origins {
					before[j] = o.count()
				}
				u := strings.Replace(r.url, "http:///", "http://"+e.addrs["http"]+"/", 1)
				u = strings.Replace(u, "https:///", "https://"+e.addrs["https"]+"/", 1)
				rq, err := http.NewRequest("GET", u, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.auth != "" {
					rq.Header.Set("Authorization", r.auth)
				}
				if r.tenant != "" {
					rq.Header.Set("X-Tenant", r.tenant)
				}
				resp, err := c.Do(rq)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				bodyOK := r.body == "" || string(b) == r.body
				if strings.HasPrefix(r.body, "^") {
					bodyOK = regexp.MustCompile(r.body).Match(b)
				}
				if got := resp.Header.Get("X-Cache"); resp.StatusCode != 200 || got != r.xcache || !bodyOK {
					t.Errorf("request %d %s: %d %q %q, want %q %q", i, r.url, resp.StatusCode, got, b, r.xcache, r.body)
				}
				if name, value, ok := strings.Cut(r.header, ": "); ok && resp.Header.Get(name) != value {
					t.Errorf("request %d %s: %s = %q, want %q", i, r.url, name, resp.Header.Get(name), value)
				}
				for j, o := range origins {
					want := before[j]
					if j == r.origin {
						want++
					}
					if o.count() != want {
						t.Errorf("request %d %s: origin %d got %d requests, want %d", i, r.url, j, o.count()-before[j], want-before[j])
					}
				}
			}
		})
	}
}

// TestTemplateFileWatched: editing a template that the --config settings
// file names reloads it, as editing the settings file does.
func TestTemplateFileWatched(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer o.Close()
	dir := t.TempDir()
	settings, template := filepath.Join(dir, "edgefront.yaml"), filepath.Join(dir, "Site.template.yaml")
	write := func(file, content string) {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := func(policy string) string {
		return `Resources:
  App: {Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: {Name: app}}
  Site:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins: [{Id: web, DomainName: !GetAtt App.DNSName, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]
        DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: ` + policy + `, CachePolicyId: CachingDisabled}
`
	}
	write(template, tmpl("allow-all"))
	write(settings, "listen: {http: 127.0.0.1:0, https: \"\", admin: \"\"}\ndistributions:\n  - template: Site.template.yaml\n    originEndpoints: {App: \""+o.URL+"\"}\n")
	status, deadline := watchedServe(t, settings)
	time.Sleep(20 * time.Millisecond) // a new modification time
	write(template, tmpl("https-only"))
	for time.Now().Before(deadline) && status() != 403 {
		time.Sleep(20 * time.Millisecond)
	}
	if s := status(); s != 403 {
		t.Errorf("after editing the template to https-only: %d, want 403", s)
	}
}
