package config

import (
	"path/filepath"
	"slices"
	"strings"
)

// This file reads Terraform configurations (--config DIR or FILE.tf, a
// settings file's `terraform:` distributions, and `terraform show -json`
// output) into the configuration: each aws_cloudfront_distribution becomes
// a DistributionConfig compiled by compileDistribution like any other, its
// policies, keys, functions and key value stores join the configuration's
// as the CloudFormation reader's do. The resource's arguments are converted
// by the schemas of terraform_schema.go; problems name the file, the
// resource's argument path and, for .tf files, the line.

// Resource types edgefront reads the arguments of.
const (
	tfDistributionType = "aws_cloudfront_distribution"
	tfFunctionType     = "aws_cloudfront_function"
	tfStoreType        = "aws_cloudfront_key_value_store"
	tfPublicKeyType    = "aws_cloudfront_public_key"
	tfKeyGroupType     = "aws_cloudfront_key_group"
)

// tfRead reports whether edgefront reads the arguments of resource type typ.
func tfRead(typ string) bool {
	_, _, _, policy := tfPolicyKind(typ)
	return policy || typ == tfDistributionType || typ == tfFunctionType || typ == tfStoreType ||
		typ == tfPublicKeyType || typ == tfKeyGroupType
}

// tfDomainAttributes lists, per resource type, the attributes that give an
// origin its domain name, so originEndpoints may be keyed by the resource's
// address.
func tfDomainAttributes(typ string) []string {
	switch typ {
	case "aws_s3_bucket":
		return []string{"bucket_regional_domain_name", "bucket_domain_name"}
	case "aws_lb", "aws_alb":
		return []string{"dns_name"}
	case "aws_apigatewayv2_api":
		return []string{"api_endpoint"}
	case "aws_lambda_function_url":
		return []string{"function_url"}
	}
	return nil
}

// tfInput is a Terraform configuration read: the arguments of the
// resources edgefront reads, and the domain names its other resources give
// origins (host → resource address).
type tfInput struct {
	resources []*tfArgs
	doms      map[string]string
	lenient   bool // unknown arguments are skipped (show -json: newer providers add attributes)
}

// tfArgs is one resource instance's arguments and what references to it
// give.
type tfArgs struct {
	typ, address string
	p            *problems // the problems of the file it is in
	args         *object
	lines        tfLines
	id, arn      string
	name         string // the name argument (functions, stores)
	domain       string // a distribution's domain name
	lenient      bool   // unknown arguments are skipped (show -json)
}

// readTerraform is one Terraform input, read once however many
// distributions name it.
type readTerraform struct {
	ok   bool
	dist []*tfArgs // the distributions, in file order
	doms map[string]string
}

// terraformRoot loads a Terraform input given as --config: every
// distribution, with default settings; IDs derived from the addresses
// (or the state's own).
func (l *loader) terraformRoot(sp *problems, path string, doc any, cfg *Config) (*Config, error) {
	compileSettings(sp, &settingsFile{}, l.dir, cfg)
	l.prepareTemplates(cfg)
	return l.terraformDistributions(sp, l.readTerraform(sp, "", path, doc), cfg)
}

// parseTerraform reads the .tf source src as the only file of a module
// (name is used in errors; file() reads beside it), as --config FILE.tf
// would: the entry point the fuzz target drives.
func parseTerraform(name string, src []byte, in TemplateInputs) (*Config, error) {
	l := &loader{dir: filepath.Dir(name), pol: newPolicySet(), inputs: in}
	sp := l.file(name)
	cfg := &Config{Source: name}
	compileSettings(sp, &settingsFile{}, l.dir, cfg)
	l.prepareTemplates(cfg)
	m := newTFModule(filepath.Dir(name), in, l.pol)
	m.parseFile(name, src, sp)
	m.funcs = m.tfFunctions()
	return l.terraformDistributions(sp, l.useTerraform(m.input(func(string) *problems { return sp })), cfg)
}

// terraformDistributions compiles every distribution of rt into cfg, with
// default settings.
func (l *loader) terraformDistributions(sp *problems, rt *readTerraform, cfg *Config) (*Config, error) {
	if rt.ok && len(rt.dist) == 0 && len(l.errors()) == 0 {
		sp.add(tfDistributionType, "the configuration has no %s resource", tfDistributionType)
	}
	for _, a := range rt.dist {
		src := distSource{id: a.id, domainName: a.domain, settings: a.p}
		if d := l.terraformDistribution(a, src, nil); d != nil {
			cfg.Distributions = append(cfg.Distributions, d)
		}
	}
	hosts := map[string]string{}
	for _, d := range cfg.Distributions {
		for _, h := range append([]string{d.DomainName}, d.Aliases...) {
			if other, dup := hosts[h]; dup && other != d.ID {
				sp.add(tfDistributionType, "host name %q is served by two distributions (%s, %s)", h, other, d.ID)
			}
			hosts[h] = d.ID
		}
	}
	return l.result(cfg)
}

// prepareTemplates points the loader at cfg's keys, functions, stores and
// Lambda functions, which a template's or Terraform's join.
func (l *loader) prepareTemplates(cfg *Config) {
	l.keys = cfg.Keys
	l.pol.functions, l.stores = cfg.Functions, cfg.KeyValueStores
	l.pol.lambda = cfg.lambdaSet()
	l.pol.lambda.strict = true // the configuration names its own functions
}

// terraformDistribution converts and compiles one distribution resource;
// settings, when not nil, completes src from the decoded config (origin
// endpoints keyed by resource address).
func (l *loader) terraformDistribution(a *tfArgs, src distSource, settings func(*DistributionConfig, *distSource)) *Distribution {
	tp := newProblems(a.p.file)
	td := l.convertTerraform(a, "DistributionConfig", tfDistributionSchema())
	dc := &DistributionConfig{CallerReference: "terraform-" + a.address}
	decodeInto(tp, "DistributionConfig", td.config, dc)
	if settings != nil {
		settings(dc, &src)
	}
	if src.domainName == "" {
		src.domainName = DeriveDomainName(src.id)
	}
	src.domainName = strings.ToLower(src.domainName)
	d := compileDistribution(tp, "DistributionConfig", dc, src, l.pol)
	a.lines.report(a.p, tp, td)
	if d != nil {
		for _, w := range d.Ignored {
			w.Field = td.translate(w.Field)
		}
	}
	return d
}

// convertTerraform converts a resource's arguments into the API object at
// apiRoot.
func (l *loader) convertTerraform(a *tfArgs, apiRoot string, schema cfnType) *templateDistribution {
	cp := a.p
	if a.lenient {
		cp = newProblems(a.p.file) // unknown attributes of newer providers are not errors
	}
	td := convertTerraformResource(cp, a.address, apiRoot, a.args, schema)
	if a.lenient {
		for _, e := range cp.errs {
			if !strings.HasPrefix(e.Reason, "unknown field") {
				a.p.add(e.Field, "%s", e.Reason)
			}
		}
	}
	return td
}

// readTerraform reads the Terraform input at path (a directory, a .tf
// file, or `terraform show -json` output) once per load and registers its
// policies, keys, functions and stores.
func (l *loader) readTerraform(sp *problems, field, path string, doc any) *readTerraform {
	if rt, ok := l.tfRead[path]; ok {
		return rt
	}
	rt := &readTerraform{}
	if l.tfRead == nil {
		l.tfRead = map[string]*readTerraform{}
	}
	l.tfRead[path] = rt
	var in *tfInput
	if isTerraformPath(path) {
		files := map[string]*problems{}
		add := func(f string) *problems {
			if p, ok := files[f]; ok {
				return p
			}
			files[f] = l.file(f)
			return files[f]
		}
		m, err := readTerraformModule(path, l.inputs, l.pol, add)
		if err != nil {
			if field == "" {
				sp.add(syntaxField, "%v", err)
			} else {
				sp.add(field, "%v", err)
			}
			return rt
		}
		in = m.input(add)
		for _, f := range m.read {
			add(f)
		}
	} else {
		in = l.readTerraformJSON(sp, field, path, doc)
		if in == nil {
			return rt
		}
	}
	*rt = *l.useTerraform(in)
	return rt
}

// useTerraform registers the input's policies, keys, functions and stores
// and returns its distributions.
func (l *loader) useTerraform(in *tfInput) *readTerraform {
	rt := &readTerraform{doms: in.doms, ok: true}
	for _, a := range in.resources {
		a.lenient = in.lenient
	}
	l.terraformResources(in)
	for _, a := range in.resources {
		if a.typ == tfDistributionType {
			rt.dist = append(rt.dist, a)
		}
	}
	return rt
}

// terraformResources registers the input's policies, keys, key value
// stores and functions.
func (l *loader) terraformResources(in *tfInput) {
	var keys []templatePolicy
	var fns []templateFunction
	for _, a := range in.resources {
		if key, schema, cfnTyp, ok := tfPolicyKind(a.typ); ok {
			l.terraformPolicy(a, key, schema, cfnTyp)
			continue
		}
		switch a.typ {
		case tfPublicKeyType:
			cfg := newObject()
			for _, k := range []struct{ tf, api string }{{"name", "Name"}, {"comment", "Comment"}, {"encoded_key", "EncodedKey"}} {
				if v, ok := a.args.get(k.tf); ok && !tfAbsent(v) {
					cfg.put(k.api, v)
				}
			}
			if !cfg.has("Name") {
				cfg.put("Name", a.name)
			}
			cfg.put("CallerReference", "terraform-"+a.address)
			keys = append(keys, templatePolicy{id: a.address, typ: "AWS::CloudFront::PublicKey", at: a.address, config: tfDoc(a.id, "PublicKeyConfig", cfg)})
		case tfKeyGroupType:
			cfg := newObject()
			for _, k := range []struct{ tf, api string }{{"name", "Name"}, {"comment", "Comment"}, {"items", "Items"}} {
				if v, ok := a.args.get(k.tf); ok && !tfAbsent(v) {
					cfg.put(k.api, v)
				}
			}
			keys = append(keys, templatePolicy{id: a.address, typ: "AWS::CloudFront::KeyGroup", at: a.address, config: tfDoc(a.id, "KeyGroupConfig", cfg)})
		case tfStoreType:
			fns = append(fns, templateFunction{id: a.address, typ: "AWS::CloudFront::KeyValueStore", at: a.address, name: a.name, arn: a.arn, storeID: a.id, props: newObject()})
		case tfFunctionType:
			fns = append(fns, templateFunction{id: a.address, typ: "AWS::CloudFront::Function", at: a.address, name: a.name, arn: a.arn, props: tfFunctionProps(a)})
		}
	}
	byFile := map[*problems][]templatePolicy{}
	for _, k := range keys {
		p := l.problemsOf(in, k.id)
		byFile[p] = append(byFile[p], k)
	}
	for p, ks := range byFile {
		l.templateKeys(p, ks)
	}
	fnByFile := map[*problems][]templateFunction{}
	var order []*problems
	for _, f := range fns {
		p := l.problemsOf(in, f.id)
		if _, seen := fnByFile[p]; !seen {
			order = append(order, p)
		}
		fnByFile[p] = append(fnByFile[p], f)
	}
	// Stores first, whatever file they are in: functions name them.
	var stores, functions []templateFunction
	for _, p := range order {
		for _, f := range fnByFile[p] {
			if f.typ == "AWS::CloudFront::KeyValueStore" {
				stores = append(stores, f)
			} else {
				functions = append(functions, f)
			}
		}
	}
	if len(stores) > 0 {
		l.templateFunctions(l.problemsOf(in, stores[0].id), stores)
	}
	for _, f := range functions {
		l.templateFunctions(l.problemsOf(in, f.id), append(slices.Clone(stores), f))
	}
}

// problemsOf is the problems of the file the resource at address is in.
func (l *loader) problemsOf(in *tfInput, address string) *problems {
	for _, a := range in.resources {
		if a.address == address {
			return a.p
		}
	}
	return l.files[0]
}

// tfDoc is {Id: id, key: cfg}, a policy's or key's API document.
func tfDoc(id, key string, cfg *object) *object {
	doc := newObject()
	doc.put("Id", id)
	doc.put(key, cfg)
	return doc
}

// tfFunctionProps is aws_cloudfront_function's arguments in the shape of
// AWS::CloudFront::Function's properties (cfnfunctions.go reads them).
func tfFunctionProps(a *tfArgs) *object {
	props, fc := newObject(), newObject()
	if code, ok := a.args.get("code"); ok {
		props.put("FunctionCode", code)
	}
	if rt, ok := a.args.get("runtime"); ok {
		fc.put("Runtime", rt)
	}
	if assoc, ok := a.args.get("key_value_store_associations"); ok {
		var list []any
		for _, arn := range tfFlatStrings(assoc) {
			o := newObject()
			o.put("KeyValueStoreARN", arn)
			list = append(list, o)
		}
		fc.put("KeyValueStoreAssociations", list)
	}
	props.put("FunctionConfig", fc)
	return props
}

// tfFlatStrings collects the strings in v (a list of ARNs, or the
// provider's newer {items = [{key_value_store_arn = …}]} blocks).
func tfFlatStrings(v any) []any {
	var out []any
	switch t := v.(type) {
	case string:
		out = append(out, t)
	case []any:
		for _, x := range t {
			out = append(out, tfFlatStrings(x)...)
		}
	case *object:
		for _, k := range t.keys {
			out = append(out, tfFlatStrings(t.vals[k])...)
		}
	}
	return out
}

// terraformPolicy converts, compiles and registers a policy resource.
func (l *loader) terraformPolicy(a *tfArgs, key string, schema cfnType, cfnTyp string) {
	td := l.convertTerraform(a, key, schema)
	td.paths["Id"] = a.address
	doc := tfDoc(a.id, key, td.config)
	tp := newProblems(a.p.file)
	switch cfnTyp {
	case "AWS::CloudFront::CachePolicy":
		var cp CustomCachePolicy
		decodeInto(tp, "", doc, &cp)
		c := compileCachePolicy(tp, "", &cp)
		register(tp, "Id", join(key, "Name"), cp.Id, c.Name, l.pol.cache, c)
	case "AWS::CloudFront::OriginRequestPolicy":
		var op CustomOriginRequestPolicy
		decodeInto(tp, "", doc, &op)
		c := compileOriginRequestPolicy(tp, "", &op)
		register(tp, "Id", join(key, "Name"), op.Id, c.Name, l.pol.origin, c)
	default:
		var rp CustomResponseHeadersPolicy
		decodeInto(tp, "", doc, &rp)
		c := compileResponseHeadersPolicy(tp, "", &rp)
		register(tp, "Id", join(key, "Name"), rp.Id, c.Name, l.pol.response, c)
	}
	a.lines.report(a.p, tp, td)
}

// input collects the module's resources edgefront reads, evaluated, and
// the origin domains of the others.
func (m *tfModule) input(add func(string) *problems) *tfInput {
	in := &tfInput{doms: map[string]string{}}
	for _, r := range m.resources {
		p := add(r.rng.Filename)
		domAttrs := tfDomainAttributes(r.typ)
		if !tfRead(r.typ) && len(domAttrs) == 0 {
			continue
		}
		ins, _, err := m.instances(r)
		if err != nil {
			p.add(r.address(), "%v", err)
			continue
		}
		for _, inst := range ins {
			addr := inst.address()
			for _, attr := range domAttrs {
				if v, err := m.attribute(inst, attr); err == nil {
					if s, err := ctyString(v); err == nil {
						in.doms[tfHost(s)] = addr
					}
				}
			}
			if !tfRead(r.typ) {
				continue
			}
			lines := tfLines{addr: {file: filepath.Base(r.rng.Filename), line: r.rng.Start.Line}}
			a := &tfArgs{typ: r.typ, address: addr, p: p, lines: lines}
			a.args = m.tree(p, addr, r.body, inst.scope, lines, true)
			for _, ref := range []struct {
				attr string
				dst  *string
			}{{"id", &a.id}, {"arn", &a.arn}, {"name", &a.name}, {"domain_name", &a.domain}} {
				if !hasString(tfComputedNames(r.typ), ref.attr) && ref.attr != "name" {
					continue
				}
				if _, isArg := r.body.Attributes[ref.attr]; ref.attr == "name" && !isArg {
					continue
				}
				v, err := m.attribute(inst, ref.attr)
				if err != nil {
					p.add(join(addr, ref.attr), "%v", err)
					continue
				}
				*ref.dst, _ = ctyString(v)
			}
			in.resources = append(in.resources, a)
		}
	}
	return in
}

// tfHost is the host of a domain attribute (an API endpoint or function
// URL is a URL).
func tfHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	return strings.ToLower(strings.TrimSuffix(s, "/"))
}

// describeTerraformDistributions lists the addresses of rt's distributions.
func (rt *readTerraform) addresses() string {
	var out []string
	for _, a := range rt.dist {
		out = append(out, a.address)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
