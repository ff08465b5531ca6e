// Package proxy is edgefront's viewer-facing http.Handler: it takes a request
// through CloudFront's steps in order — distribution by Host, cache behaviour
// by path pattern, viewer rules, cache key, cache lookup, collapsed origin
// fetch, store, response — and answers with CloudFront's headers and error
// pages.
//
// A newcomer reads ServeHTTP top to bottom: each phase is one method, in
// request order, calling down into config, cache or origin and never back up.
package proxy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/collapse"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/origin"
	"github.com/edgefront/edgefront/signed"
)

// Options configures a Server.
type Options struct {
	Store    *cache.Store
	Registry prometheus.Registerer // nil: metrics are not registered
	Logger   *slog.Logger          // nil: slog.Default()
	Now      func() time.Time      // nil: time.Now
	// NewFetcher builds the fetcher of an origin; nil means origin.New.
	NewFetcher func(*config.Origin) (origin.Fetcher, error)
	// Geo locates viewers for geographic restriction and the
	// CloudFront-Viewer-Country header; nil locates no one.
	Geo *geo.Resolver
	// Rand returns numbers in [0, 1) for Server-Timing sampling; nil means
	// math/rand/v2's Float64.
	Rand func() float64
	// AccessLog receives a CloudFront standard log record for every viewer
	// request; nil disables access logging.
	AccessLog *accesslog.Logger
	// FlightStall is how long the slowest viewers of an object streamed to
	// several viewers at once may take no bytes while the others wait for
	// them, before their responses are cut; 0 means collapse.DefaultStall,
	// negative never.
	FlightStall time.Duration
	// DebugHeaders adds Cache-Status (RFC 9211) and X-Edgefront-Explain to
	// every response: what the cache did and why (serve --debug-headers).
	DebugHeaders bool
	// Hooks is the edge code to run (CloudFront Functions, Lambda@Edge), by
	// hook point; nil runs none.
	Hooks Hooks
	// NodeID names this edgefront node in the Via header
	// ("1.1 <NodeID>.cloudfront.net (CloudFront)"); 32 hex digits, derived
	// from the host name when empty.
	NodeID string
}

// Server is the viewer-facing handler. It is safe for concurrent use; Load
// swaps its configuration atomically while requests are served.
type Server struct {
	store      *cache.Store
	log        *slog.Logger
	now        func() time.Time
	newFetcher func(*config.Origin) (origin.Fetcher, error)
	metrics    *metrics
	accessLog  *accesslog.Logger
	geo        *geo.Resolver
	rand       func() float64
	flights    *collapse.Group[flightHead]
	// overrides are the fetchers of origins edge code chose.
	overrides overrides
	// nextHooks are the hooks the next Load puts in its state (SetHooks).
	nextHooks atomic.Pointer[Hooks]
	debug     bool // Options.DebugHeaders
	// revalidating holds the keys being refreshed in the background.
	revalidating sync.Map
	// background counts the fetch goroutines, so Close can wait for them.
	background sync.WaitGroup

	state  atomic.Pointer[state]
	loadMu sync.Mutex // serialises Load and Close
	// peers is the cluster's shared cache tier (peer.go); nil: none.
	peers atomic.Pointer[Peers]

	// via holds the Via values for viewers over HTTP/1.x, 2 and 3:
	// "1.1 <hex>.cloudfront.net (CloudFront)", "2.0 …", "3.0 …" — the
	// version is the viewer's (RequestAndResponseBehaviorCustomOrigin,
	// "Via").
	via [3][]string
}

// state is one loaded configuration with everything derived from it.
type state struct {
	cfg    *config.Config
	signer *signed.Verifier // signed URLs and cookies, with the configuration's keys
	pop    []string
	byHost map[string]*distState
	byID   map[string]*distState
	hooks  Hooks      // the edge code this configuration runs (SetHooks)
	only   *distState // the single distribution: it also answers local names
	// owned are the fetchers in use (shared with the previous state when
	// their origin did not change): closed when no state uses them.
	owned []io.Closer
}

// distState is one distribution and its origin fetchers.
type distState struct {
	dist     *config.Distribution
	fetchers map[string]origin.Fetcher // by origin or origin group ID
	results  *resultCounters
	// logCookies: the distribution's Logging.IncludeCookies.
	logCookies bool
}

// New returns a Server with no configuration; call Load before serving.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("proxy: a cache store is required")
	}
	s := &Server{
		store:      o.Store,
		log:        o.Logger,
		now:        o.Now,
		newFetcher: o.NewFetcher,
		accessLog:  o.AccessLog,
		geo:        o.Geo,
		rand:       o.Rand,
		flights:    collapse.NewGroup[flightHead](flightStall(o.FlightStall)),
		debug:      o.DebugHeaders,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	if o.Hooks != nil {
		s.SetHooks(o.Hooks)
	}
	if s.newFetcher == nil {
		s.newFetcher = func(o *config.Origin) (origin.Fetcher, error) { return origin.New(o) }
	}
	s.overrides.newFetcher = s.newFetcher
	node := o.NodeID
	if node == "" {
		node = defaultNodeID()
	}
	for i, version := range [...]string{"1.1", "2.0", "3.0"} {
		s.via[i] = []string{version + " " + node + ".cloudfront.net (CloudFront)"}
	}
	m, err := newMetrics(o.Registry, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Load builds origin fetchers for cfg and makes it the configuration that
// new requests see; requests under way finish with the one they started
// with. On error the previous configuration stays in force.
//
// An origin whose compiled settings did not change keeps its fetcher — its
// connection pool, its balancer's ejections and health-check state — so a
// reload (SIGHUP, UpdateDistribution) never sends traffic to an endpoint
// known to be down. Fetchers the new configuration no longer uses are
// closed once it is in force.
func (s *Server) Load(cfg *config.Config) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	old := s.state.Load()
	st := &state{cfg: cfg, pop: []string{cfg.Pop}, byHost: make(map[string]*distState), byID: make(map[string]*distState),
		signer: &signed.Verifier{Keys: cfg.Keys}}
	if h := s.nextHooks.Load(); h != nil {
		st.hooks = *h
	}
	var built []io.Closer // made by this Load: closed again if it fails
	fail := func(err error) error {
		closeAll(built)
		return err
	}
	for _, d := range cfg.Distributions {
		ds := &distState{dist: d, fetchers: make(map[string]origin.Fetcher), results: s.metrics.resultsFor(d.ID),
			logCookies: includeCookies(d)}
		if d.Shield != "" {
			// An origin shield tier: every origin of the distribution is
			// reached through the shield node, which does the failover.
			f, err := origin.NewShield(d)
			if err != nil {
				return fail(fmt.Errorf("distribution %s: origin shield: %w", d.ID, err))
			}
			if c, ok := f.(io.Closer); ok {
				built = append(built, c)
				st.owned = append(st.owned, c)
			}
			for id := range d.Origins {
				ds.fetchers[id] = f
			}
			for id := range d.OriginGroups {
				ds.fetchers[id] = f
			}
			s.index(st, ds, cfg)
			continue
		}
		for id, o := range d.Origins {
			f := old.unchangedFetcher(d, id)
			if f == nil {
				var err error
				if f, err = s.newFetcher(o); err != nil {
					return fail(fmt.Errorf("distribution %s: origin %s: %w", d.ID, id, err))
				}
				if c, ok := f.(io.Closer); ok {
					built = append(built, c)
				}
			}
			ds.fetchers[id] = f
			if c, ok := f.(io.Closer); ok {
				st.owned = append(st.owned, c)
			}
		}
		for id, g := range d.OriginGroups {
			if len(g.Members) < 2 {
				continue
			}
			p, sec := ds.fetchers[g.Members[0]], ds.fetchers[g.Members[1]]
			if p == nil || sec == nil {
				return fail(fmt.Errorf("distribution %s: origin group %s: unknown member", d.ID, id))
			}
			ds.fetchers[id] = origin.NewGroup(g, p, sec)
		}
		s.index(st, ds, cfg)
	}
	s.state.Store(st)
	if old != nil {
		// Idle connections of the retired fetchers are closed; connections
		// in use finish their requests.
		kept := make(map[io.Closer]bool, len(st.owned))
		for _, c := range st.owned {
			kept[c] = true
		}
		for _, c := range old.owned {
			if !kept[c] {
				_ = c.Close()
			}
		}
	}
	return nil
}

// unchangedFetcher returns the fetcher st (the configuration in force; nil
// before the first Load) has for origin id of d when its compiled settings
// are the same in both, else nil.
func (st *state) unchangedFetcher(d *config.Distribution, id string) origin.Fetcher {
	if st == nil {
		return nil
	}
	prev := st.byID[d.ID]
	if prev == nil || prev.dist.Shield != "" || !reflect.DeepEqual(prev.dist.Origins[id], d.Origins[id]) {
		return nil
	}
	return prev.fetchers[id]
}

// index makes ds reachable by its domain name and aliases.
func (s *Server) index(st *state, ds *distState, cfg *config.Config) {
	d := ds.dist
	st.byHost[strings.ToLower(d.DomainName)] = ds
	st.byID[d.ID] = ds
	for _, a := range d.Aliases {
		st.byHost[strings.ToLower(a)] = ds
	}
	if len(cfg.Distributions) == 1 {
		st.only = ds
	}
}

// includeCookies reports the distribution's Logging.IncludeCookies.
func includeCookies(d *config.Distribution) bool {
	return d.Raw != nil && d.Raw.Logging != nil && d.Raw.Logging.IncludeCookies != nil && *d.Raw.Logging.IncludeCookies
}

// Config returns the configuration in force (nil before Load).
func (s *Server) Config() *config.Config {
	if st := s.state.Load(); st != nil {
		return st.cfg
	}
	return nil
}

// Close waits (up to 5 s) for origin fetches under way to end, then
// releases the origin connection pools.
func (s *Server) Close() {
	done := make(chan struct{})
	go func() {
		s.background.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if st := s.state.Swap(nil); st != nil {
		closeAll(st.owned)
	}
	s.overrides.close()
}

// closeAll closes every closer of cs.
func closeAll(cs []io.Closer) {
	for _, c := range cs {
		_ = c.Close()
	}
}

// ServeHTTP takes a viewer request through CloudFront's phases, in order;
// each is one method, and a phase that answers the viewer itself ends the
// request (it returns false).
//
//	limits → distribution → normalize → behavior → viewerRules →
//	viewerRequest (hook) → cache key, lookup, collapse (serveCached) or
//	pass (passThrough) — where origin-request, fetch, origin-response and
//	store happen on a miss — → begin (custom error pages, viewer-response
//	hook, CloudFront's headers, the response headers policy) → account
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := s.newExchange(w, r)
	defer x.release()
	// Every outcome is accounted here, once, when the request ends — a
	// response cut short by a panic (http.ErrAbortHandler) included.
	defer s.account(x)
	if !s.configuration(x) || !s.limits(x) || !s.distribution(x) {
		return
	}
	s.normalize(x)
	s.behavior(x)
	if !s.viewerRules(x) || !s.viewerRequest(x) {
		return
	}
	if !x.cacheable() {
		s.passThrough(x)
		return
	}
	s.serveCached(x)
}

// configuration takes the configuration in force for the whole request.
func (s *Server) configuration(x *exchange) bool {
	st := s.state.Load()
	if st == nil {
		s.sendError(x, http.StatusServiceUnavailable, msgNotConfigured)
		return false
	}
	x.st, x.pop, x.signer = st, st.pop, st.signer
	return true
}

// distribution finds the request's distribution by its Host. A Host that
// is neither a distribution's domain nor one of its aliases (nor, for local
// use, this node's own address) never reaches one: CloudFront answers 403.
// A disabled distribution does not serve viewers.
func (s *Server) distribution(x *exchange) bool {
	ds, local := x.st.distribution(x.r)
	if ds == nil {
		s.sendError(x, http.StatusForbidden, msgBadRequestHost)
		return false
	}
	x.ds, x.local = ds, local
	if !ds.dist.Enabled {
		s.sendError(x, http.StatusForbidden, msgDisabled)
		return false
	}
	return true
}

// normalize makes every later phase see the path with its dot segments
// removed, so "/public/../private/x" is matched, checked and fetched as
// "/private/x"; "/" is the distribution's DefaultRootObject when it has
// one.
func (s *Server) normalize(x *exchange) {
	x.r = normalizedRequest(x.r)
	x.path = x.r.URL.Path
	x.rootObject()
}

// rootObject makes "/" the distribution's DefaultRootObject, when it has
// one (after the viewer-request code too: a function that leaves "/" as it
// is still gets the root object).
func (x *exchange) rootObject() {
	if x.path == "/" && x.ds.dist.DefaultRootObject != "" {
		x.path = "/" + x.ds.dist.DefaultRootObject
	}
}

// behavior picks the first cache behaviour whose path pattern matches,
// else the default one.
func (s *Server) behavior(x *exchange) { x.b = x.ds.dist.Match(x.path) }

// viewerRequest runs the viewer-request hook, if any: it may change the
// request before the cache key is made, or answer it itself. Viewers on
// localhost or this node's address then stand for the distribution's own
// domain toward the cache key and the origin.
func (s *Server) viewerRequest(x *exchange) bool {
	var ev *Event
	var err error
	if x.st.hooks[ViewerRequest] != nil { // no event is made when no code runs
		x.ev = Event{RequestID: x.id, Distribution: x.ds.dist, Behavior: x.b, Request: x.r}
		ev, err = runHook(x.r.Context(), x.st.hooks, ViewerRequest, &x.ev)
	}
	switch {
	case err != nil:
		s.log.Warn("viewer-request edge code failed", "distribution", x.ds.dist.ID, "path", x.path, "err", err)
		s.fail(x, failureOf(err))
		return false
	case ev != nil && ev.Response != nil:
		s.sendGenerated(x, ev.Response)
		return false
	case ev != nil:
		// The hook may have changed the request: the key, the behaviour's
		// origin and the origin request follow it.
		x.r = normalizedRequest(ev.Request)
		x.path = x.r.URL.Path
		x.rootObject()
		x.origin = ev.Origin
		if g := ev.OriginGroup; g != nil && len(g.Members) == 2 {
			x.originGroup = g
		}
	}
	if x.local {
		x.r.Host = x.ds.dist.DomainName
	}
	return true
}

// distribution finds the distribution for a request's Host: a domain name
// or alias of one (any port), or — only when there is one distribution —
// a name of this node: localhost, a loopback address, or the address the
// viewer's connection arrived on. local reports the last case.
func (st *state) distribution(r *http.Request) (ds *distState, local bool) {
	h := hostName(r.Host)
	if ds := st.byHost[strings.ToLower(h)]; ds != nil {
		return ds, false
	}
	if st.only != nil && isLocalHost(h, r) {
		return st.only, true
	}
	return nil, false
}

// hostName is a Host header value without its port and IPv6 brackets.
func hostName(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// isLocalHost reports whether host names this node: "localhost", a
// loopback address, or the local address of the viewer's connection.
func isLocalHost(host string, r *http.Request) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap.Addr().Unmap() == ip.Unmap()
		}
	}
	return false
}

// flightStall is Options.FlightStall with its default.
func flightStall(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return collapse.DefaultStall
	case d < 0:
		return 0
	}
	return d
}
