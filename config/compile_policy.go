package config

import (
	"fmt"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file compiles cache, origin request and response headers policies:
// custom ones from the settings file, and the legacy ForwardedValues of a
// behaviour.

// CloudFront's legacy (and cache policy) TTL defaults.
const (
	DefaultMinTTL     = 0
	DefaultDefaultTTL = 86400
	DefaultMaxTTL     = 31536000
)

// policySet holds the custom policies of a configuration by ID and by name.
type policySet struct {
	cache    map[string]*CachePolicy
	origin   map[string]*OriginRequestPolicy
	response map[string]*ResponseHeadersPolicy
	// functions are the CloudFront Functions associations may name, by ARN.
	functions map[string]*Function
	// unresolvedWarns makes an association naming no function a warning
	// even when functions are defined (WithFunctions: the distribution was
	// accepted before, the function set changed under it).
	unresolvedWarns bool
	// lambda are the Lambda@Edge functions associations may name.
	lambda *lambdaSet
}

func newPolicySet() *policySet {
	return &policySet{
		cache:    map[string]*CachePolicy{},
		origin:   map[string]*OriginRequestPolicy{},
		response: map[string]*ResponseHeadersPolicy{},
	}
}

func (s *policySet) cachePolicy(key string) (*CachePolicy, bool) {
	if p, ok := ManagedCachePolicy(key); ok {
		return p, true
	}
	p, ok := s.cache[key]
	return p, ok
}

func (s *policySet) originRequestPolicy(key string) (*OriginRequestPolicy, bool) {
	if p, ok := ManagedOriginRequestPolicy(key); ok {
		return p, true
	}
	p, ok := s.origin[key]
	return p, ok
}

func (s *policySet) responseHeadersPolicy(key string) (*ResponseHeadersPolicy, bool) {
	if p, ok := ManagedResponseHeadersPolicy(key); ok {
		return p, true
	}
	p, ok := s.response[key]
	return p, ok
}

// register adds a custom policy under its ID and name, reporting clashes.
func register[P any](p *problems, idField, nameField, id, name string, m map[string]P, v P) {
	for _, k := range []struct{ field, key string }{{idField, id}, {nameField, name}} {
		if k.key == "" {
			continue
		}
		if _, dup := m[k.key]; dup {
			p.add(k.field, "%q is used by another policy", k.key)
			continue
		}
		if isManagedName(k.key) {
			p.add(k.field, "%q is the name or ID of a managed policy", k.key)
			continue
		}
		m[k.key] = v
	}
}

// unwrap returns the value under key when v is the AWS CLI's
// {"ETag": …, key: {…}} wrapper, and the path to it.
func unwrap(v any, path, key string) (any, string) {
	if o, ok := v.(*object); ok && o.has(key) && !o.has("Id") {
		inner, _ := o.get(key)
		return inner, join(path, key)
	}
	return v, path
}

// ttlTriple compiles Min/Default/Max TTL with CloudFront's defaults: Default
// defaults to 86400 or MinTTL if larger, Max to 31536000 or Default if larger.
// code is the error code CloudFront refuses a wrong order with.
func ttlTriple(p *problems, path, code string, minP, defP, maxP *int64) (minTTL, defTTL, maxTTL time.Duration) {
	var mn, df, mx int64 = DefaultMinTTL, DefaultDefaultTTL, DefaultMaxTTL
	if minP != nil {
		mn = *minP
	}
	if defP != nil {
		df = *defP
	} else {
		df = max(df, mn)
	}
	if maxP != nil {
		mx = *maxP
	} else {
		mx = max(mx, df)
	}
	ok := true
	for _, f := range []struct {
		name string
		v    int64
	}{{"MinTTL", mn}, {"DefaultTTL", df}, {"MaxTTL", mx}} {
		if f.v < 0 || f.v > 100*DefaultMaxTTL {
			p.add(join(path, f.name), "must be between 0 and %d seconds (got %d)", 100*DefaultMaxTTL, f.v)
			ok = false
		}
	}
	// CloudFront refuses an order other than Min ≤ Default ≤ Max with
	// InvalidTTLOrder (a behaviour's legacy TTLs) or InvalidArgument (a
	// cache policy's).
	if ok && df < mn {
		p.add(join(path, "DefaultTTL"), "must not be less than MinTTL (%d < %d; CloudFront: %s)", df, mn, code)
	}
	if ok && mx < df {
		p.add(join(path, "MaxTTL"), "must not be less than DefaultTTL (%d < %d; CloudFront: %s)", mx, df, code)
	}
	return time.Duration(mn) * time.Second, time.Duration(df) * time.Second, time.Duration(mx) * time.Second
}

// selection compiles one {Behavior, Items} choice; header names are made
// canonical.
func selection(p *problems, path, behaviorField, behavior string, items *List[string], isHeader bool, allowed ...string) Selection {
	if behavior == "" {
		p.add(join(path, behaviorField), "is required (one of %s)", strings.Join(allowed, ", "))
		return Selection{Behavior: SelectNone}
	}
	if !oneOf(p, join(path, behaviorField), behavior, allowed...) {
		return Selection{Behavior: SelectNone}
	}
	s := Selection{Behavior: behavior}
	itemsPath := path + "." + strings.TrimSuffix(behaviorField, "Behavior") + "s"
	if strings.HasPrefix(behaviorField, "QueryString") {
		itemsPath = join(path, "QueryStrings")
	}
	for i, it := range items.All() {
		if isHeader {
			if !isHeaderName(it) {
				p.add(index(itemsPath+".Items", i), "%q is not a header name", it)
				continue
			}
			it = textproto.CanonicalMIMEHeaderKey(it)
		}
		s.Items = append(s.Items, it)
	}
	if (behavior == SelectWhitelist || behavior == SelectAllExcept) && len(s.Items) == 0 && items.Len() == 0 {
		p.add(itemsPath, "at least one name is required with %s", behavior)
	}
	return s
}

func compileCachePolicy(p *problems, path string, cp *CustomCachePolicy) *CachePolicy {
	c := cp.CachePolicyConfig
	cfgPath := join(path, "CachePolicyConfig")
	if c == nil {
		p.add(cfgPath, "is required")
		return &CachePolicy{ID: cp.Id, Headers: none(), Cookies: none(), QueryStrings: none()}
	}
	if c.Name == "" {
		p.add(join(cfgPath, "Name"), "is required")
	}
	out := &CachePolicy{ID: cp.Id, Name: c.Name}
	if c.MinTTL == nil {
		p.add(join(cfgPath, "MinTTL"), "is required")
	}
	out.MinTTL, out.DefaultTTL, out.MaxTTL = ttlTriple(p, cfgPath, "InvalidArgument", c.MinTTL, c.DefaultTTL, c.MaxTTL)
	k := c.ParametersInCacheKeyAndForwardedToOrigin
	kp := join(cfgPath, "ParametersInCacheKeyAndForwardedToOrigin")
	if k == nil {
		p.add(kp, "is required")
		k = &ParametersInCacheKey{}
	}
	out.EnableAcceptEncodingGzip = k.EnableAcceptEncodingGzip != nil && *k.EnableAcceptEncodingGzip
	out.EnableAcceptEncodingBrotli = k.EnableAcceptEncodingBrotli != nil && *k.EnableAcceptEncodingBrotli
	h, ck, q := orEmptyConfigs(k.HeadersConfig, k.CookiesConfig, k.QueryStringsConfig)
	out.Headers = selection(p, join(kp, "HeadersConfig"), "HeaderBehavior", h.HeaderBehavior, h.Headers, true, SelectNone, SelectWhitelist)
	for i, name := range out.Headers.Items {
		if originRequestOnlyHeaders[name] {
			// CloudFront answers InvalidArgument: these vary per connection
			// (or per viewer) and may only be forwarded, never keyed.
			p.add(index(join(kp, "HeadersConfig.Headers.Items"), i),
				"%s can be added in an origin request policy, but not in a cache policy", name)
		}
	}
	out.Cookies = selection(p, join(kp, "CookiesConfig"), "CookieBehavior", ck.CookieBehavior, ck.Cookies, false, SelectNone, SelectWhitelist, SelectAllExcept, SelectAll)
	out.QueryStrings = selection(p, join(kp, "QueryStringsConfig"), "QueryStringBehavior", q.QueryStringBehavior, q.QueryStrings, false, SelectNone, SelectWhitelist, SelectAllExcept, SelectAll)
	return out
}

func orEmptyConfigs(h *HeadersConfig, c *CookiesConfig, q *QueryStringsConfig) (*HeadersConfig, *CookiesConfig, *QueryStringsConfig) {
	if h == nil {
		h = &HeadersConfig{HeaderBehavior: SelectNone}
	}
	if c == nil {
		c = &CookiesConfig{CookieBehavior: SelectNone}
	}
	if q == nil {
		q = &QueryStringsConfig{QueryStringBehavior: SelectNone}
	}
	return h, c, q
}

func compileOriginRequestPolicy(p *problems, path string, op *CustomOriginRequestPolicy) *OriginRequestPolicy {
	c := op.OriginRequestPolicyConfig
	cfgPath := join(path, "OriginRequestPolicyConfig")
	if c == nil {
		p.add(cfgPath, "is required")
		return emptyOriginRequestPolicy()
	}
	if c.Name == "" {
		p.add(join(cfgPath, "Name"), "is required")
	}
	h, ck, q := orEmptyConfigs(c.HeadersConfig, c.CookiesConfig, c.QueryStringsConfig)
	if h.HeaderBehavior == SelectWhitelist || h.HeaderBehavior == SelectAllViewerAndWhitelistCloudFront {
		for i, name := range h.Headers.All() {
			if strings.EqualFold(name, "Authorization") {
				// CloudFront answers 400: an origin request policy cannot
				// forward what is not in the cache key, or one viewer's
				// authenticated answer would be cached for everyone.
				p.add(index(join(cfgPath, "HeadersConfig.Headers.Items"), i),
					"Authorization cannot be forwarded by an origin request policy; include it in the cache policy's HeadersConfig instead")
			}
		}
	}
	return &OriginRequestPolicy{
		ID: op.Id, Name: c.Name,
		Headers: selection(p, join(cfgPath, "HeadersConfig"), "HeaderBehavior", h.HeaderBehavior, h.Headers, true,
			SelectNone, SelectWhitelist, SelectAllViewer, SelectAllViewerAndWhitelistCloudFront, SelectAllExcept),
		Cookies: selection(p, join(cfgPath, "CookiesConfig"), "CookieBehavior", ck.CookieBehavior, ck.Cookies, false,
			SelectNone, SelectWhitelist, SelectAll, SelectAllExcept),
		QueryStrings: selection(p, join(cfgPath, "QueryStringsConfig"), "QueryStringBehavior", q.QueryStringBehavior, q.QueryStrings, false,
			SelectNone, SelectWhitelist, SelectAll, SelectAllExcept),
	}
}

// emptyOriginRequestPolicy is what a behaviour without an origin request
// policy forwards: nothing beyond the cache key.
func emptyOriginRequestPolicy() *OriginRequestPolicy {
	return &OriginRequestPolicy{Headers: none(), Cookies: none(), QueryStrings: none()}
}

var (
	referrerPolicies = []string{"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
		"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}
	corsMethods = []string{"GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD", "ALL"}
)

func boolOf(b *bool) bool { return b != nil && *b }

func compileResponseHeadersPolicy(p *problems, path string, rp *CustomResponseHeadersPolicy) *ResponseHeadersPolicy {
	c := rp.ResponseHeadersPolicyConfig
	cfgPath := join(path, "ResponseHeadersPolicyConfig")
	out := &ResponseHeadersPolicy{ID: rp.Id}
	if c == nil {
		p.add(cfgPath, "is required")
		return out
	}
	out.Name = c.Name
	if c.Name == "" {
		p.add(join(cfgPath, "Name"), "is required")
	}
	if cc := c.CorsConfig; cc != nil {
		cp := join(cfgPath, "CorsConfig")
		cors := &CORSConfig{
			AllowCredentials: boolOf(cc.AccessControlAllowCredentials),
			AllowHeaders:     cc.AccessControlAllowHeaders.All(),
			AllowOrigins:     cc.AccessControlAllowOrigins.All(),
			ExposeHeaders:    cc.AccessControlExposeHeaders.All(),
			OriginOverride:   boolOf(cc.OriginOverride),
			MaxAgeSec:        -1,
		}
		for _, req := range []struct {
			name string
			ok   bool
		}{
			{"AccessControlAllowOrigins", cc.AccessControlAllowOrigins != nil},
			{"AccessControlAllowHeaders", cc.AccessControlAllowHeaders != nil},
			{"AccessControlAllowMethods", cc.AccessControlAllowMethods != nil},
			{"AccessControlAllowCredentials", cc.AccessControlAllowCredentials != nil},
			{"OriginOverride", cc.OriginOverride != nil},
		} {
			if !req.ok {
				p.add(join(cp, req.name), "is required")
			}
		}
		for i, m := range cc.AccessControlAllowMethods.All() {
			if oneOf(p, index(join(cp, "AccessControlAllowMethods.Items"), i), m, corsMethods...) {
				cors.AllowMethods = append(cors.AllowMethods, m)
			}
		}
		if cc.AccessControlMaxAgeSec != nil {
			cors.MaxAgeSec = inRange(p, join(cp, "AccessControlMaxAgeSec"), cc.AccessControlMaxAgeSec, 0, 1<<31-1, -1)
		}
		out.CORS = cors
	}
	if sc := c.SecurityHeadersConfig; sc != nil {
		out.Security = compileSecurityHeaders(p, join(cfgPath, "SecurityHeadersConfig"), sc)
	}
	for i, h := range c.CustomHeadersConfig.All() {
		hp := index(join(cfgPath, "CustomHeadersConfig.Items"), i)
		if !isHeaderName(h.Header) {
			p.add(join(hp, "Header"), "%q is not a header name", h.Header)
			continue
		}
		if h.Override == nil {
			p.add(join(hp, "Override"), "is required")
		}
		out.Custom = append(out.Custom, CustomResponseHeader{Name: textproto.CanonicalMIMEHeaderKey(h.Header), Value: h.Value, Override: boolOf(h.Override)})
	}
	for i, h := range c.RemoveHeadersConfig.All() {
		if !isHeaderName(h.Header) {
			p.add(join(index(join(cfgPath, "RemoveHeadersConfig.Items"), i), "Header"), "%q is not a header name", h.Header)
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(h.Header)
		if UnremovableResponseHeader(name) {
			p.add(join(index(join(cfgPath, "RemoveHeadersConfig.Items"), i), "Header"), "%s cannot be removed by a response headers policy", name)
			continue
		}
		out.Remove = append(out.Remove, name)
	}
	if st := c.ServerTimingHeadersConfig; st != nil {
		out.ServerTiming = boolOf(st.Enabled)
		if st.SamplingRate != nil {
			if *st.SamplingRate < 0 || *st.SamplingRate > 100 {
				p.add(join(cfgPath, "ServerTimingHeadersConfig.SamplingRate"), "must be between 0 and 100 (got %v)", *st.SamplingRate)
			} else {
				out.ServerTimingSampleRate = *st.SamplingRate
			}
		}
	}
	return out
}

func compileSecurityHeaders(p *problems, path string, sc *SecurityHeadersConfig) SecurityHeaders {
	var s SecurityHeaders
	if h := sc.ContentSecurityPolicy; h != nil {
		if h.ContentSecurityPolicy == "" {
			p.add(join(path, "ContentSecurityPolicy.ContentSecurityPolicy"), "is required")
		}
		s.ContentSecurityPolicy = &OverridableHeader{Value: h.ContentSecurityPolicy, Override: boolOf(h.Override)}
	}
	if h := sc.ContentTypeOptions; h != nil {
		s.ContentTypeOptions = &OverridableHeader{Value: "nosniff", Override: boolOf(h.Override)}
	}
	if h := sc.FrameOptions; h != nil {
		if h.FrameOption == "" {
			p.add(join(path, "FrameOptions.FrameOption"), "is required (DENY or SAMEORIGIN)")
		}
		oneOf(p, join(path, "FrameOptions.FrameOption"), h.FrameOption, "DENY", "SAMEORIGIN")
		s.FrameOptions = &OverridableHeader{Value: h.FrameOption, Override: boolOf(h.Override)}
	}
	if h := sc.ReferrerPolicy; h != nil {
		if h.ReferrerPolicy == "" {
			p.add(join(path, "ReferrerPolicy.ReferrerPolicy"), "is required")
		}
		oneOf(p, join(path, "ReferrerPolicy.ReferrerPolicy"), h.ReferrerPolicy, referrerPolicies...)
		s.ReferrerPolicy = &OverridableHeader{Value: h.ReferrerPolicy, Override: boolOf(h.Override)}
	}
	if h := sc.StrictTransportSecurity; h != nil {
		if h.AccessControlMaxAgeSec == nil {
			p.add(join(path, "StrictTransportSecurity.AccessControlMaxAgeSec"), "is required")
		}
		v := "max-age=" + strconv.Itoa(inRange(p, join(path, "StrictTransportSecurity.AccessControlMaxAgeSec"), h.AccessControlMaxAgeSec, 0, 1<<31-1, 0))
		if boolOf(h.IncludeSubdomains) {
			v += "; includeSubDomains"
		}
		if boolOf(h.Preload) {
			v += "; preload"
		}
		s.StrictTransportSecurity = &OverridableHeader{Value: v, Override: boolOf(h.Override)}
	}
	if h := sc.XSSProtection; h != nil {
		v := "0"
		if boolOf(h.Protection) {
			v = "1"
			if boolOf(h.ModeBlock) && h.ReportUri != "" {
				p.add(join(path, "XSSProtection.ReportUri"), "cannot be combined with ModeBlock")
			}
			if boolOf(h.ModeBlock) {
				v += "; mode=block"
			} else if h.ReportUri != "" {
				v += "; report=" + h.ReportUri
			}
		}
		s.XSSProtection = &OverridableHeader{Value: v, Override: boolOf(h.Override)}
	}
	return s
}

// legacyPolicies compiles a behaviour's ForwardedValues and TTLs into the
// cache policy and origin request policy CloudFront's legacy settings
// amount to: what is in the key is what is forwarded. Forwarding all headers
// ("*") disables caching, as in CloudFront.
func legacyPolicies(p *problems, path string, b *CacheBehaviorConfig, compress bool) (*CachePolicy, *OriginRequestPolicy) {
	fv := b.ForwardedValues
	fp := join(path, "ForwardedValues")
	cp := &CachePolicy{Name: "Legacy", Legacy: true, EnableAcceptEncodingGzip: compress}
	cp.MinTTL, cp.DefaultTTL, cp.MaxTTL = ttlTriple(p, path, "InvalidTTLOrder", b.MinTTL, b.DefaultTTL, b.MaxTTL)
	orp := &OriginRequestPolicy{Name: "Legacy"}

	if fv.QueryString == nil {
		p.add(join(fp, "QueryString"), "is required")
	}
	switch {
	case !boolOf(fv.QueryString):
		cp.QueryStrings, orp.QueryStrings = none(), none()
	case fv.QueryStringCacheKeys.Len() > 0:
		cp.QueryStrings = names(SelectWhitelist, fv.QueryStringCacheKeys.All()...)
		orp.QueryStrings = all()
	default:
		cp.QueryStrings, orp.QueryStrings = all(), all()
	}

	cookies := fv.Cookies
	if cookies == nil {
		p.add(join(fp, "Cookies"), "is required")
		cookies = &CookiePreference{Forward: SelectNone}
	}
	switch cookies.Forward {
	case SelectNone, SelectAll:
		cp.Cookies = Selection{Behavior: cookies.Forward}
	case SelectWhitelist:
		cp.Cookies = names(SelectWhitelist, cookies.WhitelistedNames.All()...)
		if len(cp.Cookies.Items) == 0 {
			p.add(join(fp, "Cookies.WhitelistedNames"), "at least one name is required with whitelist")
		}
	case "":
		p.add(join(fp, "Cookies.Forward"), "is required (one of none, whitelist, all)")
		cp.Cookies = none()
	default:
		p.add(join(fp, "Cookies.Forward"), "must be one of none, whitelist, all (got %q)", cookies.Forward)
		cp.Cookies = none()
	}
	orp.Cookies = cp.Cookies

	cp.Headers = none()
	orp.Headers = none()
	var hs []string
	for i, h := range fv.Headers.All() {
		if h == "*" {
			cp.Headers = all()
			orp.Headers = Selection{Behavior: SelectAllViewer}
			cp.MinTTL, cp.DefaultTTL, cp.MaxTTL = 0, 0, 0
			hs = nil
			break
		}
		if !isHeaderName(h) {
			p.add(index(join(fp, "Headers.Items"), i), "%q is not a header name", h)
			continue
		}
		hs = append(hs, h)
	}
	if len(hs) > 0 {
		cp.Headers = headers(SelectWhitelist, hs...)
		orp.Headers = headers(SelectWhitelist, hs...)
	}
	return cp, orp
}

func policyKeyError(kind, key string, names []string) string {
	msg := fmt.Sprintf("%q names no managed or custom %s policy", key, kind)
	if s := suggestPolicy(names, key); s != "" {
		msg += " (did you mean " + s + "?)"
	}
	return msg
}

// policyNames are the names a behaviour may give a policy of one kind: the
// managed ones without their "Managed-" prefix, as the guide writes them,
// and the custom ones' keys.
func policyNames[P any](managed []string, custom map[string]P) []string {
	names := make([]string, 0, len(managed)+len(custom))
	for _, n := range managed {
		names = append(names, strings.TrimPrefix(n, "Managed-"))
	}
	for k := range custom {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// suggestPolicy returns the policy name closest to key — one differing
// only in case, else the nearest by edit distance if close enough
// (CachingOptimised → CachingOptimized) — or "".
func suggestPolicy(names []string, key string) string {
	k := strings.ToLower(strings.TrimPrefix(key, "Managed-"))
	best, bestDist := "", 0
	for _, n := range names {
		if strings.EqualFold(n, k) {
			return n
		}
		if d := editDistance(strings.ToLower(n), k); best == "" || d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" && bestDist <= max(2, len(k)/5) {
		return best
	}
	return ""
}

// managedNames are the names of managed policies.
func managedNames[P any](ps []P, name func(P) string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = name(p)
	}
	return out
}
