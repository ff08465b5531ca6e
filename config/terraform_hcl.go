package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// This file reads a Terraform root module — the .tf files of a directory,
// or one .tf file — with HCL's native syntax reader: its variables (with
// terraform.tfvars, *.auto.tfvars and the given values), locals, data
// sources, the aws provider's region and its resources. Nothing is planned
// or applied: each expression edgefront needs is evaluated on its own, with
// exactly the values it refers to (terraform_eval.go).

// tfModule is one Terraform root module.
type tfModule struct {
	dir       string
	files     map[string][]byte // source of each file read, for expression text
	order     []string          // .tf files in the order read
	variables map[string]*tfVariable
	locals    map[string]*tfDecl
	resources []*tfResource                     // managed resources, in file order
	byType    map[string]map[string]*tfResource // type → name → resource
	data      map[string]map[string]*tfResource // data sources
	provider  *tfDecl                           // provider "aws" { region = … }
	inputs    TemplateInputs
	tfvars    map[string]tfValueSource
	pol       *policySet // managed policies answer data sources

	funcs   map[string]function.Function
	memo    map[string]*tfMemo // locals, instances and attributes evaluated
	varsVal cty.Value          // var.* once evaluated
	varsErr error
	read    []string // files file() and templatefile() read
}

// tfVariable is a variable block.
type tfVariable struct {
	name    string
	def     hcl.Expression // nil without a default
	typ     cty.Type
	hasType bool
	rng     hcl.Range
}

// tfValueSource is a variable's value from a .tfvars file.
type tfValueSource struct {
	expr hcl.Expression
	file string
}

// tfDecl is a local value or the provider block: an expression or body.
type tfDecl struct {
	expr hcl.Expression
	body *hclsyntax.Body
	rng  hcl.Range
}

// tfResource is a resource or data block.
type tfResource struct {
	typ, name string
	body      *hclsyntax.Body
	rng       hcl.Range
	data      bool
}

// address is the resource's address without instance key.
func (r *tfResource) address() string {
	if r.data {
		return "data." + r.typ + "." + r.name
	}
	return r.typ + "." + r.name
}

// tfMemo is one value being or already evaluated.
type tfMemo struct {
	v    any
	err  error
	done bool
}

// isTerraformPath reports whether --config names Terraform: a directory, a
// .tf file.
func isTerraformPath(path string) bool {
	if strings.HasSuffix(path, ".tf") {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// newTFModule returns an empty module in dir.
func newTFModule(dir string, inputs TemplateInputs, pol *policySet) *tfModule {
	return &tfModule{
		dir: dir, files: map[string][]byte{}, variables: map[string]*tfVariable{}, locals: map[string]*tfDecl{},
		byType: map[string]map[string]*tfResource{}, data: map[string]map[string]*tfResource{},
		inputs: inputs, tfvars: map[string]tfValueSource{}, pol: pol, memo: map[string]*tfMemo{},
	}
}

// readTerraformModule reads the module at path (a directory of .tf files or
// one .tf file). Syntax and structure problems are reported to p, whose
// file is the one they are in.
func readTerraformModule(path string, inputs TemplateInputs, pol *policySet, add func(file string) *problems) (*tfModule, error) {
	m := newTFModule("", inputs, pol)
	var tfFiles, varFiles []string
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read config: %w", err)
	case fi.IsDir():
		m.dir = path
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case e.IsDir():
			case strings.HasSuffix(name, ".tf"):
				tfFiles = append(tfFiles, filepath.Join(path, name))
			case name == "terraform.tfvars":
				varFiles = append([]string{filepath.Join(path, name)}, varFiles...)
			case strings.HasSuffix(name, ".auto.tfvars"):
				varFiles = append(varFiles, filepath.Join(path, name))
			}
		}
		if len(tfFiles) == 0 {
			return nil, fmt.Errorf("read config: %s has no .tf files", path)
		}
	default:
		m.dir = filepath.Dir(path)
		tfFiles = []string{path}
	}
	for _, f := range tfFiles {
		m.readFile1(f, add(f))
	}
	for _, f := range varFiles {
		m.readVars(f, add(f))
	}
	m.funcs = m.tfFunctions()
	return m, nil
}

// readFile1 reads one .tf file's top-level blocks.
func (m *tfModule) readFile1(file string, p *problems) {
	src, err := os.ReadFile(file)
	if err != nil {
		p.add(syntaxField, "%v", err)
		return
	}
	m.order = append(m.order, file)
	m.parseFile(file, src, p)
}

// parseFile parses src as the .tf file named file.
func (m *tfModule) parseFile(file string, src []byte, p *problems) {
	m.files[file] = src
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		p.add(syntaxField, "%s", tfDiagnostics(diags))
		return
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for _, a := range sortedAttributes(body) {
		p.add(a.Name, "line %d: a .tf file's top level holds blocks only", a.SrcRange.Start.Line)
	}
	for _, b := range body.Blocks {
		at := fmt.Sprintf("%s (line %d)", b.Type, b.DefRange().Start.Line)
		switch b.Type {
		case "variable":
			if len(b.Labels) != 1 {
				p.add(at, "a variable block has one label, its name")
				continue
			}
			v := &tfVariable{name: b.Labels[0], rng: b.DefRange()}
			if a, ok := b.Body.Attributes["default"]; ok {
				v.def = a.Expr
			}
			if a, ok := b.Body.Attributes["type"]; ok {
				t, diags := typeexpr.TypeConstraint(a.Expr)
				if diags.HasErrors() {
					p.add("var."+v.name, "%s", tfDiagnostics(diags))
					continue
				}
				v.typ, v.hasType = t, true
			}
			m.variables[v.name] = v
		case "locals":
			for _, a := range sortedAttributes(b.Body) {
				m.locals[a.Name] = &tfDecl{expr: a.Expr, rng: a.SrcRange}
			}
		case "resource", "data":
			if len(b.Labels) != 2 {
				p.add(at, "a %s block has two labels, its type and name", b.Type)
				continue
			}
			r := &tfResource{typ: b.Labels[0], name: b.Labels[1], body: b.Body, rng: b.DefRange(), data: b.Type == "data"}
			all := m.byType
			if r.data {
				all = m.data
			}
			if all[r.typ] == nil {
				all[r.typ] = map[string]*tfResource{}
			}
			if _, dup := all[r.typ][r.name]; dup {
				p.add(r.address(), "line %d: declared twice", r.rng.Start.Line)
				continue
			}
			all[r.typ][r.name] = r
			if !r.data {
				m.resources = append(m.resources, r)
			}
		case "provider":
			if len(b.Labels) == 1 && b.Labels[0] == "aws" && m.provider == nil {
				m.provider = &tfDecl{body: b.Body, rng: b.DefRange()}
			}
		case "module":
			name := ""
			if len(b.Labels) > 0 {
				name = b.Labels[0]
			}
			p.add("module."+name, "line %d: edgefront reads a root module's own resources, not modules it calls; point --config at the module's directory", b.DefRange().Start.Line)
		case "terraform", "output", "moved", "import", "removed", "check":
		default:
			p.add(at, "unknown block type")
		}
	}
}

// readVars reads a .tfvars file.
func (m *tfModule) readVars(file string, p *problems) {
	src, err := os.ReadFile(file)
	if err != nil {
		p.add(syntaxField, "%v", err)
		return
	}
	m.files[file] = src
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		p.add(syntaxField, "%s", tfDiagnostics(diags))
		return
	}
	body := f.Body.(*hclsyntax.Body)
	for _, a := range sortedAttributes(body) {
		m.tfvars[a.Name] = tfValueSource{expr: a.Expr, file: file}
	}
}

// sortedAttributes is a body's attributes in source order.
func sortedAttributes(b *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}

// tfDiagnostics is HCL's diagnostics as one line each: "file:line: summary;
// detail".
func tfDiagnostics(diags hcl.Diagnostics) string {
	var out []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		s := d.Summary
		if d.Detail != "" {
			s += ": " + d.Detail
		}
		if d.Subject != nil {
			s = fmt.Sprintf("line %d: %s", d.Subject.Start.Line, s)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// variablesValue is var.*: every variable's value, from (last wins) its
// default, terraform.tfvars and *.auto.tfvars, the given parameters.
func (m *tfModule) variablesValue() (cty.Value, error) {
	if m.varsVal != cty.NilVal || m.varsErr != nil {
		return m.varsVal, m.varsErr
	}
	vals := map[string]cty.Value{}
	var errs []error
	names := make([]string, 0, len(m.variables))
	for n := range m.variables {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		v, err := m.variableValue(m.variables[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		vals[name] = v
	}
	if len(errs) > 0 {
		m.varsErr = errors.Join(errs...)
		return cty.NilVal, m.varsErr
	}
	m.varsVal = cty.ObjectVal(vals)
	return m.varsVal, nil
}

// variableValue is one variable's value, converted to its type.
func (m *tfModule) variableValue(v *tfVariable) (cty.Value, error) {
	var val cty.Value
	given, isGiven := m.inputs.Parameters[v.name]
	src, inFile := m.tfvars[v.name]
	switch {
	case isGiven && (!v.hasType || v.typ == cty.String || v.typ == cty.DynamicPseudoType):
		val = cty.StringVal(given)
	case isGiven: // like -var: a value of another type is written as HCL
		expr, diags := hclsyntax.ParseExpression([]byte(given), "--parameter "+v.name, hcl.InitialPos)
		if diags.HasErrors() {
			return cty.NilVal, fmt.Errorf("var.%s: --parameter %s=%s: %s", v.name, v.name, given, tfDiagnostics(diags))
		}
		var err error
		if val, err = m.eval(expr, nil); err != nil {
			return cty.NilVal, fmt.Errorf("var.%s: --parameter: %w", v.name, err)
		}
	case inFile:
		var err error
		if val, err = m.eval(src.expr, nil); err != nil {
			return cty.NilVal, fmt.Errorf("var.%s: %s: %w", v.name, filepath.Base(src.file), err)
		}
	case v.def != nil:
		var err error
		if val, err = m.eval(v.def, nil); err != nil {
			return cty.NilVal, fmt.Errorf("var.%s: default: %w", v.name, err)
		}
	default:
		return cty.NilVal, fmt.Errorf("var.%s (%s:%d) has no default, so its value is only known to terraform apply; give it (--parameter %s=VALUE, or terraform.tfvars)",
			v.name, filepath.Base(v.rng.Filename), v.rng.Start.Line, v.name)
	}
	if v.hasType {
		c, err := convert.Convert(val, v.typ)
		if err != nil {
			return cty.NilVal, fmt.Errorf("var.%s: the value does not have the variable's type: %v", v.name, err)
		}
		val = c
	}
	return val, nil
}
