package config

import (
	"encoding/json"
	"fmt"
	"strings"
)

// This file converts one Terraform resource's arguments — a tree of generic
// values (*object, []any, string, json.Number, bool, nil), however they
// were read: evaluated HCL (terraform_hcl.go) or `terraform show -json`
// (terraform_json.go) — into the API's shape, following a schema of
// terraform_schema.go. Each API field path remembers the Terraform path it
// came from, so the problems the shared decoder and compiler find are
// reported under the resource's own argument names (and lines).

// tfConverter converts one resource, reporting to p under the resource's
// address.
type tfConverter struct {
	p  *problems
	td *templateDistribution // API field path → Terraform argument path
}

// convertTerraformResource converts the arguments args of the resource at
// address into a new API object at apiRoot following schema t.
func convertTerraformResource(p *problems, address, apiRoot string, args *object, t cfnType) *templateDistribution {
	c := &tfConverter{p: p, td: &templateDistribution{id: address, config: newObject(), paths: map[string]string{apiRoot: address}}}
	c.object(address, apiRoot, args, c.td.config, t)
	return c.td
}

// tfAbsent reports whether v means "not set" in Terraform: null, "", an
// empty list (`terraform show -json` writes every argument, unset ones so).
func tfAbsent(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	}
	return false
}

// tfZeroUnset reports whether v is 0 for an argument whose 0 means unset
// (response_completion_timeout: "If omitted or explicitly set to 0, no
// maximum value is enforced").
func tfZeroUnset(name string, v any) bool {
	n, ok := v.(json.Number)
	return ok && name == "response_completion_timeout" && n.String() == "0"
}

// object converts the Terraform object src (at at) into dst, the API object
// at apiPath.
func (c *tfConverter) object(at, apiPath string, src, dst *object, t cfnType) {
	c.td.paths[apiPath] = at
	for _, prop := range t {
		if prop.kind == cfnLegacy {
			continue
		}
		api := tfAPIPath(apiPath, prop)
		if _, taken := c.td.paths[api]; !taken {
			c.td.paths[api] = join(at, prop.name)
		}
		if prop.kind == cfnList {
			if _, taken := c.td.paths[join(api, "Items")]; !taken {
				c.td.paths[join(api, "Items")] = join(at, prop.name)
			}
		}
	}
	for _, k := range src.keys {
		path := join(at, k)
		c.p.visit(path)
		v := src.vals[k]
		prop, ok := t.find(k)
		if !ok {
			c.p.add(path, "%s", unknownReason(t.names(), k))
			continue
		}
		if prop.kind == cfnLegacy || tfAbsent(v) || tfZeroUnset(prop.name, v) {
			continue
		}
		api := tfAPIPath(apiPath, prop)
		switch prop.kind {
		case cfnObject:
			if list, ok := v.([]any); ok { // a block: one element
				if len(list) > 1 {
					c.p.add(path, "may appear once, found %d", len(list))
					continue
				}
				v = list[0]
			}
			o, ok := v.(*object)
			if !ok {
				c.p.add(path, "expected a block, got %s", describe(v))
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
				c.p.add(path, "expected a list, got %s", describe(v))
				continue
			}
			itemBase := api
			if prop.kind == cfnList {
				itemBase = join(api, "Items")
			}
			c.td.paths[itemBase] = path
			items := make([]any, 0, len(list))
			for i, item := range list {
				ipath, iapi := index(path, i), index(itemBase, i)
				c.p.visit(ipath)
				c.td.paths[iapi] = ipath
				if o, ok := item.(*object); ok && prop.elem != nil {
					sub := newObject()
					c.object(ipath, iapi, o, sub, prop.elem)
					item = sub
				} else if prop.elem != nil {
					c.p.add(ipath, "expected a block, got %s", describe(item))
					continue
				} else {
					item = scalar(prop.item, item)
				}
				items = append(items, item)
			}
			c.put(dst, apiPath, itemBase, items)
			if prop.kind == cfnList && prop.enable {
				c.put(dst, apiPath, join(api, "Enabled"), len(items) > 0)
			}
		default:
			c.td.paths[api] = path
			c.put(dst, apiPath, api, scalar(prop.kind, v))
		}
	}
	// cached_methods without allowed_methods: the API nests one in the
	// other, and the methods default to GET and HEAD.
	if am, ok := dst.vals["AllowedMethods"].(*object); ok && !am.has("Items") {
		am.put("Items", []any{"GET", "HEAD"})
	}
}

// tfAPIPath is the API path of prop inside the object at parent.
func tfAPIPath(parent string, prop cfnProp) string {
	if prop.api == "." {
		return parent
	}
	return join(parent, prop.api)
}

// put sets the value at the API path full below dst (whose path is base),
// creating the objects between.
func (c *tfConverter) put(dst *object, base, full string, v any) { putPath(dst, base, full, v) }

// tfLines maps a Terraform argument path to the file and line it was
// written at (HCL input only).
type tfLines map[string]tfPos

// tfPos is where an argument was written.
type tfPos struct {
	file string
	line int
}

// report copies the problems of src (found under API paths) to dst under
// the Terraform paths td translates them to, naming the file and line of
// the argument when it is known.
func (lines tfLines) report(dst, src *problems, td *templateDistribution) {
	for _, e := range src.sorted() {
		field := td.translate(e.Field)
		reason := strings.ReplaceAll(e.Reason, ".Items[", "[")
		if pos, ok := lines.find(field); ok {
			reason = fmt.Sprintf("%s:%d: %s", pos.file, pos.line, reason)
		}
		if e.Code != "" {
			dst.addCode(e.Code, field, "%s", reason)
		} else {
			dst.add(field, "%s", reason)
		}
	}
}

// find returns the position of field or of the closest argument or block
// that contains it.
func (lines tfLines) find(field string) (tfPos, bool) {
	for end := len(field); end > 0; {
		if pos, ok := lines[field[:end]]; ok {
			return pos, true
		}
		end = strings.LastIndexAny(field[:end], ".[")
	}
	return tfPos{}, false
}
