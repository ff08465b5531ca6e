package control

import (
	"context"
	"sync"
	"time"

	"github.com/edgefront/edgefront/config"
)

// Loader is the part of proxy.Server the control API uses: the
// configuration serving now and the atomic swap to a new one.
type Loader interface {
	Config() *config.Config
	Load(*config.Config) error
}

// Invalidator is the part of cache.Store the control API uses.
type Invalidator interface {
	InvalidateBatch(distribution string, patterns []string, at time.Time)
}

// ProxyBackend is the Backend of a running edge: a *proxy.Server as Proxy
// and its *cache.Store as Store.
type ProxyBackend struct {
	Proxy Loader
	Store Invalidator
	// Apply, when set, is the edge's one path to a new configuration
	// (cmd/edgefront: compile its functions, swap the hooks, load the
	// proxy); Proxy.Load when nil.
	Apply func(context.Context, *config.Config) error

	mu   sync.Mutex
	base *config.Config // nil: Proxy's own (nothing was applied over it yet)
}

// Config returns the configuration the proxy serves.
func (b *ProxyBackend) Config() *config.Config { return b.Proxy.Config() }

// Base returns the configuration last loaded without the API's overlay:
// what Load was last given as base, or the proxy's configuration before
// the first Load.
func (b *ProxyBackend) Base() *config.Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.base == nil {
		return b.Proxy.Config()
	}
	return b.base
}

// Load makes cfg serve through Apply (or Proxy.Load) and remembers base.
func (b *ProxyBackend) Load(ctx context.Context, base, cfg *config.Config) error {
	var err error
	if b.Apply != nil {
		err = b.Apply(ctx, cfg)
	} else {
		err = b.Proxy.Load(cfg)
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.base = base
	b.mu.Unlock()
	return nil
}

// Invalidate bans the cached objects that paths match and that were stored
// before at.
func (b *ProxyBackend) Invalidate(distributionID string, paths []string, at time.Time) {
	b.Store.InvalidateBatch(distributionID, paths, at)
}
