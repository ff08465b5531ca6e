package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgefront/edgefront/internal/freeport"
)

// TestServeCluster: with a cluster block the edge runs an embedded NATS
// server, invalidations go through the cluster's log (Completed once this,
// the only live node, applied it) and /metrics has the cluster's gauges;
// without one, nothing of the cluster exists.
func TestServeCluster(t *testing.T) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, r.URL.Path)
	}))
	defer o.Close()
	addrs := freeport.For(t, 2)
	natsAddr, peersAddr := addrs[0], addrs[1]
	tests := []struct {
		name    string
		cluster string
		metrics []string // present
		absent  []string
	}{
		{"cluster block", "cluster: {name: pop1, node: edge-a, nats: {listen: \"" + natsAddr + "\", storeDir: \"" + t.TempDir() + "\"}, peers: {listen: \"" + peersAddr + "\"}}",
			[]string{"edgefront_cluster_members 1", "edgefront_cluster_invalidations_behind 0", "edgefront_cluster_ring_members 1",
				"edgefront_cluster_config_revision ", "edgefront_cluster_peer_requests_asked_total 0", "edgefront_cluster_peer_requests_served_total 0"}, nil},
		{"no cluster block", "", nil, []string{"edgefront_cluster_"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "edgefront.yaml")
			cfg := tc.cluster + `
distributions:
  - id: ECLUSTER00001
    originEndpoints: {web: "` + o.URL + `"}
    config:
      CallerReference: cluster
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`
			if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			e := testEdge(t, serveFlags{config: file})
			c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			for _, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
				if resp, _ := get(t, c, "http://"+e.addrs["http"]+"/a.txt"); resp.Header.Get("X-Cache") != want {
					t.Fatalf("/a.txt: X-Cache %q, want %q", resp.Header.Get("X-Cache"), want)
				}
			}
			cf := cloudfront.New(cloudfront.Options{
				BaseEndpoint: aws.String("http://" + e.addrs["admin"]), Region: "us-east-1",
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryMaxAttempts: 1,
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
				DistributionId: aws.String("ECLUSTER00001"),
				InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String("r1"),
					Paths: &types.Paths{Quantity: aws.Int32(1), Items: []string{"/a.txt"}}},
			})
			if err != nil {
				t.Fatalf("CreateInvalidation: %v", err)
			}
			if resp, _ := get(t, c, "http://"+e.addrs["http"]+"/a.txt"); resp.Header.Get("X-Cache") != "Miss from cloudfront" {
				t.Errorf("/a.txt after the invalidation: X-Cache %q", resp.Header.Get("X-Cache"))
			}
			got, err := cf.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String("ECLUSTER00001"), Id: out.Invalidation.Id})
			if err != nil || aws.ToString(got.Invalidation.Status) != "Completed" {
				t.Errorf("GetInvalidation: %v %v", err, got)
			}
			_, metrics := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
			for _, want := range tc.metrics {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			for _, bad := range tc.absent {
				if strings.Contains(metrics, bad) {
					t.Errorf("/metrics has %q", bad)
				}
			}
			// edgefront cluster status reads the admin listener.
			var status, errOut strings.Builder
			code := run([]string{"cluster", "status", "--admin", e.addrs["admin"]}, &status, &errOut)
			if tc.cluster == "" {
				if code != 1 || !strings.Contains(errOut.String(), "not part of a cluster") {
					t.Errorf("cluster status without a cluster: exit %d, %q", code, errOut.String())
				}
				return
			}
			for _, want := range []string{"cluster pop1, as node edge-a sees it", "invalidations applied 1 of 1 (0 behind)",
				"shared cache tier: 1 on the ring", "edge-a *  yes   yes   1        0       now   http://" + peersAddr} {
				if !strings.Contains(status.String(), want) {
					t.Errorf("cluster status lacks %q:\n%s%s", want, status.String(), errOut.String())
				}
			}
			if code != 0 {
				t.Errorf("cluster status: exit %d, %s", code, errOut.String())
			}
		})
	}
}

// TestServeThreeNodes: three edges started from settings with a cluster
// block, as 'edgefront serve' starts them, are one POP: a key asked of all
// three reaches the origin once (the shared tier, through each edge's peer
// listener); UpdateDistribution on one changes what the others serve; a
// function created on one, associated on another, runs on the third (the
// shared configuration goes through each edge's own apply, functions
// compiled); 'edgefront cluster status' shows the ring.
func TestServeThreeNodes(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "origin "+r.URL.Path)
	}))
	defer o.Close()
	originHits := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[path]
	}
	const n = 3
	addrs := freeport.For(t, 3*n) // each node's NATS client, NATS route and peer listeners
	var routes []string
	routeAddrs := addrs[n : 2*n]
	for i := range n {
		routes = append(routes, "nats://"+routeAddrs[i])
	}
	files := make([]string, n)
	for i := range n {
		settings := fmt.Sprintf(`cluster:
  name: pop1
  node: edge-%c
  nats: {listen: %q, clusterListen: %q, routes: [%s], storeDir: %q}
  peers: {listen: %q}
distributions:
  - id: ETHREENODES01
    originEndpoints: {web: %q}
    config:
      CallerReference: three
      Origins: {Items: [{Id: web, DomainName: o.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`, 'a'+i, addrs[i], routeAddrs[i], strings.Join(routes, ", "), t.TempDir(), addrs[2*n+i], o.URL)
		files[i] = filepath.Join(t.TempDir(), "edgefront.yaml")
		if err := os.WriteFile(files[i], []byte(settings), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Together: JetStream elects its leaders once a majority runs.
	edges := make([]*edge, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := serveFlags{config: files[i], http: "127.0.0.1:0", https: "", admin: "127.0.0.1:0",
				set: map[string]bool{"http": true, "https": true, "admin": true}}
			edges[i], errs[i] = startEdge(context.Background(), f, slog.New(slog.DiscardHandler))
		})
	}
	wg.Wait()
	for i, e := range edges {
		if e != nil {
			t.Cleanup(e.close)
		}
		if errs[i] != nil {
			t.Fatalf("edge %d: %v", i, errs[i])
		}
	}
	waitFor := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("not within %v: %s", within, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for i, e := range edges {
		waitFor(5*time.Second, fmt.Sprintf("edge %d sees three nodes on its ring", i), func() bool { return len(e.cluster.Ring()) == n })
	}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	viewer := func(e *edge, path string) *http.Response {
		t.Helper()
		resp, _ := get(t, c, "http://"+e.addrs["http"]+path)
		return resp
	}

	for _, e := range edges {
		if resp := viewer(e, "/shared.txt"); resp.StatusCode != http.StatusOK {
			t.Fatalf("/shared.txt: %d", resp.StatusCode)
		}
	}
	if got := originHits("/shared.txt"); got != 1 {
		t.Errorf("/shared.txt asked of three edges: %d origin requests, want 1", got)
	}

	clients := make([]*cloudfront.Client, n)
	for i, e := range edges {
		clients[i] = cloudfront.New(cloudfront.Options{
			BaseEndpoint: aws.String("http://" + e.addrs["admin"]), Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryMaxAttempts: 1,
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := "function handler(event) { return {statusCode: 200, statusDescription: 'OK', body: 'from the function'}; }"
	fn, err := clients[0].CreateFunction(ctx, &cloudfront.CreateFunctionInput{Name: aws.String("answer"), FunctionCode: []byte(code),
		FunctionConfig: &types.FunctionConfig{Comment: aws.String(""), Runtime: types.FunctionRuntimeCloudfrontJs20}})
	if err != nil {
		t.Fatalf("edge a: CreateFunction: %v", err)
	}
	if _, err := clients[0].PublishFunction(ctx, &cloudfront.PublishFunctionInput{Name: aws.String("answer"), IfMatch: fn.ETag}); err != nil {
		t.Fatalf("edge a: PublishFunction: %v", err)
	}
	// Edge b associates it (once it knows the published function) and adds
	// a response headers policy.
	waitFor(time.Second, "edge b knows the published function", func() bool {
		_, err := clients[1].DescribeFunction(ctx, &cloudfront.DescribeFunctionInput{Name: aws.String("answer"), Stage: types.FunctionStageLive})
		return err == nil
	})
	cur, err := clients[1].GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String("ETHREENODES01")})
	if err != nil {
		t.Fatal(err)
	}
	dcb := cur.DistributionConfig.DefaultCacheBehavior
	dcb.ResponseHeadersPolicyId = aws.String("67f7725c-6f97-4210-82d7-5512b31e9d03") // Managed-SecurityHeadersPolicy
	dcb.FunctionAssociations = &types.FunctionAssociations{Quantity: aws.Int32(1), Items: []types.FunctionAssociation{{
		EventType: types.EventTypeViewerRequest, FunctionARN: aws.String("arn:aws:cloudfront::123456789012:function/answer")}}}
	if _, err := clients[1].UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: aws.String("ETHREENODES01"),
		IfMatch: cur.ETag, DistributionConfig: cur.DistributionConfig}); err != nil {
		t.Fatalf("edge b: UpdateDistribution: %v", err)
	}
	for i, e := range edges {
		waitFor(time.Second, fmt.Sprintf("edge %d runs the function and the policy", i), func() bool {
			resp, body := get(t, c, "http://"+e.addrs["http"]+"/anything")
			return body == "from the function" && resp.Header.Get("X-Frame-Options") == "SAMEORIGIN"
		})
	}

	var status, errOut strings.Builder
	if code := run([]string{"cluster", "status", "--admin", edges[2].addrs["admin"]}, &status, &errOut); code != 0 {
		t.Errorf("cluster status: exit %d: %s%s", code, status.String(), errOut.String())
	}
	for _, want := range []string{"as node edge-c sees it", "shared cache tier: 3 on the ring", "edge-a ", "edge-b ", "edge-c *"} {
		if !strings.Contains(status.String(), want) {
			t.Errorf("cluster status lacks %q:\n%s", want, status.String())
		}
	}
}
