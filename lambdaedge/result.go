package lambdaedge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// This file applies what a Lambda@Edge function returned to the proxy's
// Event, with CloudFront's rules ("Lambda@Edge event structure";
// "Generate HTTP responses in request triggers"; "Restrictions on all edge
// functions"). Every broken rule is a *validationError (502
// LambdaValidationError).

type validationError struct{ reason string }

func (e *validationError) Error() string { return e.reason }

func invalid(format string, args ...any) error {
	return &validationError{reason: fmt.Sprintf(format, args...)}
}

// result is a function's result: a request or a response object.
type result struct {
	// response fields
	Status            json.RawMessage `json:"status"`
	StatusDescription *string         `json:"statusDescription"`
	BodyEncoding      string          `json:"bodyEncoding"`
	// both
	Headers headers         `json:"headers"`
	Body    json.RawMessage `json:"body"`
	// request fields
	Method      *string         `json:"method"`
	URI         *string         `json:"uri"`
	Querystring *string         `json:"querystring"`
	Origin      json.RawMessage `json:"origin"`
}

// apply applies the function's output out (its result JSON) for event
// type kind to ev; rec is the event the function was given.
func apply(ev *proxy.Event, a *config.LambdaAssociation, kind int, rec *cfRecord, out []byte) error {
	var r result
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&r); err != nil {
		return invalid("the function's result is not a JSON object: %v", err)
	}
	if bytes.Equal(bytes.TrimSpace(out), []byte("null")) {
		return invalid("the function returned nothing (null): it must return the %s", map[bool]string{true: "request", false: "response"}[kind < originResponse])
	}
	switch kind {
	case viewerRequest, originRequest:
		if r.Status != nil {
			return generate(ev, kind, &r)
		}
		return applyRequest(ev, a, kind, rec, &r)
	default:
		return applyResponse(ev, kind, rec, &r)
	}
}

// statusOf parses a result's status: a string ("200", as CloudFront's
// events carry it) or a number, 200 to 599.
func statusOf(raw json.RawMessage) (int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, invalid("status %s is not a status code", raw)
		}
		s = n.String()
	}
	code, err := strconv.Atoi(s)
	if err != nil || code < 200 || code > 599 {
		return 0, invalid("status %q is not a status code from 200 to 599", s)
	}
	return code, nil
}

// headerSet checks the function's headers against the event's: names
// match their keys, nothing disallowed is added, no read-only header is
// changed.
func headerSet(kind int, before, after headers) (http.Header, error) {
	out := http.Header{}
	for name, vs := range after {
		lower := strings.ToLower(name)
		if lower != name {
			return nil, invalid("the headers object's key %q is not lower case", name)
		}
		for _, v := range vs {
			key := v.Key
			if key == "" {
				key = http.CanonicalHeaderKey(name)
			}
			if strings.ToLower(key) != name {
				return nil, invalid("the header %q is under the key %q", key, name)
			}
			if disallowed(name) {
				return nil, invalid("the function added the disallowed header %s", key)
			}
			if strings.ContainsAny(v.Value, "\r\n\x00") {
				return nil, invalid("the header %s has a control character", key)
			}
			out[key] = append(out[key], v.Value)
		}
	}
	for name := range merge(before, after) {
		if readOnly(kind, name) && !sameValues(before[name], after[name]) {
			return nil, invalid("the function changed the read-only header %s", http.CanonicalHeaderKey(name))
		}
	}
	return out, nil
}

func merge(a, b headers) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func sameValues(a, b []keyValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// replaceHeaders makes h's exposed headers (all but the disallowed ones,
// and Host) those of next, keeping h's map.
func replaceHeaders(h, next http.Header) {
	for name := range h {
		if lower := strings.ToLower(name); !disallowed(lower) {
			delete(h, name)
		}
	}
	for name, vs := range next {
		if strings.EqualFold(name, "host") {
			continue
		}
		h[http.CanonicalHeaderKey(name)] = append(h[http.CanonicalHeaderKey(name)], vs...)
	}
}

// applyRequest applies a changed request.
func applyRequest(ev *proxy.Event, a *config.LambdaAssociation, kind int, rec *cfRecord, r *result) error {
	in := rec.Request
	if r.Method != nil && *r.Method != in.Method {
		return invalid("the function changed the read-only method %s to %q", in.Method, *r.Method)
	}
	uri, qs := in.URI, in.Querystring
	if r.URI != nil {
		uri = *r.URI
		u, err := url.Parse(uri)
		if !strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "//") || err != nil || u.RawQuery != "" || u.Fragment != "" || u.Host != "" {
			return invalid("uri %q is not a path starting with /", uri)
		}
	}
	if r.Querystring != nil {
		qs = strings.TrimPrefix(*r.Querystring, "?")
		if strings.ContainsAny(qs, "# \r\n") {
			return invalid("querystring %q is not a query string", qs)
		}
	}
	if len(uri)+len(qs) > 8192 {
		return invalid("uri and querystring are %d bytes, over 8192", len(uri)+len(qs))
	}
	var hdr http.Header
	if r.Headers != nil {
		var err error
		if hdr, err = headerSet(kind, in.Headers, r.Headers); err != nil {
			return err
		}
	}
	var body []byte
	replace := false
	if a.IncludeBody && len(r.Body) > 0 && !bytes.Equal(r.Body, []byte("null")) {
		var b cfBody
		if err := json.Unmarshal(r.Body, &b); err != nil {
			return invalid("request.body is not a body object: %v", err)
		}
		if b.Action == "replace" {
			var err error
			if body, err = decodeBody(b.Data, b.Encoding); err != nil {
				return err
			}
			if len(body) > bodyLimit(kind) {
				return invalid("the replaced body is %d bytes, over %d", len(body), bodyLimit(kind))
			}
			replace = true
		}
	}
	var newOrigin *config.Origin
	if kind == originRequest && len(r.Origin) > 0 && !bytes.Equal(r.Origin, []byte("null")) && ev.Origin != nil {
		var co cfOrigin
		if err := json.Unmarshal(r.Origin, &co); err != nil {
			return invalid("request.origin is not an origin object: %v", err)
		}
		was, _ := json.Marshal(in.Origin)
		now, _ := json.Marshal(&co)
		if !bytes.Equal(was, now) {
			o, err := changedOrigin(&co, ev.Origin, ev.Distribution)
			if err != nil {
				return invalid("%v", err)
			}
			newOrigin = o
		}
	}
	// Everything checked: apply.
	if kind == viewerRequest {
		req := ev.Request
		u, _ := url.Parse(uri)
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = u.Path, u.RawPath, qs
		req.RequestURI = uri
		if qs != "" {
			req.RequestURI += "?" + qs
		}
		if hdr != nil {
			replaceHeaders(req.Header, hdr)
		}
		if replace {
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		return nil
	}
	or := ev.OriginRequest
	or.Path, or.RawQuery = uri, qs
	if hdr != nil {
		replaceHeaders(or.Header, hdr)
		if h := hdr.Get("Host"); h != "" && !sameValues(in.Headers["host"], r.Headers["host"]) {
			or.Host = h
		}
	}
	if replace {
		or.Body, or.ContentLength = bytes.NewReader(body), int64(len(body))
		or.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if newOrigin != nil {
		// CloudFront keeps the request's Host header: a function that
		// moves the request to another domain sets host itself.
		ev.Origin = newOrigin
		if or.Host == "" && len(in.Headers["host"]) > 0 {
			or.Host = in.Headers["host"][0].Value
		}
	}
	return nil
}

// decodeBody decodes a body's data: text (or "") or base64.
func decodeBody(data, encoding string) ([]byte, error) {
	switch encoding {
	case "", "text":
		return []byte(data), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, invalid("the body is not base64: %v", err)
		}
		return b, nil
	}
	return nil, invalid("the body encoding %q is not text or base64", encoding)
}

// responseOf checks a response object and returns it as a generated
// response (its body nil when it has none).
func responseOf(kind int, r *result, before headers) (*proxy.GeneratedResponse, bool, error) {
	status, err := statusOf(r.Status)
	if err != nil {
		return nil, false, err
	}
	if r.StatusDescription != nil && strings.ContainsAny(*r.StatusDescription, "\r\n") {
		return nil, false, invalid("statusDescription has a line break")
	}
	g := &proxy.GeneratedResponse{Status: status, Header: http.Header{}, Result: "LambdaGeneratedResponse"}
	if r.Headers != nil {
		if g.Header, err = headerSet(kind, before, r.Headers); err != nil {
			return nil, false, err
		}
	}
	hasBody := len(r.Body) > 0 && !bytes.Equal(r.Body, []byte("null"))
	if hasBody {
		var s string
		if err := json.Unmarshal(r.Body, &s); err != nil {
			return nil, false, invalid("the body is not a string")
		}
		if g.Body, err = decodeBody(s, r.BodyEncoding); err != nil {
			return nil, false, err
		}
	}
	size := len(g.Body)
	for k, vs := range g.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	if limit := bodyLimit(kind); size > limit {
		return nil, false, invalid("the generated response is %d bytes, CloudFront's maximum for %s is %d", size, config.LambdaEventTypes[kind], limit)
	}
	if status == http.StatusNoContent && len(g.Body) > 0 {
		return nil, false, invalid("a 204 response cannot have a body")
	}
	return g, hasBody, nil
}

// generate answers a request event with the function's response.
func generate(ev *proxy.Event, kind int, r *result) error {
	g, _, err := responseOf(kind, r, nil)
	if err != nil {
		return err
	}
	ev.Response = g
	return nil
}

// applyResponse applies a changed response: at origin-response its status
// and headers, or a replacement with a body; at viewer-response its
// headers (a viewer-response function cannot change the status: "Restrictions
// on Lambda@Edge", HTTP status codes).
func applyResponse(ev *proxy.Event, kind int, rec *cfRecord, r *result) error {
	if r.Status == nil {
		return invalid("the function's result is not a response object (no status)")
	}
	if r.Method != nil || r.URI != nil {
		return invalid("the function returned a request at %s", config.LambdaEventTypes[kind])
	}
	g, hasBody, err := responseOf(kind, r, rec.Response.Headers)
	if err != nil {
		return err
	}
	if r.Headers == nil {
		g.Header = nil
	}
	if kind == viewerResponse {
		if g.Header != nil {
			replaceHeaders(ev.Header, g.Header)
		}
		return nil
	}
	if g.Header != nil {
		replaceHeaders(ev.Header, g.Header)
	}
	ev.Status = g.Status
	if hasBody {
		g.Header = ev.Header.Clone()
		g.Header.Del("Content-Length")
		g.Header.Del("Content-Encoding")
		ev.Response = g
	}
	return nil
}
