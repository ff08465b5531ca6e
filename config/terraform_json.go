package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// This file reads `terraform show -json` output ("JSON Output Format",
// Terraform CLI documentation): a state's values.root_module, or a plan's
// planned_values.root_module, each with resources[] and child_modules[].
// A resource's values are its attributes, nested blocks as lists of
// objects, exactly what the HCL reader produces after evaluation; so the
// same schemas map them. Attributes a plan does not know yet are absent
// from planned_values; such a value is reported with the field it is
// missing from. Unknown attributes are skipped: newer provider versions add
// attributes the schema may not have.

// isTerraformJSON reports whether a top-level document is `terraform show
// -json` output.
func isTerraformJSON(doc any) bool {
	o, ok := doc.(*object)
	return ok && o.has("format_version") && (o.has("values") || o.has("planned_values"))
}

// readTerraformJSON reads the show -json document doc (read from path when
// nil).
func (l *loader) readTerraformJSON(sp *problems, field, path string, doc any) *tfInput {
	p := sp
	if doc == nil {
		data, err := os.ReadFile(path)
		if err != nil {
			sp.add(field, "%v", err)
			return nil
		}
		p = l.file(path)
		if doc, err = parseDocument(path, data); err != nil {
			p.add(syntaxField, "%v", err)
			return nil
		}
		if !isTerraformJSON(doc) {
			sp.add(field, "%s is no Terraform directory, .tf file or `terraform show -json` output", filepath.Base(path))
			return nil
		}
	}
	top := doc.(*object)
	root, at := top.vals["values"], "values"
	if _, isState := top.vals["values"]; !isState {
		root, at = top.vals["planned_values"], "planned_values"
	}
	in := &tfInput{doms: map[string]string{}, lenient: true}
	ro, _ := root.(*object)
	mod, ok := ro.get("root_module")
	if !ok {
		p.add(join(at, "root_module"), "is required")
		return in
	}
	tfJSONModule(p, join(at, "root_module"), mod, in, 0)
	return in
}

// tfJSONModule collects a module's resources and its child modules'.
func tfJSONModule(p *problems, at string, mod any, in *tfInput, depth int) {
	o, ok := mod.(*object)
	if !ok || depth > 50 {
		p.add(at, "expected a module object, got %s", describe(mod))
		return
	}
	list, _ := o.vals["resources"].([]any)
	for i, r := range list {
		ro, ok := r.(*object)
		if !ok {
			p.add(index(join(at, "resources"), i), "expected a resource object, got %s", describe(r))
			continue
		}
		str := func(k string) string { s, _ := ro.vals[k].(string); return s }
		if str("mode") != "managed" {
			continue
		}
		typ, addr := str("type"), str("address")
		if addr == "" {
			addr = tfJSONAddress(typ, str("name"), ro.vals["index"])
		}
		values, _ := ro.vals["values"].(*object)
		if values == nil {
			p.add(index(join(at, "resources"), i), "%s has no values", addr)
			continue
		}
		vs := func(k string) string {
			v, _ := values.get(k)
			s, _ := v.(string)
			return s
		}
		for _, attr := range tfDomainAttributes(typ) {
			if s := vs(attr); s != "" {
				in.doms[tfHost(s)] = addr
			}
		}
		if !tfRead(typ) {
			continue
		}
		a := &tfArgs{typ: typ, address: addr, p: p, args: values, lines: tfLines{},
			id: vs("id"), arn: vs("arn"), name: vs("name"), domain: vs("domain_name")}
		tfJSONDefaults(a)
		in.resources = append(in.resources, a)
	}
	children, _ := o.vals["child_modules"].([]any)
	for i, c := range children {
		tfJSONModule(p, index(join(at, "child_modules"), i), c, in, depth+1)
	}
}

// tfJSONDefaults fills what a plan does not know yet (IDs, ARNs) the way
// the HCL reader derives them.
func tfJSONDefaults(a *tfArgs) {
	account := DefaultTemplateAccount
	switch a.typ {
	case tfDistributionType:
		if a.id == "" || !isDistributionID(a.id) {
			a.id = tfDistributionID(a.address)
		}
	case tfFunctionType:
		if a.arn == "" {
			a.arn = "arn:aws:cloudfront::" + account + ":function/" + a.name
		}
	case tfStoreType:
		if a.id == "" {
			a.id = derivedUUID(tfStoreType, a.address)
		}
		if a.arn == "" {
			a.arn = "arn:aws:cloudfront::" + account + ":key-value-store/" + a.id
		}
	case tfPublicKeyType:
		if a.id == "" {
			a.id = "K" + hashChars("key\x00"+a.address, 13)
		}
	default:
		if a.id == "" {
			a.id = tfPolicyID(a.typ, a.address)
		}
	}
}

// tfJSONAddress builds an address from type, name and index.
func tfJSONAddress(typ, name string, idx any) string {
	addr := typ + "." + name
	switch k := idx.(type) {
	case json.Number:
		addr += "[" + k.String() + "]"
	case string:
		addr += fmt.Sprintf("[%q]", k)
	}
	return addr
}
