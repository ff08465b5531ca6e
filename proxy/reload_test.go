package proxy_test

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// deadEndpoint is a listener that accepts connections and closes them at
// once, answering nothing: an origin endpoint that is down. It counts the
// connections it got.
func deadEndpoint(t *testing.T) (addr string, accepts *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepts = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String(), accepts
}

// endpointUp reads edgefront_origin_endpoint_up for one endpoint (-1 when
// absent).
func endpointUp(t *testing.T, reg *prometheus.Registry, endpoint string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "edgefront_origin_endpoint_up" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "endpoint" && l.GetValue() == endpoint {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// TestReloadKeepsOriginHealth: a reload — of the same configuration, or of
// one that changes the distribution but not the origin — keeps the
// origin's fetcher, so an endpoint ejected as down gets no traffic after
// it; an origin whose settings changed starts afresh. The endpoints' health
// is exported as edgefront_origin_endpoint_up.
func TestReloadKeepsOriginHealth(t *testing.T) {
	live := newOrigin(t, static("ok"))
	dead, accepts := deadEndpoint(t)
	settings := func(comment, ejectFor string) string {
		return strings.NewReplacer("{{live}}", live.URL, "{{dead}}", dead, "{{comment}}", comment, "{{ejectFor}}", ejectFor).Replace(`
distributions:
  - id: ETESTDIST0001
    domainName: d111111abcdef8.cloudfront.net
    originEndpoints: {web: ["{{dead}}", "{{live}}"]}
    originBalancing: {web: {ejectAfter: 1, ejectFor: {{ejectFor}}}}
    config:
      CallerReference: test
      Comment: "{{comment}}"
      Enabled: true
      Origins: {Items: [{Id: web, DomainName: origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}]}
      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
`)
	}
	reg := prometheus.NewRegistry()
	e := newEdgeWith(t, settings("one", "1h"), nil, func(o *proxy.Options) { o.Registry = reg })
	load := func(doc string) {
		t.Helper()
		cfg, err := config.Parse("reload.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Load(cfg); err != nil {
			t.Fatal(err)
		}
	}
	get := func(n int) {
		t.Helper()
		for range n {
			if r := e.do("GET", "/p", "Host", "d111111abcdef8.cloudfront.net"); r.status != 200 || r.body != "ok" {
				t.Fatalf("GET: %d %q", r.status, r.body)
			}
		}
	}

	get(2) // round-robin: one of them tries the dead endpoint, which is ejected
	if accepts.Load() == 0 {
		t.Fatal("the dead endpoint was never tried")
	}
	if up := endpointUp(t, reg, dead); up != 0 {
		t.Errorf("dead endpoint up = %v, want 0", up)
	}
	if up := endpointUp(t, reg, live.URL); up != 1 {
		t.Errorf("live endpoint up = %v, want 1", up)
	}
	tried := accepts.Load()

	load(settings("one", "1h")) // SIGHUP with nothing changed
	get(4)
	load(settings("two", "1h")) // the distribution changed, the origin did not
	get(4)
	if n := accepts.Load(); n != tried {
		t.Errorf("after reloads the ejected endpoint got %d more connections, want 0", n-tried)
	}
	if up := endpointUp(t, reg, dead); up != 0 {
		t.Errorf("dead endpoint up after reloads = %v, want 0", up)
	}

	load(settings("two", "2h")) // the origin's settings changed: a new fetcher
	get(2)
	if accepts.Load() == tried {
		t.Error("an origin with new settings kept the old fetcher's ejections")
	}
}
