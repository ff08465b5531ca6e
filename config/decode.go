package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// This file is the strict decoder: it maps generic values (parse.go) onto
// typed structs by reflection, using each field's json tag as its name, and
// records every problem with the field's path instead of stopping.

// problems collects Errors for one file and remembers which fields already
// have one, so later checks do not pile a second complaint on them.
type problems struct {
	file   string
	errs   Errors
	marked map[string]bool
	order  map[string]int // when each field path was first decoded
}

func newProblems(file string) *problems {
	return &problems{file: file, marked: map[string]bool{}, order: map[string]int{}}
}

// visit notes that the decoder reached path, in document order.
func (p *problems) visit(path string) {
	if _, ok := p.order[path]; !ok {
		p.order[path] = len(p.order)
	}
}

// sorted returns the problems in file order: by the position of each path
// component in the document, then in the order they were found. A field
// that was never decoded (a missing one) sorts after its decoded siblings.
func (p *problems) sorted() Errors {
	keys := make(map[*Error][]int, len(p.errs))
	for _, e := range p.errs {
		var k []int
		for i := 0; i <= len(e.Field); i++ {
			if i == len(e.Field) || e.Field[i] == '.' || e.Field[i] == '[' {
				if i == 0 {
					continue
				}
				n, ok := p.order[e.Field[:i]]
				if !ok {
					n = math.MaxInt
				}
				k = append(k, n)
			}
		}
		keys[e] = k
	}
	out := slices.Clone(p.errs)
	slices.SortStableFunc(out, func(a, b *Error) int { return slices.Compare(keys[a], keys[b]) })
	return out
}

// add records a problem with field unless that field already has one.
func (p *problems) add(field, format string, args ...any) {
	if p.marked[field] {
		return
	}
	p.marked[field] = true
	p.errs = append(p.errs, &Error{File: p.file, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// addCode is add for a problem CloudFront answers with its own error code.
func (p *problems) addCode(code, field, format string, args ...any) {
	if p.marked[field] {
		return
	}
	p.add(field, format, args...)
	p.errs[len(p.errs)-1].Code = code
}

// mark silences later problems on field.
func (p *problems) mark(field string) { p.marked[field] = true }

// valueDecoder is implemented by types that decode themselves from a
// generic value (sizes, raw sub-documents, string-or-list fields).
type valueDecoder interface {
	decodeValue(p *problems, path string, src any)
}

// quantityNormalizer is implemented by List and the types embedding it.
type quantityNormalizer interface {
	normalizeQuantity() (given, items int, ok bool)
}

var valueDecoderType = reflect.TypeFor[valueDecoder]()

// decodeInto decodes src into dst (a pointer) and reports problems under path.
func decodeInto(p *problems, path string, src any, dst any) {
	decodeValue(p, path, src, reflect.ValueOf(dst).Elem())
}

func decodeValue(p *problems, path string, src any, dst reflect.Value) {
	p.visit(path)
	if dst.CanAddr() && dst.Addr().Type().Implements(valueDecoderType) {
		dst.Addr().Interface().(valueDecoder).decodeValue(p, path, src)
		return
	}
	if src == nil { // null is the same as absent
		return
	}
	switch dst.Kind() {
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		decodeValue(p, path, src, v.Elem())
		dst.Set(v)
	case reflect.Struct:
		decodeStruct(p, path, src, dst)
	case reflect.Slice:
		list, ok := src.([]any)
		if !ok {
			p.add(path, "expected a list, got %s", describe(src))
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(list), len(list))
		for i, item := range list {
			decodeValue(p, fmt.Sprintf("%s[%d]", path, i), item, s.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		o, ok := src.(*object)
		if !ok {
			p.add(path, "expected an object, got %s", describe(src))
			return
		}
		m := reflect.MakeMapWithSize(dst.Type(), len(o.keys))
		for _, k := range o.keys {
			v := reflect.New(dst.Type().Elem()).Elem()
			decodeValue(p, join(path, k), o.vals[k], v)
			m.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), v)
		}
		dst.Set(m)
	case reflect.String:
		switch s := src.(type) {
		case string:
			dst.SetString(s)
		case json.Number: // YAML users write ResponseCode: 200
			dst.SetString(s.String())
		default:
			p.add(path, "expected a string, got %s", describe(src))
		}
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			p.add(path, "expected true or false, got %s", describe(src))
			return
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := src.(json.Number)
		if !ok {
			p.add(path, "expected an integer, got %s", describe(src))
			return
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || dst.OverflowInt(i) {
			p.add(path, "expected an integer, got %s", n)
			return
		}
		dst.SetInt(i)
	case reflect.Float64:
		n, ok := src.(json.Number)
		if !ok {
			p.add(path, "expected a number, got %s", describe(src))
			return
		}
		f, err := n.Float64()
		if err != nil {
			p.add(path, "expected a number, got %s", n)
			return
		}
		dst.SetFloat(f)
	case reflect.Interface:
		dst.Set(reflect.ValueOf(src))
	default:
		panic("config: cannot decode into " + dst.Type().String())
	}
}

// Field is one field of a configuration struct type as the configuration
// names it: its JSON/API name, where it is (reflect.Value.FieldByIndex), and
// whether it is omitted when empty. Other encoders of these types (the
// control API's XML) use it so that names are decided once.
type Field struct {
	Name      string
	Index     []int
	OmitEmpty bool
}

// StructFields lists the fields of configuration struct type t in
// declaration order, flattening untagged embedded structs (the List inside
// TrustedSigners).
func StructFields(t reflect.Type) []Field {
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			for _, sub := range StructFields(f.Type) {
				sub.Index = append([]int{i}, sub.Index...)
				out = append(out, sub)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, Field{Name: name, Index: []int{i}, OmitEmpty: strings.Contains(opts, "omitempty")})
	}
	return out
}

func decodeStruct(p *problems, path string, src any, dst reflect.Value) {
	o, ok := src.(*object)
	if !ok {
		p.add(path, "expected an object, got %s", describe(src))
		return
	}
	fields := StructFields(dst.Type())
	for _, k := range o.keys {
		f, found := findField(fields, k)
		if !found {
			reason := "unknown field"
			if s := suggest(fields, k); s != "" {
				reason += " (did you mean " + s + "?)"
				p.mark(join(path, s))
			}
			p.add(join(path, k), "%s", reason)
			continue
		}
		decodeValue(p, join(path, k), o.vals[k], dst.FieldByIndex(f.Index))
	}
	if q, ok := dst.Addr().Interface().(quantityNormalizer); ok {
		if given, items, ok := q.normalizeQuantity(); !ok {
			p.add(join(path, "Quantity"), "is %d but Items has %d entries", given, items)
		}
	}
}

func findField(fields []Field, name string) (Field, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// suggest returns the field name closest to an unknown key: a match that
// differs only in case, else the nearest by edit distance if close enough.
func suggest(fields []Field, key string) string {
	best, bestDist := "", 0
	for _, f := range fields {
		if strings.EqualFold(f.Name, key) {
			return f.Name
		}
		d := editDistance(strings.ToLower(f.Name), strings.ToLower(key))
		if best == "" || d < bestDist {
			best, bestDist = f.Name, d
		}
	}
	if best != "" && bestDist <= max(2, len(key)/4) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names a generic value's type for error messages.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case *object:
		return "an object"
	case []any:
		return "a list"
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return "the string " + strconv.Quote(t)
	case json.Number:
		return "the number " + t.String()
	case bool:
		return "the boolean " + strconv.FormatBool(t)
	}
	return fmt.Sprintf("%T", v)
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends a list index to a path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// rawValue keeps a sub-document undecoded, for a later pass that knows its
// shape (a DistributionConfig inline in the settings, a wrapped policy).
type rawValue struct {
	v   any
	set bool
}

func (r *rawValue) decodeValue(_ *problems, _ string, src any) {
	r.v, r.set = src, src != nil
}

// stringList is a string or a list of strings.
type stringList []string

func (s *stringList) decodeValue(p *problems, path string, src any) {
	switch t := src.(type) {
	case nil:
	case string:
		*s = stringList{t}
	case []any:
		out := make(stringList, 0, len(t))
		for i, item := range t {
			str, ok := item.(string)
			if !ok {
				p.add(index(path, i), "expected a string, got %s", describe(item))
				continue
			}
			out = append(out, str)
		}
		*s = out
	default:
		p.add(path, "expected a string or a list of strings, got %s", describe(src))
	}
}
