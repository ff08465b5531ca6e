package edge

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file reads the properties cf.updateRequestOrigin takes (CloudFront
// Developer Guide, "Helper methods for origin modification") and merges
// them onto a copy of an origin: "Any settings that you don't specify in
// the updateRequestOrigin() will inherit the same settings from the
// existing origin's configuration."

// notEmulated are the documented properties edgefront accepts and reports:
// its origin model has no place for them.
var notEmulated = []string{"hostHeader", "sni", "allowedCertificateNames", "mTLSConfig", "vpcOriginConfig"}

// mergeOrigin returns a copy of base with props applied. A domainName that
// is one of dist's own origins' keeps that origin's endpoints (edgefront's
// originEndpoints: where the origin really is); another drops them, so the
// domain name itself is asked. ignored names the properties accepted but
// not emulated; headers the custom headers props set (lower-case).
func mergeOrigin(base *config.Origin, dist *config.Distribution, props map[string]any) (o *config.Origin, ignored, headers []string, err error) {
	c := *base
	o = &c
	o.CustomHeaders = slices.Clone(base.CustomHeaders)
	if base.Custom != nil {
		custom := *base.Custom
		o.Custom = &custom
	}
	for _, k := range sortedKeys(props) {
		val := props[k]
		switch k {
		case "domainName":
			err = setDomain(o, val, dist)
		case "originPath":
			err = setOriginPath(o, val)
		case "customHeaders":
			headers, err = setCustomHeaders(o, val)
		case "connectionAttempts":
			o.ConnectionAttempts, err = intIn("connectionAttempts", val, 1, 3, o.ConnectionAttempts)
		case "originShield":
			err = setShield(o, val)
		case "originAccessControlConfig":
			err = setOAC(o, val)
		case "timeouts":
			err = setTimeouts(o, val)
		case "customOriginConfig":
			err = setCustomConfig(o, val)
		default:
			if !slices.Contains(notEmulated, k) {
				return nil, nil, nil, fmt.Errorf("updateRequestOrigin: %q is not an origin property", k)
			}
			ignored = append(ignored, k)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("updateRequestOrigin: %w", err)
		}
	}
	return o, ignored, headers, nil
}

// setDomain: "The domain name can't include a colon (:) and can't be an IP
// address. The domain name can be up to 253 characters."
func setDomain(o *config.Origin, v any, dist *config.Distribution) error {
	d, ok := v.(string)
	switch {
	case !ok || d == "":
		return errors.New("domainName is not a non-empty string")
	case strings.Contains(d, ":"):
		return fmt.Errorf("domainName %q has a colon", d)
	case net.ParseIP(d) != nil:
		return fmt.Errorf("domainName %q is an IP address", d)
	case len(d) > 253:
		return fmt.Errorf("domainName is %d characters, more than 253", len(d))
	}
	if d == o.DomainName {
		return nil
	}
	o.DomainName, o.Endpoints = d, nil
	if dist == nil {
		return nil
	}
	for _, id := range sortedKeys(dist.Origins) {
		if own := dist.Origins[id]; own.DomainName == d {
			o.Endpoints, o.Balancing, o.Credentials = own.Endpoints, own.Balancing, own.Credentials
			break
		}
	}
	return nil
}

// setOriginPath: "The path should start with a forward slash (/) but
// shouldn't end with one", URL-encoded, "a maximum length of 255
// characters".
func setOriginPath(o *config.Origin, v any) error {
	p, ok := v.(string)
	switch {
	case !ok:
		return errors.New("originPath is not a string")
	case p == "":
	case !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
		return fmt.Errorf("originPath %q must start with / and not end with one", p)
	case len(p) > 255:
		return fmt.Errorf("originPath is %d characters, more than 255", len(p))
	case strings.ContainsFunc(p, func(c rune) bool { return c <= ' ' || c >= 0x7f || c == '?' || c == '#' }):
		return fmt.Errorf("originPath %q is not URL-encoded", p)
	}
	o.OriginPath = p
	return nil
}

// setCustomHeaders: {"name": "value", …}; "Header name must be lowercase",
// no disallowed header; an empty object resets the origin's headers.
func setCustomHeaders(o *config.Origin, v any) ([]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New(`customHeaders is not an object of {"name": "value"}`)
	}
	o.CustomHeaders = nil
	names := sortedKeys(m)
	for _, name := range names {
		val, ok := m[name].(string)
		switch {
		case !ok:
			return nil, fmt.Errorf("customHeaders[%q] is not a string", name)
		case name == "" || name != strings.ToLower(name):
			return nil, fmt.Errorf("customHeaders: the header name %q is not lower-case", name)
		case disallowed(name) || readOnly("viewer-request", name):
			return nil, fmt.Errorf("customHeaders: %s cannot be added", http.CanonicalHeaderKey(name))
		}
		o.CustomHeaders = append(o.CustomHeaders, config.Header{Name: http.CanonicalHeaderKey(name), Value: val})
	}
	return names, nil
}

// setShield: {enabled, region}; "If enabled you must specify the AWS
// Region".
func setShield(o *config.Origin, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("originShield is not an object")
	}
	enabled, ok := m["enabled"].(bool)
	if !ok {
		return errors.New("originShield.enabled is not a boolean")
	}
	region, _ := m["region"].(string)
	if enabled && region == "" {
		return errors.New("originShield.region is required when Origin Shield is enabled")
	}
	if !enabled {
		region = ""
	}
	o.OriginShield = config.OriginShield{Enabled: enabled, Region: region}
	return nil
}

// setOAC: {enabled, signingBehavior: always|never|no-override,
// signingProtocol: sigv4, originType: s3|mediapackagev2|mediastore|lambda}.
// edgefront signs with the origin's originCredentials either way; the
// settings are checked, and kept as the origin's OAC ID.
func setOAC(o *config.Origin, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("originAccessControlConfig is not an object")
	}
	enabled, ok := m["enabled"].(bool)
	if !ok {
		return errors.New("originAccessControlConfig.enabled is not a boolean")
	}
	if !enabled {
		o.OriginAccessControlID = ""
		return nil
	}
	for _, f := range []struct {
		name  string
		valid []string
	}{
		{"signingBehavior", []string{"always", "never", "no-override"}},
		{"signingProtocol", []string{"sigv4"}},
		{"originType", []string{"s3", "mediapackagev2", "mediastore", "lambda"}},
	} {
		s, _ := m[f.name].(string)
		if !slices.Contains(f.valid, s) {
			return fmt.Errorf("originAccessControlConfig.%s %q is not one of %s", f.name, s, strings.Join(f.valid, ", "))
		}
	}
	o.OriginAccessControlID = "function:" + m["originType"].(string) + ":" + m["signingBehavior"].(string)
	return nil
}

// setTimeouts: readTimeout and keepAliveTimeout 1–180 s (custom origins:
// edgefront's bounds of the distribution's own settings), connectionTimeout
// 1–10 s. "Timeouts only apply to custom origins": an S3 origin keeps its
// own read and keep-alive timeouts.
func setTimeouts(o *config.Origin, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("timeouts is not an object")
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "readTimeout", "keepAliveTimeout", "keepaliveTimeout":
			n, err := intIn("timeouts."+k, m[k], 1, 180, 0)
			if err != nil {
				return err
			}
			if o.Custom == nil {
				continue
			}
			if k == "readTimeout" {
				o.Custom.ReadTimeout = time.Duration(n) * time.Second
			} else {
				o.Custom.KeepaliveTimeout = time.Duration(n) * time.Second
			}
		case "connectionTimeout":
			n, err := intIn("timeouts.connectionTimeout", m[k], 1, 10, 0)
			if err != nil {
				return err
			}
			o.ConnectionTimeout = time.Duration(n) * time.Second
		case "responseCompletionTimeout":
			// accepted; edgefront's model has no whole-response timeout
		default:
			return fmt.Errorf("timeouts.%s is not a timeout", k)
		}
	}
	return nil
}

// setCustomConfig: {port, protocol: http|https, sslProtocols}; makes the
// origin a custom origin (an S3 bucket's website endpoint is one too).
func setCustomConfig(o *config.Origin, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("customOriginConfig is not an object")
	}
	var port int
	switch p := m["port"].(type) {
	case string:
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("customOriginConfig.port %q is not a number", p)
		}
		port = n
	default:
		n, err := intIn("customOriginConfig.port", p, 1, 65535, 0)
		if err != nil {
			return err
		}
		port = n
	}
	if port != 80 && port != 443 && (port < 1024 || port > 65535) {
		return fmt.Errorf("customOriginConfig.port %d is not 80, 443 or 1024–65535", port)
	}
	protocol, _ := m["protocol"].(string)
	if protocol != "http" && protocol != "https" {
		return fmt.Errorf("customOriginConfig.protocol %q is not http or https", protocol)
	}
	arr, ok := m["sslProtocols"].([]any)
	if !ok || len(arr) == 0 {
		return errors.New("customOriginConfig.sslProtocols is not a non-empty array")
	}
	var ssl []string
	for _, x := range arr {
		s, _ := x.(string)
		if !slices.Contains([]string{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"}, s) {
			return fmt.Errorf("customOriginConfig.sslProtocols: %q is not SSLv3, TLSv1, TLSv1.1 or TLSv1.2", s)
		}
		ssl = append(ssl, s)
	}
	if o.Custom == nil {
		o.Custom = &config.CustomOrigin{HTTPPort: 80, HTTPSPort: 443, ReadTimeout: 30 * time.Second, KeepaliveTimeout: 5 * time.Second}
		o.S3 = nil
	}
	o.Custom.SSLProtocols = ssl
	if protocol == "http" {
		o.Custom.ProtocolPolicy, o.Custom.HTTPPort = config.HTTPOnly, port
	} else {
		o.Custom.ProtocolPolicy, o.Custom.HTTPSPort = config.HTTPSOnly, port
	}
	return nil
}

// intIn reads an integer in [lo, hi]; def when v is absent.
func intIn(what string, v any, lo, hi, def int) (int, error) {
	var f float64
	switch t := v.(type) {
	case nil:
		return def, nil
	case int64:
		f = float64(t)
	case float64:
		f = t
	default:
		return 0, fmt.Errorf("%s is not a number", what)
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("%s %v is not an integer from %d to %d", what, f, lo, hi)
	}
	return int(f), nil
}
