package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Load reads, validates and compiles the configuration file at path. On any
// problem it returns Errors, every one naming the file, the field and the reason.
//
// The file is either edgefront's settings file or, for convenience, a
// DistributionConfig itself (bare, or wrapped as get-distribution-config or
// get-distribution print it), which then is one distribution with default
// settings. Only a failure to read path itself is returned as a plain
// (wrapped) error.
func Load(path string) (*Config, error) { return LoadWith(path, TemplateInputs{}) }

// LoadWith is Load with the parameter values and imports a CloudFormation
// template's Ref and Fn::ImportValue need (see TemplateInputs).
func LoadWith(path string, in TemplateInputs) (*Config, error) {
	if isCloudAssembly(path) { // a CDK cloud assembly (cdk.out): cdkassembly.go
		return loadCloudAssembly(path, in)
	}
	if isTerraformPath(path) { // a directory of .tf files, or one (terraform.go)
		l := &loader{dir: path, pol: newPolicySet(), inputs: in}
		sp := l.file(path)
		return l.terraformRoot(sp, path, nil, &Config{Source: path})
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseWith(path, data, in)
}

// Parse validates and compiles a configuration already read. name is used in
// errors and to pick the format (.json, .yaml/.yml; otherwise sniffed); dir
// resolves relative configFile paths.
func Parse(name string, data []byte) (*Config, error) { return ParseWith(name, data, TemplateInputs{}) }

// ParseWith is Parse with a template's parameter values and imports.
func ParseWith(name string, data []byte, in TemplateInputs) (*Config, error) {
	l := &loader{dir: filepath.Dir(name), pol: newPolicySet(), inputs: in}
	sp := l.file(name)
	doc, err := parseDocument(name, data)
	if err != nil {
		sp.add(syntaxField, "%v", err)
		return nil, l.errors()
	}
	cfg := &Config{Source: name}
	if isTerraformJSON(doc) { // terraform show -json: terraform_json.go
		l.dir = filepath.Dir(name)
		return l.terraformRoot(sp, name, doc, cfg)
	}
	if isTemplateDocument(doc) { // a CloudFormation template: cloudformation.go
		return l.template(sp, name, data, doc, cfg)
	}
	if isDistributionDocument(doc) {
		compileSettings(sp, &settingsFile{}, l.dir, cfg)
		dc, id, domain := decodeDistributionDocument(sp, "", "DistributionConfig", doc)
		seed := dc.CallerReference
		if seed == "" {
			seed = filepath.Base(name)
		}
		src := distSource{id: id, domainName: domain, settings: sp}
		if src.id == "" {
			src.id = DeriveDistributionID(seed)
		}
		if src.domainName == "" {
			src.domainName = DeriveDomainName(src.id)
		}
		cfg.Distributions = append(cfg.Distributions, compileDistribution(sp, l.root(doc, "", "DistributionConfig"), dc, src, l.pol))
		return l.result(cfg)
	}

	var s settingsFile
	decodeInto(sp, "", doc, &s)
	compileSettings(sp, &s, l.dir, cfg)
	l.pol.functions, l.stores = cfg.Functions, cfg.KeyValueStores
	l.pol.lambda = cfg.lambdaSet()
	l.keys = cfg.Keys
	l.customPolicies(sp, &s)
	l.inputs = mergeInputs(TemplateInputs{Parameters: s.Parameters, Imports: s.Imports}, l.inputs)
	if len(s.Distributions) == 0 {
		sp.add("distributions", "at least one distribution is required")
	}
	for i := range s.Distributions {
		if d := l.distribution(sp, index("distributions", i), &s.Distributions[i], cfg.Quotas); d != nil {
			cfg.Distributions = append(cfg.Distributions, d)
		}
	}
	checkUnique(sp, cfg.Distributions)
	return l.result(cfg)
}

// syntaxField is the Field of an Error about a file that does not parse.
const syntaxField = "(syntax)"

// loader collects the problems of every file one configuration reads.
type loader struct {
	dir       string
	pol       *policySet
	files     []*problems
	inputs    TemplateInputs // a template's parameters and imports
	templates map[string]*readTemplate
	keys      *Keys                     // the configuration's keys, which templates' keys join
	tfRead    map[string]*readTerraform // Terraform inputs read (terraform.go)
	stores    map[string]*KeyValueStore // the configuration's key value stores, which templates' join
}

func (l *loader) file(name string) *problems {
	p := newProblems(name)
	l.files = append(l.files, p)
	return p
}

func (l *loader) errors() Errors {
	var all Errors
	for _, f := range l.files {
		all = append(all, f.sorted()...)
	}
	return all
}

func (l *loader) result(cfg *Config) (*Config, error) {
	for _, f := range l.files {
		if !slices.Contains(cfg.Files, f.file) {
			cfg.Files = append(cfg.Files, f.file)
		}
	}
	useEnvironmentCredentials(l.files[0], cfg.Distributions, os.Getenv)
	if errs := l.errors(); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// root returns the path of the DistributionConfig inside doc.
func (l *loader) root(doc any, base, bare string) string {
	if o, ok := doc.(*object); ok {
		switch {
		case o.has("Distribution"):
			return join(join(base, "Distribution"), "DistributionConfig")
		case o.has("DistributionConfig"):
			return join(base, "DistributionConfig")
		}
	}
	return bare
}

func (l *loader) customPolicies(sp *problems, s *settingsFile) {
	for i, raw := range s.CachePolicies {
		v, path := unwrap(raw.v, index("cachePolicies", i), "CachePolicy")
		var cp CustomCachePolicy
		decodeInto(sp, path, v, &cp)
		c := compileCachePolicy(sp, path, &cp)
		register(sp, join(path, "Id"), join(path, "CachePolicyConfig.Name"), cp.Id, c.Name, l.pol.cache, c)
	}
	for i, raw := range s.OriginRequestPolicies {
		v, path := unwrap(raw.v, index("originRequestPolicies", i), "OriginRequestPolicy")
		var op CustomOriginRequestPolicy
		decodeInto(sp, path, v, &op)
		c := compileOriginRequestPolicy(sp, path, &op)
		register(sp, join(path, "Id"), join(path, "OriginRequestPolicyConfig.Name"), op.Id, c.Name, l.pol.origin, c)
	}
	for i, raw := range s.ResponseHeadersPolicies {
		v, path := unwrap(raw.v, index("responseHeadersPolicies", i), "ResponseHeadersPolicy")
		var rp CustomResponseHeadersPolicy
		decodeInto(sp, path, v, &rp)
		c := compileResponseHeadersPolicy(sp, path, &rp)
		register(sp, join(path, "Id"), join(path, "ResponseHeadersPolicyConfig.Name"), rp.Id, c.Name, l.pol.response, c)
	}
}

// distribution reads and compiles the distribution at path of the settings,
// within quotas.
func (l *loader) distribution(sp *problems, at string, ds *distributionSettings, quotas Quotas) *Distribution {
	var (
		doc        any
		fp         = sp
		base, bare string
		seed       string
	)
	switch {
	case isTerraformSetting(ds) && (ds.Template != "" || ds.ConfigFile != "" || ds.Config.set):
		sp.add(at, "give one of template, terraform, configFile and config")
		return nil
	case isTerraformSetting(ds):
		return l.terraformSettingsDistribution(sp, at, ds, quotas)
	case ds.Template != "" && (ds.ConfigFile != "" || ds.Config.set):
		sp.add(at, "give one of template, configFile and config")
		return nil
	case ds.Template != "":
		return l.templateDistribution(sp, at, ds, quotas)
	case ds.Resource != "":
		sp.add(join(at, "resource"), "is only for a template")
		return nil
	case ds.ConfigFile != "" && ds.Config.set:
		sp.add(at, "give configFile or config, not both")
		return nil
	case ds.ConfigFile != "":
		file := resolve(l.dir, ds.ConfigFile)
		data, err := os.ReadFile(file)
		if err != nil {
			sp.add(join(at, "configFile"), "%v", err)
			return nil
		}
		fp = l.file(file)
		if doc, err = parseDocument(file, data); err != nil {
			fp.add(syntaxField, "%v", err)
			return nil
		}
		bare, seed = "DistributionConfig", filepath.ToSlash(ds.ConfigFile)
	case ds.Config.set:
		doc = ds.Config.v
		base = join(at, "config")
		bare, seed = base, at
	default:
		sp.add(at, "template, configFile or config is required")
		return nil
	}
	dc, id, domain := decodeDistributionDocument(fp, base, bare, doc)
	if dc.CallerReference != "" {
		seed = dc.CallerReference
	}
	src := distSource{
		id: ds.ID, domainName: ds.DomainName, settings: sp, at: at,
		endpoints: ds.OriginEndpoints, credentials: ds.OriginCredentials, quotas: quotas,
	}
	switch {
	case src.id != "":
		if !isDistributionID(src.id) {
			sp.add(join(at, "id"), "%q is not a distribution ID (1 to 128 letters and digits)", src.id)
		}
	case id != "":
		src.id = id
	default:
		src.id = DeriveDistributionID(seed)
	}
	switch {
	case src.domainName != "":
		if !isHostName(src.domainName, false) {
			sp.add(join(at, "domainName"), "%q is not a host name", src.domainName)
		}
	case domain != "":
		src.domainName = domain
	default:
		src.domainName = DeriveDomainName(src.id)
	}
	src.domainName = strings.ToLower(src.domainName)
	d := compileDistribution(fp, l.root(doc, base, bare), dc, src, l.pol)
	compileEdgeSettings(sp, at, ds, d)
	return d
}

func isDistributionID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkUnique reports distributions that share an ID or a host name: a
// request's Host must lead to exactly one distribution.
func checkUnique(sp *problems, ds []*Distribution) {
	ids := map[string]int{}
	hosts := map[string]int{}
	for i, d := range ds {
		at := index("distributions", i)
		if j, dup := ids[d.ID]; dup {
			sp.add(join(at, "id"), "%q is also the ID of distributions[%d]", d.ID, j)
		}
		ids[d.ID] = i
		for _, h := range append([]string{d.DomainName}, d.Aliases...) {
			if j, dup := hosts[h]; dup && j != i {
				sp.add(at, "host name %q is also served by distributions[%d]", h, j)
			}
			hosts[h] = i
		}
	}
}

// isDistributionDocument reports whether a top-level document is a
// DistributionConfig (bare or wrapped) rather than a settings file.
func isDistributionDocument(doc any) bool {
	o, ok := doc.(*object)
	if !ok {
		return false
	}
	for _, k := range []string{"DistributionConfig", "Distribution", "Origins", "DefaultCacheBehavior", "CallerReference", "CacheBehaviors"} {
		if o.has(k) {
			return true
		}
	}
	return false
}

// distributionConfigDocument is get-distribution-config's output.
type distributionConfigDocument struct {
	ETag               string   `json:"ETag"`
	DistributionConfig rawValue `json:"DistributionConfig"`
}

// distributionDocument is get-distribution's output.
type distributionDocument struct {
	ETag         string `json:"ETag"`
	Distribution *struct {
		Id                            string   `json:"Id"`
		ARN                           string   `json:"ARN"`
		Status                        string   `json:"Status"`
		LastModifiedTime              string   `json:"LastModifiedTime"`
		InProgressInvalidationBatches *int     `json:"InProgressInvalidationBatches"`
		DomainName                    string   `json:"DomainName"`
		ActiveTrustedSigners          rawValue `json:"ActiveTrustedSigners"`
		ActiveTrustedKeyGroups        rawValue `json:"ActiveTrustedKeyGroups"`
		AliasICPRecordals             rawValue `json:"AliasICPRecordals"`
		DistributionConfig            rawValue `json:"DistributionConfig"`
	} `json:"Distribution"`
}

// decodeDistributionDocument decodes a DistributionConfig that is bare
// (reported under bare) or wrapped (under base), returning the Id and
// DomainName a get-distribution wrapper carries.
func decodeDistributionDocument(p *problems, base, bare string, doc any) (dc *DistributionConfig, id, domain string) {
	dc = &DistributionConfig{}
	o, _ := doc.(*object)
	switch {
	case o.has("Distribution"):
		var w distributionDocument
		decodeInto(p, base, doc, &w)
		path := join(base, "Distribution")
		if w.Distribution == nil {
			p.add(path, "expected an object")
			return dc, "", ""
		}
		if !w.Distribution.DistributionConfig.set {
			p.add(join(path, "DistributionConfig"), "is required")
		}
		decodeInto(p, join(path, "DistributionConfig"), w.Distribution.DistributionConfig.v, dc)
		return dc, w.Distribution.Id, w.Distribution.DomainName
	case o.has("DistributionConfig"):
		var w distributionConfigDocument
		decodeInto(p, base, doc, &w)
		decodeInto(p, join(base, "DistributionConfig"), w.DistributionConfig.v, dc)
	default:
		decodeInto(p, bare, doc, dc)
	}
	return dc, "", ""
}

// QuickstartID is the distribution ID of the quick-mode configuration.
const QuickstartID = "EQUICKSTART"

// QuickCachePolicyName and QuickCachePolicyID name quick mode's default cache
// policy: a custom policy a CloudFront user could create that honours the
// origin. MinTTL 0 and DefaultTTL 0 leave caching to the origin's
// Cache-Control/Expires (MaxTTL one year caps it); all query strings, all
// cookies and the Authorization header are in the cache key, so the origin
// sees them and two users never share a response. CloudFront forwards
// Authorization on a cached GET/HEAD only when the cache policy keys it
// ("Configure CloudFront to forward the Authorization header", CloudFront
// Developer Guide).
const (
	QuickCachePolicyName = "edgefront-QuickMode-HonorOrigin"
	QuickCachePolicyID   = "7c1e0a5e-9d2b-4f00-8e1d-9e0ed6e0f001"
)

// quickCachePolicy is quick mode's default cache policy (QuickCachePolicyName).
func quickCachePolicy() *CustomCachePolicy {
	zero, year, yes := int64(0), int64(DefaultMaxTTL), true
	return &CustomCachePolicy{Id: QuickCachePolicyID, CachePolicyConfig: &CachePolicyConfig{
		Name:    QuickCachePolicyName,
		Comment: "edgefront quick mode: the origin's Cache-Control decides; query strings, cookies and Authorization in the key",
		MinTTL:  &zero, DefaultTTL: &zero, MaxTTL: &year,
		ParametersInCacheKeyAndForwardedToOrigin: &ParametersInCacheKey{
			EnableAcceptEncodingGzip: &yes, EnableAcceptEncodingBrotli: &yes,
			HeadersConfig:      &HeadersConfig{HeaderBehavior: SelectWhitelist, Headers: &List[string]{Items: []string{"Authorization"}}},
			CookiesConfig:      &CookiesConfig{CookieBehavior: SelectAll},
			QueryStringsConfig: &QueryStringsConfig{QueryStringBehavior: SelectAll},
		},
	}}
}

// Quick mode's default policies besides QuickCachePolicyName.
const (
	// QuickOriginRequestPolicy forwards every viewer header, cookie and
	// query string (Authorization only as the cache policy keys it).
	QuickOriginRequestPolicy = "Managed-AllViewer"
)

// QuickMode describes a quick-mode configuration: one distribution in front
// of one custom origin. An empty policy field takes quick mode's default
// (QuickCachePolicyName, QuickOriginRequestPolicy, no response headers
// policy); any managed policy's name (with or without "Managed-") or ID is
// accepted, and so is QuickCachePolicyName.
type QuickMode struct {
	Origin                string // http:// or https:// URL, optional port and path prefix
	CachePolicy           string
	OriginRequestPolicy   string
	ResponseHeadersPolicy string
}

// ForOrigin returns the quick-mode configuration for the origin at rawURL
// with quick mode's default policies: QuickMode{Origin: rawURL}.Config().
func ForOrigin(rawURL string) (*Config, error) { return QuickMode{Origin: rawURL}.Config() }

// Config returns the quick-mode configuration: one distribution (ID
// EQUICKSTART) whose default behaviour sends everything to the custom origin
// with the chosen policies, allow-all, all seven methods allowed.
func (q QuickMode) Config() (*Config, error) {
	rawURL := q.Origin
	u, err := url.Parse(rawURL)
	if err != nil || !isHTTPURL(rawURL) {
		return nil, fmt.Errorf("origin %q: expected an http:// or https:// URL with a host", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("origin %q: user info, query and fragment are not allowed", rawURL)
	}
	host := u.Hostname()
	var endpoints map[string]stringList
	if !isHostName(host, false) || net.ParseIP(host).To4() == nil && net.ParseIP(host) != nil {
		// An IPv6 literal is no CloudFront domain name: reach it as an endpoint.
		endpoints = map[string]stringList{"origin": {u.Scheme + "://" + u.Host}}
		host = "origin.invalid"
	}
	co := &CustomOriginConfig{OriginProtocolPolicy: HTTPOnly}
	if u.Scheme == "https" {
		co.OriginProtocolPolicy = HTTPSOnly
	}
	if port := u.Port(); port != "" {
		var n int
		if _, err := fmt.Sscan(port, &n); err != nil {
			return nil, fmt.Errorf("origin %q: bad port: %w", rawURL, err)
		}
		if u.Scheme == "https" {
			co.HTTPSPort = &n
		} else {
			co.HTTPPort = &n
		}
	}
	pol := newPolicySet()
	p := newProblems("(quick mode)")
	qcp := quickCachePolicy()
	register(p, "", "", qcp.Id, qcp.CachePolicyConfig.Name, pol.cache, compileCachePolicy(p, "quickCachePolicy", qcp))
	cachePolicy, orPolicy := q.CachePolicy, q.OriginRequestPolicy
	if cachePolicy == "" {
		cachePolicy = QuickCachePolicyID
	}
	if orPolicy == "" {
		orPolicy = QuickOriginRequestPolicy
	}
	// The flags take names; the DistributionConfig holds IDs as CloudFront's does.
	ids := []struct {
		flag, key string
		find      func(string) (string, bool)
	}{
		{"--cache-policy", cachePolicy, func(k string) (string, bool) {
			if c, ok := pol.cachePolicy(k); ok {
				return c.ID, true
			}
			return "", false
		}},
		{"--origin-request-policy", orPolicy, func(k string) (string, bool) {
			if c, ok := pol.originRequestPolicy(k); ok {
				return c.ID, true
			}
			return "", false
		}},
		{"--response-headers-policy", q.ResponseHeadersPolicy, func(k string) (string, bool) {
			if c, ok := pol.responseHeadersPolicy(k); ok {
				return c.ID, true
			}
			return "", false
		}},
	}
	var resolved [3]string
	for i, x := range ids {
		if x.key == "" {
			continue
		}
		id, ok := x.find(x.key)
		if !ok {
			return nil, fmt.Errorf("%s %q: no managed policy has that name or ID", x.flag, x.key)
		}
		resolved[i] = id
	}
	enabled, compress := true, true
	all7 := []string{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
	dc := &DistributionConfig{
		CallerReference: "edgefront-quickstart",
		Comment:         "edgefront quick mode for " + rawURL,
		Enabled:         &enabled,
		Origins: &List[OriginConfig]{Items: []OriginConfig{{
			Id: "origin", DomainName: host, OriginPath: strings.TrimSuffix(u.Path, "/"), CustomOriginConfig: co,
		}}},
		DefaultCacheBehavior: &CacheBehaviorConfig{
			TargetOriginId:       "origin",
			ViewerProtocolPolicy: AllowAll,
			AllowedMethods: &AllowedMethods{
				List:          List[string]{Items: all7},
				CachedMethods: &List[string]{Items: []string{"GET", "HEAD"}},
			},
			Compress:                &compress,
			CachePolicyId:           resolved[0],
			OriginRequestPolicyId:   resolved[1],
			ResponseHeadersPolicyId: resolved[2],
		},
	}
	normalizeQuantities(dc)
	cfg := &Config{}
	compileSettings(p, &settingsFile{}, "", cfg)
	d := compileDistribution(p, "DistributionConfig", dc, distSource{
		id: QuickstartID, domainName: DeriveDomainName(QuickstartID), settings: p, endpoints: endpoints,
	}, pol)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	cfg.Distributions = []*Distribution{d}
	return cfg, nil
}

// normalizeQuantities fills the Quantity of the lists a DistributionConfig
// built in code has, as decoding does for one read from a file.
func normalizeQuantities(dc *DistributionConfig) {
	dc.Origins.normalizeQuantity()
	if am := dc.DefaultCacheBehavior.AllowedMethods; am != nil {
		am.normalizeQuantity()
		if am.CachedMethods != nil {
			am.CachedMethods.normalizeQuantity()
		}
	}
}

// Error is one configuration problem.
type Error struct {
	File   string
	Field  string // e.g. DistributionConfig.CacheBehaviors.Items[2].PathPattern
	Reason string
	// Code is CloudFront's API error code for the problem when it has one
	// of its own (e.g. TooManyCacheBehaviors); "" means InvalidArgument.
	Code string
}

func (e *Error) Error() string { return e.File + ": " + e.Field + ": " + e.Reason }

// Errors is every problem found in one configuration, in file order.
type Errors []*Error

func (es Errors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}
