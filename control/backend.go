package control

import (
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

	mu sync.Mutex // serialises UpdateDistribution's read-compile-swap
}

// Config returns the configuration the proxy serves.
func (b *ProxyBackend) Config() *config.Config { return b.Proxy.Config() }

// Invalidate bans the cached objects that paths match and that were stored
// before at.
func (b *ProxyBackend) Invalidate(distributionID string, paths []string, at time.Time) {
	b.Store.InvalidateBatch(distributionID, paths, at)
}

// UpdateDistribution compiles dc as distribution id's configuration
// (config.Config.WithDistribution) and loads the result into the proxy; on
// any error the running configuration is left as it was.
func (b *ProxyBackend) UpdateDistribution(id string, dc *config.DistributionConfig) (*config.Config, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next, err := b.Proxy.Config().WithDistribution(id, dc)
	if err != nil {
		return nil, err
	}
	if err := b.Proxy.Load(next); err != nil {
		return nil, err
	}
	return next, nil
}
