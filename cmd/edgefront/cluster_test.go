package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := ln.Addr().String()
	ln.Close()
	if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	peersAddr := ln.Addr().String()
	ln.Close()
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
