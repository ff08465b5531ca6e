package edge

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/dop251/goja"
)

// This file is the lazy form of the event's headers, cookies and query
// string objects. A typical function reads request.uri and nothing else;
// building every header as {value} objects and exporting them all back
// cost most of a run. A lazyFields is a goja dynamic object backed by the
// message itself: the Go fields are read from the message on the first
// touch, an entry becomes a JavaScript object only when the function reads
// it, and the result is read from Go state — an object the function never
// touched costs nothing to read back.
//
// To the function it is an ordinary object: its own properties are
// enumerable, writable, configurable data properties, listed as
// ECMAScript lists an ordinary object's keys (array indexes in ascending
// order first, then the other names in the order they were added), and
// each entry is a plain object built as the eager event built it. What a
// dynamic object cannot be is made non-extensible: Object.freeze, seal or
// preventExtensions of event.request.headers (or querystring, cookies)
// throws a TypeError where an ordinary object would be frozen.

// fieldsSource is where a lazyFields reads its values from.
type fieldsSource uint8

// String names the object for a message.
func (s fieldsSource) String() string {
	switch s {
	case srcRequestCookies, srcResponseCookies:
		return "cookies"
	case srcQuery:
		return "query string parameters"
	}
	return "headers"
}

const (
	srcRequestHeaders  fieldsSource = iota // a request's headers: Host included, Cookie and disallowed ones left out
	srcRequestCookies                      // a request's Cookie headers
	srcQuery                               // a raw query string
	srcResponseHeaders                     // a response's headers: Set-Cookie and disallowed ones left out
	srcResponseCookies                     // a response's Set-Cookie headers, with attributes
	srcNone                                // no message: an object whose run ended unread
)

// lazyFields is one headers, cookies or query string object of an event.
// It belongs to one run (one VM, one goroutine) and is not safe for
// concurrent use; a reference a function keeps past its run still reads
// that run's values, if the function read them during the run (end).
type lazyFields struct {
	r   *goja.Runtime
	js  *goja.Object  // lf's JavaScript object, once made
	req *http.Request // srcRequest*, srcQuery (its RawQuery)
	h   http.Header   // srcResponse*
	src fieldsSource

	// dirty: the object may differ from base (a property was set or
	// deleted, or an entry the function may have changed was handed out).
	dirty   bool
	snapped bool // snapshot ran: read uses its exports
	ended   bool // the run ended before the object was read (end)

	// *lazyState is the object's values, nil until first touched: an
	// object the function never reaches costs its event no more than
	// the fields above.
	*lazyState
}

// lazyState is a lazyFields' values, read from the message on the first
// touch.
type lazyState struct {
	base fields // the event's values, as read from the message

	// What the function made of the object: its properties in the order
	// they were added, each a materialised value or (nil) base's entry
	// not yet read.
	ents  []lazyEntry
	index map[string]int // name → position in ents; built for many entries, nil when stale
}

type lazyEntry struct {
	name string
	val  goja.Value // nil: base's values, not materialised
	exp  any        // val exported by snapshot
}

// indexFrom is how many properties make a lookup worth a map.
const indexFrom = 16

// on readies lf, a new (zero) lazyFields, to read src of req or h. It sets
// the fields one by one rather than copying a whole struct over a zero
// one: fewer write barriers while the GC runs.
func (lf *lazyFields) on(r *goja.Runtime, src fieldsSource, req *http.Request, h http.Header) {
	lf.r, lf.src = r, src
	if req != nil {
		lf.req = req
	}
	if h != nil {
		lf.h = h
	}
}

// object returns the JavaScript object of lf (whose r, src and message
// are set).
func (lf *lazyFields) object() *goja.Object {
	if lf.js == nil {
		lf.js = lf.r.NewDynamicObject(lf)
	}
	return lf.js
}

// end is the end of lf's run. The front ends reuse a connection's
// request and header map for its next request, and the proxy goes on
// changing a response's headers: an object the function did not read
// during its run never reads the message after it (it would read another
// request's values, as another goroutine writes them). A function that
// kept it gets a TypeError for any use of it (gone), and a later run that
// returns it a validation error (read); one it read keeps its values.
func (lf *lazyFields) end() {
	if lf.lazyState == nil {
		lf.ended = true
	}
	lf.req, lf.h = nil, nil
}

// gone throws the TypeError of a use of lf after its run ended unread.
func (lf *lazyFields) gone() {
	if lf.ended {
		panic(lf.r.NewTypeError("the %s of an earlier run's event, which that run did not read, are gone", lf.src))
	}
}

// fields returns the event's values: what the function was given.
func (lf *lazyFields) fields() *fields {
	if lf.lazyState == nil {
		lf.lazyState = new(lazyState)
		src := lf.src
		if lf.ended {
			src = srcNone // no values (Go readers; uses in JavaScript are gone's)
		}
		switch src {
		case srcRequestHeaders:
			lf.base = requestHeaders(lf.req)
		case srcRequestCookies:
			lf.base = requestCookies(lf.req.Header)
		case srcQuery:
			lf.base = queryFields(lf.req.URL.RawQuery)
		case srcResponseHeaders:
			lf.base = responseHeaders(lf.h)
		case srcResponseCookies:
			lf.base = responseCookies(lf.h)
		}
		lf.ents = make([]lazyEntry, len(lf.base.names))
		for i, name := range lf.base.names {
			lf.ents[i].name = name
		}
	}
	return &lf.base
}

// unchanged reports whether the function left the object exactly as it
// got it, without reading it through (a key listing or a lookup of a
// missing name does not count).
func (lf *lazyFields) unchanged() bool { return !lf.dirty }

// find returns the position of name in ents, or -1.
func (lf *lazyFields) find(name string) int {
	lf.fields()
	if len(lf.ents) < indexFrom {
		for i := range lf.ents {
			if lf.ents[i].name == name {
				return i
			}
		}
		return -1
	}
	if lf.index == nil {
		lf.index = make(map[string]int, len(lf.ents))
		for i, e := range lf.ents {
			lf.index[e.name] = i
		}
	}
	if i, ok := lf.index[name]; ok {
		return i
	}
	return -1
}

// entry materialises base's values of name as the eager event had them:
// {value, attributes?, multiValue?: [{value, attributes?}, …]}.
func (lf *lazyFields) entry(name string) *goja.Object {
	return entryObject(lf.r, lf.base.values[name], lf.src == srcResponseCookies)
}

// Get is goja.DynamicObject's: an own property's value, nil for none.
func (lf *lazyFields) Get(key string) goja.Value {
	lf.gone()
	i := lf.find(key)
	if i < 0 {
		return nil
	}
	e := &lf.ents[i]
	if e.val == nil {
		e.val = lf.entry(e.name)
	}
	lf.dirty = true // the function holds the entry and may change it
	return e.val
}

// Set is goja.DynamicObject's: a new property goes last.
func (lf *lazyFields) Set(key string, val goja.Value) bool {
	lf.gone()
	lf.dirty = true
	if i := lf.find(key); i >= 0 {
		lf.ents[i].val = val
		if val == nil { // never: goja passes undefined; kept apart from "not materialised"
			lf.ents[i].val = goja.Undefined()
		}
		return true
	}
	if val == nil {
		val = goja.Undefined()
	}
	lf.ents = append(lf.ents, lazyEntry{name: key, val: val})
	if lf.index != nil {
		lf.index[key] = len(lf.ents) - 1
	}
	return true
}

// Has is goja.DynamicObject's.
func (lf *lazyFields) Has(key string) bool {
	lf.gone()
	return lf.find(key) >= 0
}

// Delete is goja.DynamicObject's.
func (lf *lazyFields) Delete(key string) bool {
	lf.gone()
	if i := lf.find(key); i >= 0 {
		lf.dirty = true
		lf.ents = slices.Delete(lf.ents, i, i+1)
		lf.index = nil
	}
	return true
}

// Keys is goja.DynamicObject's, in an ordinary object's order.
func (lf *lazyFields) Keys() []string {
	lf.gone()
	lf.fields()
	keys := make([]string, len(lf.ents))
	for i, e := range lf.ents {
		keys[i] = e.name
	}
	return ordinaryOrder(keys)
}

// ordinaryOrder orders keys, given in the order they were added, as
// ECMAScript lists an ordinary object's own keys (OrdinaryOwnPropertyKeys,
// as goja orders them): array indexes ascending, then the other names as
// they were added.
func ordinaryOrder(keys []string) []string {
	n := 0
	for _, k := range keys {
		if arrayIndex(k) != math.MaxUint32 {
			n++
		}
	}
	if n == 0 {
		return keys
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if arrayIndex(k) != math.MaxUint32 {
			out = append(out, k)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		x, y := arrayIndex(a), arrayIndex(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	for _, k := range keys {
		if arrayIndex(k) == math.MaxUint32 {
			out = append(out, k)
		}
	}
	return out
}

// arrayIndex returns name as an ECMAScript array index (a canonical
// integer below 2³²−1), or math.MaxUint32 when it is not one.
func arrayIndex(name string) uint32 {
	if name == "" || len(name) > 10 || (name[0] == '0' && len(name) > 1) {
		return math.MaxUint32
	}
	var n uint64
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < '0' || c > '9' {
			return math.MaxUint32
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}

// snapshot exports the entries the function reached, so that read runs no
// JavaScript: settle calls it under the run's budget (an entry may have
// getters), read after the run. It runs once: the object is read as it
// was when the handler returned, however many properties of the result
// hold it.
func (lf *lazyFields) snapshot() {
	if !lf.dirty || lf.snapped {
		return
	}
	for i := range lf.ents {
		if e := &lf.ents[i]; e.val != nil {
			e.exp = plainExport(e.val.Export())
		}
	}
	lf.snapped = true
}

// read returns the object as the function left it, as readFields reads an
// exported object: every name in key order, a multiValue (when present)
// being every value.
func (lf *lazyFields) read(what string) (fields, error) {
	var out fields
	if lf.ended {
		return out, fmt.Errorf("%s is the %s of an earlier run's event, which that run did not read", what, lf.src)
	}
	lf.fields()
	if !lf.dirty {
		for _, name := range lf.base.names {
			for _, v := range lf.base.values[name] {
				out.add(name, v)
			}
		}
		return out, nil
	}
	for _, name := range lf.Keys() {
		e := lf.ents[lf.find(name)]
		if e.val == nil {
			for _, v := range lf.base.values[name] {
				out.add(name, v)
			}
			continue
		}
		exp := e.exp
		if !lf.snapped {
			exp = plainExport(e.val.Export())
		}
		if err := readEntry(&out, what, name, exp); err != nil {
			return out, err
		}
	}
	return out, nil
}

// exportMap is the object as goja's Export gives an ordinary object:
// {name: {value, attributes?, multiValue?}} as Go maps and slices.
func (lf *lazyFields) exportMap() map[string]any {
	var w walker
	return w.lazy(lf)
}

// plainExport replaces the lazy objects in an exported value by what an
// ordinary object's Export gives, so that every reader of a result sees
// maps, as it did when the event was built eagerly. Exported values may be
// cyclic (goja exports a cycle as one shared map): each map, slice and
// lazy object is walked once.
func plainExport(v any) any {
	switch v.(type) {
	case *lazyFields, *record, map[string]any, []any:
		var w walker
		return w.walk(v)
	}
	return v
}

// walker is one plainExport: what it has seen.
type walker struct {
	seen    map[uintptr]bool
	lazies  map[*lazyFields]map[string]any
	records map[*record]map[string]any
}

func (w *walker) record(rec *record) map[string]any {
	if m, ok := w.records[rec]; ok {
		return m
	}
	if w.records == nil {
		w.records = map[*record]map[string]any{}
	}
	m := make(map[string]any, len(rec.slots))
	w.records[rec] = m
	w.visit(reflect.ValueOf(m).Pointer())
	for i := range rec.slots {
		s := &rec.slots[i]
		m[s.name] = w.walk(exportSlot(s))
	}
	return m
}

func (w *walker) visit(p uintptr) bool {
	if w.seen == nil {
		w.seen = map[uintptr]bool{}
	}
	if w.seen[p] {
		return false
	}
	w.seen[p] = true
	return true
}

func (w *walker) walk(v any) any {
	switch t := v.(type) {
	case *lazyFields:
		return w.lazy(t)
	case *record:
		return w.record(t)
	case map[string]any:
		if len(t) == 0 || !w.visit(reflect.ValueOf(t).Pointer()) {
			return v
		}
		for k, x := range t {
			switch x.(type) {
			case *lazyFields, *record, map[string]any, []any:
				t[k] = w.walk(x)
			}
		}
	case []any:
		if len(t) == 0 || !w.visit(uintptr(unsafe.Pointer(unsafe.SliceData(t)))) {
			return v
		}
		for i, x := range t {
			switch x.(type) {
			case *lazyFields, *record, map[string]any, []any:
				t[i] = w.walk(x)
			}
		}
	}
	return v
}

func (w *walker) lazy(lf *lazyFields) map[string]any {
	if m, ok := w.lazies[lf]; ok {
		return m
	}
	if w.lazies == nil {
		w.lazies = map[*lazyFields]map[string]any{}
	}
	lf.fields()
	m := make(map[string]any, len(lf.ents))
	w.lazies[lf] = m
	w.visit(reflect.ValueOf(m).Pointer())
	attrs := lf.src == srcResponseCookies
	one := func(v field) map[string]any {
		e := map[string]any{"value": v.Value}
		if attrs && v.Attributes != "" {
			e["attributes"] = v.Attributes
		}
		return e
	}
	for _, e := range lf.ents {
		if e.val != nil {
			m[e.name] = w.walk(e.val.Export())
			continue
		}
		vs := lf.base.values[e.name]
		x := one(vs[0])
		if len(vs) > 1 {
			mv := make([]any, len(vs))
			for i, v := range vs {
				mv[i] = one(v)
			}
			x["multiValue"] = mv
		}
		m[e.name] = x
	}
	return m
}

// lowerName is strings.ToLower for header names, without allocating for
// the names that are lower-case already.
func lowerName(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
