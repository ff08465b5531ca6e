package config

import (
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// This file compiles Origins and OriginGroups.

// CloudFront's origin defaults and ranges. OriginReadTimeout ("Response
// timeout per origin") and OriginKeepaliveTimeout ("Keep-alive timeout per
// origin") are 1-120 seconds (Developer Guide, cloudfront-limits); beyond
// that CloudFront answers InvalidOriginReadTimeout /
// InvalidOriginKeepaliveTimeout.
const (
	DefaultConnectionAttempts     = 3
	DefaultConnectionTimeout      = 10 * time.Second
	DefaultOriginReadTimeout      = 30 * time.Second
	DefaultOriginKeepaliveTimeout = 5 * time.Second
	MaxOriginTimeout              = 120 // seconds, for read and keep-alive timeouts
	DefaultS3Region               = "us-east-1"
)

var (
	sslProtocols = []string{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"}
	// The status codes an origin group may fail over on (the console's
	// list; Developer Guide, high_availability_origin_failover).
	failoverStatusCodes = []int{400, 403, 404, 416, 500, 502, 503, 504}
	originPolicyNames   = []string{HTTPOnly, MatchViewer, HTTPSOnly}
)

func compileOrigin(p *problems, path string, oc *OriginConfig) *Origin {
	o := &Origin{ID: oc.Id, DomainName: oc.DomainName, OriginPath: oc.OriginPath, OriginAccessControlID: oc.OriginAccessControlId}
	if oc.Id == "" {
		p.add(join(path, "Id"), "is required")
	}
	if oc.DomainName == "" {
		p.add(join(path, "DomainName"), "is required")
	} else if !isHostName(oc.DomainName, false) {
		p.add(join(path, "DomainName"), "%q is not a host name", oc.DomainName)
	}
	if op := oc.OriginPath; op != "" {
		switch {
		case !strings.HasPrefix(op, "/"):
			p.add(join(path, "OriginPath"), "must start with / (got %q)", op)
		case strings.HasSuffix(op, "/"):
			p.add(join(path, "OriginPath"), "must not end with / (got %q)", op)
		case len(op) > 255:
			p.add(join(path, "OriginPath"), "is longer than 255 characters")
		}
	}
	seen := map[string]bool{}
	for i, h := range oc.CustomHeaders.All() {
		hp := index(join(path, "CustomHeaders.Items"), i)
		if !isHeaderName(h.HeaderName) {
			p.add(join(hp, "HeaderName"), "%q is not a header name", h.HeaderName)
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(h.HeaderName)
		if isForbiddenCustomHeader(name) {
			p.add(join(hp, "HeaderName"), "%s is a header CloudFront can't add to origin requests", name)
			continue
		}
		if seen[name] {
			p.add(join(hp, "HeaderName"), "duplicate header %s", name)
		}
		seen[name] = true
		o.CustomHeaders = append(o.CustomHeaders, Header{Name: name, Value: h.HeaderValue})
	}

	o.ConnectionAttempts = inRange(p, join(path, "ConnectionAttempts"), oc.ConnectionAttempts, 1, 3, DefaultConnectionAttempts)
	o.ConnectionTimeout = secs(inRange(p, join(path, "ConnectionTimeout"), oc.ConnectionTimeout, 1, 10, int(DefaultConnectionTimeout/time.Second)))
	if os := oc.OriginShield; os != nil {
		o.OriginShield = OriginShield{Enabled: os.Enabled != nil && *os.Enabled, Region: os.OriginShieldRegion}
		if o.OriginShield.Enabled && os.OriginShieldRegion == "" {
			p.add(join(path, "OriginShield.OriginShieldRegion"), "is required when Origin Shield is enabled")
		}
	}

	kinds := 0
	for _, set := range []bool{oc.S3OriginConfig != nil, oc.CustomOriginConfig != nil, oc.VpcOriginConfig != nil} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		p.add(path, "only one of S3OriginConfig, CustomOriginConfig and VpcOriginConfig may be given")
	}
	bucket, region, isS3 := s3RESTEndpoint(oc.DomainName)
	readTimeout := 0
	switch {
	case oc.CustomOriginConfig != nil:
		o.Custom = compileCustomOrigin(p, join(path, "CustomOriginConfig"), oc.CustomOriginConfig)
		readTimeout = int(o.Custom.ReadTimeout / time.Second)
	case oc.VpcOriginConfig != nil:
		// Not emulated: a VPC origin is reached like a custom origin over
		// HTTP (its endpoint normally comes from originEndpoints).
		v := oc.VpcOriginConfig
		vp := join(path, "VpcOriginConfig")
		o.Custom = &CustomOrigin{
			HTTPPort: 80, HTTPSPort: 443, ProtocolPolicy: HTTPOnly, SSLProtocols: []string{"TLSv1.2"},
			ReadTimeout:      secs(timeoutInRange(p, codeInvalidOriginReadTimeout, join(vp, "OriginReadTimeout"), v.OriginReadTimeout, 30)),
			KeepaliveTimeout: secs(timeoutInRange(p, codeInvalidOriginKeepaliveTimeout, join(vp, "OriginKeepaliveTimeout"), v.OriginKeepaliveTimeout, 5)),
		}
		readTimeout = int(o.Custom.ReadTimeout / time.Second)
	case oc.S3OriginConfig != nil || isS3:
		if !isS3 {
			bucket, _, _ = strings.Cut(oc.DomainName, ".")
		}
		o.S3 = &S3Origin{Bucket: bucket, Region: region}
		if s3 := oc.S3OriginConfig; s3 != nil {
			o.S3.OriginAccessIdentity = s3.OriginAccessIdentity
			readTimeout = timeoutInRange(p, codeInvalidOriginReadTimeout, join(path, "S3OriginConfig.OriginReadTimeout"), s3.OriginReadTimeout, 30)
		}
	default:
		// Neither given (a hand-written config): a custom origin with
		// CloudFront's defaults, spoken to over HTTPS.
		o.Custom = &CustomOrigin{
			HTTPPort: 80, HTTPSPort: 443, ProtocolPolicy: HTTPSOnly, SSLProtocols: []string{"TLSv1.2"},
			ReadTimeout: DefaultOriginReadTimeout, KeepaliveTimeout: DefaultOriginKeepaliveTimeout,
		}
		readTimeout = 30
	}
	// ResponseCompletionTimeout: "must be equal to or greater than the
	// value for OriginReadTimeout. If you don't set a value ..., CloudFront
	// doesn't enforce a maximum value" (API Reference, Origin).
	if rct := oc.ResponseCompletionTimeout; rct != nil {
		if *rct < max(readTimeout, 1) {
			p.add(join(path, "ResponseCompletionTimeout"), "must be at least the origin read timeout (%d s), got %d", max(readTimeout, 1), *rct)
		} else {
			o.ResponseCompletionTimeout = secs(*rct)
		}
	}
	return o
}

func compileCustomOrigin(p *problems, path string, c *CustomOriginConfig) *CustomOrigin {
	co := &CustomOrigin{
		HTTPPort:         inRange(p, join(path, "HTTPPort"), c.HTTPPort, 1, 65535, 80),
		HTTPSPort:        inRange(p, join(path, "HTTPSPort"), c.HTTPSPort, 1, 65535, 443),
		ProtocolPolicy:   c.OriginProtocolPolicy,
		ReadTimeout:      secs(timeoutInRange(p, codeInvalidOriginReadTimeout, join(path, "OriginReadTimeout"), c.OriginReadTimeout, 30)),
		KeepaliveTimeout: secs(timeoutInRange(p, codeInvalidOriginKeepaliveTimeout, join(path, "OriginKeepaliveTimeout"), c.OriginKeepaliveTimeout, 5)),
	}
	if c.OriginProtocolPolicy == "" {
		p.add(join(path, "OriginProtocolPolicy"), "is required (one of %s)", strings.Join(originPolicyNames, ", "))
	} else {
		oneOf(p, join(path, "OriginProtocolPolicy"), c.OriginProtocolPolicy, originPolicyNames...)
	}
	for i, sp := range c.OriginSslProtocols.All() {
		if oneOf(p, index(join(path, "OriginSslProtocols.Items"), i), sp, sslProtocols...) {
			co.SSLProtocols = append(co.SSLProtocols, sp)
		}
	}
	if len(co.SSLProtocols) == 0 {
		co.SSLProtocols = []string{"TLSv1.2"}
	}
	oneOf(p, join(path, "IpAddressType"), c.IpAddressType, "ipv4", "ipv6", "dualstack")
	return co
}

// s3RESTEndpoint recognises an S3 REST endpoint domain name —
// bucket.s3.amazonaws.com, bucket.s3.<region>.amazonaws.com,
// bucket.s3-<region>.amazonaws.com, bucket.s3.dualstack.<region>.amazonaws.com
// (and .amazonaws.com.cn) — and returns its bucket and region ("" when the
// name has none). Website endpoints (s3-website) are not REST endpoints.
func s3RESTEndpoint(domain string) (bucket, region string, ok bool) {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	var rest string
	switch {
	case strings.HasSuffix(d, ".amazonaws.com"):
		rest = strings.TrimSuffix(d, ".amazonaws.com")
	case strings.HasSuffix(d, ".amazonaws.com.cn"):
		rest = strings.TrimSuffix(d, ".amazonaws.com.cn")
	default:
		return "", "", false
	}
	if strings.Contains(rest, ".s3-website") {
		return "", "", false
	}
	i := -1
	for j := strings.LastIndex(rest, ".s3"); j >= 0; j = strings.LastIndex(rest[:j], ".s3") {
		if after := rest[j+3:]; after == "" || after[0] == '.' || after[0] == '-' {
			i = j
			break
		}
	}
	if i <= 0 {
		return "", "", false
	}
	bucket, tail := domain[:i], rest[i+3:]
	tail = strings.TrimPrefix(tail, ".")
	tail = strings.TrimPrefix(tail, "-")
	tail = strings.TrimPrefix(tail, "dualstack.")
	switch tail {
	case "", "accelerate", "external-1":
		tail = ""
	}
	if strings.Contains(tail, ".") {
		return "", "", false
	}
	return bucket, tail, true
}

// compileOriginGroup compiles one origin group against the origins.
func compileOriginGroup(p *problems, path string, gc *OriginGroupConfig, origins map[string]*Origin) *OriginGroup {
	g := &OriginGroup{ID: gc.Id}
	if gc.Id == "" {
		p.add(join(path, "Id"), "is required")
	} else if _, clash := origins[gc.Id]; clash {
		p.add(join(path, "Id"), "%q is also an origin Id", gc.Id)
	}
	members := gc.Members.All()
	if len(members) != 2 {
		p.add(join(path, "Members"), "must name exactly two origins, the primary and the secondary (got %d)", len(members))
	}
	for i, m := range members {
		mp := join(index(join(path, "Members.Items"), i), "OriginId")
		if _, ok := origins[m.OriginId]; !ok {
			p.add(mp, "%q names no origin", m.OriginId)
		}
		g.Members = append(g.Members, m.OriginId)
	}
	var codes []int
	if gc.FailoverCriteria != nil {
		codes = gc.FailoverCriteria.StatusCodes.All()
	}
	if len(codes) == 0 {
		p.add(join(path, "FailoverCriteria.StatusCodes"), "at least one status code is required")
	}
	for i, c := range codes {
		if !containsInt(failoverStatusCodes, c) {
			p.add(index(join(path, "FailoverCriteria.StatusCodes.Items"), i), "%d is not a failover status code (use 400, 403, 404, 416, 500, 502, 503, 504)", c)
			continue
		}
		g.FailoverCodes = append(g.FailoverCodes, c)
	}
	oneOf(p, join(path, "SelectionCriteria"), gc.SelectionCriteria, "default", "media-quality-based")
	return g
}

// CloudFront's error codes for origin timeouts out of range.
const (
	codeInvalidOriginReadTimeout      = "InvalidOriginReadTimeout"
	codeInvalidOriginKeepaliveTimeout = "InvalidOriginKeepaliveTimeout"
)

// timeoutInRange checks an origin timeout in seconds against 1..MaxOriginTimeout
// and returns it or def; out of range is reported with CloudFront's code.
func timeoutInRange(p *problems, code, field string, v *int, def int) int {
	if v == nil {
		return def
	}
	if *v < 1 || *v > MaxOriginTimeout {
		p.addCode(code, field, "must be between 1 and %d (got %d)", MaxOriginTimeout, *v)
		return def
	}
	return *v
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// compileEndpoints checks edgefront's originEndpoints for one origin: base
// URLs, http or https with a host, no query or fragment; a trailing slash is
// dropped.
func compileEndpoints(p *problems, path string, urls []string) []string {
	var out []string
	for i, raw := range urls {
		field := path
		if len(urls) > 1 {
			field = index(path, i)
		}
		u, err := url.Parse(raw)
		if err != nil || !isHTTPURL(raw) {
			p.add(field, "%q is not an http:// or https:// URL with a host", raw)
			continue
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			p.add(field, "%q must be a base URL without user info, query or fragment", raw)
			continue
		}
		out = append(out, strings.TrimSuffix(raw, "/"))
	}
	if len(urls) == 0 {
		p.add(path, "at least one URL is required")
	}
	return out
}

func compileCredentials(p *problems, path string, c *credentialSettings) *Credentials {
	if c == nil {
		p.add(path, "expected an object with accessKeyId and secretAccessKey")
		return nil
	}
	switch c.Source {
	case "", "static":
	case "default-chain":
		if c.AccessKeyID != "" || c.SecretAccessKey != "" || c.SessionToken != "" {
			p.add(join(path, "source"), "default-chain takes its keys from the SDK's chain; remove accessKeyId, secretAccessKey and sessionToken")
		}
		return &Credentials{DefaultChain: true, Region: c.Region}
	default:
		p.add(join(path, "source"), "must be static or default-chain (got %q)", c.Source)
		return nil
	}
	if c.AccessKeyID == "" {
		p.add(join(path, "accessKeyId"), "is required")
	}
	if c.SecretAccessKey == "" {
		p.add(join(path, "secretAccessKey"), "is required")
	}
	return &Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Region: c.Region}
}

func describeKeys[V any](m map[string]V) string {
	return strings.Join(sortedKeys(m), ", ")
}

// The environment variables that sign S3 origin requests for origins
// without originCredentials, as the AWS CLI reads them.
const (
	envAccessKeyID     = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	envSessionToken    = "AWS_SESSION_TOKEN"
)

// useEnvironmentCredentials gives every S3 origin of ds that has no
// originCredentials the AWS keys of the environment (getenv), if both are
// set. Half a key pair is reported to p: it would otherwise mean unsigned
// requests that S3 refuses with a puzzling 403.
func useEnvironmentCredentials(p *problems, ds []*Distribution, getenv func(string) string) {
	id, secret := getenv(envAccessKeyID), getenv(envSecretAccessKey)
	reported := false
	for _, d := range ds {
		for _, oid := range sortedKeys(d.Origins) {
			o := d.Origins[oid]
			if o.S3 == nil || o.Credentials != nil && !o.Credentials.FromEnvironment {
				continue
			}
			o.Credentials = nil
			switch {
			case id != "" && secret != "":
				o.Credentials = &Credentials{FromEnvironment: true, AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv(envSessionToken)}
			case (id != "") != (secret != "") && !reported:
				set, unset := envAccessKeyID, envSecretAccessKey
				if id == "" {
					set, unset = unset, set
				}
				p.add("(environment)", "%s is set but %s is not: S3 origin %q of distribution %s would be asked unsigned; set both, neither, or give it originCredentials",
					set, unset, oid, d.ID)
				reported = true
			}
		}
	}
}
