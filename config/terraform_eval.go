package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// This file evaluates a module's expressions the way terraform plan would
// for the values edgefront needs, deterministically: an expression's
// context holds exactly what it refers to — var.*, local.*, path.*, count.*,
// each.*, the iterator of a dynamic block, data sources and other
// resources' attributes (terraform_values.go). A value Terraform only knows
// after apply is replaced by the one edgefront derives, as the
// CloudFormation reader does; anything else unknown is an error with the
// file, line and expression text.

// tfEvalError is an expression that could not be evaluated.
type tfEvalError struct {
	file string
	line int
	text string // the expression as written
	msg  string
}

func (e *tfEvalError) Error() string {
	return fmt.Sprintf("%s:%d: %s (in `%s`)", filepath.Base(e.file), e.line, e.msg, e.text)
}

// exprError wraps err as a problem of expr.
func (m *tfModule) exprError(expr hcl.Expression, msg string) error {
	rng := expr.Range()
	text := ""
	if src, ok := m.files[rng.Filename]; ok && rng.End.Byte <= len(src) && rng.Start.Byte <= rng.End.Byte {
		text = string(src[rng.Start.Byte:rng.End.Byte])
	}
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return &tfEvalError{file: rng.Filename, line: rng.Start.Line, text: text, msg: msg}
}

// eval evaluates expr with scope (count, each, dynamic iterators) on top of
// the module's values.
func (m *tfModule) eval(expr hcl.Expression, scope map[string]cty.Value) (cty.Value, error) {
	ctx, err := m.context(expr, scope)
	if err != nil {
		return cty.NilVal, err
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		var msgs []string
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				s := d.Summary
				if d.Detail != "" {
					s += ": " + d.Detail
				}
				msgs = append(msgs, s)
			}
		}
		return cty.NilVal, m.exprError(expr, strings.Join(msgs, "; "))
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, m.exprError(expr, "the value is only known after apply")
	}
	return v, nil
}

// context builds the evaluation context of expr.
func (m *tfModule) context(expr hcl.Expression, scope map[string]cty.Value) (*hcl.EvalContext, error) {
	vars := map[string]cty.Value{}
	for k, v := range scope {
		vars[k] = v
	}
	locals := map[string]cty.Value{}
	refs := map[string]map[string]map[string]bool{} // type → name → attributes (nil: all)
	dataRefs := map[string]map[string]map[string]bool{}
	for _, t := range expr.Variables() {
		root := t.RootName()
		if _, ok := scope[root]; ok {
			continue
		}
		switch root {
		case "var":
			v, err := m.variablesValue()
			if err != nil {
				return nil, m.exprError(expr, err.Error())
			}
			vars["var"] = v
		case "local":
			name, ok := traversalName(t, 1)
			if !ok {
				return nil, m.exprError(expr, "local needs a name: local.NAME")
			}
			v, err := m.local(name)
			if err != nil {
				return nil, err
			}
			locals[name] = v
		case "path":
			vars["path"] = cty.ObjectVal(map[string]cty.Value{
				"module": cty.StringVal("."), "root": cty.StringVal("."), "cwd": cty.StringVal(m.dir),
			})
		case "terraform":
			vars["terraform"] = cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")})
		case "count", "each":
			return nil, m.exprError(expr, root+" is only valid in a resource with "+map[string]string{"count": "count", "each": "for_each"}[root])
		case "self", "module":
			return nil, m.exprError(expr, "edgefront does not evaluate "+root+" references")
		case "data":
			typ, ok1 := traversalName(t, 1)
			name, ok2 := traversalName(t, 2)
			if !ok1 || !ok2 {
				return nil, m.exprError(expr, "a data source is data.TYPE.NAME")
			}
			addRef(dataRefs, typ, name, attrOf(t, 3))
		default:
			name, ok := traversalName(t, 1)
			if !ok {
				return nil, m.exprError(expr, fmt.Sprintf("%s is no variable, local, data source or resource type", root))
			}
			if m.byType[root][name] == nil {
				return nil, m.exprError(expr, fmt.Sprintf("no resource %s.%s in the module", root, name))
			}
			addRef(refs, root, name, attrOf(t, 2))
		}
	}
	if len(locals) > 0 {
		vars["local"] = cty.ObjectVal(locals)
	}
	for typ, names := range refs {
		objs := map[string]cty.Value{}
		for name, attrs := range names {
			v, err := m.resourceValue(m.byType[typ][name], attrs, expr)
			if err != nil {
				return nil, err
			}
			objs[name] = v
		}
		vars[typ] = cty.ObjectVal(objs)
	}
	if len(dataRefs) > 0 {
		types := map[string]cty.Value{}
		for typ, names := range dataRefs {
			objs := map[string]cty.Value{}
			for name := range names {
				v, err := m.dataValue(typ, name, expr)
				if err != nil {
					return nil, err
				}
				objs[name] = v
			}
			types[typ] = cty.ObjectVal(objs)
		}
		vars["data"] = cty.ObjectVal(types)
	}
	return &hcl.EvalContext{Variables: vars, Functions: m.funcs}, nil
}

// traversalName is the attribute name at step i of t.
func traversalName(t hcl.Traversal, i int) (string, bool) {
	if len(t) <= i {
		return "", false
	}
	switch s := t[i].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseRoot:
		return s.Name, true
	}
	return "", false
}

// attrOf is the attribute a reference to a resource reads: the step at i,
// or after an instance key there; "" when it reads the whole resource.
func attrOf(t hcl.Traversal, i int) string {
	if len(t) <= i {
		return ""
	}
	if _, isIndex := t[i].(hcl.TraverseIndex); isIndex {
		i++
	}
	name, _ := traversalName(t, i)
	return name
}

func addRef(refs map[string]map[string]map[string]bool, typ, name, attr string) {
	if refs[typ] == nil {
		refs[typ] = map[string]map[string]bool{}
	}
	attrs, seen := refs[typ][name]
	switch {
	case attr == "":
		refs[typ][name] = nil // every attribute
	case !seen:
		refs[typ][name] = map[string]bool{attr: true}
	case attrs != nil:
		attrs[attr] = true
	}
}

// memoized evaluates f once for key; a key met again while it is being
// evaluated is a cycle.
func (m *tfModule) memoized(key string, f func() (any, error)) (any, error) {
	if mm, ok := m.memo[key]; ok {
		if !mm.done {
			return nil, fmt.Errorf("%s depends on itself", key)
		}
		return mm.v, mm.err
	}
	mm := &tfMemo{}
	m.memo[key] = mm
	mm.v, mm.err = f()
	mm.done = true
	return mm.v, mm.err
}

// local is the value of local.name.
func (m *tfModule) local(name string) (cty.Value, error) {
	v, err := m.memoized("local."+name, func() (any, error) {
		d, ok := m.locals[name]
		if !ok {
			return nil, fmt.Errorf("local.%s is not declared in a locals block", name)
		}
		return m.eval(d.expr, nil)
	})
	if err != nil {
		return cty.NilVal, err
	}
	return v.(cty.Value), nil
}

// tfInstance is one instance of a resource: the resource itself, or one
// of its count or for_each instances.
type tfInstance struct {
	res   *tfResource
	key   any // nil, an int (count) or a string (for_each)
	scope map[string]cty.Value
}

// address is the instance's address, as Terraform prints it.
func (in *tfInstance) address() string {
	switch k := in.key.(type) {
	case int:
		return fmt.Sprintf("%s[%d]", in.res.address(), k)
	case string:
		return fmt.Sprintf("%s[%q]", in.res.address(), k)
	}
	return in.res.address()
}

// tfExpansion is how a resource expands: one instance, count or for_each.
type tfExpansion int

const (
	tfSingle tfExpansion = iota
	tfCount
	tfForEach
)

// instances expands r by its count or for_each (over known values).
func (m *tfModule) instances(r *tfResource) ([]*tfInstance, tfExpansion, error) {
	type result struct {
		ins []*tfInstance
		how tfExpansion
	}
	v, err := m.memoized("instances "+r.address(), func() (any, error) {
		if a, ok := r.body.Attributes["count"]; ok {
			cv, err := m.eval(a.Expr, nil)
			if err != nil {
				return nil, err
			}
			var n int
			if cv.Type() != cty.Number || cv.IsNull() {
				return nil, m.exprError(a.Expr, "count must be a whole number")
			}
			bf := cv.AsBigFloat()
			if i, acc := bf.Int64(); acc != 0 || i < 0 || i > 1000 {
				return nil, m.exprError(a.Expr, "count must be a whole number from 0 to 1000")
			} else {
				n = int(i)
			}
			out := make([]*tfInstance, n)
			for i := range out {
				out[i] = &tfInstance{res: r, key: i, scope: map[string]cty.Value{
					"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))}),
				}}
			}
			return result{out, tfCount}, nil
		}
		if a, ok := r.body.Attributes["for_each"]; ok {
			fv, err := m.eval(a.Expr, nil)
			if err != nil {
				return nil, err
			}
			t := fv.Type()
			if fv.IsNull() || !(t.IsMapType() || t.IsObjectType() || t.IsSetType() && t.ElementType() == cty.String) {
				return nil, m.exprError(a.Expr, "for_each takes a map or a set of strings")
			}
			var out []*tfInstance
			for it := fv.ElementIterator(); it.Next(); {
				k, ev := it.Element()
				if t.IsSetType() {
					k = ev
				}
				key := k.AsString()
				out = append(out, &tfInstance{res: r, key: key, scope: map[string]cty.Value{
					"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": ev}),
				}})
			}
			return result{out, tfForEach}, nil
		}
		return result{[]*tfInstance{{res: r}}, tfSingle}, nil
	})
	if err != nil {
		return nil, 0, err
	}
	res := v.(result)
	return res.ins, res.how, nil
}

// resourceValue is what a reference to r gives: an object of the
// attributes asked for (every one when attrs is nil), a list of them with
// count, a map of them with for_each.
func (m *tfModule) resourceValue(r *tfResource, attrs map[string]bool, at hcl.Expression) (cty.Value, error) {
	ins, how, err := m.instances(r)
	if err != nil {
		return cty.NilVal, err
	}
	vals := make([]cty.Value, 0, len(ins))
	keyed := map[string]cty.Value{}
	for _, in := range ins {
		names := m.attributeNames(in)
		if attrs != nil {
			names = names[:0]
			for a := range attrs {
				names = append(names, a)
			}
		}
		obj := map[string]cty.Value{}
		for _, a := range names {
			v, err := m.attribute(in, a)
			if err != nil {
				return cty.NilVal, m.exprError(at, err.Error())
			}
			obj[a] = v
		}
		ov := cty.ObjectVal(obj)
		vals = append(vals, ov)
		if k, ok := in.key.(string); ok {
			keyed[k] = ov
		}
	}
	switch how {
	case tfCount:
		if len(vals) == 0 {
			return cty.EmptyTupleVal, nil
		}
		return cty.TupleVal(vals), nil
	case tfForEach:
		return cty.ObjectVal(keyed), nil
	}
	return vals[0], nil
}

// attributeNames is every attribute edgefront gives an instance: its
// arguments and the attributes terraform_values.go derives.
func (m *tfModule) attributeNames(in *tfInstance) []string {
	names := tfComputedNames(in.res.typ)
	for _, a := range sortedAttributes(in.res.body) {
		if !tfMetaArgument(a.Name) && !hasString(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	return names
}

// tfMetaArgument reports whether name is one of Terraform's meta-arguments
// rather than the resource's own.
func tfMetaArgument(name string) bool {
	switch name {
	case "count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection":
		return true
	}
	return false
}

// attribute is the value of instance in's attribute name: derived
// (terraform_values.go) or the argument as written.
func (m *tfModule) attribute(in *tfInstance, name string) (cty.Value, error) {
	v, err := m.memoized(in.address()+"."+name, func() (any, error) {
		if v, ok, err := m.computed(in, name); ok || err != nil {
			return v, err
		}
		if a, ok := in.res.body.Attributes[name]; ok && !tfMetaArgument(name) {
			return m.eval(a.Expr, in.scope)
		}
		return nil, fmt.Errorf("edgefront does not know the %s attribute of %s; write the value itself", name, in.res.typ)
	})
	if err != nil {
		return cty.NilVal, err
	}
	return v.(cty.Value), nil
}

// argString is instance in's string argument name ("" when absent).
func (m *tfModule) argString(in *tfInstance, name string) (string, error) {
	a, ok := in.res.body.Attributes[name]
	if !ok {
		return "", nil
	}
	v, err := m.memoized(in.address()+"#"+name, func() (any, error) { return m.eval(a.Expr, in.scope) })
	if err != nil {
		return "", err
	}
	s, err := ctyString(v.(cty.Value))
	if err != nil {
		return "", m.exprError(a.Expr, err.Error())
	}
	return s, nil
}

// ctyString is v as a string (numbers and booleans as Terraform prints
// them).
func ctyString(v cty.Value) (string, error) {
	if v.IsNull() {
		return "", nil
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), nil
	case cty.Bool:
		return strconv.FormatBool(v.True()), nil
	}
	return "", fmt.Errorf("expected a string, got %s", v.Type().FriendlyName())
}

// tree evaluates body (below the Terraform path at) into generic values:
// attributes by name; blocks (and dynamic blocks) as lists of objects by
// type. Problems are reported to p; lines records where each path was
// written.
func (m *tfModule) tree(p *problems, at string, body *hclsyntax.Body, scope map[string]cty.Value, lines tfLines, top bool) *object {
	out := newObject()
	type item struct {
		start int
		attr  *hclsyntax.Attribute
		block *hclsyntax.Block
	}
	var items []item
	for _, a := range body.Attributes {
		items = append(items, item{start: a.SrcRange.Start.Byte, attr: a})
	}
	for _, b := range body.Blocks {
		items = append(items, item{start: b.TypeRange.Start.Byte, block: b})
	}
	sortItems(items, func(a, b item) bool { return a.start < b.start })
	counts := map[string]int{}
	for _, it := range items {
		if a := it.attr; a != nil {
			if top && tfMetaArgument(a.Name) {
				continue
			}
			path := join(at, a.Name)
			lines[path] = tfPos{file: filepath.Base(a.SrcRange.Filename), line: a.SrcRange.Start.Line}
			v, err := m.eval(a.Expr, scope)
			if err != nil {
				p.add(path, "%v", err)
				continue
			}
			g, err := ctyGeneric(v, 0)
			if err != nil {
				p.add(path, "%v", m.exprError(a.Expr, err.Error()))
				continue
			}
			out.put(a.Name, g)
			continue
		}
		b := it.block
		if top && tfMetaArgument(b.Type) {
			continue
		}
		if b.Type != "dynamic" {
			m.appendBlock(p, at, out, counts, b.Type, b.Body, scope, lines, b.TypeRange)
			continue
		}
		m.dynamic(p, at, out, counts, b, scope, lines)
	}
	// A block written once is also known by its name without [0].
	for name, n := range counts {
		if n != 1 {
			continue
		}
		prefix := index(join(at, name), 0)
		for k, pos := range lines {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				lines[join(at, name)+rest] = pos
			}
		}
	}
	return out
}

// appendBlock adds one block of type typ to out.
func (m *tfModule) appendBlock(p *problems, at string, out *object, counts map[string]int, typ string, body *hclsyntax.Body, scope map[string]cty.Value, lines tfLines, rng hcl.Range) {
	path := index(join(at, typ), counts[typ])
	counts[typ]++
	lines[path] = tfPos{file: filepath.Base(rng.Filename), line: rng.Start.Line}
	sub := m.tree(p, path, body, scope, lines, false)
	list, _ := out.vals[typ].([]any)
	out.put(typ, append(list, sub))
}

// dynamic expands a dynamic block: its content once per element of
// for_each, with the iterator (the block's label, or `iterator`) bound to
// {key, value}.
func (m *tfModule) dynamic(p *problems, at string, out *object, counts map[string]int, b *hclsyntax.Block, scope map[string]cty.Value, lines tfLines) {
	path := fmt.Sprintf("%s.dynamic (line %d)", at, b.TypeRange.Start.Line)
	if len(b.Labels) != 1 {
		p.add(path, "a dynamic block has one label, the type of the blocks it writes")
		return
	}
	typ := b.Labels[0]
	iter := typ
	if a, ok := b.Body.Attributes["iterator"]; ok {
		iter = hcl.ExprAsKeyword(a.Expr)
		if iter == "" {
			p.add(path, "%v", m.exprError(a.Expr, "iterator must be a name"))
			return
		}
	}
	fe, ok := b.Body.Attributes["for_each"]
	if !ok {
		p.add(path, "for_each is required")
		return
	}
	var content *hclsyntax.Block
	for _, c := range b.Body.Blocks {
		if c.Type == "content" {
			content = c
		}
	}
	if content == nil {
		p.add(path, "a content block is required")
		return
	}
	coll, err := m.eval(fe.Expr, scope)
	if err != nil {
		p.add(path, "%v", err)
		return
	}
	if coll.IsNull() || !coll.CanIterateElements() {
		p.add(path, "%v", m.exprError(fe.Expr, "for_each takes a list, set, map or object"))
		return
	}
	for it := coll.ElementIterator(); it.Next(); {
		k, v := it.Element()
		inner := map[string]cty.Value{}
		for n, sv := range scope {
			inner[n] = sv
		}
		inner[iter] = cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})
		m.appendBlock(p, at, out, counts, typ, content.Body, inner, lines, b.TypeRange)
	}
}

func sortItems[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ctyGeneric converts a cty value into the generic values the decoder
// reads.
func ctyGeneric(v cty.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nesting too deep")
	}
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsKnown() {
		return nil, errors.New("the value is only known after apply")
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString(), nil
	case t == cty.Number:
		return json.Number(v.AsBigFloat().Text('f', -1)), nil
	case t == cty.Bool:
		return v.True(), nil
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			g, err := ctyGeneric(ev, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case t.IsMapType() || t.IsObjectType():
		out := newObject()
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			g, err := ctyGeneric(ev, depth+1)
			if err != nil {
				return nil, err
			}
			out.put(k.AsString(), g)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected value of type %s", t.FriendlyName())
}
