package edgetls

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/edgefront/edgefront/config"
)

// newACME builds the autocert manager. It contacts no ACME server: the first
// certificate is requested on the first handshake for a whitelisted host.
func newACME(c config.ACME) (*autocert.Manager, error) {
	if len(c.Hosts) == 0 {
		return nil, fmt.Errorf("tls: acme.hosts: mode %s needs at least one host name", config.TLSACME)
	}
	for i, h := range c.Hosts {
		if strings.HasPrefix(h, "*.") {
			return nil, fmt.Errorf("tls: acme.hosts[%d]: %q: wildcard names need the DNS-01 challenge, which autocert does not do", i, h)
		}
		if h == "" {
			return nil, fmt.Errorf("tls: acme.hosts[%d]: empty host name", i)
		}
	}
	if c.CacheDir == "" {
		return nil, fmt.Errorf("tls: acme.cacheDir: required in mode %s (certificates and the account key are kept there)", config.TLSACME)
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(c.CacheDir),
		HostPolicy: autocert.HostWhitelist(c.Hosts...),
		Email:      c.Email,
	}
	if c.DirectoryURL != "" {
		m.Client = &acme.Client{DirectoryURL: c.DirectoryURL}
	}
	return m, nil
}
