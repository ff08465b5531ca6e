package control

import (
	"context"

	"github.com/edgefront/edgefront/config"
)

// change is the one path of every change the API makes: under changeMu,
// build the next overlay from the current one, apply it over base (the
// loaded configuration; Backend.Base when nil) and have the edge load the
// result. The next overlay (less what base now decides, overlay.rebase) is
// kept only when the edge took it; on any error nothing changed.
//
// With a SharedConfig the objects build changed are written to it first
// (share), once the result is known to load: a write another node made
// first fails the change.
func (h *handler) change(ctx context.Context, base *config.Config, build func(cur *overlay) (*overlay, error)) (*config.Config, error) {
	return h.changeShared(ctx, base, h.o.Config != nil, build)
}

// changeShared is change, sharing what build changed when share is set
// (not for a reload, nor for entries that came from the shared store).
func (h *handler) changeShared(ctx context.Context, base *config.Config, share bool, build func(cur *overlay) (*overlay, error)) (*config.Config, error) {
	h.changeMu.Lock()
	defer h.changeMu.Unlock()
	if base == nil {
		base = h.b.Base()
	}
	cur := h.ov.Load()
	next, err := build(cur)
	if err != nil {
		return nil, err
	}
	if share {
		// Checked first, shared next: what the store holds is always
		// something every node can load.
		if _, err := next.rebase(base).apply(base); err != nil {
			return nil, updateErr(err)
		}
		if next, err = h.share(ctx, cur, next); err != nil {
			return nil, err
		}
	}
	next = next.rebase(base)
	cfg, err := next.apply(base)
	if err != nil {
		return nil, updateErr(err)
	}
	if err := h.b.Load(ctx, base, cfg); err != nil {
		return nil, updateErr(err)
	}
	h.ov.Store(next)
	return cfg, nil
}

// view returns what the API shows now: the overlay and the loaded
// configuration it lies over.
func (h *handler) view() (*overlay, *config.Config) {
	return h.ov.Load(), h.b.Base()
}
