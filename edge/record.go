package edge

import (
	"net/http"
	"slices"

	"github.com/dop251/goja"
)

// This file is the lazy form of the event's other objects: the event
// itself, its context, viewer, request and response. Built as ordinary
// goja objects they cost a property map each and a JavaScript string per
// value, and the result had to be exported whole to be read. A record is a
// goja dynamic object whose properties are Go slots: a string becomes a
// JavaScript string only when the function reads it, and the request the
// function returns is read back slot by slot (settle), not exported.
//
// To the function a record is an ordinary object, with the limits of a
// dynamic object lazy.go describes (it cannot be made non-extensible).

// record is one object of an event. Like a lazyFields it belongs to one
// run; a reference kept past the run reads what that run left.
type record struct {
	r     *goja.Runtime
	js    *goja.Object // rec's JavaScript object, once made
	slots []slot       // properties in the order they were added; first in the event's array (viewerEvent.slots)
}

// slot is a property of a record: v is its JavaScript value (a
// goja.Value), or an object of the event not yet made one (an
// eventObject), or nil for the Go string str not yet made one.
type slot struct {
	name string
	str  string
	v    any
}

// eventObject is a record or a lazyFields: an object of the event whose
// JavaScript object is made when the function first reaches it.
type eventObject interface {
	object() *goja.Object
}

// init readies rec for r, without properties, its own ones to go in
// backing (a property added beyond its length moves them to an array of
// their own).
func (rec *record) init(r *goja.Runtime, backing []slot) {
	rec.r, rec.slots = r, backing[:0:len(backing)]
}

// object returns the JavaScript object of rec.
func (rec *record) object() *goja.Object {
	if rec.js == nil {
		rec.js = rec.r.NewDynamicObject(rec)
	}
	return rec.js
}

// add adds a property, without a value yet, and returns its slot. The
// slots past len(rec.slots) are zero (a new event's array; Delete clears
// the one it frees), so a slot in the backing array is written field by
// field, not copied whole: fewer write barriers while the GC runs.
func (rec *record) add(name string) *slot {
	n := len(rec.slots)
	if n == cap(rec.slots) {
		rec.slots = append(rec.slots, slot{})
	} else {
		rec.slots = rec.slots[:n+1]
	}
	s := &rec.slots[n]
	s.name = name
	return s
}

// setString adds a string property, converted when first read.
func (rec *record) setString(name, s string) { rec.add(name).str = s }

// setValue adds a property.
func (rec *record) setValue(name string, v goja.Value) { rec.add(name).v = v }

// setObject adds an object of the event, made when first read.
func (rec *record) setObject(name string, o eventObject) { rec.add(name).v = o }

func (rec *record) find(name string) int {
	for i := range rec.slots {
		if rec.slots[i].name == name {
			return i
		}
	}
	return -1
}

// Get is goja.DynamicObject's.
func (rec *record) Get(key string) goja.Value {
	i := rec.find(key)
	if i < 0 {
		return nil
	}
	s := &rec.slots[i]
	var v goja.Value
	switch t := s.v.(type) {
	case goja.Value:
		return t
	case eventObject:
		v = t.object()
	default:
		v = rec.r.ToValue(s.str)
	}
	s.v = v
	return v
}

// Set is goja.DynamicObject's.
func (rec *record) Set(key string, val goja.Value) bool {
	if val == nil {
		val = goja.Undefined()
	}
	if i := rec.find(key); i >= 0 {
		rec.slots[i] = slot{name: key, v: val}
		return true
	}
	rec.add(key).v = val
	return true
}

// Has is goja.DynamicObject's.
func (rec *record) Has(key string) bool { return rec.find(key) >= 0 }

// Delete is goja.DynamicObject's.
func (rec *record) Delete(key string) bool {
	if i := rec.find(key); i >= 0 {
		rec.slots = slices.Delete(rec.slots, i, i+1)
	}
	return true
}

// Keys is goja.DynamicObject's, in an ordinary object's order.
func (rec *record) Keys() []string {
	keys := make([]string, len(rec.slots))
	for i, s := range rec.slots {
		keys[i] = s.name
	}
	return ordinaryOrder(keys)
}

// exportSlot is what an ordinary object's Export gives for s, except
// that a lazy object (headers, cookies, query string) stays as it is.
func exportSlot(s *slot) any {
	switch t := s.v.(type) {
	case goja.Value:
		return t.Export()
	case pendingRecord:
		return t.record()
	case eventObject:
		return t
	}
	return s.str
}

// result is the request or response a function returned, as settle reads
// it: the exported object as readers take it — the query string, headers
// and cookies as lazy objects (untouched ones read from Go state) or
// ordered maps, anything else as an ordinary object's Export gives it.
// Values are exported in key order, under the run's budget (an object the
// function put there may have getters).
func (rec *record) result() map[string]any {
	m := make(map[string]any, len(rec.slots))
	for _, k := range rec.Keys() {
		s := &rec.slots[rec.find(k)]
		x := exportSlot(s)
		switch k {
		case "querystring", "headers", "cookies":
			switch t := x.(type) {
			case *lazyFields:
				t.snapshot()
				m[k] = t
				continue
			case *record:
				m[k] = ordered{keys: t.Keys(), m: plainExport(t).(map[string]any)}
				continue
			case map[string]any:
				if sub, ok := s.v.(*goja.Object); ok {
					m[k] = ordered{keys: sub.Keys(), m: plainExport(t).(map[string]any)}
					continue
				}
			}
		}
		m[k] = plainExport(x)
	}
	return m
}

// readable reports whether rec, the request or response of event e that
// the function returned, can be read slot by slot (returned) instead of
// exported by result(): every property is a string or another primitive
// (which exports alike at any time), except that querystring, headers and
// cookies may be lazy objects of e, and a request has no statusCode (a
// generated response is read from result()'s map). An object the function
// made, or a record, is exported by result(), under the budget: it may
// have getters.
func (rec *record) readable(e *viewerEvent) bool {
	for i := range rec.slots {
		s := &rec.slots[i]
		if s.name == "statusCode" && rec == &e.request {
			return false
		}
		switch t := s.v.(type) {
		case *goja.Object:
			if !lazyKey(s.name) || e.lazyOf(t) == nil {
				return false
			}
		case eventObject:
			if _, ok := t.(*lazyFields); !ok || !lazyKey(s.name) {
				return false
			}
		}
	}
	return true
}

// lazyKey reports whether a property of that name is read as headers,
// cookies or a query string.
func lazyKey(name string) bool {
	return name == "querystring" || name == "headers" || name == "cookies"
}

// snapshot snapshots the lazy objects of e among rec's properties, in
// their order: what result() does to them.
func (rec *record) snapshot(e *viewerEvent) {
	for i := range rec.slots {
		if lf := rec.slots[i].lazy(e); lf != nil {
			lf.snapshot()
		}
	}
}

// lazy returns the lazy object of e that s holds, or nil.
func (s *slot) lazy(e *viewerEvent) *lazyFields {
	switch t := s.v.(type) {
	case *lazyFields:
		return t
	case *goja.Object:
		return e.lazyOf(t)
	}
	return nil
}

// value is what result() gives for s, a property of a readable record of
// e: a string, another primitive's export, or a lazy object.
func (s *slot) value(e *viewerEvent) any {
	if lf := s.lazy(e); lf != nil {
		return lf
	}
	return exportSlot(s)
}

// stringValue returns s's value when it is a string, as value would.
func (s *slot) stringValue() (string, bool) {
	switch t := s.v.(type) {
	case nil:
		return s.str, true
	case goja.Value:
		if goja.IsString(t) {
			return t.String(), true
		}
	}
	return "", false
}

// returned is an object a handler returned, as the readers of its result
// take it: the exported map (settle), or a readable record of the event
// e, read slot by slot.
type returned struct {
	m   map[string]any
	rec *record
	e   *viewerEvent
}

// returnedOf returns settle's out as a returned object, false when out is
// not an object.
func returnedOf(out any, e *viewerEvent) (returned, bool) {
	switch t := out.(type) {
	case map[string]any:
		return returned{m: t}, true
	case *record:
		return returned{rec: t, e: e}, true
	}
	return returned{}, false
}

// has reports whether there is a property k.
func (x *returned) has(k string) bool {
	if x.rec == nil {
		_, ok := x.m[k]
		return ok
	}
	return x.rec.find(k) >= 0
}

// get returns property k.
func (x *returned) get(k string) (any, bool) {
	if x.rec == nil {
		v, ok := x.m[k]
		return v, ok
	}
	i := x.rec.find(k)
	if i < 0 {
		return nil, false
	}
	return x.rec.slots[i].value(x.e), true
}

// str returns property k when it is a string; ok is false when it is
// absent or not a string.
func (x *returned) str(k string) (s string, ok bool) {
	if x.rec == nil {
		s, ok = x.m[k].(string)
		return s, ok
	}
	i := x.rec.find(k)
	if i < 0 {
		return "", false
	}
	return x.rec.slots[i].stringValue()
}

// asMap returns the object as settle exports it.
func (x *returned) asMap() map[string]any {
	if x.rec == nil {
		return x.m
	}
	return x.rec.result()
}

// viewerEvent is the event of one run, in one allocation: its records,
// their properties and its lazy objects. A viewer-response event has its
// response parts besides (responseEvent).
type viewerEvent struct {
	event, request  record
	context, viewer record // made when the function first reaches them (contextOf, viewerOf)
	query, headers  lazyFields
	cookies         lazyFields     // the request's
	resp            *responseParts // nil at viewer-request
	env             envelope
	uri             string // the request's, as the event gave it
	slots           [eventSlots]slot
	outcome         Outcome // a viewer-request run's, returned in the event's allocation
}

// The records' properties in viewerEvent.slots: request (method, uri,
// querystring, headers, cookies), then event (request, context, version,
// viewer). A viewer-response event's event record has five (response
// besides), in responseParts.slots after the response's four
// (statusCode, statusDescription, headers, cookies). (An event past 888
// bytes is allocated in a size class of 1024: 8 bytes of the allocation
// are its type.)
const (
	requestEnd    = 5
	eventSlots    = requestEnd + 4
	responseEnd   = 4
	responseSlots = responseEnd + 5
)

// envelope is what the event's context and viewer say, kept for when the
// function first reaches them: most functions never do.
type envelope struct {
	distributionDomainName, distributionID, eventType, requestID, viewerIP string
}

// pendingRecord is an object of the event whose record is made when first
// reached: what it exports as is that record.
type pendingRecord interface {
	record() *record
}

// contextOf is an event's context before the function reaches it: an
// eventObject the size of a pointer (a slot holds it without allocating)
// whose record is made, with properties of its own, on first use.
type contextOf viewerEvent

func (c *contextOf) record() *record {
	e := (*viewerEvent)(c)
	if rec := &e.context; rec.r == nil {
		rec.init(e.event.r, make([]slot, 4))
		rec.setString("distributionDomainName", e.env.distributionDomainName)
		rec.setString("distributionId", e.env.distributionID)
		rec.setString("eventType", e.env.eventType)
		rec.setString("requestId", e.env.requestID)
	}
	return &e.context
}

func (c *contextOf) object() *goja.Object { return c.record().object() }

// viewerOf is an event's viewer before the function reaches it, as
// contextOf is its context.
type viewerOf viewerEvent

func (vo *viewerOf) record() *record {
	e := (*viewerEvent)(vo)
	if rec := &e.viewer; rec.r == nil {
		rec.init(e.event.r, make([]slot, 1))
		rec.setString("ip", e.env.viewerIP)
	}
	return &e.viewer
}

func (vo *viewerOf) object() *goja.Object { return vo.record().object() }

// responseParts are the response of a viewer-response event.
type responseParts struct {
	response         record
	headers, cookies lazyFields
	slots            [responseSlots]slot
}

// responseEvent is a viewer-response event, in one allocation.
type responseEvent struct {
	viewerEvent
	parts responseParts
}

// newResponseEvent returns an event for a viewer-response run.
func newResponseEvent() *viewerEvent {
	re := new(responseEvent)
	re.resp = &re.parts
	return &re.viewerEvent
}

// recordOf returns the request or response record whose JavaScript
// object o is, or nil.
func (e *viewerEvent) recordOf(o *goja.Object) *record {
	switch {
	case o == nil:
	case o == e.request.js:
		return &e.request
	case e.resp != nil && o == e.resp.response.js:
		return &e.resp.response
	}
	return nil
}

// lazyOf returns the lazy object of e whose JavaScript object o is, or
// nil.
func (e *viewerEvent) lazyOf(o *goja.Object) *lazyFields {
	if o == nil {
		return nil
	}
	for _, lf := range [...]*lazyFields{&e.query, &e.headers, &e.cookies} {
		if lf.js == o {
			return lf
		}
	}
	if e.resp != nil {
		for _, lf := range [...]*lazyFields{&e.resp.headers, &e.resp.cookies} {
			if lf.js == o {
				return lf
			}
		}
	}
	return nil
}

// build makes the event for v's run on r (and, for viewer-response, a
// response of status with header h): {request, response?, context,
// version, viewer}, in that key order, as the eager event had it.
func (e *viewerEvent) build(v *vm, r *http.Request, status int, h http.Header) *goja.Object {
	rt := v.rt
	v.ev = e
	e.prepare(rt, r, h)
	e.request.init(rt, e.slots[:requestEnd])
	e.request.setString("method", r.Method)
	e.uri = r.URL.EscapedPath()
	e.request.setString("uri", e.uri)
	e.request.setObject("querystring", &e.query)
	e.request.setObject("headers", &e.headers)
	e.request.setObject("cookies", &e.cookies)
	if p := e.resp; p != nil {
		e.event.init(rt, p.slots[responseEnd:])
	} else {
		e.event.init(rt, e.slots[requestEnd:])
	}
	e.event.setObject("request", &e.request)
	if p := e.resp; p != nil {
		p.response.init(rt, p.slots[:responseEnd])
		p.response.setValue("statusCode", rt.ToValue(status))
		p.response.setString("statusDescription", http.StatusText(status))
		p.response.setObject("headers", &p.headers)
		p.response.setObject("cookies", &p.cookies)
		e.event.setObject("response", &p.response)
	}
	e.env.distributionDomainName, e.env.distributionID = v.info.DistributionDomainName, v.info.DistributionID
	e.env.eventType, e.env.requestID, e.env.viewerIP = v.eventType, v.info.RequestID, v.info.ViewerIP
	e.event.setObject("context", (*contextOf)(e))
	e.event.setString("version", "1.0")
	e.event.setObject("viewer", (*viewerOf)(e))
	return e.event.object()
}

// end is the end of e's run, once its result is applied: its lazy objects
// no longer read the message (lazyFields.end).
func (e *viewerEvent) end() {
	e.query.end()
	e.headers.end()
	e.cookies.end()
	if p := e.resp; p != nil {
		p.headers.end()
		p.cookies.end()
	}
}

// prepare readies the lazy objects of a new event on r and h: what the
// results are compared with.
func (e *viewerEvent) prepare(rt *goja.Runtime, r *http.Request, h http.Header) {
	e.query.on(rt, srcQuery, r, nil)
	e.headers.on(rt, srcRequestHeaders, r, nil)
	e.cookies.on(rt, srcRequestCookies, r, nil)
	if p := e.resp; p != nil {
		p.headers.on(rt, srcResponseHeaders, nil, h)
		p.cookies.on(rt, srcResponseCookies, nil, h)
	}
}

// buildEager makes the same event of ordinary objects, each header,
// cookie and query parameter an object from the start: what edgefront
// built before records and lazy objects, kept to test them against.
func (e *viewerEvent) buildEager(v *vm, r *http.Request, status int, h http.Header) *goja.Object {
	rt := v.rt
	e.prepare(rt, r, h)
	req := rt.NewObject()
	_ = req.Set("method", r.Method)
	e.uri = r.URL.EscapedPath()
	_ = req.Set("uri", e.uri)
	q, rh, rc := queryFields(r.URL.RawQuery), requestHeaders(r), requestCookies(r.Header)
	_ = req.Set("querystring", q.object(rt, false))
	_ = req.Set("headers", rh.object(rt, false))
	_ = req.Set("cookies", rc.object(rt, false))
	ev := rt.NewObject()
	_ = ev.Set("request", req)
	if v.eventType == "viewer-response" {
		resp := rt.NewObject()
		_ = resp.Set("statusCode", status)
		_ = resp.Set("statusDescription", http.StatusText(status))
		sh, sc := responseHeaders(h), responseCookies(h)
		_ = resp.Set("headers", sh.object(rt, false))
		_ = resp.Set("cookies", sc.object(rt, true))
		_ = ev.Set("response", resp)
	}
	v.envelope(ev, false)
	return ev
}
