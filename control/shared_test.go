package control_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/control"
	"github.com/edgefront/edgefront/proxy"
)

// memShared is a SharedConfig in memory with JetStream's key-value
// semantics (a revision per write, compare-and-set on it), delivering its
// entries to each node when the test says.
type memShared struct {
	mu      sync.Mutex
	seq     uint64
	entries []control.SharedEntry // every write, in order
	latest  map[string]uint64     // key → revision of its last write
}

func (m *memShared) Write(_ context.Context, e control.SharedEntry) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.latest == nil {
		m.latest = map[string]uint64{}
	}
	cur, exists := m.latest[e.Key]
	deleted := exists && m.entries[cur-1].Value == nil
	if e.Rev != cur && !(e.Rev == 0 && (!exists || deleted)) {
		return 0, fmt.Errorf("%s at %d, not %d: %w", e.Key, cur, e.Rev, control.ErrConflict)
	}
	m.seq++
	e.Rev = m.seq
	m.entries = append(m.entries, e)
	m.latest[e.Key] = m.seq
	return m.seq, nil
}

// deliver applies to api every entry after from, and returns the last
// revision delivered.
func (m *memShared) deliver(t *testing.T, api *control.API, from uint64) uint64 {
	t.Helper()
	m.mu.Lock()
	es := slices.Clone(m.entries[from:])
	m.mu.Unlock()
	if err := api.ApplyShared(context.Background(), es); err != nil {
		t.Fatalf("ApplyShared: %v", err)
	}
	return from + uint64(len(es))
}

// sharedNode is one node of a cluster sharing a memShared: its proxy, its
// API and a client.
type sharedNode struct {
	proxy *proxy.Server
	api   *control.API
	cf    *cloudfront.Client
	base  string // its settings, as loaded
}

func newSharedNode(t *testing.T, shared *memShared, settings string) *sharedNode {
	t.Helper()
	cfg, err := config.Parse("edge.yaml", []byte(settings))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.New(cache.Options{MaxBytes: 16 << 20})
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
	n := &sharedNode{proxy: srv, base: settings}
	n.api = control.New(&control.ProxyBackend{Proxy: srv, Store: store}, control.Options{Config: shared, Logger: slog.New(slog.DiscardHandler)})
	hs := httptest.NewServer(n.api)
	n.cf = newClient(hs.URL, testKeyID, testSecret)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		store.Close()
	})
	return n
}

// config returns n's DistributionConfig of one and its ETag.
func (n *sharedNode) config(t *testing.T) (*types.DistributionConfig, string) {
	t.Helper()
	out, err := n.cf.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	return out.DistributionConfig, aws.ToString(out.ETag)
}

func (n *sharedNode) update(t *testing.T, etag, comment string) (string, error) {
	t.Helper()
	dc, _ := n.config(t)
	dc.Comment = aws.String(comment)
	out, err := n.cf.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(one), IfMatch: aws.String(etag), DistributionConfig: dc})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// TestSharedConfig: the API's writes go through the SharedConfig with the
// revision the node has of each object; what another node wrote first is
// the API's conflict error; entries applied from the store give every
// node the same objects and ETags, and a node's own entries coming back
// change nothing.
func TestSharedConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	settings := strings.ReplaceAll(string(data), "{{origin}}", "http://127.0.0.1:9")
	tests := []struct {
		name string
		run  func(t *testing.T, shared *memShared, a, b *sharedNode)
	}{
		{"one If-Match on two nodes: the second is PreconditionFailed", func(t *testing.T, shared *memShared, a, b *sharedNode) {
			_, etag := a.config(t)
			if _, other := b.config(t); other != etag {
				t.Fatalf("a's ETag %s, b's %s", etag, other)
			}
			won, err := a.update(t, etag, "a wins")
			if err != nil {
				t.Fatalf("a: %v", err)
			}
			_, err = b.update(t, etag, "b loses") // b has not heard of a's yet
			if code, status := apiCode(t, err); code != "PreconditionFailed" || status != 412 {
				t.Fatalf("b with the same If-Match: %s %d, want PreconditionFailed 412", code, status)
			}
			shared.deliver(t, b.api, 0)
			dc, got := b.config(t)
			if got != won || aws.ToString(dc.Comment) != "a wins" {
				t.Errorf("b after a's entry: ETag %s comment %q, want %s %q", got, aws.ToString(dc.Comment), won, "a wins")
			}
			if _, err := b.update(t, won, "b next"); err != nil {
				t.Errorf("b with the current ETag: %v", err)
			}
		}},
		{"a node's own entries change nothing", func(t *testing.T, shared *memShared, a, _ *sharedNode) {
			_, etag := a.config(t)
			if _, err := a.update(t, etag, "once"); err != nil {
				t.Fatal(err)
			}
			before := a.proxy.Config()
			shared.deliver(t, a.api, 0)
			if a.proxy.Config() != before {
				t.Error("applying a's own entry loaded a new configuration")
			}
		}},
		{"the settings change what the API changed: the next update still writes", func(t *testing.T, shared *memShared, a, _ *sharedNode) {
			_, etag := a.config(t)
			if _, err := a.update(t, etag, "by the API"); err != nil {
				t.Fatal(err)
			}
			// A new file: distribution one's own version changed, so the
			// file wins over the API's change …
			cfg, err := config.Parse("edge.yaml", []byte(strings.Replace(a.base, "Comment: first", "Comment: from the new file", 1)))
			if err != nil {
				t.Fatal(err)
			}
			if err := a.api.Reload(ctx(t), cfg); err != nil {
				t.Fatal(err)
			}
			dc, etag := a.config(t)
			if aws.ToString(dc.Comment) != "from the new file" {
				t.Fatalf("after the reload: comment %q, want the file's", aws.ToString(dc.Comment))
			}
			// … and the store still holds the API's entry: the next write
			// names its revision rather than failing for ever.
			if _, err := a.update(t, etag, "by the API again"); err != nil {
				t.Errorf("UpdateDistribution after the file won: %v", err)
			}
		}},
		{"CreateFunction of one name on two nodes", func(t *testing.T, shared *memShared, a, b *sharedNode) {
			in := func() *cloudfront.CreateFunctionInput {
				return &cloudfront.CreateFunctionInput{Name: aws.String("f"), FunctionCode: []byte(helloJS),
					FunctionConfig: &types.FunctionConfig{Comment: aws.String(""), Runtime: types.FunctionRuntimeCloudfrontJs20}}
			}
			fa, err := a.cf.CreateFunction(ctx(t), in())
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.cf.CreateFunction(ctx(t), in())
			if code, status := apiCode(t, err); code != "FunctionAlreadyExists" || status != 409 {
				t.Fatalf("b: %s %d, want FunctionAlreadyExists 409", code, status)
			}
			shared.deliver(t, b.api, 0)
			fb, err := b.cf.DescribeFunction(ctx(t), &cloudfront.DescribeFunctionInput{Name: aws.String("f")})
			if err != nil || aws.ToString(fb.ETag) != aws.ToString(fa.ETag) {
				t.Fatalf("b after a's entry: %v, ETag %s want %s", err, aws.ToString(fb.ETag), aws.ToString(fa.ETag))
			}
			if _, err := b.cf.DeleteFunction(ctx(t), &cloudfront.DeleteFunctionInput{Name: aws.String("f"), IfMatch: fb.ETag}); err != nil {
				t.Fatalf("b: DeleteFunction: %v", err)
			}
			shared.deliver(t, a.api, 0)
			if _, err := a.cf.DescribeFunction(ctx(t), &cloudfront.DescribeFunctionInput{Name: aws.String("f")}); err == nil {
				t.Error("a still has the function b deleted")
			}
			// Deleted, it can be made again.
			if _, err := a.cf.CreateFunction(ctx(t), in()); err != nil {
				t.Errorf("a: CreateFunction after the delete: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shared := &memShared{}
			tt.run(t, shared, newSharedNode(t, shared, settings), newSharedNode(t, shared, settings))
		})
	}
}
