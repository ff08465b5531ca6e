// Package edgetls provides the https listener's certificates: a self-signed
// certificate generated at start for local use, PEM files chosen by SNI, or
// ACME certificates through autocert.
//
// A Provider is built once from config.TLS; its Config is what the https
// listener serves with. Each distribution's CloudFront security policy
// (ViewerCertificate.MinimumProtocolVersion) and HttpVersion are chosen by
// SNI: the protocol versions and cipher suites of the policy, and ALPN "h2"
// then "http/1.1", or "http/1.1" alone for http1.1 and http3 distributions.
// Names of no distribution get TLS 1.2 and later with "h2" and "http/1.1".
// QUICConfig is the HTTP/3 listener's configuration.
package edgetls

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"sync/atomic"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/edgefront/edgefront/config"
)

// Provider holds the https listener's certificates.
type Provider struct {
	mode string
	// getCertificate chooses the certificate for a ClientHello.
	getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// acme is set in acme mode only.
	acme *autocert.Manager

	// sites holds the distributions' policies; SetDistributions swaps it.
	sites atomic.Pointer[siteState]
	// listener and listenerPol are what names of no distribution get.
	listener    *siteConfigs
	listenerPol Policy
}

// siteState is one set of distributions with their TLS configurations.
type siteState struct {
	table   *siteTable
	configs map[*site]*siteConfigs
}

// Option configures a Provider.
type Option func(*options)

type options struct {
	dists []Distribution
}

// WithDistributions sets the distributions whose security policies and HTTP
// versions the provider applies by SNI (see DistributionOf).
func WithDistributions(ds ...Distribution) Option {
	return func(o *options) { o.dists = append(o.dists, ds...) }
}

// New builds the certificates for c. names are the host names the listener
// serves (distribution domain names and aliases); a self-signed certificate
// covers them plus localhost, 127.0.0.1 and ::1.
func New(c config.TLS, names []string, opts ...Option) (*Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var p *Provider
	switch c.Mode {
	case "", config.TLSSelfSigned:
		cert, err := selfSigned(names)
		if err != nil {
			return nil, err
		}
		p = &Provider{mode: config.TLSSelfSigned, getCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cert, nil
		}}
	case config.TLSFiles:
		s, err := loadFiles(c.Certificates)
		if err != nil {
			return nil, err
		}
		p = &Provider{mode: config.TLSFiles, getCertificate: s.get}
	case config.TLSACME:
		m, err := newACME(c.ACME)
		if err != nil {
			return nil, err
		}
		p = &Provider{mode: config.TLSACME, getCertificate: m.GetCertificate, acme: m}
	default:
		return nil, fmt.Errorf("tls: mode: unknown mode %q (want %s, %s or %s)", c.Mode, config.TLSSelfSigned, config.TLSFiles, config.TLSACME)
	}
	p.listenerPol, _ = LookupPolicy(listenerPolicy)
	p.listener = configsFor(&site{policy: p.listenerPol, h2: true}, p.base(), p.extraALPN())
	if err := p.SetDistributions(o.dists); err != nil {
		return nil, err
	}
	return p, nil
}

// SetDistributions replaces the distributions whose security policies and
// HTTP versions apply (on a configuration reload); handshakes under way
// finish with the previous set. On error the previous set stays in force.
func (p *Provider) SetDistributions(ds []Distribution) error {
	t, err := newSiteTable(ds)
	if err != nil {
		return err
	}
	st := &siteState{table: t, configs: make(map[*site]*siteConfigs)}
	base, extra := p.base(), p.extraALPN()
	for _, s := range t.byName {
		if _, done := st.configs[s]; !done {
			st.configs[s] = configsFor(s, base, extra)
		}
	}
	if t.only != nil {
		if _, done := st.configs[t.only]; !done {
			st.configs[t.only] = configsFor(t.only, base, extra)
		}
	}
	p.sites.Store(st)
	return nil
}

// HTTP3 reports whether the distribution serving host (a Host header value
// or TLS server name) enables HTTP/3 (HttpVersion http2and3 or http3).
func (p *Provider) HTTP3(host string) bool {
	s := p.sites.Load().table.lookup(host)
	return s != nil && s.h3
}

// base is the configuration every site's starts from: the certificates.
func (p *Provider) base() *tls.Config {
	return &tls.Config{GetCertificate: p.getCertificate}
}

// extraALPN are protocols offered beside HTTP's: acme-tls/1 in acme mode.
func (p *Provider) extraALPN() []string {
	if p.acme != nil {
		return []string{acme.ALPNProto}
	}
	return nil
}

// Mode returns the provider's mode: config.TLSSelfSigned, config.TLSFiles or
// config.TLSACME.
func (p *Provider) Mode() string { return p.mode }

// Config returns the listener's TLS configuration: ALPN "h2" then
// "http/1.1", TLS 1.2 minimum, and per distribution (by SNI) its security
// policy and HTTP versions. Each call returns a new *crypto/tls.Config that
// the caller may modify.
func (p *Provider) Config() *tls.Config {
	c := &tls.Config{
		NextProtos:     []string{"h2", "http/1.1"},
		MinVersion:     tls.VersionTLS12,
		GetCertificate: p.getCertificate,
		// CloudFront's ViewerCertificate.MinimumProtocolVersion is chosen
		// by SNI: configForClient returns the distribution's configuration.
		GetConfigForClient: p.configForClient,
	}
	// TLS-ALPN-01 challenges arrive on the https listener; autocert's
	// GetCertificate answers them when the client offers acme-tls/1.
	c.NextProtos = append(c.NextProtos, p.extraALPN()...)
	return c
}

// configForClient returns the TLS configuration for one ClientHello: that of
// the distribution serving hello.ServerName, else the listener's. It also
// records the ClientHello's fingerprints for a connection whose context
// CaptureHello made. A viewer
// that cannot do HTTP/2 under the policy (TLS below 1.2, or no AEAD suite
// in common) is offered HTTP/1.1 only, so it never lands on an HTTP/2
// connection that net/http would refuse as inadequately secure.
func (p *Provider) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	recordHello(hello) // for CloudFront-Viewer-JA3/JA4-Fingerprint
	st := p.sites.Load()
	sc, pol := p.listener, &p.listenerPol
	if s := st.table.lookup(hello.ServerName); s != nil {
		sc, pol = st.configs[s], &s.policy
	}
	if !pol.h2Capable(hello) {
		return sc.h1Only, nil
	}
	return sc.withH2, nil
}

// QUICConfig returns the HTTP/3 listener's TLS configuration: TLS 1.3, ALPN
// "h3", for the distributions that enable HTTP/3; a handshake for any other
// name is refused. Each call returns a new *crypto/tls.Config.
func (p *Provider) QUICConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		NextProtos:     []string{alpnH3},
		GetCertificate: p.getCertificate,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			st := p.sites.Load()
			s := st.table.lookup(hello.ServerName)
			if s == nil || !s.h3 {
				return nil, fmt.Errorf("tls: %q: no distribution with HTTP/3 enabled serves this name", hello.ServerName)
			}
			return st.configs[s].quic, nil
		},
	}
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
