// Package tls provides the https listener's certificates: a self-signed
// certificate generated at start for local use, PEM files chosen by SNI, or
// ACME certificates through autocert.
//
// A Provider is built once from config.TLS; its Config is what the https
// listener serves with. In every mode the listener offers ALPN "h2" then
// "http/1.1" and accepts TLS 1.2 and later.
package tls

import (
	cryptotls "crypto/tls"
	"fmt"
	"net/http"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/edgefront/edgefront/config"
)

// Provider holds the https listener's certificates.
type Provider struct {
	mode string
	// getCertificate chooses the certificate for a ClientHello.
	getCertificate func(*cryptotls.ClientHelloInfo) (*cryptotls.Certificate, error)
	// acme is set in acme mode only.
	acme *autocert.Manager
}

// New builds the certificates for c. names are the host names the listener
// serves (distribution domain names and aliases); a self-signed certificate
// covers them plus localhost, 127.0.0.1 and ::1.
func New(c config.TLS, names []string) (*Provider, error) {
	switch c.Mode {
	case "", config.TLSSelfSigned:
		cert, err := selfSigned(names)
		if err != nil {
			return nil, err
		}
		return &Provider{mode: config.TLSSelfSigned, getCertificate: func(*cryptotls.ClientHelloInfo) (*cryptotls.Certificate, error) {
			return cert, nil
		}}, nil
	case config.TLSFiles:
		s, err := loadFiles(c.Certificates)
		if err != nil {
			return nil, err
		}
		return &Provider{mode: config.TLSFiles, getCertificate: s.get}, nil
	case config.TLSACME:
		m, err := newACME(c.ACME)
		if err != nil {
			return nil, err
		}
		return &Provider{mode: config.TLSACME, getCertificate: m.GetCertificate, acme: m}, nil
	}
	return nil, fmt.Errorf("tls: mode: unknown mode %q (want %s, %s or %s)", c.Mode, config.TLSSelfSigned, config.TLSFiles, config.TLSACME)
}

// Mode returns the provider's mode: config.TLSSelfSigned, config.TLSFiles or
// config.TLSACME.
func (p *Provider) Mode() string { return p.mode }

// Config returns the listener's TLS configuration: ALPN "h2" then
// "http/1.1", TLS 1.2 minimum. Each call returns a new *crypto/tls.Config
// that the caller may modify.
func (p *Provider) Config() *cryptotls.Config {
	c := &cryptotls.Config{
		NextProtos:     []string{"h2", "http/1.1"},
		MinVersion:     cryptotls.VersionTLS12,
		GetCertificate: p.getCertificate,
		// Seam for per-distribution security policies: CloudFront's
		// ViewerCertificate.MinimumProtocolVersion (TLSv1.2_2021 …) is
		// chosen by SNI, so it belongs in configForClient, which will look
		// up the distribution serving hello.ServerName and return a config
		// with that policy's MinVersion and CipherSuites.
		GetConfigForClient: p.configForClient,
	}
	if p.acme != nil {
		// TLS-ALPN-01 challenges arrive on the https listener; autocert's
		// GetCertificate answers them when the client offers acme-tls/1.
		c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	}
	return c
}

// configForClient returns the TLS configuration for one ClientHello, or nil
// to use the listener's. Today every name uses the listener's configuration;
// per-distribution minimum protocol versions plug in here.
func (p *Provider) configForClient(*cryptotls.ClientHelloInfo) (*cryptotls.Config, error) {
	return nil, nil
}

// HTTPHandler wraps the plain-http handler so that ACME HTTP-01 challenges
// are answered in acme mode; in other modes it returns fallback unchanged.
// In acme mode, requests under /.well-known/acme-challenge/ are answered by
// autocert and every other request goes to fallback.
func (p *Provider) HTTPHandler(fallback http.Handler) http.Handler {
	if p.acme == nil {
		return fallback
	}
	return p.acme.HTTPHandler(fallback)
}
