package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"

	"github.com/edgefront/edgefront/config"
)

// TestResult is what CloudFront's TestFunction answers.
type TestResult struct {
	Output       string   // FunctionOutput: {"request": …} or {"response": …} as JSON
	Utilization  int      // ComputeUtilization: the run's time as a percentage of CloudFront's 1 ms, at most 100
	Logs         []string // FunctionExecutionLogs: the console lines
	ErrorMessage string   // FunctionErrorMessage: why the run failed, "" when it did not
}

// Test runs fn on an event given as JSON (CloudFront's test event: the
// documented event object, context optional), as TestFunction does. An
// error is a problem with the event itself; the function's own failure is
// in the result.
func (rt *Runtime) Test(ctx context.Context, fn *config.Function, event []byte) (*TestResult, error) {
	f, err := rt.function(fn)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Context struct {
			EventType string `json:"eventType"`
		} `json:"context"`
	}
	if err := json.Unmarshal(event, &probe); err != nil {
		return nil, fmt.Errorf("the test event is not JSON: %w", err)
	}
	eventType := probe.Context.EventType
	if eventType == "" {
		eventType = "viewer-request"
	}
	if eventType != "viewer-request" && eventType != "viewer-response" {
		return nil, fmt.Errorf("the test event's context.eventType %q is not viewer-request or viewer-response", eventType)
	}
	var logs []string
	info := Info{logs: &logs}
	start := time.Now()
	var out any
	err = rt.call(ctx, f, start, &info, eventType, func(v *vm) (*goja.Object, error) {
		// Through JSON.parse, so the handler gets plain objects.
		parse, _ := goja.AssertFunction(v.rt.Get("JSON").ToObject(v.rt).Get("parse"))
		pv, err := parse(goja.Undefined(), v.rt.ToValue(string(event)))
		if err != nil {
			return nil, err
		}
		o, ok := pv.(*goja.Object)
		if !ok {
			return nil, errors.New("the test event is not an object")
		}
		v.envelope(o, true)
		return o, nil
	}, func(x any, _ *originChoice) error {
		out = x
		return nil
	})
	res := &TestResult{Logs: logs, Utilization: int(min(100, time.Since(start)*100/time.Millisecond))}
	if err != nil {
		res.ErrorMessage = err.Error()
		return res, nil
	}
	key := "request"
	if m, ok := out.(map[string]any); ok {
		if _, isResponse := m["statusCode"]; isResponse || eventType == "viewer-response" {
			key = "response"
		}
	}
	b, err := json.Marshal(map[string]any{key: plain(out)})
	if err != nil {
		res.ErrorMessage = fmt.Sprintf("the handler's result is not JSON: %v", err)
		return res, nil
	}
	res.Output = string(b)
	return res, nil
}

// plain turns the ordered objects of a result back into maps.
func plain(v any) any {
	switch t := v.(type) {
	case ordered:
		return plain(t.m)
	case *lazyFields, *record:
		return plain(plainExport(t))
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = plain(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plain(x)
		}
		return out
	}
	return v
}
