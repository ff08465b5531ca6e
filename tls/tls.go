// Package tls provides the https listener's certificates: a self-signed
// certificate generated at start for local use, PEM files chosen by SNI, or
// ACME certificates through autocert.
package tls

import (
	cryptotls "crypto/tls"

	"github.com/edgefront/edgefront/config"
)

// ServerConfig returns the TLS configuration for the https listener: the
// certificates of c, NextProtos "h2" and "http/1.1", TLS 1.2 minimum.
func ServerConfig(c config.TLS) (*cryptotls.Config, error) { panic("TODO(tls helper)") }
