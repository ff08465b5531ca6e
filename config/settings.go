package config

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// This file is the edgefront settings file: camelCase keys, beside (never
// inside) the DistributionConfigs it names.

// Defaults of the settings file; cmd uses them for its flag defaults.
const (
	DefaultHTTPAddr  = "127.0.0.1:8080"
	DefaultHTTPSAddr = "127.0.0.1:8443"
	DefaultAdminAddr = "127.0.0.1:9090"
	DefaultCacheSize = 512 << 20 // bytes; the max object size defaults to 1/8 of the cache size
	// DefaultDiskMaxObjectSize is cache.disk.maxObjectSize's default.
	DefaultDiskMaxObjectSize = 1 << 30
	DefaultPop               = "LOCAL1-C1"
	DefaultTLSMode           = TLSSelfSigned
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
	Quotas                  *quotaSettings         `json:"quotas"`
	CachePolicies           []rawValue             `json:"cachePolicies"`
	OriginRequestPolicies   []rawValue             `json:"originRequestPolicies"`
	ResponseHeadersPolicies []rawValue             `json:"responseHeadersPolicies"`
	PublicKeys              []rawValue             `json:"publicKeys"` // keys.go
	KeyGroups               []rawValue             `json:"keyGroups"`
	KeyPairs                []rawValue             `json:"keyPairs"`
	Distributions           []distributionSettings `json:"distributions"`
	// Functions and KeyValueStores are CloudFront Functions (functions.go).
	Functions      []functionSettings      `json:"functions"`
	KeyValueStores []keyValueStoreSettings `json:"keyValueStores"`
	// LambdaFunctions and LambdaEndpoint are Lambda@Edge (lambda.go).
	LambdaFunctions []lambdaFunctionSettings `json:"lambdaFunctions"`
	LambdaEndpoint  string                   `json:"lambdaEndpoint"`
	// Parameters and Imports answer the Ref and Fn::ImportValue of the
	// templates distributions name (cfnsettings.go).
	Parameters map[string]string `json:"parameters"`
	Imports    map[string]string `json:"imports"`
	// Cluster shares invalidations with other nodes (cluster.go).
	Cluster *clusterSettings `json:"cluster"`
}

type listenSettings struct {
	HTTP  *string `json:"http"`
	HTTPS *string `json:"https"`
	Admin *string `json:"admin"`
}

type cacheSettings struct {
	Size          byteSize      `json:"size"`
	MaxObjectSize byteSize      `json:"maxObjectSize"`
	Disk          *diskSettings `json:"disk"`
}

// diskSettings is cache.disk: the persistent disk tier.
type diskSettings struct {
	Path          string   `json:"path"`
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
	Template          string                         `json:"template"`  // a CloudFormation/CDK template file (cfnsettings.go)
	Resource          string                         `json:"resource"`  // the logical ID (or Terraform address) of its distribution
	Terraform         string                         `json:"terraform"` // a Terraform directory, .tf file or show -json output (terraform_settings.go)
	OriginEndpoints   map[string]stringList          `json:"originEndpoints"`
	OriginCredentials map[string]*credentialSettings `json:"originCredentials"`
	OriginBalancing   map[string]*balancingSettings  `json:"originBalancing"`
	OriginShield      string                         `json:"originShield"`
	HTTPSemantics     string                         `json:"httpSemantics"`
}

type balancingSettings struct {
	Policy      string               `json:"policy"`
	EjectAfter  *int                 `json:"ejectAfter"`
	EjectFor    duration             `json:"ejectFor"`
	HealthCheck *healthCheckSettings `json:"healthCheck"`
}

type healthCheckSettings struct {
	Path               string   `json:"path"`
	Interval           duration `json:"interval"`
	Timeout            duration `json:"timeout"`
	UnhealthyThreshold *int     `json:"unhealthyThreshold"`
	HealthyThreshold   *int     `json:"healthyThreshold"`
}

// duration is a Go duration string ("5s", "1m30s") or a number of seconds.
type duration struct {
	d   time.Duration
	set bool
}

func (d *duration) decodeValue(p *problems, path string, src any) {
	switch t := src.(type) {
	case nil:
		return
	case string:
		v, err := time.ParseDuration(t)
		if err != nil {
			p.add(path, "%q is not a duration like 5s or 1m30s", t)
			return
		}
		d.d = v
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			p.add(path, "expected a duration, got %s", t)
			return
		}
		d.d = time.Duration(f * float64(time.Second))
	default:
		p.add(path, "expected a duration like 5s, got %s", describe(src))
		return
	}
	d.set = true
	if d.d <= 0 {
		p.add(path, "must be positive")
	}
}

type credentialSettings struct {
	// Source is "static" (the default: the keys below) or "default-chain"
	// (the AWS SDK's default chain: environment, shared files, SSO, web
	// identity, container and instance roles).
	Source          string `json:"source"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Region          string `json:"region"`
}

// compileSettings fills cfg's Listen, Cache, TLS, Pop, Quotas and Keys from s
// with the defaults; dir resolves relative file names.
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
		if c.Disk != nil {
			cfg.Cache.Disk = compileDisk(p, c.Disk, dir)
		}
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

	cfg.Quotas = compileQuotas(p, s.Quotas)
	cfg.Keys = compileKeys(p, s.PublicKeys, s.KeyGroups, s.KeyPairs, dir)
	compileFunctions(p, s.Functions, s.KeyValueStores, dir, cfg)
	compileLambda(p, s.LambdaFunctions, s.LambdaEndpoint, dir, cfg)
	compileCluster(p, s.Cluster, dir, cfg)
}

// compileDisk checks cache.disk: a path and a size are required; the
// largest object defaults to DefaultDiskMaxObjectSize, never above the size.
func compileDisk(p *problems, d *diskSettings, dir string) DiskCache {
	out := DiskCache{Size: d.Size.n, MaxObjectSize: d.MaxObjectSize.n}
	if d.Path == "" {
		p.add("cache.disk.path", "is required (the directory of the cache files)")
	} else {
		out.Path = resolve(dir, d.Path)
	}
	if !d.Size.set {
		p.add("cache.disk.size", "is required (the most the cache files may take, like \"50GiB\")")
	}
	switch {
	case out.MaxObjectSize == 0:
		out.MaxObjectSize = min(DefaultDiskMaxObjectSize, max(out.Size, 1))
	case out.Size > 0 && out.MaxObjectSize > out.Size:
		p.add("cache.disk.maxObjectSize", "is larger than cache.disk.size (%d > %d bytes)", out.MaxObjectSize, out.Size)
	}
	return out
}

// ParseDiskFlag parses the --cache-disk value PATH:SIZE ("/var/cache/edgefront:50GiB").
func ParseDiskFlag(v string) (DiskCache, error) {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 || i == len(v)-1 {
		return DiskCache{}, fmt.Errorf("%q: want PATH:SIZE, like /var/cache/edgefront:50GiB", v)
	}
	n, err := ParseSize(v[i+1:])
	if err != nil {
		return DiskCache{}, fmt.Errorf("%q: %w", v, err)
	}
	path, err := filepath.Abs(v[:i])
	if err != nil {
		return DiskCache{}, fmt.Errorf("%q: %w", v, err)
	}
	return DiskCache{Path: path, Size: n, MaxObjectSize: min(DefaultDiskMaxObjectSize, n)}, nil
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

// compileEdgeSettings applies a distribution's originBalancing and
// originShield (at is the distribution's path in the settings file) to the
// compiled d.
func compileEdgeSettings(p *problems, at string, ds *distributionSettings, d *Distribution) {
	for _, id := range sortedKeys(ds.OriginBalancing) {
		field := join(join(at, "originBalancing"), id)
		o, ok := d.Origins[id]
		if !ok {
			p.add(field, "%q names no origin of this distribution (origins: %s)", id, describeKeys(d.Origins))
			continue
		}
		if o.Custom == nil {
			p.add(field, "origin %q is not a custom origin", id)
			continue
		}
		o.Balancing = compileBalancing(p, field, ds.OriginBalancing[id])
	}
	if ds.OriginShield != "" {
		field := join(at, "originShield")
		u, err := url.Parse(ds.OriginShield)
		switch {
		case err != nil || !isHTTPURL(ds.OriginShield):
			p.add(field, "%q is not an http:// or https:// URL with a host", ds.OriginShield)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
			p.add(field, "%q must be a base URL without user info, path, query or fragment", ds.OriginShield)
		default:
			d.Shield = strings.TrimSuffix(ds.OriginShield, "/")
		}
	}
	switch HTTPSemantics(ds.HTTPSemantics) {
	case "", SemanticsCloudFront:
	case SemanticsRFC9111:
		d.Semantics = SemanticsRFC9111
	default:
		p.add(join(at, "httpSemantics"), "%q is not cloudfront (the default) or rfc9111", ds.HTTPSemantics)
	}
}

func compileBalancing(p *problems, path string, s *balancingSettings) *Balancing {
	b := &Balancing{Policy: RoundRobin, EjectAfter: DefaultEjectAfter, EjectFor: DefaultEjectFor}
	if s == nil {
		return b
	}
	if s.Policy != "" {
		b.Policy = s.Policy
		oneOf(p, join(path, "policy"), s.Policy, RoundRobin, LeastConnections)
	}
	if s.EjectAfter != nil {
		b.EjectAfter = *s.EjectAfter
		if b.EjectAfter < 0 {
			p.add(join(path, "ejectAfter"), "must be 0 (never eject) or more")
		}
	}
	if s.EjectFor.set {
		b.EjectFor = s.EjectFor.d
	}
	if h := s.HealthCheck; h != nil {
		hp := join(path, "healthCheck")
		c := &HealthCheck{
			Path: DefaultHealthCheckPath, Interval: DefaultHealthCheckInterval, Timeout: DefaultHealthCheckTimeout,
			UnhealthyThreshold: DefaultHealthCheckUnhealthyThreshold, HealthyThreshold: DefaultHealthCheckHealthyThreshold,
		}
		if h.Path != "" {
			c.Path = h.Path
			if !strings.HasPrefix(h.Path, "/") {
				p.add(join(hp, "path"), "%q must start with /", h.Path)
			}
		}
		if h.Interval.set {
			c.Interval = h.Interval.d
		}
		if h.Timeout.set {
			c.Timeout = h.Timeout.d
		}
		if c.Timeout > c.Interval {
			p.add(join(hp, "timeout"), "must not be longer than the interval (%v > %v)", c.Timeout, c.Interval)
		}
		setThreshold(p, join(hp, "unhealthyThreshold"), h.UnhealthyThreshold, &c.UnhealthyThreshold)
		setThreshold(p, join(hp, "healthyThreshold"), h.HealthyThreshold, &c.HealthyThreshold)
		b.HealthCheck = c
	}
	return b
}

func setThreshold(p *problems, path string, v *int, dst *int) {
	if v == nil {
		return
	}
	*dst = *v
	if *v < 1 {
		p.add(path, "must be at least 1")
	}
}
