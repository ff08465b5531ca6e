package origin

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file spreads an origin's requests over its endpoints (edgefront's
// originEndpoints with several URLs: the instances behind a private load
// balancer, say). Each policy is a way to choose among the endpoints that
// are in rotation; health — passive ejection and active checks — decides
// which those are.

// endpoint is one place an origin can be reached, with its health.
type endpoint struct {
	target
	active       atomic.Int64 // exchanges under way (least-connections)
	fails        atomic.Int64 // failed attempts in a row
	ejectedUntil atomic.Int64 // Unix nanoseconds; passive health
	down         atomic.Bool  // the active health check failed it
}

// inRotation reports whether e may be chosen at now (Unix nanoseconds).
func (e *endpoint) inRotation(now int64) bool {
	return !e.down.Load() && e.ejectedUntil.Load() <= now
}

// picker chooses the endpoint of each attempt of a request and learns from
// how the attempts went.
type picker interface {
	// pick returns the endpoint for the next attempt of r; tried holds the
	// endpoints r has already been tried on, in order.
	pick(r *Request, tried []*endpoint) *endpoint
	// report tells how an attempt on e went: ok when the origin answered
	// (any status), !ok when there was no connection or no response.
	report(e *endpoint, ok bool)
	// size is the number of distinct endpoints.
	size() int
}

// domainPicker targets the origin's DomainName with its ports and protocol
// policy. Health does not apply: the name is all there is.
type domainPicker struct {
	http, https    *endpoint
	protocolPolicy string
}

func newDomainPicker(domain string, httpPort, httpsPort int, policy string) *domainPicker {
	return &domainPicker{
		http:           &endpoint{target: target{"http", hostPort(domain, httpPort, 80)}},
		https:          &endpoint{target: target{"https", hostPort(domain, httpsPort, 443)}},
		protocolPolicy: policy,
	}
}

func (p *domainPicker) pick(r *Request, _ []*endpoint) *endpoint {
	if p.protocolPolicy == config.HTTPSOnly || (p.protocolPolicy == config.MatchViewer && r.ViewerHTTPS) {
		return p.https
	}
	return p.http
}

func (p *domainPicker) report(*endpoint, bool) {}
func (p *domainPicker) size() int              { return 1 }

// balancer spreads requests over several endpoints, round-robin or to the
// one with the fewest exchanges under way, skipping ejected and unhealthy
// endpoints; when none is in rotation it tries them all anyway, since an
// answer from a doubtful endpoint beats a certain 502.
type balancer struct {
	eps        []*endpoint
	leastConn  bool
	next       atomic.Uint64
	ejectAfter int64
	ejectFor   time.Duration
	now        func() time.Time

	// Active health checks: a goroutine started by newBalancer, stopped by
	// close.
	stop context.CancelFunc
	done chan struct{}
}

// newBalancer returns a balancer over eps with b's policy (nil: the
// defaults). When b has a health check, probe checks one endpoint and a
// goroutine runs the checks until close.
func newBalancer(eps []target, b *config.Balancing, probe func(ctx context.Context, e *endpoint) bool) *balancer {
	if b == nil {
		b = &config.Balancing{Policy: config.RoundRobin, EjectAfter: config.DefaultEjectAfter, EjectFor: config.DefaultEjectFor}
	}
	bl := &balancer{
		leastConn:  b.Policy == config.LeastConnections,
		ejectAfter: int64(b.EjectAfter),
		ejectFor:   b.EjectFor,
		now:        time.Now,
	}
	for _, t := range eps {
		bl.eps = append(bl.eps, &endpoint{target: t})
	}
	if hc := b.HealthCheck; hc != nil && probe != nil {
		ctx, cancel := context.WithCancel(context.Background())
		bl.stop, bl.done = cancel, make(chan struct{})
		go bl.check(ctx, *hc, probe)
	}
	return bl
}

func (b *balancer) size() int { return len(b.eps) }

func (b *balancer) pick(_ *Request, tried []*endpoint) *endpoint {
	n := len(b.eps)
	start := int(b.next.Add(1) % uint64(n))
	now := b.now().UnixNano()
	// First the endpoints in rotation not yet tried; then any not yet tried
	// (all are ejected or down: try them anyway); then any at all.
	for pass := range 3 {
		var best *endpoint
		for i := range n {
			e := b.eps[(start+i)%n]
			if pass < 2 && slices.Contains(tried, e) {
				continue
			}
			if pass == 0 && !e.inRotation(now) {
				continue
			}
			if !b.leastConn {
				return e
			}
			if best == nil || e.active.Load() < best.active.Load() {
				best = e
			}
		}
		if best != nil {
			return best
		}
	}
	return b.eps[start]
}

// report counts failed attempts in a row and ejects the endpoint once
// there are ejectAfter of them. The count is not reset by the ejection, so an
// endpoint back from its cool-down is ejected again by its first failure.
func (b *balancer) report(e *endpoint, ok bool) {
	if ok {
		e.fails.Store(0)
		return
	}
	if b.ejectAfter > 0 && e.fails.Add(1) >= b.ejectAfter {
		e.ejectedUntil.Store(b.now().Add(b.ejectFor).UnixNano())
	}
}

// check probes every endpoint every hc.Interval, the first time at once,
// until ctx ends (close). The probes of one round run in parallel, so a
// dead endpoint's timeout does not delay the others.
func (b *balancer) check(ctx context.Context, hc config.HealthCheck, probe func(ctx context.Context, e *endpoint) bool) {
	defer close(b.done)
	okRun := make([]int, len(b.eps))
	failRun := make([]int, len(b.eps))
	results := make([]bool, len(b.eps))
	tick := time.NewTicker(hc.Interval)
	defer tick.Stop()
	for {
		var wg sync.WaitGroup
		for i, e := range b.eps {
			wg.Go(func() {
				pctx, pcancel := context.WithTimeout(ctx, hc.Timeout)
				defer pcancel()
				results[i] = probe(pctx, e)
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		for i, e := range b.eps {
			if results[i] {
				okRun[i], failRun[i] = okRun[i]+1, 0
				if okRun[i] >= hc.HealthyThreshold {
					e.down.Store(false)
				}
			} else {
				okRun[i], failRun[i] = 0, failRun[i]+1
				if failRun[i] >= hc.UnhealthyThreshold {
					e.down.Store(true)
				}
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// close stops the health checks and waits for them to end.
func (b *balancer) close() {
	if b.stop == nil {
		return
	}
	b.stop()
	<-b.done
}

// probeHTTP returns the health probe of an HTTP origin: a GET of path with
// the origin's Host, through the origin's own connection pool; a 2xx or 3xx
// answer is healthy.
func probeHTTP(rt http.RoundTripper, path, host string) func(ctx context.Context, e *endpoint) bool {
	return func(ctx context.Context, e *endpoint) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.scheme+"://"+e.host+path, nil)
		if err != nil {
			return false
		}
		if host != "" {
			req.Host = host
		}
		req.Header.Set("User-Agent", "Amazon CloudFront")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return resp.StatusCode >= 200 && resp.StatusCode < 400
	}
}

// EndpointHealth is one endpoint of an origin and whether it is in rotation
// (neither ejected by passive health nor failed by the active check).
type EndpointHealth struct {
	Endpoint string // scheme://host:port
	Up       bool
}

// HealthReporter is implemented by fetchers that spread requests over
// several endpoints (edgefront's originEndpoints).
type HealthReporter interface {
	EndpointHealth() []EndpointHealth
}

// EndpointHealth reports the health of every endpoint of a balancing
// fetcher; nil for an origin reached by its domain name alone.
func (f *httpFetcher) EndpointHealth() []EndpointHealth {
	if f.balancer == nil {
		return nil
	}
	now := f.balancer.now().UnixNano()
	out := make([]EndpointHealth, len(f.balancer.eps))
	for i, e := range f.balancer.eps {
		out[i] = EndpointHealth{Endpoint: e.scheme + "://" + e.host, Up: e.inRotation(now)}
	}
	return out
}
