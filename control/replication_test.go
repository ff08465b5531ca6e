package control_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
	"github.com/edgefront/edgefront/proxy"
)

// fakeLog is a cluster's invalidation log in memory: Publish appends a
// batch and applies it to every node's API at once, in order.
type fakeLog struct {
	mu       sync.Mutex
	seq      uint64
	apis     []*control.API
	complete atomic.Bool    // what Completed reports
	err      error          // Publish fails with it when set
	before   *control.Batch // another node's batch that lands in the log first
}

func (l *fakeLog) Publish(ctx context.Context, b control.Batch) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if l.before != nil {
		first := *l.before
		l.before = nil
		l.append(ctx, first)
	}
	return l.append(ctx, b), nil
}

func (l *fakeLog) append(ctx context.Context, b control.Batch) uint64 {
	l.seq++
	b.Seq = l.seq
	for _, a := range l.apis {
		a.Apply(ctx, b)
	}
	return l.seq
}

func (l *fakeLog) Completed(uint64) bool { return l.complete.Load() }

// replicatedNodes starts n control APIs over their own proxies and stores,
// sharing log, and returns a CloudFront client per node.
func replicatedNodes(t *testing.T, n int, log *fakeLog) []*cloudfront.Client {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("edge.yaml", []byte(strings.ReplaceAll(string(data), "{{origin}}", "http://127.0.0.1:1")))
	if err != nil {
		t.Fatal(err)
	}
	var clients []*cloudfront.Client
	for range n {
		store, err := cache.New(cache.Options{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := proxy.New(proxy.Options{Store: store, Registry: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Load(cfg); err != nil {
			t.Fatal(err)
		}
		api := control.New(&control.ProxyBackend{Proxy: srv, Store: store},
			control.Options{Invalidations: log, Logger: slog.New(slog.DiscardHandler)})
		log.apis = append(log.apis, api)
		hs := httptest.NewServer(api)
		t.Cleanup(func() { hs.Close(); srv.Close(); store.Close() })
		clients = append(clients, newClient(hs.URL, testKeyID, testSecret))
	}
	return clients
}

// TestReplicatedInvalidations: with a Replicator, CreateInvalidation goes
// through the log; every node knows the batch, reports it Completed as the
// Replicator says, and a CallerReference is one batch across the nodes.
func TestReplicatedInvalidations(t *testing.T) {
	tests := []struct {
		name     string
		before   *control.Batch // another node's batch first in the log
		err      error          // Publish's
		paths    []string
		wantCode string // the API error, "" for success
		wantID   string // the ID answered, when not the new batch's
	}{
		{name: "new batch", paths: []string{"/a.txt"}},
		{name: "same reference first elsewhere, same paths", paths: []string{"/a.txt"}, wantID: "IELSEWHERE00001",
			before: &control.Batch{Distribution: one, ID: "IELSEWHERE00001", CallerReference: "ref", Paths: []string{"/a.txt"}}},
		{name: "same reference first elsewhere, other paths", paths: []string{"/a.txt"}, wantCode: "InvalidationBatchAlreadyExists",
			before: &control.Batch{Distribution: one, ID: "IELSEWHERE00001", CallerReference: "ref", Paths: []string{"/b.txt"}}},
		{name: "log unavailable", paths: []string{"/a.txt"}, err: errors.New("no JetStream"), wantCode: "ServiceUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &fakeLog{before: tt.before, err: tt.err}
			nodes := replicatedNodes(t, 2, log)
			out, err := nodes[0].CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{
				DistributionId: aws.String(one), InvalidationBatch: batch("ref", tt.paths...)})
			if code, _ := apiCode(t, err); code != tt.wantCode {
				t.Fatalf("CreateInvalidation: error %q, want %q (%v)", code, tt.wantCode, err)
			}
			if err != nil {
				return
			}
			id := aws.ToString(out.Invalidation.Id)
			if tt.wantID != "" && id != tt.wantID {
				t.Errorf("ID %s, want %s", id, tt.wantID)
			}
			for i, cf := range nodes {
				for _, complete := range []bool{false, true} {
					log.complete.Store(complete)
					got, err := cf.GetInvalidation(ctx(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String(one), Id: aws.String(id)})
					if err != nil {
						t.Fatalf("node %d: GetInvalidation: %v", i, err)
					}
					want := map[bool]string{false: control.StatusInProgress, true: control.StatusCompleted}[complete]
					if s := aws.ToString(got.Invalidation.Status); s != want {
						t.Errorf("node %d, every live node applied it %v: %s, want %s", i, complete, s, want)
					}
				}
			}
			// The same reference and paths, asked of the other node, is
			// the same batch and adds nothing to the log.
			seq := log.seq
			again, err := nodes[1].CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{
				DistributionId: aws.String(one), InvalidationBatch: batch("ref", tt.paths...)})
			if err != nil || aws.ToString(again.Invalidation.Id) != id || log.seq != seq {
				t.Errorf("again on node 1: %v, ID %s (want %s), log %d → %d", err, aws.ToString(again.Invalidation.Id), id, seq, log.seq)
			}
		})
	}
}
