package config

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file compiles one DistributionConfig, with the edgefront settings of
// its distribution, into a Distribution.

// Defaults of a DistributionConfig.
const (
	DefaultHTTPVersion = "http2"
	DefaultPriceClass  = "PriceClass_All"
)

var (
	viewerPolicies     = []string{AllowAll, RedirectToHTTPS, HTTPSOnly}
	errorCodes         = []int{400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
	errorResponseCodes = []int{200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
	methodSets         = []Methods{
		MethodGET | MethodHEAD,
		MethodGET | MethodHEAD | MethodOPTIONS,
		MethodGET | MethodHEAD | MethodOPTIONS | MethodPUT | MethodPATCH | MethodPOST | MethodDELETE,
	}
)

// distSource is what the settings file says about one distribution.
type distSource struct {
	id, domainName string
	settings       *problems // problems in the settings file
	at             string    // the distribution's path in the settings file ("" when there is none)
	endpoints      map[string]stringList
	credentials    map[string]*credentialSettings
	quotas         Quotas // zero fields: CloudFront's defaults
}

// compileDistribution compiles dc, whose problems are reported to p under
// root (e.g. "DistributionConfig").
func compileDistribution(p *problems, root string, dc *DistributionConfig, src distSource, pol *policySet) *Distribution {
	d := &Distribution{
		ID: src.id, DomainName: src.domainName,
		Enabled: dc.Enabled == nil || *dc.Enabled, Comment: dc.Comment, DefaultRootObject: dc.DefaultRootObject,
		HTTPVersion: dc.HttpVersion, IPv6: boolOf(dc.IsIPV6Enabled), PriceClass: dc.PriceClass,
		Origins: map[string]*Origin{}, OriginGroups: map[string]*OriginGroup{}, ErrorResponses: map[int]*ErrorResponse{},
		GeoRestriction: GeoRestriction{Type: "none"},
		Raw:            dc,
	}
	if d.HTTPVersion == "" {
		d.HTTPVersion = DefaultHTTPVersion
	}
	oneOf(p, join(root, "HttpVersion"), dc.HttpVersion, "http1.1", "http2", "http3", "http2and3")
	if d.PriceClass == "" {
		d.PriceClass = DefaultPriceClass
	}
	oneOf(p, join(root, "PriceClass"), dc.PriceClass, "PriceClass_100", "PriceClass_200", "PriceClass_All", "None")
	oneOf(p, join(root, "ConnectionMode"), dc.ConnectionMode, "direct", "tenant-only")
	if len(dc.Comment) > 128 {
		p.add(join(root, "Comment"), "is %d characters long, the maximum is 128", len(dc.Comment))
	}
	if dro := dc.DefaultRootObject; dro != "" {
		switch {
		case strings.HasPrefix(dro, "/"):
			p.add(join(root, "DefaultRootObject"), "must not start with / (got %q)", dro)
		case len(dro) > 255:
			p.add(join(root, "DefaultRootObject"), "is longer than 255 characters")
		case !isObjectName(dro):
			p.add(join(root, "DefaultRootObject"), "%q contains characters CloudFront does not allow", dro)
		}
	}
	seenAlias := map[string]int{}
	for i, a := range dc.Aliases.All() {
		ap := index(join(root, "Aliases.Items"), i)
		la := strings.ToLower(a)
		if !isHostName(a, true) {
			p.add(ap, "%q is not a host name", a)
		} else if j, dup := seenAlias[la]; dup {
			p.add(ap, "%q is already Aliases.Items[%d]", a, j)
		} else {
			seenAlias[la] = i
			d.Aliases = append(d.Aliases, la)
		}
	}
	compileViewerCertificate(p, join(root, "ViewerCertificate"), dc.ViewerCertificate)
	checkQuotas(p, root, dc, src.quotas)

	compileOrigins(p, root, dc, d, src)

	if dc.DefaultCacheBehavior == nil {
		p.add(join(root, "DefaultCacheBehavior"), "is required")
	} else {
		d.Default = compileBehavior(p, join(root, "DefaultCacheBehavior"), dc.DefaultCacheBehavior, true, d, pol)
	}
	seenPattern := map[string]int{}
	for i := range dc.CacheBehaviors.All() {
		bp := index(join(root, "CacheBehaviors.Items"), i)
		bc := &dc.CacheBehaviors.Items[i]
		b := compileBehavior(p, bp, bc, false, d, pol)
		if bc.PathPattern != "" {
			key := b.Pattern.norm
			if j, dup := seenPattern[key]; dup {
				p.add(join(bp, "PathPattern"), "%q duplicates CacheBehaviors.Items[%d].PathPattern", bc.PathPattern, j)
			} else {
				seenPattern[key] = i
			}
		}
		d.Behaviors = append(d.Behaviors, b)
	}

	for i, e := range dc.CustomErrorResponses.All() {
		ep := index(join(root, "CustomErrorResponses.Items"), i)
		er := compileErrorResponse(p, ep, &e)
		if er == nil {
			continue
		}
		if _, dup := d.ErrorResponses[er.ErrorCode]; dup {
			p.add(join(ep, "ErrorCode"), "%d is configured twice", er.ErrorCode)
			continue
		}
		d.ErrorResponses[er.ErrorCode] = er
	}

	if r := dc.Restrictions; r != nil && r.GeoRestriction != nil {
		d.GeoRestriction = compileGeo(p, join(root, "Restrictions.GeoRestriction"), r.GeoRestriction)
	}
	d.ETag = configETag(dc)
	d.Ignored = append(ignoredSettings(p, root, dc), d.Ignored...)
	return d
}

func compileOrigins(p *problems, root string, dc *DistributionConfig, d *Distribution, src distSource) {
	if dc.Origins.Len() == 0 {
		p.add(join(root, "Origins"), "at least one origin is required")
	}
	firstAt := map[string]int{}
	for i := range dc.Origins.All() {
		op := index(join(root, "Origins.Items"), i)
		oc := &dc.Origins.Items[i]
		o := compileOrigin(p, op, oc)
		if oc.Id == "" {
			continue
		}
		if j, dup := firstAt[oc.Id]; dup {
			p.add(join(op, "Id"), "duplicate origin Id %q (also Origins.Items[%d])", oc.Id, j)
			continue
		}
		firstAt[oc.Id] = i
		d.Origins[oc.Id] = o
	}
	for i := range dc.OriginGroups.All() {
		gp := index(join(root, "OriginGroups.Items"), i)
		g := compileOriginGroup(p, gp, &dc.OriginGroups.Items[i], d.Origins)
		if g.ID == "" {
			continue
		}
		if _, dup := d.OriginGroups[g.ID]; dup {
			p.add(join(gp, "Id"), "duplicate origin group Id %q", g.ID)
			continue
		}
		d.OriginGroups[g.ID] = g
	}

	sp := src.settings
	for _, id := range sortedKeys(src.endpoints) {
		field := join(join(src.at, "originEndpoints"), id)
		o, ok := d.Origins[id]
		if !ok {
			sp.add(field, "%q names no origin of this distribution (origins: %s)", id, describeKeys(d.Origins))
			continue
		}
		o.Endpoints = compileEndpoints(sp, field, src.endpoints[id])
	}
	for _, id := range sortedKeys(src.credentials) {
		field := join(join(src.at, "originCredentials"), id)
		o, ok := d.Origins[id]
		if !ok {
			sp.add(field, "%q names no origin of this distribution (origins: %s)", id, describeKeys(d.Origins))
			continue
		}
		if o.S3 == nil {
			sp.add(field, "origin %q is not an S3 origin", id)
			continue
		}
		o.Credentials = compileCredentials(sp, field, src.credentials[id])
	}
	for _, o := range d.Origins {
		if o.S3 != nil && o.S3.Region == "" {
			o.S3.Region = DefaultS3Region
			if o.Credentials != nil && o.Credentials.Region != "" {
				o.S3.Region = o.Credentials.Region
			}
		}
	}
}

func compileBehavior(p *problems, path string, bc *CacheBehaviorConfig, isDefault bool, d *Distribution, pol *policySet) *Behavior {
	b := &Behavior{
		PathPattern: bc.PathPattern, TargetOriginID: bc.TargetOriginId, ViewerProtocolPolicy: bc.ViewerProtocolPolicy,
		Compress: boolOf(bc.Compress), SmoothStreaming: boolOf(bc.SmoothStreaming),
		AllowedMethods: MethodGET | MethodHEAD, CachedMethods: MethodGET | MethodHEAD,
	}
	if isDefault {
		b.PathPattern = "*"
		if bc.PathPattern != "" {
			p.add(join(path, "PathPattern"), "is not allowed in the default cache behavior (its pattern is always *)")
		}
	} else if bc.PathPattern == "" {
		p.add(join(path, "PathPattern"), "is required")
	}
	pat, err := CompilePattern(b.PathPattern)
	if err != nil && b.PathPattern != "" {
		p.add(join(path, "PathPattern"), "%v", err)
	}
	b.Pattern = pat

	if bc.TargetOriginId == "" {
		p.add(join(path, "TargetOriginId"), "is required")
	} else if _, ok := d.Origins[bc.TargetOriginId]; !ok {
		if _, ok := d.OriginGroups[bc.TargetOriginId]; !ok {
			known := slices.Concat(sortedKeys(d.Origins), sortedKeys(d.OriginGroups))
			p.add(join(path, "TargetOriginId"), "%q names no origin or origin group (known: %s)", bc.TargetOriginId, strings.Join(known, ", "))
		}
	}
	if bc.ViewerProtocolPolicy == "" {
		p.add(join(path, "ViewerProtocolPolicy"), "is required (one of %s)", strings.Join(viewerPolicies, ", "))
	} else {
		oneOf(p, join(path, "ViewerProtocolPolicy"), bc.ViewerProtocolPolicy, viewerPolicies...)
	}
	if am := bc.AllowedMethods; am != nil {
		b.AllowedMethods = methodSet(p, join(path, "AllowedMethods"), am.Items, methodSets,
			"GET,HEAD or GET,HEAD,OPTIONS or GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE")
		if am.CachedMethods != nil {
			b.CachedMethods = methodSet(p, join(path, "AllowedMethods.CachedMethods"), am.CachedMethods.Items, methodSets[:2],
				"GET,HEAD or GET,HEAD,OPTIONS")
			if b.CachedMethods&^b.AllowedMethods != 0 {
				p.add(join(path, "AllowedMethods.CachedMethods"), "%s is not a subset of the allowed methods %s", b.CachedMethods, b.AllowedMethods)
			}
		}
	}

	compilePolicies(p, path, bc, b, pol)

	if tk := bc.TrustedKeyGroups; tk != nil && (tk.Enabled == nil || *tk.Enabled) {
		b.TrustedKeyGroups = tk.All()
		if tk.Enabled != nil && len(b.TrustedKeyGroups) == 0 {
			p.add(join(path, "TrustedKeyGroups.Items"), "at least one key group is required when Enabled is true")
		}
	}
	if ts := bc.TrustedSigners; ts != nil && (ts.Enabled == nil || *ts.Enabled) {
		b.TrustedSigners = ts.All()
		if ts.Enabled != nil && len(b.TrustedSigners) == 0 {
			p.add(join(path, "TrustedSigners.Items"), "at least one account is required when Enabled is true")
		}
	}
	compileFunctionAssociations(p, path, bc, b, d, pol)
	compileLambdaAssociations(p, path, bc, b, d, pol.lambda) // lambda.go
	return b
}

// compilePolicies resolves a behaviour's cache, origin request and response
// headers policies (managed by ID or name, or custom), or its legacy
// ForwardedValues.
func compilePolicies(p *problems, path string, bc *CacheBehaviorConfig, b *Behavior, pol *policySet) {
	switch {
	case bc.CachePolicyId != "":
		cp, ok := pol.cachePolicy(bc.CachePolicyId)
		if !ok {
			p.add(join(path, "CachePolicyId"), "%s", policyKeyError("cache", bc.CachePolicyId,
				policyNames(managedNames(managedCachePolicies(), func(p *CachePolicy) string { return p.Name }), pol.cache)))
			cp = &CachePolicy{Headers: none(), Cookies: none(), QueryStrings: none()}
		}
		b.CachePolicy = cp
		// CloudFront refuses these with InvalidArgument: "The parameter
		// MinTTL cannot be used when a cache policy is associated to the
		// cache behavior." The policy holds the TTLs. A TTL of 0 is
		// tolerated: it is what Terraform's state and some exports write
		// for a behaviour with a cache policy.
		nonZero := func(v *int64) bool { return v != nil && *v != 0 }
		for _, f := range []struct {
			name string
			set  bool
		}{{"ForwardedValues", bc.ForwardedValues != nil}, {"MinTTL", nonZero(bc.MinTTL)}, {"DefaultTTL", nonZero(bc.DefaultTTL)}, {"MaxTTL", nonZero(bc.MaxTTL)}} {
			if f.set {
				p.add(join(path, f.name), "cannot be used together with CachePolicyId: the cache policy holds the cache key and TTLs (CloudFront: InvalidArgument)")
			}
		}
	case bc.ForwardedValues != nil:
		cp, orp := legacyPolicies(p, path, bc, b.Compress)
		b.CachePolicy, b.OriginRequestPolicy = cp, orp
		if bc.OriginRequestPolicyId != "" {
			p.add(join(path, "OriginRequestPolicyId"), "requires a CachePolicyId (it cannot be combined with legacy ForwardedValues)")
		}
	default:
		p.add(join(path, "CachePolicyId"), "is required (or the legacy ForwardedValues with MinTTL, DefaultTTL and MaxTTL)")
		b.CachePolicy = &CachePolicy{Headers: none(), Cookies: none(), QueryStrings: none()}
	}
	if bc.OriginRequestPolicyId != "" && bc.ForwardedValues == nil {
		orp, ok := pol.originRequestPolicy(bc.OriginRequestPolicyId)
		if !ok {
			p.add(join(path, "OriginRequestPolicyId"), "%s", policyKeyError("origin request", bc.OriginRequestPolicyId,
				policyNames(managedNames(managedOriginRequestPolicies(), func(p *OriginRequestPolicy) string { return p.Name }), pol.origin)))
		} else {
			b.OriginRequestPolicy = orp
		}
	}
	if b.OriginRequestPolicy == nil {
		b.OriginRequestPolicy = emptyOriginRequestPolicy()
	}
	if bc.ResponseHeadersPolicyId != "" {
		rp, ok := pol.responseHeadersPolicy(bc.ResponseHeadersPolicyId)
		if !ok {
			p.add(join(path, "ResponseHeadersPolicyId"), "%s", policyKeyError("response headers", bc.ResponseHeadersPolicyId,
				policyNames(managedNames(managedResponseHeadersPolicies(), func(p *ResponseHeadersPolicy) string { return p.Name }), pol.response)))
		} else {
			b.ResponseHeadersPolicy = rp
		}
	}
}

// methodSet parses a method list that must be exactly one of sets.
func methodSet(p *problems, path string, items []string, sets []Methods, want string) Methods {
	var m Methods
	for i, name := range items {
		bit := MethodBit(strings.ToUpper(name))
		if bit == 0 || name != strings.ToUpper(name) {
			p.add(index(join(path, "Items"), i), "%q is not a method CloudFront knows (GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE)", name)
			return sets[0]
		}
		m |= bit
	}
	if !slices.Contains(sets, m) {
		p.add(join(path, "Items"), "must be %s (got %s)", want, strings.Join(items, ","))
		return sets[0]
	}
	return m
}

func compileErrorResponse(p *problems, path string, e *CustomErrorResponse) *ErrorResponse {
	if e.ErrorCode == nil {
		p.add(join(path, "ErrorCode"), "is required")
		return nil
	}
	if !containsInt(errorCodes, *e.ErrorCode) {
		p.add(join(path, "ErrorCode"), "%d is not an error code CloudFront can customise (%s)", *e.ErrorCode, intList(errorCodes))
		return nil
	}
	er := &ErrorResponse{ErrorCode: *e.ErrorCode, ResponsePagePath: e.ResponsePagePath}
	if e.ResponsePagePath != "" && !strings.HasPrefix(e.ResponsePagePath, "/") {
		p.add(join(path, "ResponsePagePath"), "must start with / (got %q)", e.ResponsePagePath)
	}
	if e.ResponseCode != "" {
		code, err := strconv.Atoi(e.ResponseCode)
		if err != nil || !containsInt(errorResponseCodes, code) {
			p.add(join(path, "ResponseCode"), "%q is not a response code CloudFront allows (%s)", e.ResponseCode, intList(errorResponseCodes))
		} else {
			er.ResponseCode = code
		}
	}
	if (e.ResponseCode == "") != (e.ResponsePagePath == "") {
		if e.ResponseCode == "" {
			p.add(join(path, "ResponseCode"), "is required with ResponsePagePath")
		} else {
			p.add(join(path, "ResponsePagePath"), "is required with ResponseCode")
		}
	}
	if t := e.ErrorCachingMinTTL; t != nil {
		if *t < 0 || *t > 100*DefaultMaxTTL {
			p.add(join(path, "ErrorCachingMinTTL"), "must be between 0 and %d seconds (got %d)", 100*DefaultMaxTTL, *t)
		} else {
			er.ErrorCachingMinTTL, er.HasCachingMinTTL = time.Duration(*t)*time.Second, true
		}
	}
	return er
}

func compileGeo(p *problems, path string, g *GeoRestrictionConfig) GeoRestriction {
	gr := GeoRestriction{Type: g.RestrictionType}
	if g.RestrictionType == "" {
		p.add(join(path, "RestrictionType"), "is required (one of none, whitelist, blacklist)")
		gr.Type = "none"
		return gr
	}
	if !oneOf(p, join(path, "RestrictionType"), g.RestrictionType, "none", "whitelist", "blacklist") {
		gr.Type = "none"
		return gr
	}
	for i, c := range g.All() {
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			p.add(index(join(path, "Items"), i), "%q is not an upper-case ISO 3166-1 alpha-2 country code", c)
			continue
		}
		gr.Countries = append(gr.Countries, c)
	}
	switch {
	case gr.Type == "none" && g.Len() > 0:
		p.add(join(path, "Items"), "must be empty when RestrictionType is none")
		gr.Countries = nil
	case gr.Type != "none" && g.Len() == 0:
		p.add(join(path, "Items"), "at least one country is required with %s", gr.Type)
	}
	return gr
}

func compileViewerCertificate(p *problems, path string, vc *ViewerCertificate) {
	if vc == nil {
		return
	}
	oneOf(p, join(path, "SSLSupportMethod"), vc.SSLSupportMethod, "sni-only", "vip", "static-ip")
	oneOf(p, join(path, "MinimumProtocolVersion"), vc.MinimumProtocolVersion,
		"SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
	oneOf(p, join(path, "CertificateSource"), vc.CertificateSource, "cloudfront", "iam", "acm")
}

func intList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
