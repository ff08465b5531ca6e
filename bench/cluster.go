package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the cluster scenario: three edgefront nodes serving one
// distribution under a Zipf load spread evenly over them, once as three
// independent nodes (each caches on its own: every node fetches every key
// it is asked for) and once as one cluster with the shared cache tier
// (each key has one owner; the others ask it). What it compares is what
// reaches the origin — per node and in all — for the same load, and the
// viewers' throughput and latency.

func init() { allScenarios = append(allScenarios, "cluster") }

// clusterResult is one run of the cluster scenario.
type clusterResult struct {
	setup    string // "independent" or "cluster"
	rep      int
	load     loadResult // the three nodes' loads together
	perNode  []int64    // origin fetches of each node (its /metrics)
	origin   int64      // requests the origin counted
	asked    int64      // peer requests the nodes sent (cluster)
	failed   int64      // of which failed, the origin asked instead
	hitRatio float64    // 1 - origin requests / viewer requests
}

// clusterSetups are the scenario's two runs, in order.
var clusterSetups = []string{"independent", "cluster"}

// clusterPhase runs the cluster scenario: b.o.reps repetitions of both
// setups, each with fresh nodes and its own cold keys.
func (b *bench) clusterPhase(ctx context.Context, bin string) error {
	for rep := 1; rep <= b.o.reps; rep++ {
		for _, setup := range clusterSetups {
			r, err := b.clusterRun(ctx, bin, setup, rep)
			if err != nil {
				return fmt.Errorf("cluster %s rep %d: %w", setup, rep, err)
			}
			b.cluster = append(b.cluster, r)
			b.prog.logf("%-28s %s req/s, p99 %.2f ms; origin requests %d (per node %v), hit ratio %.1f%%, peer requests %d (%d failed)",
				fmt.Sprintf("cluster rep %d/%d %s", rep, b.o.reps, setup), commas(r.load.rps), ms(r.load.p99),
				r.origin, r.perNode, 100*r.hitRatio, r.asked, r.failed)
		}
	}
	return nil
}

// clusterNode is one edgefront process of the scenario.
type clusterNode struct {
	*target
	name string
}

// clusterRun starts three nodes (a cluster, or three independent ones),
// loads them and stops them.
func (b *bench) clusterRun(ctx context.Context, bin, setup string, rep int) (clusterResult, error) {
	res := clusterResult{setup: setup, rep: rep}
	dir := filepath.Join(b.runDir, fmt.Sprintf("cluster-%s-%d", setup, rep))
	nodes, err := b.startClusterNodes(ctx, bin, dir, setup == "cluster")
	defer func() {
		for _, nd := range nodes {
			nd.stop()
		}
	}()
	if err != nil {
		return res, err
	}
	// Each run has keys of its own: both setups start cold.
	prefix := fmt.Sprintf("/obj/1k/cluster-%s-r%d-", setup, rep)
	before := b.origin.objHits.Load()
	spec := loadSpec{conns: max(b.o.conns/len(nodes), 1), duration: b.o.duration, zipfKeys: b.o.zipfKeys}
	var (
		wg    sync.WaitGroup
		live  atomic.Int64
		loads = make([]loadResult, len(nodes))
		errs  = make([]error, len(nodes))
	)
	b.prog.set(fmt.Sprintf("cluster rep %d/%d %s: Zipf load over %d keys on %d nodes", rep, b.o.reps, setup, b.o.zipfKeys, len(nodes)),
		b.o.duration, func() string { return commas(float64(live.Load())) + " requests" })
	for i, nd := range nodes {
		s := spec
		s.url = nd.h1 + prefix
		wg.Go(func() { loads[i], errs[i] = runGoLoad(ctx, s, &live) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return res, err
		}
	}
	for _, l := range loads {
		res.load.requests += l.requests
		res.load.errors += l.errors
		res.load.rps += l.rps
		res.load.p50 = max(res.load.p50, l.p50) // the slowest node's
		res.load.p99 = max(res.load.p99, l.p99)
		res.load.elapsed = max(res.load.elapsed, l.elapsed)
	}
	res.origin = b.origin.objHits.Load() - before
	for _, nd := range nodes {
		m, err := scrape(ctx, nd.admin+"/metrics")
		if err != nil {
			return res, fmt.Errorf("%s: %w", nd.name, err)
		}
		res.perNode = append(res.perNode, int64(m["edgefront_origin_fetches_total"]))
		res.asked += int64(m["edgefront_cluster_peer_requests_asked_total"])
		res.failed += int64(m["edgefront_cluster_peer_requests_failed_total"])
	}
	if res.load.requests > 0 {
		res.hitRatio = 1 - float64(res.origin)/float64(res.load.requests)
	}
	return res, nil
}

// startClusterNodes starts three edgefront processes on settings files of
// their own in dir — with a cluster block (embedded NATS routed to each
// other, a peer listener each) when shared — and waits until all serve.
// They start together: JetStream needs a majority of them up.
func (b *bench) startClusterNodes(ctx context.Context, bin, dir string, shared bool) ([]*clusterNode, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	const n = 3
	ports, err := b.ports.Ports(5 * n) // http, admin, nats client, nats routes, peers
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := range n {
		routes = append(routes, "nats://127.0.0.1:"+ports[5*i+3])
	}
	var nodes []*clusterNode
	for i := range n {
		p := ports[5*i : 5*i+5]
		name := fmt.Sprintf("node-%d", i)
		var s strings.Builder
		if shared {
			fmt.Fprintf(&s, "cluster:\n  name: bench\n  node: %s\n  nats:\n    listen: 127.0.0.1:%s\n    clusterListen: 127.0.0.1:%s\n"+
				"    routes: [%s]\n    storeDir: %s\n  peers:\n    listen: 127.0.0.1:%s\n",
				name, p[2], p[3], strings.Join(routes, ", "), filepath.Join(dir, name+"-jetstream"), p[4])
		}
		fmt.Fprintf(&s, `distributions:
  - id: EBENCHCLUSTER1
    originEndpoints: {web: %q}
    config:
      CallerReference: bench-cluster
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`, b.origin.url)
		file := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(file, []byte(s.String()), 0o644); err != nil {
			return nil, err
		}
		t := &target{name: name, h1: "http://127.0.0.1:" + p[0], admin: "http://127.0.0.1:" + p[1]}
		logPath := filepath.Join(dir, name+".log")
		if err := t.run(logPath, bin, "serve", "--config", file, "--http", "127.0.0.1:"+p[0], "--https", "",
			"--admin", "127.0.0.1:"+p[1], "--log-level", "warn"); err != nil {
			return nodes, err
		}
		nodes = append(nodes, &clusterNode{target: t, name: name})
	}
	for _, nd := range nodes {
		if err := nd.ready(ctx, nd.admin+"/healthz", filepath.Join(dir, nd.name+".log"), 60*time.Second); err != nil {
			return nodes, err
		}
	}
	if !shared {
		return nodes, nil
	}
	// Every node sees the others on its ring before the load starts.
	deadline := time.Now().Add(30 * time.Second)
	for _, nd := range nodes {
		for {
			m, err := scrape(ctx, nd.admin+"/metrics")
			if err == nil && m["edgefront_cluster_ring_members"] == n {
				break
			}
			if time.Now().After(deadline) {
				return nodes, fmt.Errorf("%s: the ring does not have %d nodes after 30s (%v)", nd.name, n, err)
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	return nodes, nil
}

// scrape reads a Prometheus text exposition and sums each metric's samples
// over their labels.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] += v
		}
	}
	return out, sc.Err()
}

// clusterReport is the scenario's section of the results (none when it did
// not run).
func (b *bench) clusterReport() string {
	if len(b.cluster) == 0 {
		return ""
	}
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	w("## Cluster: three nodes, one distribution (Zipf over %d keys, %d connections spread over the nodes, %v per run)\n\n",
		b.o.zipfKeys, b.o.conns, b.o.duration)
	w("Independent: three nodes, each caching on its own. Cluster: the same three nodes with a `cluster` block\n")
	w("(embedded NATS, `peers`): each key has one owner, the others ask it on a miss.\n\n")
	w("| setup | rep | req/s | p50 ms | p99 ms | errors | origin reqs | per node | hit ratio | peer reqs (failed) |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n")
	for _, r := range b.cluster {
		w("| %s | %d | %s | %.2f | %.2f | %d | %d | %v | %.2f%% | %d (%d) |\n", r.setup, r.rep, commas(r.load.rps),
			ms(r.load.p50), ms(r.load.p99), r.load.errors, r.origin, r.perNode, 100*r.hitRatio, r.asked, r.failed)
	}
	w("\n")
	return sb.String()
}
