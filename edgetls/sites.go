package edgetls

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/edgefront/edgefront/config"
)

// ALPN protocol IDs.
const (
	alpnH2    = "h2"
	alpnH1    = "http/1.1"
	alpnH3    = "h3"
	http11    = "http1.1"
	http2     = "http2"
	http2and3 = "http2and3"
	http3     = "http3"
)

// site is the TLS behaviour of one distribution: its security policy and
// the HTTP versions its HttpVersion enables.
type site struct {
	id     string
	policy Policy
	h2     bool // HTTP/2 over TLS (http2, http2and3, or unset: CloudFront's default http2)
	h3     bool // HTTP/3 over QUIC (http2and3, http3)
}

// siteTable finds a distribution's site by TLS server name or Host.
type siteTable struct {
	byName map[string]*site // lower-case names, wildcard aliases as "*.example.com"
	only   *site            // the single distribution: it answers every name
}

// Distribution is what the tls package needs of a distribution: its names,
// security policy and HTTP versions. DistributionOf builds it from the
// compiled configuration.
type Distribution struct {
	ID string
	// Names are the domain name and aliases; an alias may be a wildcard
	// ("*.example.com").
	Names []string
	// MinimumProtocolVersion is the security policy; "" means DefaultPolicy.
	MinimumProtocolVersion string
	// HTTPVersion is http1.1, http2, http2and3 or http3; "" means http2.
	HTTPVersion string
}

// DistributionOf returns d's names, security policy and HTTP versions. As at
// CloudFront, a distribution with no ViewerCertificate or with
// CloudFrontDefaultCertificate true gets the TLSv1 policy.
func DistributionOf(d *config.Distribution) Distribution {
	out := Distribution{
		ID:                     d.ID,
		Names:                  append([]string{d.DomainName}, d.Aliases...),
		MinimumProtocolVersion: DefaultPolicy,
		HTTPVersion:            d.HTTPVersion,
	}
	if d.Raw != nil {
		if vc := d.Raw.ViewerCertificate; vc != nil && vc.MinimumProtocolVersion != "" &&
			(vc.CloudFrontDefaultCertificate == nil || !*vc.CloudFrontDefaultCertificate) {
			out.MinimumProtocolVersion = vc.MinimumProtocolVersion
		}
	}
	return out
}

// newSiteTable compiles ds; an unknown policy or HTTP version is an error
// naming the distribution.
func newSiteTable(ds []Distribution) (*siteTable, error) {
	t := &siteTable{byName: make(map[string]*site)}
	for _, d := range ds {
		name := d.MinimumProtocolVersion
		if name == "" {
			name = DefaultPolicy
		}
		pol, ok := LookupPolicy(name)
		if !ok {
			return nil, fmt.Errorf("tls: distribution %s: MinimumProtocolVersion: unknown security policy %q", d.ID, name)
		}
		s := &site{id: d.ID, policy: pol}
		switch d.HTTPVersion {
		case "", http2:
			s.h2 = true
		case http11:
		case http2and3:
			s.h2, s.h3 = true, true
		case http3:
			// HttpVersion http3 is HTTP/3 without HTTP/2: viewers reach it
			// over TCP with HTTP/1.1 and move to QUIC by Alt-Svc.
			s.h3 = true
		default:
			return nil, fmt.Errorf("tls: distribution %s: HttpVersion: unknown version %q", d.ID, d.HTTPVersion)
		}
		for _, n := range d.Names {
			n = normalize(n)
			if _, dup := t.byName[n]; n != "" && !dup {
				t.byName[n] = s
			}
		}
		if len(ds) == 1 {
			t.only = s
		}
	}
	return t, nil
}

// lookup finds the site for a server name or Host header value (a port is
// ignored): the single distribution if there is only one, else the exact
// name, else a wildcard alias covering its leftmost label; nil when none.
func (t *siteTable) lookup(name string) *site {
	if t == nil {
		return nil
	}
	if t.only != nil {
		return t.only
	}
	name = normalize(stripPort(name))
	if name == "" {
		return nil
	}
	if s, ok := t.byName[name]; ok {
		return s
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return t.byName["*"+name[i:]]
	}
	return nil
}

func normalize(n string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
}

// stripPort removes a :port from a Host header value ("[::1]:8443" → "::1").
func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		return h[:i]
	}
	return h
}

// siteConfigs are the TLS configurations of one site, built once.
type siteConfigs struct {
	withH2 *tls.Config // ALPN h2, http/1.1 (or http/1.1 alone when HTTP/2 is off)
	h1Only *tls.Config // ALPN http/1.1: the viewer cannot do HTTP/2
	quic   *tls.Config // TLS 1.3 for QUIC; nil when HTTP/3 is off
}

// configsFor builds s's configurations from the listener's base.
func configsFor(s *site, base *tls.Config, extraALPN []string) *siteConfigs {
	mk := func(protos ...string) *tls.Config {
		c := base.Clone()
		c.GetConfigForClient = nil
		c.MinVersion = s.policy.MinVersion
		c.CipherSuites = s.policy.CipherSuites
		c.NextProtos = append(protos, extraALPN...)
		return c
	}
	sc := &siteConfigs{h1Only: mk(alpnH1)}
	sc.withH2 = sc.h1Only
	if s.h2 {
		sc.withH2 = mk(alpnH2, alpnH1)
	}
	if s.h3 {
		c := base.Clone()
		c.GetConfigForClient = nil
		c.MinVersion = tls.VersionTLS13 // QUIC is TLS 1.3 only (RFC 9001 §4.2)
		c.NextProtos = []string{alpnH3}
		sc.quic = c
	}
	return sc
}
