// Package demo runs edgefront's embedded default: an S3-compatible bucket in
// the process, seeded with a small demo site, and a built-in API origin that
// answers like an API Gateway stage.
package demo

import (
	"context"

	"github.com/edgefront/edgefront/config"
)

// Demo is the running demo origins.
type Demo struct{}

// Start starts the demo origins on loopback listeners with ephemeral ports.
func Start(ctx context.Context) (*Demo, error) { panic("TODO(demo helper)") }

// Config returns the demo distribution's configuration with the given
// listener addresses filled in.
func (d *Demo) Config(listen config.Listen) (*config.Config, error) { panic("TODO(demo helper)") }

// Close stops the demo origins.
func (d *Demo) Close() error { panic("TODO(demo helper)") }
