package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file reads a CloudFormation template's AWS::CloudFront::Distribution
// resources. CloudFormation spells a DistributionConfig differently from
// the API (plain lists instead of {Quantity, Items}, CachedMethods beside
// AllowedMethods, OriginCustomHeaders, IPV6Enabled …), so each resource's
// Properties.DistributionConfig is first converted into the API's shape,
// then decoded and compiled as any other DistributionConfig; the problems
// found there are reported under the template's own field names.
//
// Intrinsic functions are resolved as CloudFormation would resolve them for
// one stack (cfnvalues.go); what only a real stack knows (parameters without
// a Default, other stacks' exports) comes from TemplateInputs, and anything
// else is an error naming the field.

// templateSections returns the top-level keys of a CloudFormation template.
func templateSections() []string {
	return []string{
		"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
		"Mappings", "Conditions", "Transform", "Resources", "Outputs",
	}
}

// distributionResourceType is the resource type edgefront reads.
const distributionResourceType = "AWS::CloudFront::Distribution"

// isTemplateDocument reports whether a top-level document is a
// CloudFormation template: it has Resources or AWSTemplateFormatVersion,
// which neither a settings file nor a DistributionConfig has.
func isTemplateDocument(doc any) bool {
	o, ok := doc.(*object)
	return ok && (o.has("Resources") || o.has("AWSTemplateFormatVersion"))
}

// template compiles every AWS::CloudFront::Distribution of the template in
// data (already parsed as doc) into cfg, with default settings. The
// distribution IDs are the resources' logical IDs.
func (l *loader) template(sp *problems, name string, data []byte, doc any, cfg *Config) (*Config, error) {
	compileSettings(sp, &settingsFile{}, l.dir, cfg)
	if !isJSONInput(name, data) {
		// Re-read the YAML keeping its tags: the generic YAML reader drops
		// !Ref and friends, which would silently turn a reference into its
		// argument.
		d, err := parseTemplateYAML(data)
		if err != nil {
			sp.add(syntaxField, "%v", err)
			return nil, l.errors()
		}
		doc = d
	}
	l.keys = cfg.Keys
	l.pol.functions, l.stores = cfg.Functions, cfg.KeyValueStores
	l.pol.lambda = cfg.lambdaSet()
	l.pol.lambda.strict = true // a template names its own functions
	tds, c := convertTemplateWith(sp, doc, name, l.inputs)
	if c != nil {
		l.templatePolicies(sp, c.policies)
		l.templateKeys(sp, c.keys)
		l.templateFunctions(sp, c.functions)
		l.templateLambdas(sp, c.lambdas)
	}
	for _, td := range tds {
		tp := newProblems(sp.file)
		dc := &DistributionConfig{}
		decodeInto(tp, "DistributionConfig", td.config, dc)
		src := distSource{id: td.id, domainName: strings.ToLower(DeriveDomainName(td.id)), settings: tp}
		d := compileDistribution(tp, "DistributionConfig", dc, src, l.pol)
		for _, e := range tp.sorted() {
			sp.add(td.translate(e.Field), "%s", strings.ReplaceAll(e.Reason, ".Items[", "["))
		}
		if d != nil {
			for _, w := range d.Ignored {
				w.Field = td.translate(w.Field)
			}
			cfg.Distributions = append(cfg.Distributions, d)
		}
	}
	hosts := map[string]string{}
	for _, d := range cfg.Distributions {
		for _, h := range append([]string{d.DomainName}, d.Aliases...) {
			if other, dup := hosts[h]; dup && other != d.ID {
				sp.add(join("Resources", d.ID), "host name %q is also served by %s", h, other)
			}
			hosts[h] = d.ID
		}
	}
	return l.result(cfg)
}

// isJSONInput picks JSON as parseDocument does: by extension, else by the
// first non-blank byte.
func isJSONInput(name string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return true
	case ".yaml", ".yml":
		return false
	}
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// templateDistribution is one distribution resource converted to the API's
// shape.
type templateDistribution struct {
	id     string
	config *object
	paths  map[string]string // API field path → template field path
}

// translate turns a field path of the API-shaped config into the
// template's: the longest mapped prefix is replaced.
func (td *templateDistribution) translate(field string) string {
	for end := len(field); end > 0; {
		if to, ok := td.paths[field[:end]]; ok {
			return to + field[end:]
		}
		end = strings.LastIndexAny(field[:end], ".[")
	}
	return field
}

// converter converts one template, reporting to p.
type converter struct {
	p      *problems
	params map[string]templateParameter
	td     *templateDistribution
	set    map[string]string // API path → template path that set it

	inputs     TemplateInputs
	stackName  string // from the file name; AWS::StackName overrides it
	resources  map[string]templateResource
	conditions *object
	conds      map[string]memo // conditions evaluated
	values     map[string]memo // resource values computed, by logical ID and attribute
	mappings   *object
	policies   []templatePolicy
	keys       []templatePolicy   // public keys and key groups
	functions  []templateFunction // functions and key value stores
	lambdas    []templateLambda   // Lambda functions (cfnlambda.go)
}

// templatePolicy is a policy resource of the template, its properties
// resolved, to be registered as a custom policy.
type templatePolicy struct {
	id, typ, at string
	config      any
}

type templateParameter struct {
	typ        string
	def        any
	hasDefault bool
}

// noValue is what Ref AWS::NoValue resolves to: the property is omitted.
type noValue struct{}

// convertTemplateWith checks the template's structure and converts each
// distribution resource, in document order, returning the converter, which
// knows the template's resources, policies and keys (nil when the template
// is no object).
func convertTemplateWith(p *problems, doc any, file string, inputs TemplateInputs) ([]*templateDistribution, *converter) {
	top, ok := doc.(*object)
	if !ok {
		p.add(syntaxField, "a template must be an object, got %s", describe(doc))
		return nil, nil
	}
	c := &converter{p: p, params: map[string]templateParameter{}, inputs: inputs, stackName: stackName(file),
		resources: map[string]templateResource{}, conds: map[string]memo{}, values: map[string]memo{}}
	c.conditions, _ = top.vals["Conditions"].(*object)
	c.mappings, _ = top.vals["Mappings"].(*object)
	for _, k := range top.keys {
		p.visit(k)
		if !hasString(templateSections(), k) {
			p.add(k, "%s", unknownReason(templateSections(), k))
		}
	}
	if params, ok := top.vals["Parameters"].(*object); ok {
		for _, name := range params.keys {
			var tp templateParameter
			if param, ok := params.vals[name].(*object); ok {
				tp.typ, _ = param.vals["Type"].(string)
				tp.def, tp.hasDefault = param.vals["Default"]
			}
			c.params[name] = tp
		}
	}
	resources, ok := top.vals["Resources"].(*object)
	if !ok {
		p.add("Resources", "expected an object of resources, got %s", describe(top.vals["Resources"]))
		return nil, c
	}
	for _, id := range resources.keys {
		if res, ok := resources.vals[id].(*object); ok {
			typ, _ := res.vals["Type"].(string)
			props, _ := res.vals["Properties"].(*object)
			c.resources[id] = templateResource{typ: typ, props: props}
		}
	}
	var out []*templateDistribution
	for _, id := range resources.keys {
		at := join("Resources", id)
		p.visit(at)
		res, ok := resources.vals[id].(*object)
		if !ok {
			p.add(at, "expected an object, got %s", describe(resources.vals[id]))
			continue
		}
		if cond, ok := res.vals["Condition"].(string); ok {
			yes, err := c.condition(cond, 0)
			if err != nil {
				p.add(join(at, "Condition"), "%v", err)
				continue
			}
			if !yes { // CloudFormation does not create the resource
				continue
			}
		}
		typ, _ := res.vals["Type"].(string)
		if isTemplatePolicyType(typ) {
			c.policy(at, id, typ, res)
			continue
		}
		if typ == "AWS::CloudFront::PublicKey" || typ == "AWS::CloudFront::KeyGroup" {
			c.keyResource(at, id, typ, res)
			continue
		}
		if typ == "AWS::CloudFront::Function" || typ == "AWS::CloudFront::KeyValueStore" {
			c.functionResource(at, id, typ, res) // cfnfunctions.go
			continue
		}
		if typ == "AWS::Lambda::Function" {
			c.lambdaResource(at, id, res) // cfnlambda.go
			continue
		}
		if typ != distributionResourceType {
			continue
		}
		if !isDistributionID(id) {
			p.add(at, "logical ID %q cannot be a distribution ID (1 to 128 letters and digits)", id)
			continue
		}
		props, ok := res.vals["Properties"].(*object)
		if !ok {
			p.add(join(at, "Properties"), "expected an object with DistributionConfig, got %s", describe(res.vals["Properties"]))
			continue
		}
		at = join(at, "Properties")
		p.visit(at)
		for _, k := range props.keys {
			p.visit(join(at, k))
			if k != "DistributionConfig" && k != "Tags" {
				p.add(join(at, k), "%s", unknownReason([]string{"DistributionConfig", "Tags"}, k))
			}
		}
		at = join(at, "DistributionConfig")
		c.td = &templateDistribution{id: id, config: newObject(), paths: map[string]string{"DistributionConfig": at}}
		c.set = map[string]string{}
		raw, ok := props.vals["DistributionConfig"]
		if !ok {
			p.add(at, "is required")
			continue
		}
		v, keep := c.resolve(at, raw)
		if !keep {
			continue
		}
		dc, ok := v.(*object)
		if !ok {
			p.add(at, "expected an object, got %s", describe(v))
			continue
		}
		c.object(at, "DistributionConfig", dc, c.td.config, distributionConfigSchema())
		out = append(out, c.td)
	}
	if len(out) == 0 && len(p.errs) == 0 {
		p.add("Resources", "has no %s resource", distributionResourceType)
	}
	return out, c
}

// cfnKind is how one CloudFormation property is converted.
type cfnKind uint8

const (
	cfnString cfnKind = iota
	cfnInt
	cfnBool
	cfnObject // an object: elem is its schema
	cfnList   // a plain list that the API wraps in {Quantity, Items}
	cfnArray  // a plain list in the API too
	cfnLegacy // a legacy property edgefront does not read
)

// cfnProp is one property of a CloudFormation type.
type cfnProp struct {
	name   string
	api    string // path in the API object relative to the parent; "" = name; "." = the parent itself (lists)
	kind   cfnKind
	elem   cfnType // schema of an object, or of list items (nil items are scalars of kind item)
	item   cfnKind
	enable bool // a list whose API wrapper also has Enabled (true when the list is not empty)
}

type cfnType []cfnProp

func (t cfnType) names() []string {
	out := make([]string, len(t))
	for i, p := range t {
		out[i] = p.name
	}
	return out
}

func (t cfnType) find(name string) (cfnProp, bool) {
	for _, p := range t {
		if p.name == name {
			return p, true
		}
	}
	return cfnProp{}, false
}

func (p cfnProp) apiName() string {
	if p.api == "" {
		return p.name
	}
	return p.api
}

// Property constructors.
func str(name string) cfnProp               { return cfnProp{name: name} }
func integer(name string) cfnProp           { return cfnProp{name: name, kind: cfnInt} }
func boolean(name string) cfnProp           { return cfnProp{name: name, kind: cfnBool} }
func obj(name string, elem cfnType) cfnProp { return cfnProp{name: name, kind: cfnObject, elem: elem} }
func strList(name, api string) cfnProp      { return cfnProp{name: name, api: api, kind: cfnList} }
func objList(name, api string, elem cfnType) cfnProp {
	return cfnProp{name: name, api: api, kind: cfnList, elem: elem}
}
func renamed(p cfnProp, api string) cfnProp { p.api = api; return p }

func cacheBehaviorSchema(withPath bool) cfnType {
	t := cfnType{
		strList("AllowedMethods", "AllowedMethods"),
		strList("CachedMethods", "AllowedMethods.CachedMethods"),
		str("CachePolicyId"),
		boolean("Compress"),
		integer("DefaultTTL"),
		str("FieldLevelEncryptionId"),
		obj("ForwardedValues", cfnType{
			obj("Cookies", cfnType{str("Forward"), strList("WhitelistedNames", "")}),
			strList("Headers", ""),
			boolean("QueryString"),
			strList("QueryStringCacheKeys", ""),
		}),
		objList("FunctionAssociations", "", cfnType{str("EventType"), str("FunctionARN")}),
		obj("GrpcConfig", cfnType{boolean("Enabled")}),
		objList("LambdaFunctionAssociations", "", cfnType{str("EventType"), boolean("IncludeBody"), str("LambdaFunctionARN")}),
		integer("MaxTTL"),
		integer("MinTTL"),
		str("OriginRequestPolicyId"),
		str("RealtimeLogConfigArn"),
		str("ResponseHeadersPolicyId"),
		boolean("SmoothStreaming"),
		str("TargetOriginId"),
		{name: "TrustedKeyGroups", kind: cfnList, enable: true},
		{name: "TrustedSigners", kind: cfnList, enable: true},
		str("ViewerProtocolPolicy"),
	}
	if withPath {
		t = append(t, str("PathPattern"))
	}
	return t
}

func originSchema() cfnType {
	return cfnType{
		integer("ConnectionAttempts"),
		integer("ConnectionTimeout"),
		obj("CustomOriginConfig", cfnType{
			integer("HTTPPort"),
			integer("HTTPSPort"),
			str("IpAddressType"),
			integer("OriginKeepaliveTimeout"),
			obj("OriginMtlsConfig", cfnType{str("ClientCertificateArn")}),
			str("OriginProtocolPolicy"),
			integer("OriginReadTimeout"),
			strList("OriginSSLProtocols", "OriginSslProtocols"),
		}),
		str("DomainName"),
		str("Id"),
		str("OriginAccessControlId"),
		objList("OriginCustomHeaders", "CustomHeaders", cfnType{str("HeaderName"), str("HeaderValue")}),
		str("OriginPath"),
		obj("OriginShield", cfnType{boolean("Enabled"), str("OriginShieldRegion")}),
		integer("ResponseCompletionTimeout"),
		obj("S3OriginConfig", cfnType{str("OriginAccessIdentity"), integer("OriginReadTimeout")}),
		obj("VpcOriginConfig", cfnType{
			integer("OriginKeepaliveTimeout"), integer("OriginReadTimeout"), str("OwnerAccountId"), str("VpcOriginId"),
		}),
	}
}

// distributionConfigSchema is CloudFormation's DistributionConfig.
func distributionConfigSchema() cfnType {
	statusCodes := cfnType{{name: "Items", kind: cfnArray, item: cfnInt}, integer("Quantity")}
	members := cfnType{{name: "Items", kind: cfnArray, elem: cfnType{str("OriginId")}}, integer("Quantity")}
	originGroup := cfnType{
		obj("FailoverCriteria", cfnType{obj("StatusCodes", statusCodes)}),
		str("Id"),
		obj("Members", members),
		str("SelectionCriteria"),
	}
	return cfnType{
		strList("Aliases", ""),
		str("AnycastIpListId"),
		objList("CacheBehaviors", "", cacheBehaviorSchema(true)),
		strList("CNAMEs", "Aliases"), // legacy spelling of Aliases
		str("Comment"),
		obj("ConnectionFunctionAssociation", cfnType{str("Id")}),
		str("ConnectionMode"),
		str("ContinuousDeploymentPolicyId"),
		objList("CustomErrorResponses", "", cfnType{
			integer("ErrorCachingMinTTL"), integer("ErrorCode"), str("ResponseCode"), str("ResponsePagePath"),
		}),
		{name: "CustomOrigin", kind: cfnLegacy},
		obj("DefaultCacheBehavior", cacheBehaviorSchema(false)),
		str("DefaultRootObject"),
		boolean("Enabled"),
		str("HttpVersion"),
		renamed(boolean("IPV6Enabled"), "IsIPV6Enabled"),
		{name: "Logging", kind: cfnObject, enable: true, elem: cfnType{str("Bucket"), boolean("IncludeCookies"), str("Prefix")}},
		obj("OriginGroups", cfnType{{name: "Items", kind: cfnArray, elem: originGroup}, integer("Quantity")}),
		objList("Origins", "", originSchema()),
		str("PriceClass"),
		obj("Restrictions", cfnType{
			obj("GeoRestriction", cfnType{strList("Locations", "."), str("RestrictionType")}),
		}),
		{name: "S3Origin", kind: cfnLegacy},
		boolean("Staging"),
		obj("TenantConfig", cfnType{{name: "ParameterDefinitions", kind: cfnArray, elem: cfnType{
			str("Name"),
			obj("Definition", cfnType{obj("StringSchema", cfnType{str("Comment"), str("DefaultValue"), boolean("Required")})}),
		}}}),
		obj("ViewerCertificate", cfnType{
			renamed(str("AcmCertificateArn"), "ACMCertificateArn"),
			boolean("CloudFrontDefaultCertificate"),
			renamed(str("IamCertificateId"), "IAMCertificateId"),
			str("MinimumProtocolVersion"),
			renamed(str("SslSupportMethod"), "SSLSupportMethod"),
		}),
		obj("ViewerMtlsConfig", cfnType{
			str("Mode"),
			obj("TrustStoreConfig", cfnType{
				boolean("AdvertiseTrustStoreCaNames"), boolean("IgnoreCertificateExpiry"), str("TrustStoreId"),
			}),
		}),
		str("WebACLId"),
	}
}

// object converts the template object src (at path at) into dst, the API
// object at apiPath, following schema t.
func (c *converter) object(at, apiPath string, src, dst *object, t cfnType) {
	c.td.paths[apiPath] = at
	for _, prop := range t { // fields that are absent are reported under their template name too
		api := c.apiPath(apiPath, prop)
		for _, a := range []string{api, join(api, "Items")} {
			if _, taken := c.td.paths[a]; !taken && (a == api || prop.kind == cfnList) {
				c.td.paths[a] = join(at, prop.name)
			}
		}
	}
	for _, k := range src.keys {
		path := join(at, k)
		c.p.visit(path)
		prop, ok := t.find(k)
		if !ok {
			c.p.add(path, "%s", unknownReason(t.names(), k))
			continue
		}
		if prop.kind == cfnLegacy {
			c.p.add(path, "is a legacy property edgefront does not read; use Origins and DefaultCacheBehavior")
			continue
		}
		v, keep := c.resolve(path, src.vals[k])
		if !keep {
			continue
		}
		api := c.apiPath(apiPath, prop)
		setting := api
		if prop.kind == cfnList {
			setting = join(api, "Items")
		}
		if other, dup := c.set[setting]; dup {
			c.p.add(path, "sets the same setting as %s", other)
			continue
		}
		c.set[setting] = path
		c.td.paths[api] = path
		c.td.paths[setting] = path
		switch prop.kind {
		case cfnObject:
			o, ok := v.(*object)
			if !ok {
				c.put(dst, apiPath, api, v)
				continue
			}
			sub := newObject()
			if prop.enable {
				sub.put("Enabled", true)
			}
			c.put(dst, apiPath, api, sub)
			c.object(path, api, o, sub, prop.elem)
		case cfnList, cfnArray:
			list, ok := v.([]any)
			if !ok {
				if prop.kind == cfnList {
					c.put(dst, apiPath, join(api, "Items"), v)
				} else {
					c.put(dst, apiPath, api, v)
				}
				continue
			}
			items := make([]any, 0, len(list))
			itemBase := api
			if prop.kind == cfnList {
				itemBase = join(api, "Items")
				c.td.paths[itemBase] = path
			}
			for i, item := range list {
				ipath, iapi := index(path, i), index(itemBase, len(items))
				c.p.visit(ipath)
				iv, keep := c.resolve(ipath, item)
				if !keep {
					continue
				}
				c.td.paths[iapi] = ipath
				if o, ok := iv.(*object); ok && prop.elem != nil {
					sub := newObject()
					c.object(ipath, iapi, o, sub, prop.elem)
					iv = sub
				} else {
					iv = scalar(prop.item, iv)
				}
				items = append(items, iv)
			}
			if prop.kind == cfnList {
				c.put(dst, apiPath, join(api, "Items"), items)
				if prop.enable {
					c.put(dst, apiPath, join(api, "Enabled"), len(items) > 0)
				}
			} else {
				c.put(dst, apiPath, api, items)
			}
		default:
			c.put(dst, apiPath, api, scalar(prop.kind, v))
		}
	}
	// CloudFormation's CachedMethods may come without AllowedMethods, whose
	// default is GET and HEAD; the API nests one in the other.
	if am, ok := dst.vals["AllowedMethods"].(*object); ok && !am.has("Items") {
		am.put("Items", []any{"GET", "HEAD"})
	}
}

// apiPath is the API path of prop inside the object at parent.
func (c *converter) apiPath(parent string, prop cfnProp) string {
	switch api := prop.apiName(); api {
	case ".":
		return parent
	default:
		return join(parent, api)
	}
}

// put sets the value at the API path full (below dst, whose path is base),
// creating the objects between.
func (c *converter) put(dst *object, base, full string, v any) { putPath(dst, base, full, v) }

// putPath sets the value at the API path full (below dst, whose path is
// base), creating the objects between: the templates' and Terraform's
// readers build DistributionConfigs with it.
func putPath(dst *object, base, full string, v any) {
	rel := strings.TrimPrefix(strings.TrimPrefix(full, base), ".")
	parts := strings.Split(rel, ".")
	o := dst
	for _, part := range parts[:len(parts)-1] {
		next, ok := o.vals[part].(*object)
		if !ok {
			next = newObject()
			o.put(part, next)
		}
		o = next
	}
	o.put(parts[len(parts)-1], v)
}

// scalar coerces CloudFormation's string-typed numbers and booleans ("80",
// "true"), which CloudFormation accepts, into the JSON types the decoder
// expects; anything else is left for the decoder to judge.
func scalar(kind cfnKind, v any) any {
	s, isString := v.(string)
	switch kind {
	case cfnInt:
		if isString {
			if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
				return json.Number(strings.TrimSpace(s))
			}
		}
	case cfnBool:
		if isString {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				return true
			case "false":
				return false
			}
		}
	case cfnString:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b)
		}
	}
	return v
}

// resolve evaluates an intrinsic function at path. keep is false when the
// property is to be omitted (AWS::NoValue) or could not be resolved (the
// problem is reported).
func (c *converter) resolve(path string, v any) (out any, keep bool) {
	out, err := c.eval(v, 0)
	if err != nil {
		c.p.add(path, "%v", err)
		return nil, false
	}
	if _, omit := out.(noValue); omit {
		return nil, false
	}
	return out, true
}

// ref resolves Ref name: a parameter (its given value, else its Default), a
// pseudo parameter, AWS::NoValue or a resource of the template.
func (c *converter) ref(name string, depth int) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	param, ok := c.params[name]
	given, isGiven := c.inputs.Parameters[name]
	switch {
	case ok && isGiven:
		return c.paramValue(param, given), nil
	case ok && strings.HasPrefix(param.typ, "AWS::SSM::"):
		return nil, fmt.Errorf("Ref %s: an SSM parameter's value is only known to the stack; give it (--parameter %s=VALUE)", name, name)
	case ok && param.hasDefault:
		if s, isString := param.def.(string); isString {
			return c.paramValue(param, s), nil
		}
		return param.def, nil
	case ok:
		return nil, fmt.Errorf("Ref %s: the parameter has no Default, so its value is only known when the stack is created; give it (--parameter %s=VALUE)", name, name)
	}
	if v, ok := c.pseudo(name); ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, fmt.Errorf("Ref %s: edgefront does not know this pseudo parameter", name)
	}
	return c.resourceValue(name, "", depth+1)
}

// paramValue is a parameter's string value as its Type reads it (lists
// split at commas).
func (c *converter) paramValue(param templateParameter, s string) any {
	if strings.HasPrefix(param.typ, "List<") || param.typ == "CommaDelimitedList" {
		var list []any
		for _, item := range strings.Split(s, ",") {
			list = append(list, strings.TrimSpace(item))
		}
		return list
	}
	return s
}

// stringFunction evaluates Fn::Sub or Fn::Join to a string.
func (c *converter) stringFunction(fn string, arg any, depth int) (string, error) {
	if depth > 20 {
		return "", fmt.Errorf("%s: nested too deeply", fn)
	}
	switch fn {
	case "Fn::Sub":
		tmpl, vars := "", (*object)(nil)
		switch a := arg.(type) {
		case string:
			tmpl = a
		case []any:
			if len(a) != 2 {
				return "", errors.New("Fn::Sub takes a string or [string, {variables}]")
			}
			s, ok1 := a[0].(string)
			m, ok2 := a[1].(*object)
			if !ok1 || !ok2 {
				return "", errors.New("Fn::Sub takes a string or [string, {variables}]")
			}
			tmpl, vars = s, m
		default:
			return "", errors.New("Fn::Sub takes a string or [string, {variables}]")
		}
		return c.sub(tmpl, vars, depth)
	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return "", errors.New("Fn::Join takes [delimiter, [values]]")
		}
		delim, ok1 := a[0].(string)
		parts, ok2 := a[1].([]any)
		if !ok1 || !ok2 {
			return "", errors.New("Fn::Join takes [delimiter, [values]]")
		}
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			s, err := c.stringValue(p, depth+1)
			if err != nil {
				return "", fmt.Errorf("Fn::Join: %w", err)
			}
			out = append(out, s)
		}
		return strings.Join(out, delim), nil
	}
	return "", fmt.Errorf("%s cannot be resolved outside CloudFormation; write the value itself", fn)
}

// stringValue resolves v (a scalar or an intrinsic function) to a string.
func (c *converter) stringValue(v any, depth int) (string, error) {
	v, err := c.eval(v, depth+1)
	if err != nil {
		return "", err
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return "", fmt.Errorf("expected a string, got %s", describe(v))
}

// sub expands ${Name} in tmpl from vars or parameter Defaults; ${!x} is the
// literal ${x}.
func (c *converter) sub(tmpl string, vars *object, depth int) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		b.WriteString(tmpl[:i])
		end := strings.IndexByte(tmpl[i:], '}')
		if end < 0 {
			b.WriteString(tmpl[i:])
			return b.String(), nil
		}
		name := tmpl[i+2 : i+end]
		tmpl = tmpl[i+end+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		var s string
		var err error
		if v, ok := vars.get(name); ok {
			s, err = c.stringValue(v, depth+1)
		} else if id, attr, isAttr := strings.Cut(name, "."); isAttr {
			var v any
			if v, err = c.resourceValue(id, attr, depth+1); err == nil {
				s, err = c.stringValue(v, depth+1)
			}
		} else {
			s, err = c.stringValue(&object{keys: []string{"Ref"}, vals: map[string]any{"Ref": name}}, depth+1)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
}

func newObject() *object { return &object{vals: map[string]any{}} }

// put sets key, keeping the first position of a key set twice.
func (o *object) put(key string, v any) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unknownReason is the problem of an unknown key among names.
func unknownReason(names []string, key string) string {
	fields := make([]Field, len(names))
	for i, n := range names {
		fields[i] = Field{Name: n}
	}
	if s := suggest(fields, key); s != "" {
		return "unknown field (did you mean " + s + "?)"
	}
	return "unknown field"
}

// parseTemplateYAML parses a YAML template into generic values, turning
// CloudFormation's short-form tags into their long form: !Ref x becomes
// {"Ref": "x"}, !GetAtt a.b {"Fn::GetAtt": ["a", "b"]}, !Sub s
// {"Fn::Sub": s} and so on.
func parseTemplateYAML(data []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if root.Kind == 0 {
		return nil, nil
	}
	v, err := yamlValue(&root, 0)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return v, nil
}

func yamlValue(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nesting too deep")
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], depth+1)
	}
	if n.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("line %d: edgefront does not read YAML aliases in templates", n.Line)
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		fn := tag[1:]
		key := "Fn::" + fn
		if fn == "Ref" || fn == "Condition" {
			key = fn
		}
		plain := *n
		plain.Tag = ""
		if n.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		arg, err := yamlValue(&plain, depth+1)
		if err != nil {
			return nil, err
		}
		if s, ok := arg.(string); ok && fn == "GetAtt" {
			res, attr, _ := strings.Cut(s, ".")
			arg = []any{res, attr}
		}
		return &object{keys: []string{key}, vals: map[string]any{key: arg}}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		o := newObject()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: object key is not a string", k.Line)
			}
			if o.has(k.Value) {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := yamlValue(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			o.put(k.Value, v)
		}
		return o, nil
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := yamlValue(item, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return n.Value, nil // too large for int64: keep the text
			}
			return json.Number(strconv.FormatInt(i, 10)), nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return n.Value, nil
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		default: // !!str, !!timestamp (AWSTemplateFormatVersion: 2010-09-09), !!binary
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}
