// Package tls provides the https listener's certificates: a self-signed
// certificate generated at start for local use, PEM files chosen by SNI, or
// ACME certificates through autocert.
package tls

import (
	cryptotls "crypto/tls"
	"net/http"

	"github.com/edgefront/edgefront/config"
)

// Provider holds the https listener's certificates.
type Provider struct{}

// New builds the certificates for c. names are the host names the listener
// serves (distribution domain names and aliases); a self-signed certificate
// covers them plus localhost, 127.0.0.1 and ::1.
func New(c config.TLS, names []string) (*Provider, error) { panic("TODO(tls helper)") }

// Config returns the listener's TLS configuration: ALPN "h2" then
// "http/1.1", TLS 1.2 minimum.
func (p *Provider) Config() *cryptotls.Config { panic("TODO(tls helper)") }

// HTTPHandler wraps the plain-http handler so that ACME HTTP-01 challenges
// are answered in acme mode; in other modes it returns fallback unchanged.
func (p *Provider) HTTPHandler(fallback http.Handler) http.Handler { panic("TODO(tls helper)") }
