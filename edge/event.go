package edge

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/edgefront/edgefront/config"
	httpfields "github.com/edgefront/edgefront/fields"
)

// This file is CloudFront Functions' event object (CloudFront Developer
// Guide, "CloudFront Functions event structure") and the rules its result
// must follow ("Restrictions on all edge functions": disallowed and
// read-only headers; URI and query string limits).

// Response is an answer a viewer-request function generated.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// disallowed reports a header edge functions never see and may not add.
func disallowed(lower string) bool { return httpfields.EdgeDisallowed(lower) }

// readOnly reports a header a function may read but not add, change or
// remove, per event type.
func readOnly(eventType, lower string) bool { return httpfields.EdgeReadOnly(eventType, lower) }

// maxURIAndQuery is CloudFront's bound on a request's URI and query string
// together.
const maxURIAndQuery = 8192

// field is one header, cookie or query parameter value of the event.
type field struct {
	Value      string
	Attributes string // a response cookie's attributes
}

// fields is a header, cookie or query string object of the event: names in
// first-seen order, each with its values.
type fields struct {
	names  []string
	values map[string][]field
}

// add appends a value. Names and values are made valid UTF-8 as
// JavaScript strings hold them, so a value the function did not touch
// compares equal to what it returns.
func (f *fields) add(name string, v field) {
	name, v.Value, v.Attributes = strings.ToValidUTF8(name, "\uFFFD"), strings.ToValidUTF8(v.Value, "\uFFFD"), strings.ToValidUTF8(v.Attributes, "\uFFFD")
	if f.values == nil {
		f.values = map[string][]field{}
	}
	if _, ok := f.values[name]; !ok {
		f.names = append(f.names, name)
	}
	f.values[name] = append(f.values[name], v)
}

// object renders f as the event's shape: {name: {value, multiValue?}}.
func (f *fields) object(r *goja.Runtime, attrs bool) *goja.Object {
	o := r.NewObject()
	for _, name := range f.names {
		_ = o.Set(name, entryObject(r, f.values[name], attrs))
	}
	return o
}

// entryObject is the event's object for one name's values vs:
// {value, attributes?, multiValue?} (attributes only when attrs, for a
// response's cookies).
func entryObject(r *goja.Runtime, vs []field, attrs bool) *goja.Object {
	one := func(v field) *goja.Object {
		e := r.NewObject()
		_ = e.Set("value", v.Value)
		if attrs && v.Attributes != "" {
			_ = e.Set("attributes", v.Attributes)
		}
		return e
	}
	e := one(vs[0])
	if len(vs) > 1 {
		mv := make([]any, len(vs))
		for i, v := range vs {
			mv[i] = one(v)
		}
		_ = e.Set("multiValue", r.NewArray(mv...))
	}
	return e
}

// readFields reads an event object back: {name: {value, multiValue?}}. A
// multiValue, when present, is every value.
func readFields(what string, v any) (fields, error) {
	var out fields
	if v == nil {
		return out, nil
	}
	if lf, ok := v.(*lazyFields); ok {
		return lf.read(what)
	}
	var keys []string
	m, ok := v.(map[string]any)
	if o, isOrdered := v.(ordered); isOrdered {
		m, keys, ok = o.m, o.keys, true
	} else {
		keys = sortedKeys(m)
	}
	if !ok {
		return out, fmt.Errorf("%s is not an object", what)
	}
	for _, name := range keys {
		if err := readEntry(&out, what, name, m[name]); err != nil {
			return out, err
		}
	}
	return out, nil
}

// readEntry adds the values of one entry, {value, multiValue?}, to out.
func readEntry(out *fields, what, name string, v any) error {
	e, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s.%s is not an object with a value", what, name)
	}
	if mv, ok := e["multiValue"]; ok && mv != nil {
		arr, ok := mv.([]any)
		if !ok {
			return fmt.Errorf("%s.%s.multiValue is not an array", what, name)
		}
		for i, x := range arr {
			xe, ok := x.(map[string]any)
			if !ok {
				return fmt.Errorf("%s.%s.multiValue[%d] is not an object with a value", what, name, i)
			}
			fv, err := readField(fmt.Sprintf("%s.%s.multiValue[%d]", what, name, i), xe)
			if err != nil {
				return err
			}
			out.add(name, fv)
		}
		if len(arr) > 0 {
			return nil
		}
	}
	fv, err := readField(what+"."+name, e)
	if err != nil {
		return err
	}
	out.add(name, fv)
	return nil
}

// readHeaders is readFields for headers: a name a function wrote in
// capitals counts as its lower-case form (the event's names are lower-case;
// the output is re-capitalised anyway).
func readHeaders(what string, v any) (fields, error) {
	f, err := readFields(what, v)
	if err != nil {
		return f, err
	}
	var out fields
	for _, name := range f.names {
		for _, val := range f.values[name] {
			out.add(lowerName(name), val)
		}
	}
	return out, nil
}

func readField(what string, e map[string]any) (field, error) {
	val, ok := e["value"]
	if !ok {
		return field{}, fmt.Errorf("%s has no value", what)
	}
	s, err := scalar(what+".value", val)
	if err != nil {
		return field{}, err
	}
	f := field{Value: s}
	if a, ok := e["attributes"]; ok && a != nil {
		if f.Attributes, err = scalar(what+".attributes", a); err != nil {
			return field{}, err
		}
	}
	return f, nil
}

// scalar accepts a string, or a number or boolean as JavaScript would print it.
func scalar(what string, v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10), nil
		}
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return "", fmt.Errorf("%s is not a string", what)
}

// requestHeaders are a request's headers as the event has them: lower-case
// names, Host included, disallowed headers and Cookie left out.
func requestHeaders(r *http.Request) fields {
	var f fields
	if r.Host != "" {
		f.add("host", field{Value: r.Host})
	}
	for _, name := range sortedKeys(r.Header) {
		lower := strings.ToLower(name)
		if lower == "cookie" || lower == "host" || disallowed(lower) {
			continue
		}
		for _, v := range r.Header[name] {
			f.add(lower, field{Value: v})
		}
	}
	return f
}

// requestCookies parses the Cookie headers.
func requestCookies(h http.Header) fields {
	var f fields
	for _, line := range h.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, val, _ := strings.Cut(part, "=")
			f.add(name, field{Value: val})
		}
	}
	return f
}

// queryFields splits a raw query string; names and values stay as the
// viewer encoded them, so an unchanged query round-trips exactly.
func queryFields(raw string) fields {
	var f fields
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		name, val, _ := strings.Cut(part, "=")
		f.add(name, field{Value: val})
	}
	return f
}

func (f fields) query() string {
	var b strings.Builder
	for _, name := range f.names {
		for _, v := range f.values[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(v.Value)
		}
	}
	return b.String()
}

func (f fields) equal(name string, g fields) bool {
	return slices.Equal(f.values[name], g.values[name])
}

// checkHeaders compares the headers a function returned with those it got:
// a disallowed header added, or a read-only one added, changed or removed,
// breaks CloudFront's rules.
func checkHeaders(eventType string, before, after fields) error {
	for _, name := range after.names {
		if disallowed(name) {
			return fmt.Errorf("the function added the disallowed header %s", http.CanonicalHeaderKey(name))
		}
	}
	for _, name := range append(slices.Clone(before.names), after.names...) {
		if readOnly(eventType, name) && !before.equal(name, after) {
			return fmt.Errorf("the function added, changed or removed the read-only header %s", http.CanonicalHeaderKey(name))
		}
	}
	return nil
}

// setHeaders replaces h's exposed headers (all but the disallowed ones,
// Cookie and Set-Cookie) by f, names re-capitalised.
func setHeaders(h http.Header, f fields, skip string) {
	for name := range h {
		lower := strings.ToLower(name)
		if lower == skip || disallowed(lower) {
			continue
		}
		delete(h, name)
	}
	for _, name := range f.names {
		if name == "host" || name == skip {
			continue
		}
		key := http.CanonicalHeaderKey(name)
		for _, v := range f.values[name] {
			h[key] = append(h[key], v.Value)
		}
	}
}

func validation(f *function, format string, args ...any) error {
	return &Error{Function: f.cfg.Name, Kind: ValidationError, Err: fmt.Errorf(format, args...)}
}

// Outcome is what a viewer-request function made of a request besides
// changing it: the response it generated, or the origin (or origin group)
// it chose with the origin modification helpers.
type Outcome struct {
	Response    *Response           // nil: the request goes on
	Origin      *config.Origin      // nil: the behaviour's target; else a copy or one of the distribution's own
	OriginGroup *config.OriginGroup // nil: none; its Members are origins of the distribution
}

// ViewerRequest runs fn on a viewer's request. It changes r as the
// function changed it (URI, query string, headers, cookies) and returns
// what else the function decided: a generated response, or the origin to
// fetch from.
func (rt *Runtime) ViewerRequest(ctx context.Context, fn *config.Function, info Info, r *http.Request) (*Outcome, error) {
	start := time.Now()
	f, err := rt.function(fn)
	if err != nil {
		rt.observeMissing(fn.Name, start, err)
		return nil, err
	}
	out, err := rt.viewerRequest(ctx, f, start, &info, r)
	f.observed(start, err)
	return out, err
}

func (rt *Runtime) viewerRequest(ctx context.Context, f *function, start time.Time, info *Info, r *http.Request) (*Outcome, error) {
	e := new(viewerEvent)
	err := rt.call(ctx, f, start, info, "viewer-request", func(v *vm) (*goja.Object, error) {
		if rt.eager {
			return e.buildEager(v, r, 0, nil), nil
		}
		return e.build(v, r, 0, nil), nil
	}, func(out any, choice *originChoice) error {
		x, ok := returnedOf(out, e)
		if !ok {
			return validation(f, "the handler returned %T, not a request or response object", out)
		}
		if x.has("statusCode") {
			resp, err := generated(f, x.asMap())
			e.outcome.Response = resp
			return err
		}
		if err := applyRequest(f, &x, r, e); err != nil {
			return err
		}
		return rt.chosen(f, info.RequestID, choice, r, &e.outcome)
	})
	if err != nil {
		return nil, err
	}
	return &e.outcome, nil
}

// chosen checks the origin a run chose (c, nil for none) against the
// request it sends, and sets it in out.
func (rt *Runtime) chosen(f *function, requestID string, c *originChoice, r *http.Request, out *Outcome) error {
	if c == nil {
		return nil
	}
	if c.err != nil {
		return validation(f, "%v", c.err)
	}
	for _, name := range c.headers {
		if _, ok := r.Header[http.CanonicalHeaderKey(name)]; ok || (name == "host" && r.Host != "") {
			return validation(f, "updateRequestOrigin: the custom header %s is also a header of the request", http.CanonicalHeaderKey(name))
		}
	}
	if len(c.ignored) > 0 {
		rt.log.Warn("origin settings a function chose that edgefront does not emulate", "function", f.cfg.Name,
			"requestId", requestID, "settings", c.ignored)
	}
	out.Origin, out.OriginGroup = c.origin, c.group
	return nil
}

// applyRequest applies the request a function returned to r. An object
// of the event the function returned untouched is not read back.
func applyRequest(f *function, m *returned, r *http.Request, rf *viewerEvent) error {
	uri, ok := m.str("uri")
	if !ok || !strings.HasPrefix(uri, "/") {
		return validation(f, "request.uri must be a string starting with /")
	}
	if m.has("method") {
		if meth, isString := m.str("method"); !isString || meth != r.Method {
			return validation(f, "request.method cannot be changed")
		}
	}
	raw := r.URL.RawQuery
	q, _ := m.get("querystring")
	switch q := q.(type) {
	case string:
		raw = strings.TrimPrefix(q, "?")
	default:
		if untouched(q, &rf.query) {
			break
		}
		qf, err := readFields("request.querystring", q)
		if err != nil {
			return validation(f, "%v", err)
		}
		if !sameFields(qf, *rf.query.fields()) {
			raw = qf.query()
		}
	}
	if raw != r.URL.RawQuery && strings.ContainsFunc(raw, func(c rune) bool { return c <= ' ' || c == 0x7f || c == '#' }) {
		return validation(f, "the query string has a space, control character or #")
	}
	if len(uri)+len(raw) > maxURIAndQuery {
		return validation(f, "the URI and query string are %d characters, more than %d", len(uri)+len(raw), maxURIAndQuery)
	}
	var hf, cf fields
	headersChanged, cookiesChanged := false, false
	if headers, _ := m.get("headers"); !untouched(headers, &rf.headers) {
		var err error
		if hf, err = readHeaders("request.headers", headers); err != nil {
			return validation(f, "%v", err)
		}
		before := rf.headers.fields()
		if err := checkHeaders("viewer-request", *before, hf); err != nil {
			return validation(f, "%v", err)
		}
		headersChanged = !sameFields(hf, *before)
	}
	if cookies, _ := m.get("cookies"); !untouched(cookies, &rf.cookies) {
		var err error
		if cf, err = readFields("request.cookies", cookies); err != nil {
			return validation(f, "%v", err)
		}
		cookiesChanged = !sameFields(cf, *rf.cookies.fields())
	}
	if uri != rf.uri {
		path, err := url.PathUnescape(uri)
		if err != nil {
			return validation(f, "request.uri %q is not a valid percent-encoded path", uri)
		}
		r.URL.Path, r.URL.RawPath = path, uri
	}
	r.URL.RawQuery = raw
	if headersChanged {
		setHeaders(r.Header, hf, "cookie")
	}
	if cookiesChanged {
		var parts []string
		for _, name := range cf.names {
			for _, v := range cf.values[name] {
				parts = append(parts, name+"="+v.Value)
			}
		}
		r.Header.Del("Cookie")
		if len(parts) > 0 {
			r.Header.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	return nil
}

// untouched reports whether v, an object of the result, is the event's
// lazy object lf as the function got it.
func untouched(v any, lf *lazyFields) bool {
	got, ok := v.(*lazyFields)
	return ok && got == lf && lf.unchanged()
}

func sameFields(a, b fields) bool {
	if len(a.names) != len(b.names) {
		return false
	}
	for _, n := range a.names {
		if !a.equal(n, b) {
			return false
		}
	}
	return true
}

// generated reads the response a viewer-request function returned.
func generated(f *function, m map[string]any) (*Response, error) {
	status, err := statusOf(m["statusCode"])
	if err != nil {
		return nil, validation(f, "%v", err)
	}
	hf, err := readHeaders("response.headers", m["headers"])
	if err != nil {
		return nil, validation(f, "%v", err)
	}
	for _, name := range hf.names {
		if disallowed(name) {
			return nil, validation(f, "the function added the disallowed header %s", http.CanonicalHeaderKey(name))
		}
	}
	cf, err := readFields("response.cookies", m["cookies"])
	if err != nil {
		return nil, validation(f, "%v", err)
	}
	resp := &Response{Status: status, Header: http.Header{}}
	setHeaders(resp.Header, hf, "set-cookie")
	setCookies(resp.Header, cf)
	resp.Header.Set("Server", "CloudFront")
	if resp.Body, err = bodyOf(m["body"]); err != nil {
		return nil, validation(f, "%v", err)
	}
	return resp, nil
}

func statusOf(v any) (int, error) {
	var n int
	switch t := v.(type) {
	case int64:
		n = int(t)
	case float64:
		n = int(t)
		if float64(n) != t {
			return 0, fmt.Errorf("statusCode %v is not an integer", t)
		}
	default:
		return 0, errors.New("statusCode is not a number")
	}
	if n < 200 || n > 599 {
		return 0, fmt.Errorf("statusCode %d is not between 200 and 599", n)
	}
	return n, nil
}

// bodyOf reads a generated body: a string, or {data, encoding: text|base64}.
func bodyOf(v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(t), nil
	case map[string]any:
		data, _ := t["data"].(string)
		switch enc, _ := t["encoding"].(string); enc {
		case "", "text":
			return []byte(data), nil
		case "base64":
			b, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				return nil, fmt.Errorf("response.body.data is not base64: %w", err)
			}
			return b, nil
		default:
			return nil, fmt.Errorf("response.body.encoding %q is not text or base64", enc)
		}
	}
	return nil, errors.New("response.body is not a string or {data, encoding}")
}

// responseCookies parses Set-Cookie headers: {name: {value, attributes}}.
func responseCookies(h http.Header) fields {
	var f fields
	for _, line := range h.Values("Set-Cookie") {
		pair, attrs, _ := strings.Cut(line, ";")
		name, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
		f.add(name, field{Value: val, Attributes: strings.TrimSpace(attrs)})
	}
	return f
}

func setCookies(h http.Header, f fields) {
	h.Del("Set-Cookie")
	for _, name := range f.names {
		for _, v := range f.values[name] {
			line := name + "=" + v.Value
			if v.Attributes != "" {
				line += "; " + v.Attributes
			}
			h.Add("Set-Cookie", line)
		}
	}
}

// responseHeaders are a response's headers as the event has them.
func responseHeaders(h http.Header) fields {
	var f fields
	for _, name := range sortedKeys(h) {
		lower := strings.ToLower(name)
		if lower == "set-cookie" || disallowed(lower) {
			continue
		}
		for _, v := range h[name] {
			f.add(lower, field{Value: v})
		}
	}
	return f
}

// ViewerResponse runs fn on a response going to the viewer, changes h as
// the function changed the headers and cookies, and returns the status
// the viewer gets: the function may change it ("Your function can
// generate or modify the statusCode"). CloudFront does not run it for a
// status of 400 or more (the caller skips those). A body the function
// sets is not applied (the proxy's viewer-response hook cannot replace the
// body) and is reported in the log.
func (rt *Runtime) ViewerResponse(ctx context.Context, fn *config.Function, info Info, r *http.Request, status int, h http.Header) (int, error) {
	start := time.Now()
	f, err := rt.function(fn)
	if err != nil {
		rt.observeMissing(fn.Name, start, err)
		return status, err
	}
	got, err := rt.viewerResponse(ctx, f, start, &info, r, status, h)
	f.observed(start, err)
	return got, err
}

func (rt *Runtime) viewerResponse(ctx context.Context, f *function, start time.Time, info *Info, r *http.Request, status int, h http.Header) (int, error) {
	e := newResponseEvent()
	newStatus := status
	err := rt.call(ctx, f, start, info, "viewer-response", func(v *vm) (*goja.Object, error) {
		if rt.eager {
			return e.buildEager(v, r, status, h), nil
		}
		return e.build(v, r, status, h), nil
	}, func(out any, _ *originChoice) error {
		x, ok := returnedOf(out, e)
		if !ok {
			return validation(f, "the handler returned %T, not a response object", out)
		}
		var err error
		newStatus, err = rt.applyResponse(f, info, &x, status, h, e)
		return err
	})
	if err != nil {
		return status, err
	}
	return newStatus, nil
}

// applyResponse applies the response a viewer-response function returned
// to h and returns the status it set. An object of the event the function
// returned untouched is not read back.
func (rt *Runtime) applyResponse(f *function, info *Info, m *returned, status int, h http.Header, e *viewerEvent) (int, error) {
	newStatus := status
	if sc, ok := m.get("statusCode"); ok {
		var err error
		if newStatus, err = statusOf(sc); err != nil {
			return status, validation(f, "%v", err)
		}
	}
	if d, ok := m.get("statusDescription"); ok && d != nil {
		if _, isString := d.(string); !isString {
			return status, validation(f, "statusDescription is not a string")
		}
	}
	if b, ok := m.get("body"); ok && b != nil {
		if _, err := bodyOf(b); err != nil {
			return status, validation(f, "%v", err)
		}
		rt.log.Warn("a viewer-response function set a body; edgefront keeps the cache's or origin's", "function", f.cfg.Name,
			"requestId", info.RequestID)
	}
	var hf, cf fields
	var err error
	headersChanged, cookiesChanged := false, false
	if headers, _ := m.get("headers"); !untouched(headers, &e.resp.headers) {
		if hf, err = readHeaders("response.headers", headers); err != nil {
			return status, validation(f, "%v", err)
		}
		before := e.resp.headers.fields()
		if err := checkHeaders("viewer-response", *before, hf); err != nil {
			return status, validation(f, "%v", err)
		}
		headersChanged = !sameFields(hf, *before)
	}
	if cookies, _ := m.get("cookies"); !untouched(cookies, &e.resp.cookies) {
		if cf, err = readFields("response.cookies", cookies); err != nil {
			return status, validation(f, "%v", err)
		}
		cookiesChanged = !sameFields(cf, *e.resp.cookies.fields())
	}
	if headersChanged {
		setHeaders(h, hf, "set-cookie")
	}
	if cookiesChanged {
		setCookies(h, cf)
	}
	return newStatus, nil
}
