package lambdaedge

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file is request.origin of an origin-request event ("Lambda@Edge
// event structure": custom and Amazon S3 origins) both ways: the origin
// about to be asked as the function sees it, and a changed one as a
// *config.Origin the proxy really fetches from.

type cfOrigin struct {
	Custom *customOrigin `json:"custom,omitempty"`
	S3     *s3Origin     `json:"s3,omitempty"`
}

type customOrigin struct {
	CustomHeaders    headers  `json:"customHeaders"`
	DomainName       string   `json:"domainName"`
	KeepaliveTimeout int      `json:"keepaliveTimeout"`
	Path             string   `json:"path"`
	Port             int      `json:"port"`
	Protocol         string   `json:"protocol"`
	ReadTimeout      int      `json:"readTimeout"`
	SSLProtocols     []string `json:"sslProtocols"`
}

type s3Origin struct {
	AuthMethod    string  `json:"authMethod"` // origin-access-identity | none
	CustomHeaders headers `json:"customHeaders"`
	DomainName    string  `json:"domainName"`
	Path          string  `json:"path"`
	Region        string  `json:"region"`
}

// originOf is o as an event's origin; viewerHTTPS decides a match-viewer
// origin's protocol.
func originOf(o *config.Origin, viewerHTTPS bool) *cfOrigin {
	ch := headers{}
	for _, h := range o.CustomHeaders {
		lower := strings.ToLower(h.Name)
		ch[lower] = append(ch[lower], keyValue{Key: h.Name, Value: h.Value})
	}
	if o.S3 != nil {
		auth := "none"
		if o.Credentials != nil || o.S3.OriginAccessIdentity != "" || o.OriginAccessControlID != "" {
			auth = "origin-access-identity"
		}
		region := o.S3.Region
		if region == "" {
			region = "us-east-1"
		}
		return &cfOrigin{S3: &s3Origin{AuthMethod: auth, CustomHeaders: ch, DomainName: o.DomainName, Path: o.OriginPath, Region: region}}
	}
	c := o.Custom
	if c == nil {
		c = &config.CustomOrigin{HTTPPort: 80, HTTPSPort: 443, ProtocolPolicy: config.HTTPOnly, ReadTimeout: 30 * time.Second, KeepaliveTimeout: 5 * time.Second}
	}
	proto, port := "http", c.HTTPPort
	if c.ProtocolPolicy == config.HTTPSOnly || (c.ProtocolPolicy == config.MatchViewer && viewerHTTPS) {
		proto, port = "https", c.HTTPSPort
	}
	ssl := c.SSLProtocols
	if ssl == nil {
		ssl = []string{}
	}
	return &cfOrigin{Custom: &customOrigin{CustomHeaders: ch, DomainName: o.DomainName, KeepaliveTimeout: int(c.KeepaliveTimeout / time.Second),
		Path: o.OriginPath, Port: port, Protocol: proto, ReadTimeout: int(c.ReadTimeout / time.Second), SSLProtocols: ssl}}
}

// changedOrigin makes the origin a function set: a copy of base (the
// origin about to be asked) with what the function changed. Its
// endpoints are base's when the domain name is unchanged, else those of
// the distribution's origin with that domain name (so that a configuration
// whose origins live on this machine keeps reaching them), else none: the
// domain name is then resolved with DNS like any origin without
// originEndpoints.
func changedOrigin(co *cfOrigin, base *config.Origin, dist *config.Distribution) (*config.Origin, error) {
	if (co.Custom == nil) == (co.S3 == nil) {
		return nil, fmt.Errorf("request.origin must have exactly one of custom and s3")
	}
	o := &config.Origin{ID: base.ID, ConnectionAttempts: base.ConnectionAttempts, ConnectionTimeout: base.ConnectionTimeout}
	var ch headers
	switch {
	case co.Custom != nil:
		c := co.Custom
		if err := checkOriginCommon(c.DomainName, c.Path); err != nil {
			return nil, err
		}
		if c.Port < 1 || c.Port > 65535 {
			return nil, fmt.Errorf("request.origin.custom.port %d is not 1 to 65535", c.Port)
		}
		if c.ReadTimeout < 1 || c.ReadTimeout > 180 || c.KeepaliveTimeout < 1 || c.KeepaliveTimeout > 180 {
			return nil, fmt.Errorf("request.origin.custom: readTimeout and keepaliveTimeout must be 1 to 180 seconds")
		}
		cu := &config.CustomOrigin{HTTPPort: 80, HTTPSPort: 443, SSLProtocols: c.SSLProtocols,
			ReadTimeout: time.Duration(c.ReadTimeout) * time.Second, KeepaliveTimeout: time.Duration(c.KeepaliveTimeout) * time.Second}
		switch c.Protocol {
		case "http":
			cu.ProtocolPolicy, cu.HTTPPort = config.HTTPOnly, c.Port
		case "https":
			cu.ProtocolPolicy, cu.HTTPSPort = config.HTTPSOnly, c.Port
		default:
			return nil, fmt.Errorf("request.origin.custom.protocol %q is not http or https", c.Protocol)
		}
		o.Custom, o.DomainName, o.OriginPath, ch = cu, c.DomainName, c.Path, c.CustomHeaders
	default:
		s := co.S3
		if err := checkOriginCommon(s.DomainName, s.Path); err != nil {
			return nil, err
		}
		if s.AuthMethod != "none" && s.AuthMethod != "origin-access-identity" {
			return nil, fmt.Errorf("request.origin.s3.authMethod %q is not origin-access-identity or none", s.AuthMethod)
		}
		bucket, _, _ := strings.Cut(s.DomainName, ".")
		o.S3 = &config.S3Origin{Bucket: bucket, Region: s.Region}
		o.DomainName, o.OriginPath, ch = s.DomainName, s.Path, s.CustomHeaders
	}
	for name, vs := range ch {
		for _, v := range vs {
			key := v.Key
			if key == "" {
				key = http.CanonicalHeaderKey(name)
			}
			if !strings.EqualFold(key, name) || disallowed(name) {
				return nil, fmt.Errorf("request.origin customHeaders: %q is not a header CloudFront can send", key)
			}
			o.CustomHeaders = append(o.CustomHeaders, config.Header{Name: key, Value: v.Value})
		}
	}
	src := base
	if !strings.EqualFold(o.DomainName, base.DomainName) {
		src = nil
		for _, id := range sortedOrigins(dist) {
			if d := dist.Origins[id]; strings.EqualFold(d.DomainName, o.DomainName) {
				src = d
				break
			}
		}
	}
	if src != nil {
		o.Endpoints, o.Balancing = src.Endpoints, src.Balancing
		if o.S3 != nil && co.S3.AuthMethod == "origin-access-identity" {
			o.Credentials = src.Credentials
		}
	}
	return o, nil
}

func checkOriginCommon(domain, path string) error {
	if domain == "" || strings.ContainsAny(domain, "/:@ ") {
		return fmt.Errorf("request.origin domainName %q is not a domain name", domain)
	}
	if path != "" && (!strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/")) {
		return fmt.Errorf("request.origin path %q must start with / and not end with one", path)
	}
	return nil
}

func sortedOrigins(d *config.Distribution) []string { return slices.Sorted(maps.Keys(d.Origins)) }
