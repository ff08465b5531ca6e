package proxy

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/collapse"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
	"github.com/edgefront/edgefront/geo"
	"github.com/edgefront/edgefront/origin"
)

// serveCached runs phases 4–6 for a cacheable request: cache key, lookup,
// and on a miss the collapsed origin fetch.
func (s *Server) serveCached(x *exchange) {
	p := x.b.CachePolicy
	if keysCloudFrontHeaders(p) {
		// The key holds the CloudFront-* values edgefront computes, never
		// ones a viewer sent (or it could choose another country's copy).
		// The country is found first: a trusted country header
		// (--geo-trust-header) is one of those the loop removes.
		x.country(s)
		for name := range x.r.Header {
			if geo.IsCloudFrontHeader(name) {
				delete(x.r.Header, name)
			}
		}
		s.viewerHeaders(x, x.r.Header, func(name string) bool { return named(p.Headers, name) })
	}
	enc := ""
	if (p.EnableAcceptEncodingGzip || p.EnableAcceptEncodingBrotli) && x.r.ProtoAtLeast(1, 1) {
		// (HTTP/1.0 viewers are never sent compressed objects.)
		enc = cache.NormalizeEncoding(x.r.Header.Get("Accept-Encoding"), p)
	}
	x.keyBuf = cache.AppendKey(x.keyBuf[:0], x.ds.dist.ID, escapedPath(x), x.r, p, enc)
	if x.r.Method == http.MethodOptions {
		// OPTIONS answers differ from GET's: they get a key of their own.
		x.keyBuf = append(x.keyBuf, "\x00OPTIONS"...)
	}
	if x.peer {
		// Another node's request: the key is the one it computed (peer.go).
		x.keyBuf, enc = append(x.keyBuf[:0], x.peerKey...), x.peerEnc
	}

	// The lookup hashes the key in place; a string of it is made only on a
	// miss, where it outlives this request (flights, the store).
	now := x.start
	if x.ds.dist.RFC9111() {
		readRequestDirectives(x)
		// The marker's key is looked up in place, like the key itself.
		n := len(x.keyBuf)
		x.keyBuf = append(x.keyBuf, varySuffix...)
		m, ok := s.store.GetAt(unsafe.String(unsafe.SliceData(x.keyBuf), len(x.keyBuf)), now)
		x.keyBuf = x.keyBuf[:n]
		if ok {
			// The object has variants: this request's is its key.
			x.variantAt = n
			x.keyBuf = appendVariant(x.keyBuf, []string{m.Header.Get("Vary")}, x.r.Header)
		}
	}
	e, ok := s.store.GetAt(unsafe.String(unsafe.SliceData(x.keyBuf), len(x.keyBuf)), now)
	key := func() string { return string(x.keyBuf) }
	if !ok {
		if x.rcc.OnlyIfCached {
			s.sendError(x, http.StatusGatewayTimeout, msgOnlyIfCached) // §5.2.1.7
			return
		}
		if len(x.r.Header["Range"]) > 0 && s.serveParts(x, key()) {
			return // an object cached in parts
		}
		s.fetchShared(x, key(), enc, nil)
		return
	}
	// (serveEntry fails only for an object on disk whose file went away
	// since the lookup: then it is a miss.)
	validate := mustValidate(&x.rcc, e, now)
	if e.Fresh(now) && !validate {
		if !s.serveEntry(x, e, hitPhase(e)) {
			s.fetchShared(x, key(), enc, nil)
		}
		return
	}
	if staleAllowed(&x.rcc, e, now) {
		if !s.serveEntry(x, e, phaseStale) { // the viewer's max-stale (§5.2.1.2)
			s.fetchShared(x, key(), enc, nil)
		}
		return
	}
	if x.rcc.OnlyIfCached {
		s.sendError(x, http.StatusGatewayTimeout, msgOnlyIfCached)
		return
	}
	if validate {
		// The viewer asked for a validated answer (no-cache, max-age,
		// min-fresh): conditionally, when the entry has validators.
		if e.Status >= 400 {
			e = nil
		}
		s.fetchShared(x, key(), enc, e)
		return
	}
	if e.ServeStale(now) {
		// The origin failed to refresh it moments ago: stale, without
		// asking again before the error caching time is over.
		if !s.serveEntry(x, e, phaseStale) {
			s.fetchShared(x, key(), enc, nil)
		}
		return
	}
	if e.Status < 400 && now.Sub(e.Stored()) < e.TTL+e.StaleWhileRevalidate() {
		// stale-while-revalidate: the stale object now, a refresh in the
		// background (one per key at a time). The stale body is opened
		// first: the refresh may replace it in the store (letting its
		// block go) before this response would have opened it.
		body, err := e.Open()
		if err != nil {
			s.fetchShared(x, key(), enc, nil)
			return
		}
		s.revalidateInBackground(x, key(), enc, e)
		s.serveBody(x, e, body, phaseStale)
		return
	}
	// Expired: ask the origin, conditionally when the entry has validators;
	// a 304 refreshes it (RefreshHit), an origin failure may serve it stale.
	if e.Status >= 400 {
		e = nil // an expired error is simply fetched again
	}
	s.fetchShared(x, key(), enc, e)
}

// readRequestDirectives reads the request's Cache-Control into x.rcc, for
// a distribution under RFC 9111 (§5.2.1); a Pragma: no-cache without one
// is no-cache (§5.4). CloudFront ignores both.
func readRequestDirectives(x *exchange) {
	h := x.r.Header
	switch {
	case len(h["Cache-Control"]) > 0:
		x.rcc = cache.ParseCacheControl(h)
	case len(h["Pragma"]) > 0:
		for t := range fields.Tokens(h["Pragma"]) {
			x.rcc.NoCache = x.rcc.NoCache || strings.EqualFold(t, "no-cache")
		}
	}
}

// mustValidate reports whether the request's directives rc forbid
// answering with e without the origin's say: no-cache (§5.2.1.4), an age
// over max-age (§5.2.1.1), less freshness left than min-fresh (§5.2.1.3).
func mustValidate(rc *cache.CacheControl, e *cache.Entry, now time.Time) bool {
	return rc.NoCache || rc.HasMaxAge && e.Age(now) > rc.MaxAge ||
		rc.MinFresh > 0 && e.TTL-now.Sub(e.Stored()) < rc.MinFresh
}

// staleAllowed reports whether the request's max-stale (§5.2.1.2) lets the
// expired entry e answer without the origin: within its staleness bound,
// and not an entry that must be revalidated (must-revalidate,
// proxy-revalidate, s-maxage: §5.2.2.2) or an error.
func staleAllowed(rc *cache.CacheControl, e *cache.Entry, now time.Time) bool {
	if !rc.HasMaxStale || e.Fresh(now) || e.Status >= 400 || e.StaleIfError() == cache.NoStaleIfError || rc.NoCache {
		return false
	}
	return rc.MaxStale < 0 || now.Sub(e.Stored())-e.TTL <= rc.MaxStale
}

// keysCloudFrontHeaders reports whether a cache policy puts any of
// CloudFront's own request headers in the key.
func keysCloudFrontHeaders(p *config.CachePolicy) bool {
	for _, h := range p.Headers.Items {
		if geo.IsCloudFrontHeader(h) {
			return true
		}
	}
	return false
}

// hitPhase is the phase of serving e from the cache.
func hitPhase(e *cache.Entry) phase {
	if e.Status >= 400 {
		return phaseError
	}
	return phaseHit
}

// revalidateInBackground refreshes an entry served stale under
// stale-while-revalidate, once per key at a time, with no viewer waiting.
func (s *Server) revalidateInBackground(x *exchange, key, enc string, stale *cache.Entry) {
	if _, busy := s.revalidating.LoadOrStore(key, true); busy {
		return
	}
	job := s.newJob(x, key, enc, stale)
	job.background = true
	ctx, cancel := context.WithCancel(context.WithoutCancel(x.r.Context()))
	f := s.flights.Detached(key, cancel)
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer s.revalidating.Delete(key)
		s.runFlight(ctx, f, job)
	}()
}

// newJob describes the origin fetch for a cacheable request; stale, when
// not nil, is the expired entry to revalidate (its validators are sent).
func (s *Server) newJob(x *exchange, key, enc string, stale *cache.Entry) *flightJob {
	job := &flightJob{
		fetchTarget: s.target(x),
		key:         key, path: escapedPath(x),
		// GET even for a HEAD: the whole object is what gets cached.
		req:   s.originRequest(x, http.MethodGet, enc, false),
		stale: stale,
		enc:   enc,

		maxObjectSize: maxObjectSize(x.st),
		noStore:       x.rcc.NoStore,
	}
	job.baseKey = key
	if x.variantAt > 0 && x.variantAt <= len(key) {
		job.baseKey = key[:x.variantAt]
	}
	if x.ds.dist.RFC9111() {
		// For Vary (vary.go); a copy: the fetch outlives the request,
		// whose map h1 reuses.
		job.viewerHeader = x.r.Header.Clone()
	}
	if !isNone(x.b.CachePolicy.QueryStrings) {
		job.query = x.r.URL.RawQuery
	}
	job.peer = s.peerRequest(x, key, enc)
	if stale != nil && !strings.Contains(stale.Header.Get("Vary"), "*") {
		// (After Vary: *, CloudFront asks for the whole object.)
		if v := stale.Header.Get("ETag"); v != "" {
			job.req.Header.Set("If-None-Match", v)
		}
		if v := stale.Header.Get("Last-Modified"); v != "" {
			job.req.Header.Set("If-Modified-Since", v)
		}
	}
	return job
}

// serveEntry answers from a cached entry. Conditional and Range requests on
// a 200 go through serveRangeFrom, which answers 304, 206 and 416 from the
// whole object; a body best sent from its file (the disk tier's, a large
// one in the RAM tier's arena) goes out with sendfile where the connection
// allows; the rest is written from memory. It returns false, having
// written nothing, when the store let the body go since the lookup.
func (s *Server) serveEntry(x *exchange, e *cache.Entry, p phase) bool {
	body, err := e.Open()
	if err != nil {
		return false
	}
	s.serveBody(x, e, body, p)
	return true
}

// serveBody is serveEntry with e's body already opened; it closes it.
func (s *Server) serveBody(x *exchange, e *cache.Entry, body cache.Body, p phase) {
	defer body.Close()
	h := x.w.Header()
	rendered := false
	if s.sendsRendered(x, e, p) {
		// (An entry whose stored length is not its body's goes the long
		// way, which corrects it for a file.)
		f := e.Header.Rendered()
		rendered = lengthIs(f.Length, body.Len()) && x.cw.setRendered(f, body.Len())
	}
	if rendered {
		x.rendered = e.Header
	} else {
		e.Header.CopyTo(h)
	}
	if p != phaseMiss {
		h["Age"] = ageValue(int64(e.Age(x.start) / time.Second))
	}
	a := answer{status: e.Status, phase: p, timing: p.result(), page: true, served: true, entry: e}
	switch {
	case e.Status == http.StatusOK && conditionalOrRange(x.r):
		if status := s.begin(x, a); status != 0 {
			x.done(p, serveRangeFrom(x.w, x.r, status, e.Header, body)) // 206, 304 or 416
		}
	case body.File():
		// Sent from its file, with sendfile(2) where the connection allows.
		if status := s.begin(x, a); status != 0 {
			writeWhole(x.w, x.r.Method == http.MethodHead, status, body, rendered)
		}
	default:
		b, _ := body.Bytes()
		s.respond(x, a, b)
	}
}

// sendsRendered reports whether e's stored header may go to the viewer as
// it was rendered when stored (cache.Header.Rendered), instead of through
// the response's header map: when nothing on the way reads or changes the
// stored fields — no viewer-response edge code, no response headers
// policy, no debug headers, no custom error page (the status is below
// 400), no range or conditional request — and the phase is a hit's (a
// miss's answer keeps the Age the origin sent).
func (s *Server) sendsRendered(x *exchange, e *cache.Entry, p phase) bool {
	return p != phaseMiss && e.Status < 400 && !s.debug && !conditionalOrRange(x.r) &&
		(x.peer || x.st.hooks[ViewerResponse] == nil && (x.b == nil || x.b.ResponseHeadersPolicy == nil))
}

// conditionalOrRange reports whether a request asks for a range or a
// conditional answer (served by serveRange from the whole object).
func conditionalOrRange(r *http.Request) bool {
	h := r.Header
	return len(h["Range"]) > 0 || len(h["If-None-Match"]) > 0 || len(h["If-Modified-Since"]) > 0 ||
		len(h["If-Match"]) > 0 || len(h["If-Unmodified-Since"]) > 0
}

// flight is a collapsed origin fetch (package collapse) carrying a
// flightHead from the fetch to its viewers.
type flight = collapse.Flight[flightHead]

// flightHead is what a flight tells its viewers when they wake: the
// answer's status and headers, and for people (--debug-headers) the
// caching decision and the endpoint that answered.
type flightHead struct {
	status   int
	header   http.Header
	err      error // the fetch's failure (Failed)
	phase    phase // for the viewers of this flight (the leader's; collapsed viewers of a miss get a hit)
	decision cache.Decision
	endpoint string
	// direct is the origin response the leader alone streams (Direct).
	direct *origin.Response
	// For the Age header (RFC 9111 §5.1): stored is when the object was
	// requested from the origin (zero for an answer edgefront made), and
	// initialAge the age it had then; fromOrigin says the leader's own
	// fetch answered, whose Age (originAge, the origin's header) is passed
	// on to the leader as it came, while every other viewer is answered
	// from the cache with the object's current age.
	stored     time.Time
	initialAge time.Duration
	fromOrigin bool
	originAge  []string
	// entry is the stored object on disk that answers (shareEntry).
	entry *cache.Entry
	// hitLayer is the cache layer that had the object when it is not this
	// node's cache (hitLayerShared), for Server-Timing's cdn-hit-layer.
	hitLayer string
}

// hitLayerShared is Server-Timing's cdn-hit-layer for an object another
// node of the POP's shared tier had: CloudFront's name for the cache layer
// behind the edge's own, the regional edge cache.
const hitLayerShared = "REC"

// setAge sets the Age header of a viewer answered from a flight.
func (s *Server) setAge(h http.Header, hd *flightHead, leader bool) {
	switch {
	case hd.stored.IsZero():
	case leader && hd.fromOrigin:
		if hd.originAge != nil {
			h["Age"] = hd.originAge
		}
	default:
		h["Age"] = ageValue(int64((hd.initialAge + max(s.now().Sub(hd.stored), 0)) / time.Second))
	}
}

// flightJob is what the goroutine fetching for a flight needs; it is copied
// out of the leader's exchange, which may be gone before the fetch ends.
type flightJob struct {
	fetchTarget
	// peer is the request to the node of the cluster that owns the key
	// (peer.go); nil when there is no such node to ask.
	peer *origin.Request

	key   string
	req   *origin.Request
	path  string       // escaped, as invalidations name it
	query string       // the raw query when it is part of the key
	enc   string       // the normalised encoding in the key
	stale *cache.Entry // the expired entry being revalidated, if any
	// background: no viewer reads this flight (stale-while-revalidate).
	background bool
	// viewerHeader is the leader's request header, for Vary under RFC
	// 9111 (nil otherwise); baseKey is key without the request's variant.
	viewerHeader http.Header
	baseKey      string
	// maxObjectSize is the largest object the leader's configuration
	// stores.
	maxObjectSize int64
	// noStore: the leader's request said no-store (RFC 9111 §5.2.1.5,
	// under httpSemantics: rfc9111): its answer is not stored.
	noStore bool
}

// fetchShared joins (or starts) the flight for key and answers from it.
func (s *Server) fetchShared(x *exchange, key, enc string, stale *cache.Entry) {
	if s.viewerGone(x) {
		return
	}
	flightKey := key
	if x.peerApart {
		flightKey = key + "\x00peer"
	}
	if forwardsCookies(x.b) && len(x.r.Header["Cookie"]) > 0 {
		// CloudFront collapses only identical requests ("Simultaneous
		// requests for the same object", RequestAndResponseBehavior-
		// CustomOrigin): with cookies forwarded, viewers whose forwarded
		// cookies differ do not share a fetch (what each stores is still
		// cached under key).
		if c := forwardedCookies(x.r, x.b.CachePolicy.Cookies, x.b.OriginRequestPolicy.Cookies); c != "" {
			flightKey = key + "\x00" + c
		}
	}
	f, ctx, leader, wake := s.flights.Join(flightKey, func() (context.Context, context.CancelFunc) {
		// The fetch outlives the leader's own request when others wait for it.
		return context.WithCancel(context.WithoutCancel(x.r.Context()))
	})
	var interim *interimWriter
	switch {
	case !leader:
		s.metrics.collapsed.Inc()
	case stale == nil && s.storedMeanwhile(x, key, f):
		// A flight for this key ended between this request's lookup and
		// its join: its entry answers whoever joined since, as a hit.
	default:
		job := s.newJob(x, key, enc, stale)
		interim = newInterim(x)
		job.req.Interim = interim.interimFunc()
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			s.runFlight(ctx, f, job)
		}()
	}

	select {
	case <-wake:
		interim.close()
	case <-x.r.Context().Done():
		interim.close()
		if leader {
			f.LeaderLeft()
		}
		s.flights.Leave(f)
		return
	}

	hd := f.Head()
	switch shared := f.Outcome() != collapse.Direct; {
	case shared:
		s.serveFlight(x, f, leader)
	case leader && hd.direct.StatusCode == http.StatusOK && len(x.r.Header["Range"]) > 0:
		// An object that is not stored (too large, or not cacheable) and a
		// viewer that asked for part of it: the origin answers the range
		// (RangeGETs: CloudFront forwards the Range), rather than this
		// viewer getting the whole object.
		s.flights.Leave(f)
		hd.direct.Body.Close()
		f.Cancel()
		s.passThrough(x)
	case leader:
		s.flights.Leave(f)
		defer f.Cancel()
		defer hd.direct.Body.Close()
		s.writeOriginResponse(x, hd.direct, phaseMiss)
	default:
		// Not shareable (not cacheable, or too large): this viewer asks the
		// origin itself, as CloudFront forwards such requests.
		s.flights.Leave(f)
		s.passThrough(x)
	}
}

// runFlight fetches from the origin for a flight, streams the body into it,
// and stores the entry before any viewer sees the body end.
func (s *Server) runFlight(ctx context.Context, f *flight, j *flightJob) {
	start := s.now()
	resp, fromPeer := s.askPeer(ctx, j)
	var err error
	if !fromPeer {
		resp, err = s.fetch(ctx, &j.fetchTarget, j.req)
	}
	if err != nil {
		if j.stale != nil && !isCanceled(err) && j.stale.StaleOnError(start) {
			status := origin.StatusOf(err)
			s.metrics.originFetch(j.originID(), status, s.now().Sub(start))
			s.log.Warn("origin fetch failed; serving the cached object stale", "distribution", j.ds.dist.ID,
				"origin", j.originID(), "path", j.path, "err", err)
			s.shareStale(f, j, status)
			return
		}
		s.failFlight(f, j, err, start)
		return
	}
	if !fromPeer { // (the cluster counts peer requests: cluster_peer_requests_*)
		s.metrics.originFetch(j.originID(), resp.StatusCode, s.now().Sub(start))
	}
	if j.stale != nil {
		switch resp.StatusCode {
		case http.StatusNotModified:
			// Still valid: the cached body with the 304's updated headers.
			resp.Body.Close()
			e := s.refreshed(j, resp.Header, start)
			s.store.Set(j.key, e)
			s.shareEntry(f, e, phaseRefreshHit)
			return
		}
		// (Under RFC 9111 only with the origin's stale-if-error: a 5xx is
		// not a disconnection, §4.2.4.)
		if resp.StatusCode >= 500 && j.stale.StaleOnError(start) && (!j.ds.dist.RFC9111() || j.stale.StaleIfError() > 0) {
			// CloudFront serves the cached object when the origin fails
			// with a 5xx (HTTPStatusCodes: "The requested object is in the
			// edge cache").
			resp.Body.Close()
			s.shareStale(f, j, resp.StatusCode)
			return
		}
	}
	d := s.decide(j, resp)
	var vary []string
	if j.ds.dist.RFC9111() {
		vary = variantFields(resp.Header) // before filterVary: the origin's own
	}
	if filterVary(resp.Header, j.behavior) && d.Store {
		// Vary: * with MinTTL 0: cached, but every request asks the
		// origin again, without validators (newJob).
		d.TTL, d.Rule = 0, d.Rule+", Vary: * (every request goes to the origin)"
	}
	limit := j.maxObjectSize
	// An object too large to cache is still shared by the viewers that
	// collapsed onto this fetch (one origin request, nothing stored), which
	// it streams through a bounded window (collapse.Flight.Fill); with no viewer, it
	// is not fetched at all.
	if j.noStore {
		d.Store, d.Rule = false, "not stored (the request's no-store, RFC 9111 §5.2.1.5)"
	}
	if !d.Store || j.background && resp.ContentLength > limit {
		// The leader streams the answer itself (and cancels the fetch when
		// done); without a leader there is nobody to give it to.
		if !f.Hand(flightHead{status: resp.StatusCode, header: resp.Header, decision: d, endpoint: resp.Endpoint, direct: resp}) {
			resp.Body.Close()
		}
		return
	}

	enc := compression(j.behavior, j.enc, resp)
	length := resp.ContentLength
	if enc != "" {
		length = -1
	}
	hdr := storedHeader(resp.Header, j.behavior, length)
	if enc != "" {
		hdr = compressedHeader(hdr, enc)
	}
	p, layer := phaseMiss, ""
	switch {
	case resp.StatusCode >= 400:
		p = phaseError
	case resp.CacheHit:
		// The owner had it: a hit of the POP's shared tier, as CloudFront
		// reports a regional edge cache's — a cache hit, served by another
		// cache layer (Server-Timing shows "which cache layer served a
		// cache hit": cdn-hit-layer EDGE, REC or Origin Shield; API
		// reference, ResponseHeadersPolicyServerTimingHeadersConfig).
		p, layer = phaseHit, hitLayerShared
	}
	if resp.ContentLength > limit && partsCacheable(resp, enc) {
		s.noteParts(j, resp, hdr, d, start)
	}
	// Viewers have the headers: they go out now.
	f.Begin(flightHead{status: resp.StatusCode, header: hdr, phase: p, hitLayer: layer, decision: d, endpoint: resp.Endpoint,
		stored: start, initialAge: cache.InitialAge(resp.Header), fromOrigin: true, originAge: resp.Header["Age"]})
	if enc == "" && resp.ContentLength > 0 && resp.ContentLength <= limit {
		// After the headers: a large allocation can take a while (zeroing,
		// collector assists), and the first bytes should not wait for it.
		f.SetBody(make([]byte, 0, resp.ContentLength))
	}

	var tooLarge bool
	if enc != "" {
		// Compressed bodies come from objects of at most 10,000,000 bytes
		// (compression), so the buffer is bounded; one that compresses to
		// more than the largest object stored is served, not stored.
		var n int64
		n, err = fillCompressed(f, resp.Body, enc)
		tooLarge = n > limit
	} else {
		var body io.Reader = resp.Body
		spool := s.spool(j, resp, hdr, d, start, limit)
		if spool != nil {
			body = io.TeeReader(resp.Body, spool) // (a spool's Write never fails)
		}
		tooLarge, err = f.Fill(ctx, body, limit, resp.ContentLength)
		if spool != nil && (err != nil || !tooLarge || !spool.Commit()) {
			spool.Abort()
		}
	}
	resp.Body.Close()
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, collapse.ErrNoViewers) {
			s.originBodyFailed(j.ds.dist.ID, j.originID(), j.path, err)
		}
		f.End(err)
		return
	}
	if !tooLarge {
		body := f.Body()
		stored := hdr
		if enc != "" || resp.ContentLength < 0 {
			stored = hdr.Clone()
			stored["Content-Length"] = contentLength(int64(len(body)))
			if cap(body) > len(body)+len(body)/8 {
				// Do not keep a growing buffer's spare room in the cache.
				body = append([]byte(nil), body...)
			}
		}
		e := j.entry(resp, stored, body, d, start)
		key := j.key
		if vary != nil {
			key = s.variantKey(j, vary, cache.NewEntry(*e, nil, e.Extra()))
		}
		s.store.Set(key, e)
	}
	f.End(nil) // after the store: a request that follows a complete one is a hit
}

// entry is the cache entry of j's origin answer resp, fetched at start:
// its status, the stored header hdr, body, and the lifetimes d decided.
func (j *flightJob) entry(resp *origin.Response, hdr http.Header, body []byte, d cache.Decision, start time.Time) *cache.Entry {
	return cache.NewEntry(j.meta(resp, hdr, d, start), body, j.extra(resp, d))
}

// meta is the cache entry of j's origin answer resp (fetched at start)
// but for its body and Extra: its status, the stored header hdr, and the
// TTL decided (d).
func (j *flightJob) meta(resp *origin.Response, hdr http.Header, d cache.Decision, start time.Time) cache.Entry {
	return cache.Entry{
		Status: resp.StatusCode, Header: cache.NewHeader(hdr),
		// Path is copied: as a substring of the request line it would
		// keep all of it alive as long as the entry (Query too: extra).
		Distribution: j.ds.dist.ID, Path: strings.Clone(j.path),
		StoredNano: start.UnixNano(), TTL: d.TTL,
	}
}

// extra is the Extra of the cache entry of j's origin answer resp, with
// the lifetimes d decided; its Query is copied, as meta's Path is.
func (j *flightJob) extra(resp *origin.Response, d cache.Decision) cache.Extra {
	return cache.Extra{
		Query: strings.Clone(j.query), InitialAge: cache.InitialAge(resp.Header),
		StaleWhileRevalidate: d.StaleWhileRevalidate, StaleIfError: d.StaleIfError,
	}
}

// spool returns the disk tier's writer for an object too large for RAM
// (its Content-Length over limit) that the disk takes, or nil: the object
// goes to disk as it streams to its viewers, and later viewers are served
// from its file.
func (s *Server) spool(j *flightJob, resp *origin.Response, hdr http.Header, d cache.Decision, start time.Time, limit int64) *cache.Spool {
	if resp.ContentLength <= limit || !s.store.HasDisk() {
		return nil
	}
	return s.store.NewSpool(j.key, cache.NewEntry(j.meta(resp, hdr, d, start), nil, j.extra(resp, d)), resp.ContentLength)
}

// filterVary keeps in h's Vary the names CloudFront returns to viewers
// (RequestAndResponseBehaviorCustomOrigin, "HTTP response headers that
// CloudFront removes or replaces"): Accept-Encoding, Cookie, the headers
// the behaviour's policies forward, User-Agent when a device-type header is
// forwarded, and "*" when the behaviour's MinTTL is 0 ("Content
// negotiation"), which it reports; every other name is removed. Vary never
// splits the cache: the cache key alone decides what a viewer is served.
func filterVary(h http.Header, b *config.Behavior) (star bool) {
	if len(h["Vary"]) == 0 {
		return false
	}
	var kept []string
	for name := range fields.Tokens(h["Vary"]) {
		keep := false
		switch name = http.CanonicalHeaderKey(name); {
		case name == "*":
			star = b.CachePolicy.MinTTL <= 0
			keep = star
		case name == "Accept-Encoding" || name == "Cookie" || forwardsHeader(b, name):
			keep = true
		case name == "User-Agent":
			for _, d := range deviceHeaders {
				keep = keep || forwardsHeader(b, d)
			}
		}
		if keep && !slices.Contains(kept, name) {
			kept = append(kept, name)
		}
	}
	if len(kept) == 0 {
		delete(h, "Vary")
	} else {
		h["Vary"] = []string{strings.Join(kept, ", ")}
	}
	return star
}

// deviceHeaders are CloudFront's device-type headers, made from User-Agent.
var deviceHeaders = [...]string{"Cloudfront-Is-Desktop-Viewer", "Cloudfront-Is-Mobile-Viewer", "Cloudfront-Is-Smarttv-Viewer", "Cloudfront-Is-Tablet-Viewer"}

// forwardsHeader reports whether the behaviour's cache policy or origin
// request policy forwards the header name to the origin.
func forwardsHeader(b *config.Behavior, name string) bool {
	return b.CachePolicy.Headers.Includes(name) || b.OriginRequestPolicy.Headers.Includes(name)
}

// storedMeanwhile answers a new flight f from the store when a fresh entry
// for key, one this viewer may be served, arrived after the viewer's own
// lookup missed.
func (s *Server) storedMeanwhile(x *exchange, key string, f *flight) bool {
	e, ok := s.store.Peek(key, x.start)
	if !ok || !e.Fresh(x.start) {
		return false
	}
	s.shareEntry(f, e, hitPhase(e))
	return true
}

// shareStale answers every viewer of a flight with its expired entry in
// place of the origin's failure (status), and keeps answering with it,
// without asking the origin, for the distribution's ErrorCachingMinTTL of
// status (cache.Entry.ServeStale).
func (s *Server) shareStale(f *flight, j *flightJob, status int) {
	e := *j.stale
	x := e.Extra()
	x.StaleUntil = s.now().Add(j.ds.dist.ErrorCachingMinTTL(status)).UnixNano()
	e.SetExtra(x)
	s.store.Set(j.key, &e)
	s.shareEntry(f, &e, phaseStale)
}

// shareEntry answers every viewer of a flight from a cached entry; an
// entry whose body is the store's (in the RAM tier's arena or a disk file)
// is opened by each viewer (serveFlight), which holds it while it sends it.
func (s *Server) shareEntry(f *flight, e *cache.Entry, p phase) {
	if e.InStore() {
		f.Answer(collapse.Stored, flightHead{status: e.Status, phase: p, stored: e.Stored(), initialAge: e.InitialAge(), entry: e}, nil)
		return
	}
	f.Answer(collapse.Stored, flightHead{status: e.Status, header: e.Header.Clone(), phase: p, stored: e.Stored(), initialAge: e.InitialAge()}, e.Body())
}

// refreshed is the stale entry of j made fresh again by a 304: its body, its
// headers updated with the ones the 304 carries (RFC 9111 §4.3.4), and a new
// TTL decided on them.
func (s *Server) refreshed(j *flightJob, h http.Header, at time.Time) *cache.Entry {
	old := j.stale
	hdr := old.Header.Clone()
	keyedCookies := keysCookies(j.behavior)
	ccFrom := hdr // the 304's Cache-Control, when it has one, replaces the old
	if len(h["Cache-Control"]) > 0 {
		ccFrom = h
	}
	unstored := cache.ParseCacheControl(ccFrom).UnstoredFields
	for k, v := range h {
		switch k {
		case "Content-Encoding", "Transfer-Encoding", "Connection":
			continue
		}
		if storedField(k, keyedCookies, unstored) {
			hdr[k] = v
		}
	}
	// The 304's own Age counts for the new freshness, and is not stored.
	hdr["Age"] = h["Age"]
	d := cache.Freshness(hdr, j.behavior.CachePolicy, at)
	if j.ds.dist.RFC9111() {
		d = cache.FreshnessRFC9111(old.Status, hdr, j.behavior.CachePolicy, at)
	}
	delete(hdr, "Age")
	e := *old
	e.Header, e.StoredNano, e.TTL = cache.NewHeader(hdr), at.UnixNano(), d.TTL
	e.SetExtra(cache.Extra{Query: old.Query(), InitialAge: cache.InitialAge(h),
		StaleWhileRevalidate: d.StaleWhileRevalidate, StaleIfError: d.StaleIfError})
	return &e
}

// detailedResult is the access log's x-edge-detailed-result-type for an
// origin failure.
func detailedResult(err error) string {
	var oe *origin.Error
	if !errors.As(err, &oe) {
		return accesslog.OriginError
	}
	switch oe.Kind {
	case origin.Connect:
		return accesslog.OriginConnectError
	case origin.Timeout:
		return accesslog.OriginReadError
	case origin.Protocol:
		return accesslog.OriginInvalidResponseError
	}
	return accesslog.OriginError
}

func isCanceled(err error) bool {
	var oe *origin.Error
	return errors.As(err, &oe) && oe.Kind == origin.Canceled
}

// failFlight ends a flight whose origin could not be reached: every viewer
// gets CloudFront's 502 or 504, which is cached for the error caching
// minimum TTL like an origin's error response.
func (s *Server) failFlight(f *flight, j *flightJob, err error, start time.Time) {
	fl := failureOf(err)
	status := fl.status
	s.metrics.originFetch(j.originID(), origin.StatusOf(err), s.now().Sub(start))
	canceled := isCanceled(err)
	if !canceled {
		s.log.Warn("origin fetch failed", "distribution", j.ds.dist.ID, "origin", j.originID(), "path", j.path, "err", err)
	}
	body := errorPage(status, fl.msg, j.id)
	hdr := http.Header{
		"Server":         {"CloudFront"},
		"Content-Type":   {"text/html"},
		"Content-Length": {strconv.Itoa(len(body))},
	}
	// (Under RFC 9111 an answer edgefront made has no freshness: not
	// stored.)
	if ttl := j.ds.dist.ErrorCachingMinTTL(status); ttl > 0 && !canceled && !j.ds.dist.RFC9111() {
		s.store.Set(j.key, cache.NewEntry(cache.Entry{
			Status: status, Header: cache.NewHeader(hdr), Distribution: j.ds.dist.ID, Path: strings.Clone(j.path),
			StoredNano: start.UnixNano(), TTL: ttl,
		}, body, cache.Extra{Query: strings.Clone(j.query)}))
	}
	f.Answer(collapse.Failed, flightHead{status: status, header: hdr, err: err, phase: phaseError}, body)
}

// decide applies CloudFront's caching rules to an origin response, or RFC
// 9111's for a distribution that opted in to them.
func (s *Server) decide(j *flightJob, resp *origin.Response) cache.Decision {
	now := s.now()
	if j.ds.dist.RFC9111() {
		if len(j.req.Header["Authorization"]) > 0 {
			// RFC 9111 §3.5: an answer to an authenticated request is
			// reused only when the origin says it may be.
			if cc := cache.ParseCacheControl(resp.Header); !cc.Public && !cc.HasSMaxAge && !cc.MustRevalidate {
				return cache.Decision{Rule: "not cached (Authorization without public, s-maxage or must-revalidate, RFC 9111 §3.5)"}
			}
		}
		return cache.FreshnessRFC9111(resp.StatusCode, resp.Header, j.behavior.CachePolicy, now)
	}
	if resp.StatusCode >= 400 {
		return cache.ErrorFreshness(resp.StatusCode, resp.Header, j.ds.dist.ErrorCachingMinTTL(resp.StatusCode), j.behavior.CachePolicy.MaxTTL, now)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNonAuthoritativeInfo, http.StatusNoContent, http.StatusMultipleChoices,
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return cache.Freshness(resp.Header, j.behavior.CachePolicy, now)
	case http.StatusPartialContent:
		if len(j.req.Header["Range"]) > 0 {
			// A part of an object cached in parts (parts.go), by the
			// object's rules (RangeGETs).
			return cache.Freshness(resp.Header, j.behavior.CachePolicy, now)
		}
	}
	return cache.Decision{}
}

// maxObjectSize is the largest object the configuration st stores.
func maxObjectSize(st *state) int64 {
	if st.cfg.Cache.MaxObjectSize > 0 {
		return st.cfg.Cache.MaxObjectSize
	}
	return 64 << 20
}

// storedField reports whether an origin response header field is kept with
// a cached object — from a 200 or merged from a 304 alike. Age is dropped
// (it is recomputed on every hit). Set-Cookie is kept only when cookies are
// part of the cache key (keyedCookies), as CloudFront does: a cookie set
// for one viewer is otherwise served to every viewer of the object, even
// when an origin request policy forwards the viewer's cookies.
// A field a qualified no-cache or private names (no-cache="Set-Cookie",
// cache.CacheControl.UnstoredFields) is not kept either.
func storedField(k string, keyedCookies bool, unstored []string) bool {
	switch k {
	case "Age":
		return false
	case "Set-Cookie":
		if !keyedCookies {
			return false
		}
	}
	return !slices.Contains(unstored, k)
}

// keysCookies reports whether the behaviour's cache policy puts cookies in
// the cache key.
func keysCookies(bh *config.Behavior) bool {
	return !isNone(bh.CachePolicy.Cookies)
}

// forwardsCookies reports whether the behaviour forwards cookies to the
// origin, through its cache policy or its origin request policy. When it
// does not, CloudFront removes Set-Cookie from every response to viewers
// (Cookies: "Don't forward cookies to your origin").
func forwardsCookies(bh *config.Behavior) bool {
	return keysCookies(bh) || !isNone(bh.OriginRequestPolicy.Cookies)
}

// storedHeader is the part of an origin's response header that is cached and
// served to viewers (storedField). Content-Length is set to length unless it
// is negative.
//
// The copy shares nothing with the origin's response (it is handed to every
// viewer of the fetch, and rendered into the cached object by
// cache.NewHeader) and is compact: every value is a substring of one string
// and every value list a slice of one array (three allocations in all, with
// the map). Keys are kept as they are: net/http interns the common ones.
func storedHeader(h http.Header, bh *config.Behavior, length int64) http.Header {
	keyedCookies := keysCookies(bh)
	var unstored []string
	if len(h["Cache-Control"]) > 0 {
		unstored = cache.ParseCacheControl(h).UnstoredFields
	}
	keep := func(k string) bool { return k != "Content-Length" && storedField(k, keyedCookies, unstored) }
	// One pass picks the keys (map order is random, so the rest follows
	// this list), then the values are laid out in that order.
	kept := make([]string, 0, 16)
	var values, size int
	for k, vs := range h {
		if keep(k) {
			kept = append(kept, k)
			values += len(vs)
			for _, v := range vs {
				size += len(v)
			}
		}
	}
	var lenBuf [20]byte
	lenText := lenBuf[:0]
	if length >= 0 {
		lenText = strconv.AppendInt(lenText, length, 10)
		values++
		size += len(lenText)
	}
	var b strings.Builder
	b.Grow(size)
	for _, k := range kept {
		for _, v := range h[k] {
			b.WriteString(v)
		}
	}
	b.Write(lenText)
	all := b.String()
	out := make(http.Header, len(kept)+1)
	list := make([]string, values)
	at := 0
	for _, k := range kept {
		vs := h[k]
		n := len(vs)
		for i, v := range vs {
			list[i] = all[at : at+len(v)]
			at += len(v)
		}
		out[k] = list[:n:n]
		list = list[n:]
	}
	if length >= 0 {
		list[0] = all[at:]
		out["Content-Length"] = list[:1:1]
	}
	return out
}

// serveFlight answers a viewer from a shared flight: headers at once, the
// body as it arrives.
func (s *Server) serveFlight(x *exchange, f *flight, leader bool) {
	hd := f.Head()
	if hd.entry != nil {
		// An object on disk answers: each viewer reads its file.
		s.flights.Leave(f)
		p := hd.phase
		if !leader && p == phaseMiss {
			p = phaseHit
		}
		if !s.serveEntry(x, hd.entry, p) {
			s.passThrough(x) // its file went away meanwhile
		}
		return
	}
	rd := f.NewReader(func() {
		// The viewer took nothing for the flight's stall time while the
		// others waited: fail its write, so it leaves.
		_ = http.NewResponseController(x.w).SetWriteDeadline(time.Unix(1, 0))
	})
	defer s.flights.LeaveReader(rd)
	if hd.err != nil {
		fl := failureOf(hd.err)
		x.detailed, x.xcache = fl.detailed, fl.xcache
	}
	if hd.status >= 400 && x.ds.dist.ErrorResponses[hd.status] != nil {
		// The error is replaced by a page; keep reading until its (small)
		// body is in (or is known to be too large to cache), so leaving
		// does not abandon the fetch that caches it.
		if _, done, err := f.WaitAll(x.r.Context()); !done && !errors.Is(err, collapse.ErrStreamed) {
			return // the viewer left
		}
	}
	p := hd.phase
	if !leader && p == phaseMiss {
		// Collapsed viewers are answered from what the leader's fetch put
		// in the cache.
		p = phaseHit
	}
	if hd.status == http.StatusOK && conditionalOrRange(x.r) {
		// Ranges and conditionals are answered from the whole object.
		body, done, err := f.WaitAll(x.r.Context())
		if errors.Is(err, collapse.ErrStreamed) {
			// Too large to hold whole: parts answer it when the object is
			// cached in parts, else the origin.
			s.flights.LeaveReader(rd)
			if len(x.r.Header["Range"]) > 0 && s.serveParts(x, string(x.keyBuf)) {
				return
			}
			s.passThrough(x)
			return
		}
		if !done || err != nil {
			if err != nil && x.r.Context().Err() == nil {
				panic(http.ErrAbortHandler)
			}
			return
		}
		hdr := hd.header
		if leader && hd.fromOrigin && hd.originAge != nil {
			hdr = maps.Clone(hdr)
			hdr["Age"] = hd.originAge
		}
		e := cache.NewEntry(cache.Entry{Status: hd.status, Header: cache.NewHeader(hdr), StoredNano: hd.stored.UnixNano()}, body, cache.Extra{InitialAge: hd.initialAge})
		if hd.stored.IsZero() {
			e.StoredNano = s.now().UnixNano()
		}
		s.serveEntry(x, e, p)
		return
	}
	// A viewer that gets here once the body is complete (every viewer of a
	// small object the origin has answered, woken by one channel close) is
	// answered like a hit: the whole body in one write, with its length,
	// without waiting or flushing.
	body, complete, bodyErr := f.Snapshot()
	complete = complete && bodyErr == nil
	h := x.w.Header()
	for k, v := range hd.header {
		h[k] = v
	}
	s.setAge(h, &hd, leader)
	if complete && len(h["Content-Length"]) == 0 && hd.status >= http.StatusOK &&
		hd.status != http.StatusNoContent && hd.status != http.StatusNotModified {
		h["Content-Length"] = contentLength(int64(len(body)))
	}
	a := answer{status: hd.status, phase: p, timing: p.result(), upstream: leader && hd.phase == phaseMiss, page: true, served: true,
		endpoint: hd.endpoint, hitLayer: hd.hitLayer}
	if s.debug && hd.decision.Rule != "" {
		d := hd.decision // a copy: a pointer into hd would move hd to the heap
		a.decision = &d
	}
	status := s.begin(x, a)
	if status == 0 {
		return
	}
	x.w.WriteHeader(status)
	if x.r.Method == http.MethodHead {
		return
	}
	if complete {
		_, _ = x.w.Write(body)
		return
	}
	flusher, _ := x.w.(http.Flusher)
	for {
		chunk, done, err := rd.Next(x.r.Context(), flusher)
		if len(chunk) > 0 {
			if _, werr := x.w.Write(chunk); werr != nil {
				return
			}
		}
		if done {
			if err != nil && x.r.Context().Err() == nil {
				// The origin failed mid-body: cut the connection so the
				// viewer sees a truncated response, not a complete one.
				panic(http.ErrAbortHandler)
			}
			return
		}
	}
}

// writeOriginResponse streams an origin response straight to the viewer.
func (s *Server) writeOriginResponse(x *exchange, resp *origin.Response, p phase) {
	if resp.StatusCode >= 400 {
		p = phaseError
	}
	h := x.w.Header()
	filterVary(resp.Header, x.b)
	cookies := forwardsCookies(x.b)
	for k, v := range resp.Header {
		if k == "Content-Length" || k == "Set-Cookie" && !cookies {
			continue
		}
		h[k] = v
	}
	if resp.ContentLength >= 0 {
		h["Content-Length"] = []string{strconv.FormatInt(resp.ContentLength, 10)}
	}
	status := s.begin(x, answer{status: resp.StatusCode, phase: p, timing: resultMiss, upstream: true, page: true, served: true,
		endpoint: resp.Endpoint})
	if status == 0 {
		return
	}
	x.w.WriteHeader(status)
	if x.r.Method == http.MethodHead {
		return
	}
	err := copyFlushing(x.w, resp.Body, resp.ContentLength < 0)
	if err != nil && !errors.Is(err, errViewerWrite) && x.r.Context().Err() == nil {
		s.originBodyFailed(x.ds.dist.ID, x.b.TargetOriginID, x.path, err)
		panic(http.ErrAbortHandler)
	}
}

var errViewerWrite = errors.New("viewer write failed")

// copyFlushing copies an origin body to the viewer. When flushEach is set
// (the origin streams without a length), every chunk is flushed as it
// arrives, so event streams and long polls reach the viewer at once.
func copyFlushing(w http.ResponseWriter, r io.Reader, flushEach bool) error {
	buf := make([]byte, 32<<10)
	flusher, _ := w.(http.Flusher)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return errViewerWrite
			}
			if flushEach && flusher != nil {
				flusher.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// originBodyFailed records an origin answer whose body failed after its
// headers (a reset, a read timeout, a short body): the viewers got a cut
// response and nothing was stored. The fetch itself was counted by its
// status when the headers came.
func (s *Server) originBodyFailed(dist, originID, path string, err error) {
	s.metrics.originBodyErrors.WithLabelValues(originID).Inc()
	s.log.Warn("origin body failed mid-way; viewers got a cut response, nothing stored",
		"distribution", dist, "origin", originID, "path", path, "err", err)
}
