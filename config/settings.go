package config

import (
	"net"
	"path/filepath"
	"strconv"
)

// This file is the edgefront settings file: camelCase keys, beside (never
// inside) the DistributionConfigs it names.

// Defaults of the settings file; cmd uses them for its flag defaults.
const (
	DefaultHTTPAddr  = "127.0.0.1:8080"
	DefaultHTTPSAddr = "127.0.0.1:8443"
	DefaultAdminAddr = "127.0.0.1:9090"
	DefaultCacheSize = 512 << 20 // bytes; the max object size defaults to 1/8 of the cache size
	DefaultPop       = "LOCAL1-C1"
	DefaultTLSMode   = TLSSelfSigned
)

// TLS modes.
const (
	TLSSelfSigned = "self-signed"
	TLSFiles      = "files"
	TLSACME       = "acme"
)

type settingsFile struct {
	Listen                  *listenSettings        `json:"listen"`
	Cache                   *cacheSettings         `json:"cache"`
	TLS                     *tlsSettings           `json:"tls"`
	Pop                     *string                `json:"pop"`
	CachePolicies           []rawValue             `json:"cachePolicies"`
	OriginRequestPolicies   []rawValue             `json:"originRequestPolicies"`
	ResponseHeadersPolicies []rawValue             `json:"responseHeadersPolicies"`
	Distributions           []distributionSettings `json:"distributions"`
}

type listenSettings struct {
	HTTP  *string `json:"http"`
	HTTPS *string `json:"https"`
	Admin *string `json:"admin"`
}

type cacheSettings struct {
	Size          byteSize `json:"size"`
	MaxObjectSize byteSize `json:"maxObjectSize"`
}

type tlsSettings struct {
	Mode         string             `json:"mode"`
	Certificates []certificateFiles `json:"certificates"`
	ACME         *acmeSettings      `json:"acme"`
}

type certificateFiles struct {
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
}

type acmeSettings struct {
	Hosts        []string `json:"hosts"`
	CacheDir     string   `json:"cacheDir"`
	Email        string   `json:"email"`
	DirectoryURL string   `json:"directoryURL"`
}

type distributionSettings struct {
	ID                string                         `json:"id"`
	DomainName        string                         `json:"domainName"`
	ConfigFile        string                         `json:"configFile"`
	Config            rawValue                       `json:"config"`
	OriginEndpoints   map[string]stringList          `json:"originEndpoints"`
	OriginCredentials map[string]*credentialSettings `json:"originCredentials"`
}

type credentialSettings struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Region          string `json:"region"`
}

// compileSettings fills cfg's Listen, Cache, TLS and Pop from s with the
// defaults; dir resolves relative file names.
func compileSettings(p *problems, s *settingsFile, dir string, cfg *Config) {
	cfg.Listen = Listen{HTTP: DefaultHTTPAddr, HTTPS: DefaultHTTPSAddr, Admin: DefaultAdminAddr}
	if l := s.Listen; l != nil {
		setAddr(p, "listen.http", l.HTTP, &cfg.Listen.HTTP)
		setAddr(p, "listen.https", l.HTTPS, &cfg.Listen.HTTPS)
		setAddr(p, "listen.admin", l.Admin, &cfg.Listen.Admin)
	}

	cfg.Cache = Cache{Size: DefaultCacheSize}
	if c := s.Cache; c != nil {
		if c.Size.set {
			cfg.Cache.Size = c.Size.n
		}
		cfg.Cache.MaxObjectSize = c.MaxObjectSize.n
	}
	if cfg.Cache.MaxObjectSize == 0 {
		cfg.Cache.MaxObjectSize = max(cfg.Cache.Size/8, 1)
	} else if cfg.Cache.MaxObjectSize > cfg.Cache.Size {
		p.add("cache.maxObjectSize", "is larger than cache.size (%d > %d bytes)", cfg.Cache.MaxObjectSize, cfg.Cache.Size)
	}

	cfg.TLS = TLS{Mode: DefaultTLSMode}
	if t := s.TLS; t != nil {
		if t.Mode != "" {
			cfg.TLS.Mode = t.Mode
		}
		for i, c := range t.Certificates {
			path := index("tls.certificates", i)
			if c.CertFile == "" {
				p.add(join(path, "certFile"), "is required")
			}
			if c.KeyFile == "" {
				p.add(join(path, "keyFile"), "is required")
			}
			cfg.TLS.Certificates = append(cfg.TLS.Certificates, CertificateFiles{
				CertFile: resolve(dir, c.CertFile), KeyFile: resolve(dir, c.KeyFile),
			})
		}
		if a := t.ACME; a != nil {
			cfg.TLS.ACME = ACME{Hosts: a.Hosts, CacheDir: resolve(dir, a.CacheDir), Email: a.Email, DirectoryURL: a.DirectoryURL}
			for i, h := range a.Hosts {
				if !isHostName(h, false) {
					p.add(index("tls.acme.hosts", i), "%q is not a host name", h)
				}
			}
			if a.DirectoryURL != "" && !isHTTPURL(a.DirectoryURL) {
				p.add("tls.acme.directoryURL", "%q is not an http or https URL", a.DirectoryURL)
			}
		}
	}
	switch cfg.TLS.Mode {
	case TLSSelfSigned:
	case TLSFiles:
		if len(cfg.TLS.Certificates) == 0 {
			p.add("tls.certificates", "is required when tls.mode is files")
		}
	case TLSACME:
		if len(cfg.TLS.ACME.Hosts) == 0 {
			p.add("tls.acme.hosts", "is required when tls.mode is acme")
		}
	default:
		p.add("tls.mode", "must be one of self-signed, files, acme (got %q)", cfg.TLS.Mode)
	}

	cfg.Pop = DefaultPop
	if s.Pop != nil {
		cfg.Pop = *s.Pop
		if !isPop(cfg.Pop) {
			p.add("pop", "%q is not a POP code like LOCAL1-C1 (letters, digits and '-')", cfg.Pop)
		}
	}
}

// setAddr sets a listener address; an explicit "" disables the listener.
func setAddr(p *problems, field string, v *string, dst *string) {
	if v == nil {
		return
	}
	*dst = *v
	if *v == "" {
		return
	}
	_, port, err := net.SplitHostPort(*v)
	if err != nil {
		p.add(field, "%q is not a host:port address", *v)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(field, "%q has an invalid port", *v)
	}
}

func isPop(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// resolve makes a relative file name relative to dir.
func resolve(dir, name string) string {
	if name == "" || filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}
