package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// quickOrigin is an origin that answers each request with what it saw and
// counts the requests it got per path and query.
type quickOrigin struct {
	mu   sync.Mutex
	hits map[string]int
}

func (o *quickOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.hits[r.URL.RequestURI()]++
	o.mu.Unlock()
	switch r.URL.Path {
	case "/private":
		w.Header().Set("Cache-Control", "private, max-age=60")
	case "/no-store":
		w.Header().Set("Cache-Control", "no-store")
	case "/no-cache":
		w.Header().Set("Cache-Control", "no-cache")
	case "/none": // no Cache-Control: DefaultTTL decides
	default:
		w.Header().Set("Cache-Control", "public, max-age=60")
	}
	io.WriteString(w, r.URL.RequestURI()+" auth="+r.Header.Get("Authorization")+" cookie="+r.Header.Get("Cookie"))
}

func (o *quickOrigin) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.hits {
		n += c
	}
	return n
}

// TestQuickModeHonorsOrigin: quick mode's default policies, through a real
// origin and the real listeners. The origin's Cache-Control decides (MinTTL
// 0: "private" and no Cache-Control are not cached, CachePolicyConfig in the
// CloudFront API Reference); query strings, cookies and Authorization are in
// the key and reach the origin (Authorization only because the cache policy
// keys it: "How do I configure CloudFront to forward the Authorization
// header", AWS Knowledge Center). --cache-policy changes the key.
func TestQuickModeHonorsOrigin(t *testing.T) {
	type req struct {
		uri, auth, cookie string
		xcache, body      string // body "" means not checked
	}
	const miss, hit = "Miss from cloudfront", "Hit from cloudfront"
	tests := []struct {
		name  string
		quick serveFlags
		reqs  []req
	}{
		{"query strings are in the key", serveFlags{}, []req{
			{uri: "/search?q=a", xcache: miss, body: "/search?q=a auth= cookie="},
			{uri: "/search?q=b", xcache: miss, body: "/search?q=b auth= cookie="},
			{uri: "/search?q=a", xcache: hit, body: "/search?q=a auth= cookie="},
		}},
		{"a max-age=60 public response is a Hit the second time", serveFlags{}, []req{
			{uri: "/page", xcache: miss}, {uri: "/page", xcache: hit},
		}},
		{"a private response is not served as a Hit", serveFlags{}, []req{
			{uri: "/private", xcache: miss}, {uri: "/private", xcache: miss},
		}},
		{"a no-store response is not served as a Hit", serveFlags{}, []req{
			{uri: "/no-store", xcache: miss}, {uri: "/no-store", xcache: miss},
		}},
		{"a no-cache response is not served as a Hit", serveFlags{}, []req{
			{uri: "/no-cache", xcache: miss}, {uri: "/no-cache", xcache: miss},
		}},
		{"no Cache-Control is not cached (DefaultTTL 0)", serveFlags{}, []req{
			{uri: "/none", xcache: miss}, {uri: "/none", xcache: miss},
		}},
		{"Authorization reaches the origin and two users do not share", serveFlags{}, []req{
			{uri: "/me", auth: "Bearer alice", xcache: miss, body: "/me auth=Bearer alice cookie="},
			{uri: "/me", auth: "Bearer bob", xcache: miss, body: "/me auth=Bearer bob cookie="},
			{uri: "/me", auth: "Bearer alice", xcache: hit, body: "/me auth=Bearer alice cookie="},
			{uri: "/me", xcache: miss, body: "/me auth= cookie="},
		}},
		{"cookies reach the origin and are in the key", serveFlags{}, []req{
			{uri: "/c", cookie: "session=1", xcache: miss, body: "/c auth= cookie=session=1"},
			{uri: "/c", cookie: "session=2", xcache: miss, body: "/c auth= cookie=session=2"},
			{uri: "/c", cookie: "session=1", xcache: hit, body: "/c auth= cookie=session=1"},
		}},
		{"--cache-policy CachingOptimized: one object whatever the query", serveFlags{quick: quickPolicies("CachingOptimized", "", "")}, []req{
			{uri: "/search?q=a", xcache: miss},
			{uri: "/search?q=b", xcache: hit},
		}},
		{"--cache-policy CachingDisabled: never a Hit", serveFlags{quick: quickPolicies("CachingDisabled", "", "")}, []req{
			{uri: "/page", xcache: miss}, {uri: "/page", xcache: miss},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &quickOrigin{hits: map[string]int{}}
			srv := httptest.NewServer(o)
			defer srv.Close()
			f := tt.quick
			f.origin = srv.URL
			e := testEdge(t, f)
			c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			misses := 0
			for i, r := range tt.reqs {
				rq, err := http.NewRequest("GET", "http://"+e.addrs["http"]+r.uri, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.auth != "" {
					rq.Header.Set("Authorization", r.auth)
				}
				if r.cookie != "" {
					rq.Header.Set("Cookie", r.cookie)
				}
				resp, err := c.Do(rq)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if got := resp.Header.Get("X-Cache"); resp.StatusCode != 200 || got != r.xcache || r.body != "" && string(b) != r.body {
					t.Errorf("request %d %s (auth %q cookie %q): %d %q %q, want %q %q", i, r.uri, r.auth, r.cookie, resp.StatusCode, got, b, r.xcache, r.body)
				}
				if r.xcache == miss {
					misses++
				}
			}
			if got := o.total(); got != misses {
				t.Errorf("origin got %d requests, want %d (one per Miss)", got, misses)
			}
		})
	}
}

// quickPolicies is quick mode's policy flags.
func quickPolicies(cache, origin, response string) config.QuickMode {
	return config.QuickMode{CachePolicy: cache, OriginRequestPolicy: origin, ResponseHeadersPolicy: response}
}

// TestQuickModeBanner: the start-up banner names the policies in force.
func TestQuickModeBanner(t *testing.T) {
	tests := []struct {
		quick config.QuickMode
		want  string
	}{
		{config.QuickMode{}, "cache policy edgefront-QuickMode-HonorOrigin, origin request policy Managed-AllViewer, response headers policy none"},
		{quickPolicies("CachingOptimized", "AllViewerExceptHostHeader", "SecurityHeadersPolicy"),
			"cache policy Managed-CachingOptimized, origin request policy Managed-AllViewerExceptHostHeader, response headers policy Managed-SecurityHeadersPolicy"},
	}
	for _, tt := range tests {
		e := testEdge(t, serveFlags{origin: "http://127.0.0.1:1", quick: tt.quick})
		var out strings.Builder
		e.printWelcome(&out)
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("banner lacks %q:\n%s", tt.want, out.String())
		}
	}
}

// TestServeLogsNotEmulated: serve logs each setting that is accepted but not
// emulated once when it loads the configuration, naming the field, and
// serves anyway.
func TestServeLogsNotEmulated(t *testing.T) {
	var logs syncBuffer
	f := serveFlags{config: "../../config/testdata/not-emulated.yaml", http: "127.0.0.1:0", https: "", admin: ""}
	f.set = map[string]bool{"http": true, "https": true, "admin": true}
	e, err := startEdge(context.Background(), f, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	out := logs.String()
	if n := strings.Count(out, "setting accepted but not emulated"); n != 18 {
		t.Errorf("%d warnings logged, want 18:\n%s", n, out)
	}
	for _, want := range []string{
		`field=DistributionConfig.DefaultCacheBehavior.FieldLevelEncryptionId reason="accepted but not emulated: field-level encryption`,
		`field=DistributionConfig.ConnectionMode reason="accepted but not emulated: tenant-only`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
