package main

import (
	"context"

	"github.com/edgefront/edgefront/proxy"
)

// combineHooks makes one proxy.Hooks of several kinds of edge code
// (CloudFront Functions, Lambda@Edge): at each point their hooks run in
// the order given until one answers (ev.Response) or fails. A behaviour has
// at most one of them at a viewer point (config refuses both), and only
// Lambda@Edge runs at the origin points. nil when none has a hook.
func combineHooks(sets ...proxy.Hooks) proxy.Hooks {
	var out proxy.Hooks
	for p := proxy.ViewerRequest; p <= proxy.ViewerResponse; p++ {
		var chain []proxy.Hook
		for _, s := range sets {
			if h := s[p]; h != nil {
				chain = append(chain, h)
			}
		}
		if len(chain) == 0 {
			continue
		}
		if out == nil {
			out = proxy.Hooks{}
		}
		if len(chain) == 1 {
			out[p] = chain[0]
			continue
		}
		out[p] = func(ctx context.Context, ev *proxy.Event) error {
			for _, h := range chain {
				if err := h(ctx, ev); err != nil || ev.Response != nil {
					return err
				}
			}
			return nil
		}
	}
	return out
}
