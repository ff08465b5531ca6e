package proxy

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/origin"
)

// This file is the origin a request is fetched from when edge code chose
// one (Event.Origin): CloudFront Functions' cf.updateRequestOrigin and
// cf.selectRequestOriginById, a Lambda@Edge origin-request function that
// changes request.origin.

// maxOverrideFetchers bounds the fetchers kept for origins edge code
// named that are not one of a distribution's own: each holds a connection
// pool, and code may name a new origin on every request.
const maxOverrideFetchers = 64

// overrides are the fetchers of origins edge code named, by their compiled
// settings, the least recently used closed first beyond
// maxOverrideFetchers. They outlive a reload: code naming the same origin
// after it keeps the connection pool.
type overrides struct {
	newFetcher func(*config.Origin) (origin.Fetcher, error)

	mu   sync.Mutex
	byFP map[string]*override
	tick uint64
}

type override struct {
	f    origin.Fetcher
	used uint64
}

// get returns the fetcher for o, built on first use.
func (ov *overrides) get(o *config.Origin) (origin.Fetcher, error) {
	fp, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	ov.mu.Lock()
	defer ov.mu.Unlock()
	ov.tick++
	if e := ov.byFP[string(fp)]; e != nil {
		e.used = ov.tick
		return e.f, nil
	}
	f, err := ov.newFetcher(o)
	if err != nil {
		return nil, err
	}
	if ov.byFP == nil {
		ov.byFP = make(map[string]*override)
	}
	if len(ov.byFP) >= maxOverrideFetchers {
		ov.evictOldest()
	}
	ov.byFP[string(fp)] = &override{f: f, used: ov.tick}
	return f, nil
}

// evictOldest closes the least recently used fetcher (its idle
// connections; requests under way finish).
func (ov *overrides) evictOldest() {
	var oldest string
	var at uint64
	for fp, e := range ov.byFP {
		if oldest == "" || e.used < at {
			oldest, at = fp, e.used
		}
	}
	if c, ok := ov.byFP[oldest].f.(io.Closer); ok {
		_ = c.Close()
	}
	delete(ov.byFP, oldest)
}

// close closes every fetcher.
func (ov *overrides) close() {
	ov.mu.Lock()
	defer ov.mu.Unlock()
	for fp, e := range ov.byFP {
		if c, ok := e.f.(io.Closer); ok {
			_ = c.Close()
		}
		delete(ov.byFP, fp)
	}
}

// targetOrigin is the origin a behaviour's requests go to: its target, or
// the primary member of its target origin group (nil when neither is
// known).
func targetOrigin(d *config.Distribution, b *config.Behavior) *config.Origin {
	if o := d.Origins[b.TargetOriginID]; o != nil {
		return o
	}
	if g := d.OriginGroups[b.TargetOriginID]; g != nil && len(g.Members) > 0 {
		return d.Origins[g.Members[0]]
	}
	return nil
}

// fetcherFor returns the fetcher for origin o of ds: the distribution's
// own when o is one of its origins unchanged, else one for o's settings.
func (s *Server) fetcherFor(ds *distState, o *config.Origin) (origin.Fetcher, error) {
	if own := ds.dist.Origins[o.ID]; own == o {
		return ds.fetchers[o.ID], nil
	}
	return s.overrides.get(o)
}
