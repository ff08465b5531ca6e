package edge

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dop251/goja"

	"github.com/edgefront/edgefront/config"
)

// This file is cloudfront-js-2.0's origin modification helpers (CloudFront
// Developer Guide, "Helper methods for origin modification"):
// cf.updateRequestOrigin, cf.selectRequestOriginById and
// cf.createRequestOriginGroup. "You can update the origin on viewer
// request CloudFront Functions only": elsewhere they throw. What they
// choose is applied when the run ends well; arguments that break the
// guide's rules fail the run with a validation error (502), as a result
// that breaks them does.

// originChoice is what a run's origin helpers chose.
type originChoice struct {
	origin *config.Origin
	group  *config.OriginGroup
	// headers are the custom headers updateRequestOrigin set: none may
	// also be a header of the request ("a header with the same name can't
	// also be present in the incoming request headers").
	headers []string
	ignored []string // properties accepted but not emulated
	err     error    // the first rule an argument broke
}

// failoverCodes are the statuses an origin group may fail over on
// (CloudFront Developer Guide, "Optimize high availability with CloudFront
// origin failover").
var failoverCodes = []int{400, 403, 404, 416, 500, 502, 503, 504}

// originHelper returns the run's choice for a helper named name, refusing
// a call outside viewer-request.
func (v *vm) originHelper(name string) *originChoice {
	if v.eventType != "viewer-request" {
		panic(v.rt.NewTypeError("cf.%s can be called in a viewer-request function only, not at %s", name, v.eventType))
	}
	if v.choice == nil {
		v.choice = &originChoice{}
	}
	return v.choice
}

// target is the origin the request goes to so far: the one chosen by an
// earlier call, else the behaviour's target (an origin group's primary).
func (v *vm) target(c *originChoice) *config.Origin {
	if c.origin != nil {
		return c.origin
	}
	d := v.info.Distribution
	if d == nil { // a TestFunction run: "The Test API … don't test whether an origin modification has occurred"
		return &config.Origin{ID: "test-origin"}
	}
	if o := d.Origins[v.info.TargetOriginID]; o != nil {
		return o
	}
	if g := d.OriginGroups[v.info.TargetOriginID]; g != nil && len(g.Members) > 0 && d.Origins[g.Members[0]] != nil {
		return d.Origins[g.Members[0]]
	}
	return &config.Origin{ID: v.info.TargetOriginID}
}

// updateRequestOrigin is cf.updateRequestOrigin(props).
func (v *vm) updateRequestOrigin(call goja.FunctionCall) goja.Value {
	c := v.originHelper("updateRequestOrigin")
	props, ok := call.Argument(0).Export().(map[string]any)
	if !ok {
		panic(v.rt.NewTypeError("cf.updateRequestOrigin takes an object of origin properties"))
	}
	if c.err != nil {
		return goja.Undefined()
	}
	o, ignored, headers, err := mergeOrigin(v.target(c), v.info.Distribution, props)
	if err != nil {
		c.err = err
		return goja.Undefined()
	}
	c.origin, c.group = o, nil
	c.ignored = append(c.ignored, ignored...)
	c.headers = headers
	return goja.Undefined()
}

// selectRequestOriginById is cf.selectRequestOriginById(id): "This method
// only accepts origins that are already defined in the same distribution".
func (v *vm) selectRequestOriginById(call goja.FunctionCall) goja.Value {
	c := v.originHelper("selectRequestOriginById")
	id, ok := call.Argument(0).Export().(string)
	if !ok || id == "" {
		panic(v.rt.NewTypeError("cf.selectRequestOriginById takes an origin ID"))
	}
	if c.err != nil {
		return goja.Undefined()
	}
	d := v.info.Distribution
	switch {
	case d == nil:
		c.origin = &config.Origin{ID: id}
	case d.Origins[id] == nil:
		c.err = fmt.Errorf("selectRequestOriginById: %q is not an origin of distribution %s", id, d.ID)
		return goja.Undefined()
	default:
		c.origin = d.Origins[id]
	}
	c.group, c.headers = nil, nil
	return goja.Undefined()
}

// createRequestOriginGroup is cf.createRequestOriginGroup({originIds,
// failoverCriteria: {statusCodes}, selectionCriteria}): two origins of the
// distribution (IDs, or {originId}), primary first.
func (v *vm) createRequestOriginGroup(call goja.FunctionCall) goja.Value {
	c := v.originHelper("createRequestOriginGroup")
	m, ok := call.Argument(0).Export().(map[string]any)
	if !ok {
		panic(v.rt.NewTypeError("cf.createRequestOriginGroup takes an object with originIds and failoverCriteria"))
	}
	if c.err != nil {
		return goja.Undefined()
	}
	g, ignored, err := originGroup(v.info.Distribution, m)
	if err != nil {
		c.err = fmt.Errorf("createRequestOriginGroup: %w", err)
		return goja.Undefined()
	}
	c.group, c.origin, c.headers = g, nil, nil
	c.ignored = append(c.ignored, ignored...)
	return goja.Undefined()
}

// originGroup reads createRequestOriginGroup's argument.
func originGroup(d *config.Distribution, m map[string]any) (*config.OriginGroup, []string, error) {
	var ignored []string
	ids, ok := m["originIds"].([]any)
	if !ok || len(ids) != 2 {
		return nil, nil, errors.New("originIds is not an array of two origin IDs")
	}
	g := &config.OriginGroup{ID: "function-origin-group"}
	for i, x := range ids {
		id, _ := x.(string)
		if o, ok := x.(map[string]any); ok {
			id, _ = o["originId"].(string)
			for k := range o {
				if k != "originId" && !slices.Contains(ignored, "originIds[]."+k) {
					ignored = append(ignored, "originIds[]."+k)
				}
			}
		}
		switch {
		case id == "":
			return nil, nil, fmt.Errorf("originIds[%d] is not an origin ID or {originId}", i)
		case d != nil && d.Origins[id] == nil:
			return nil, nil, fmt.Errorf("originIds[%d] %q is not an origin of distribution %s", i, id, d.ID)
		case slices.Contains(g.Members, id):
			return nil, nil, fmt.Errorf("originIds names %q twice", id)
		}
		g.Members = append(g.Members, id)
	}
	fc, ok := m["failoverCriteria"].(map[string]any)
	if !ok {
		return nil, nil, errors.New("failoverCriteria is not an object with statusCodes")
	}
	codes, ok := fc["statusCodes"].([]any)
	if !ok || len(codes) == 0 {
		return nil, nil, errors.New("failoverCriteria.statusCodes is not a non-empty array")
	}
	for _, x := range codes {
		n, err := intIn("failoverCriteria.statusCodes[]", x, 0, 999, 0)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(failoverCodes, n) {
			return nil, nil, fmt.Errorf("failoverCriteria.statusCodes: %d is not one of %v", n, failoverCodes)
		}
		g.FailoverCodes = append(g.FailoverCodes, n)
	}
	switch sc := m["selectionCriteria"]; sc {
	case nil, "default":
	case "media-quality-based":
		ignored = append(ignored, "selectionCriteria")
	default:
		return nil, nil, fmt.Errorf("selectionCriteria %v is not default or media-quality-based", sc)
	}
	return g, ignored, nil
}
