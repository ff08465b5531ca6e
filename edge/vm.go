package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/edgefront/edgefront/config"
)

// vm is one JavaScript runtime with a function's code loaded. It runs one
// event at a time.
type vm struct {
	rt      *goja.Runtime
	fn      *config.Function
	log     *slog.Logger
	handler goja.Callable
	modules map[string]goja.Value
	watch   *watchdog // interrupts the run under way past its budget or allocation bound

	// The run under way: Date's frozen now, its request and its log
	// budget, its event type, and the origin its code chose.
	now       time.Time
	ctx       context.Context
	info      Info
	logLeft   int
	eventType string
	choice    *originChoice
	ev        *viewerEvent // the event build made for the run; nil for another event

	args [1]goja.Value // the handler's argument, without a slice per run
}

// maxCallDepth bounds a run's call stack: runaway recursion is an
// execution error, not memory. (goja bounds no heap; this is the part of
// CloudFront's 2 MB per run edgefront can enforce.)
const maxCallDepth = 1000

// lockdown replaces what CloudFront Functions do not have: code from
// strings (eval, the Function constructors), which the runtime refuses.
const lockdown = `(function () {
	var refuse = function () { throw new TypeError('code generation from strings is not supported in CloudFront Functions'); };
	var protos = [Function.prototype];
	try { protos.push(Object.getPrototypeOf(async function () {})); } catch (e) {}
	try { protos.push(Object.getPrototypeOf(function* () {})); } catch (e) {}
	for (var i = 0; i < protos.length; i++) {
		var F = function Function() { return refuse(); };
		F.prototype = protos[i];
		Object.defineProperty(protos[i], 'constructor', {value: F, writable: false, configurable: false});
		if (i === 0) { globalThis.Function = F; }
	}
	delete globalThis.eval;
})();`

// newVM starts a VM for f: the sandbox, the modules and the function's
// top-level code, which must define handler.
func (rt *Runtime) newVM(f *function) (*vm, error) {
	r := goja.New()
	v := &vm{rt: r, fn: f.cfg, log: rt.log, modules: map[string]goja.Value{}, ctx: context.Background()}
	r.SetTimeSource(func() time.Time { return v.now })
	r.SetMaxCallStackSize(maxCallDepth)
	v.watch = newWatchdog(r, rt.budget, rt.allocLimit, &rt.inflight)
	if _, err := r.RunString(lockdown); err != nil {
		return nil, fmt.Errorf("setting up the sandbox: %w", err)
	}
	if err := v.installMemoryBounds(); err != nil {
		return nil, fmt.Errorf("setting up the memory bounds: %w", err)
	}
	if f.cfg.Runtime == config.FunctionRuntime2 {
		if err := v.installBuffer(); err != nil {
			return nil, fmt.Errorf("setting up Buffer: %w", err)
		}
	} else if err := installStringHelpers(r); err != nil {
		return nil, fmt.Errorf("setting up the String helpers: %w", err)
	}
	console := r.NewObject()
	for _, level := range []string{"log", "info", "warn", "error", "debug"} {
		_ = console.Set(level, v.console)
	}
	_ = r.Set("console", console)
	_ = r.Set("require", v.require)
	v.now = time.Now()
	if _, err := r.RunProgram(f.prog); err != nil {
		return nil, fmt.Errorf("running the top-level code: %w", err)
	}
	h, ok := goja.AssertFunction(r.Get("handler"))
	if !ok {
		return nil, errors.New("the code defines no function handler(event)")
	}
	v.handler = h
	return v, nil
}

// begin readies v for a run of eventType that began at start: Date is
// frozen there for the whole run.
func (v *vm) begin(ctx context.Context, start time.Time, info *Info, eventType string) {
	v.now, v.ctx, v.info, v.logLeft, v.eventType, v.choice = start, ctx, *info, maxLogBytes, eventType, nil
}

// end forgets the run: an idle VM holds nothing of a request.
func (v *vm) end() {
	v.ctx, v.info, v.choice, v.ev = context.Background(), Info{}, nil, nil
}

// console writes a console.log line to edgefront's log with the request ID,
// within the run's 10 KB.
func (v *vm) console(call goja.FunctionCall) goja.Value {
	parts := make([]string, len(call.Arguments))
	for i, a := range call.Arguments {
		parts[i] = a.String()
	}
	line := strings.Join(parts, " ")
	if v.logLeft <= 0 {
		return goja.Undefined()
	}
	if len(line) > v.logLeft {
		line = line[:v.logLeft]
	}
	v.logLeft -= len(line)
	if v.info.logs != nil {
		*v.info.logs = append(*v.info.logs, line)
	}
	v.log.InfoContext(v.ctx, "function log", "function", v.fn.Name, "requestId", v.info.RequestID, "line", line)
	return goja.Undefined()
}

// require returns the modules CloudFront Functions have: crypto,
// querystring and, for cloudfront-js-2.0, cloudfront and buffer (installed
// with Buffer).
func (v *vm) require(name string) goja.Value {
	if m, ok := v.modules[name]; ok {
		return m
	}
	var m goja.Value
	switch {
	case name == "crypto":
		m = v.cryptoModule()
	case name == "querystring":
		m = v.querystringModule()
	case name == "cloudfront" && v.fn.Runtime == config.FunctionRuntime2:
		m = v.cloudfrontModule()
	default:
		panic(v.rt.NewTypeError("module %q is not available in %s", name, v.fn.Runtime))
	}
	v.modules[name] = m
	return m
}
