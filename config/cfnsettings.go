package config

import (
	"os"
	"path/filepath"
	"strings"
)

// This file reads a distribution of a settings file that names a
// CloudFormation/CDK template:
//
//	distributions:
//	  - template: cdk.out/WebStack.template.json
//	    resource: SiteDistribution3FF9535D   # optional with one distribution
//	    originEndpoints: {SiteBucket397A1860: http://127.0.0.1:9000}
//
// originEndpoints and originCredentials are keyed by origin Id, or by the
// logical ID of the template's resource (bucket, load balancer, API,
// function URL) an origin's DomainName comes from. The settings file's
// parameters and imports (then --parameter) answer the template's Ref and
// Fn::ImportValue.

// mergeInputs returns base with over's values on top.
func mergeInputs(base, over TemplateInputs) TemplateInputs {
	out := TemplateInputs{Parameters: map[string]string{}, Imports: map[string]string{}}
	for _, in := range []TemplateInputs{base, over} {
		for k, v := range in.Parameters {
			out.Parameters[k] = v
		}
		for k, v := range in.Imports {
			out.Imports[k] = v
		}
	}
	return out
}

// readTemplate is one template file, converted once however many
// distributions name it.
type readTemplate struct {
	p    *problems
	tds  []*templateDistribution
	ok   bool
	doms map[string]string // origin domain name → logical ID of the resource it comes from
}

// templateDistribution compiles the distribution ds names in its template.
func (l *loader) templateDistribution(sp *problems, at string, ds *distributionSettings, quotas Quotas) *Distribution {
	file := resolve(l.dir, ds.Template)
	rt := l.readTemplate(sp, join(at, "template"), file)
	if !rt.ok {
		return nil
	}
	var td *templateDistribution
	var ids []string
	for _, t := range rt.tds {
		ids = append(ids, t.id)
		if t.id == ds.Resource || ds.Resource == "" && len(rt.tds) == 1 {
			td = t
		}
	}
	if td == nil {
		if ds.Resource == "" {
			sp.add(join(at, "resource"), "is required: the template has %d distributions (%s)", len(ids), strings.Join(ids, ", "))
		} else {
			sp.add(join(at, "resource"), "%q is not an %s of the template (%s)", ds.Resource, distributionResourceType, strings.Join(ids, ", "))
		}
		return nil
	}
	tp := newProblems(file)
	dc := &DistributionConfig{}
	decodeInto(tp, "DistributionConfig", td.config, dc)
	src := distSource{
		id: ds.ID, domainName: ds.DomainName, settings: sp, at: at, quotas: quotas,
		endpoints:   byOrigin(dc, rt.doms, ds.OriginEndpoints),
		credentials: byOrigin(dc, rt.doms, ds.OriginCredentials),
	}
	if src.id == "" {
		src.id = td.id
	}
	if !isDistributionID(src.id) {
		sp.add(join(at, "id"), "%q is not a distribution ID (1 to 128 letters and digits)", src.id)
	}
	if src.domainName == "" {
		src.domainName = DeriveDomainName(src.id)
	}
	src.domainName = strings.ToLower(src.domainName)
	d := compileDistribution(tp, "DistributionConfig", dc, src, l.pol)
	for _, e := range tp.sorted() {
		rt.p.add(td.translate(e.Field), "%s", strings.ReplaceAll(e.Reason, ".Items[", "["))
	}
	for _, w := range d.Ignored {
		w.Field = td.translate(w.Field)
	}
	compileEdgeSettings(sp, at, ds, d)
	return d
}

// readTemplate reads and converts the template file once per load.
func (l *loader) readTemplate(sp *problems, field, file string) *readTemplate {
	if rt, ok := l.templates[file]; ok {
		return rt
	}
	rt := &readTemplate{}
	if l.templates == nil {
		l.templates = map[string]*readTemplate{}
	}
	l.templates[file] = rt
	data, err := os.ReadFile(file)
	if err != nil {
		sp.add(field, "%v", err)
		return rt
	}
	rt.p = l.file(file)
	var doc any
	if isJSONInput(file, data) {
		doc, err = parseDocument(file, data)
	} else {
		doc, err = parseTemplateYAML(data)
	}
	if err != nil {
		rt.p.add(syntaxField, "%v", err)
		return rt
	}
	if !isTemplateDocument(doc) {
		sp.add(field, "%s is not a CloudFormation template (no Resources)", filepath.Base(file))
		return rt
	}
	var c *converter
	rt.tds, c = convertTemplateWith(rt.p, doc, file, l.inputs)
	if c != nil {
		l.templatePolicies(rt.p, c.policies)
		l.templateKeys(rt.p, c.keys)
		l.templateFunctions(rt.p, c.functions)
		l.templateLambdas(rt.p, c.lambdas)
		rt.doms = c.originDomains()
	}
	rt.ok = true
	return rt
}

// originDomains maps every domain name the template's resources give an
// origin (a bucket's DomainName and RegionalDomainName, a load balancer's
// DNSName, an API's or function URL's host) to the resource's logical ID.
func (c *converter) originDomains() map[string]string {
	out := map[string]string{}
	for id, r := range c.resources {
		var attrs []string
		switch r.typ {
		case "AWS::S3::Bucket":
			attrs = []string{"DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"}
		case "AWS::ElasticLoadBalancingV2::LoadBalancer":
			attrs = []string{"DNSName"}
		case "AWS::ApiGatewayV2::Api":
			attrs = []string{"ApiEndpoint"}
		case "AWS::Lambda::Url":
			attrs = []string{"FunctionUrl"}
		case "AWS::ApiGateway::RestApi":
			attrs = []string{""}
		}
		for _, a := range attrs {
			v, err := c.resourceValue(id, a, 0)
			s, _ := v.(string)
			if err != nil || s == "" {
				continue
			}
			if a == "" { // a REST API's default endpoint
				s = s + ".execute-api." + c.region() + ".amazonaws.com"
			}
			s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
			out[strings.TrimSuffix(s, "/")] = id
		}
	}
	return out
}

// byOrigin re-keys settings keyed by origin Id or by the logical ID of the
// resource an origin's DomainName comes from to origin Ids; keys that are
// neither are kept, for compile to report.
func byOrigin[V any](dc *DistributionConfig, doms map[string]string, in map[string]V) map[string]V {
	if len(in) == 0 {
		return in
	}
	out := make(map[string]V, len(in))
	ids := map[string]bool{}
	for _, o := range dc.Origins.All() {
		ids[o.Id] = true
	}
	for k, v := range in {
		if ids[k] {
			out[k] = v
			continue
		}
		matched := false
		for _, o := range dc.Origins.All() {
			if doms[strings.ToLower(o.DomainName)] == k {
				if _, set := in[o.Id]; !set {
					out[o.Id] = v
				}
				matched = true
			}
		}
		if !matched {
			out[k] = v
		}
	}
	return out
}
