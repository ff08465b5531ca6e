// Package edge runs a distribution's edge code in process: CloudFront
// Functions (cloudfront-js-1.0 and 2.0) on the goja JavaScript engine, with
// their KeyValueStores, CloudFront's event object, its header rules and its
// errors.
//
// Each function is compiled once (New); a run takes a VM from the
// function's pool, runs the handler under a wall-clock budget, and returns
// the VM to the pool unless the run was interrupted (an interrupted VM is
// never reused).
package edge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/edgefront/edgefront/config"
)

// DefaultBudget bounds one run of a function by wall-clock time. CloudFront
// allows about 1 ms of compute; edgefront measures wall time, which a busy
// or -race machine stretches, so the bound is 5 ms: a handler that loops
// forever fails in about that time, and a typical one never comes near it.
const DefaultBudget = 5 * time.Millisecond

// maxLogBytes caps what one run may write with console.log, as CloudFront
// caps a function's log lines at 10 KB.
const maxLogBytes = 10 * 1024

// Error kinds, as CloudFront names them in X-Cache and its metrics.
const (
	ExecutionError  = "FunctionExecutionError"  // the function threw or ran out of budget: 503
	ValidationError = "FunctionValidationError" // its result breaks CloudFront's rules: 502
)

// Error is a failed run of a function.
type Error struct {
	Function string // the function's name
	Kind     string // ExecutionError | ValidationError
	Err      error
}

func (e *Error) Error() string {
	return "function " + e.Function + ": " + e.Kind + ": " + e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// Status returns the status CloudFront answers the viewer with: 503 for an
// execution error, 502 for a validation error.
func (e *Error) Status() int {
	if e.Kind == ValidationError {
		return 502
	}
	return 503
}

// Message returns CloudFront's error page text for the failure.
func (e *Error) Message() string {
	if e.Kind == ValidationError {
		return "The CloudFront function returned an invalid value: the response failed CloudFront's validation."
	}
	return "The CloudFront function associated with the CloudFront distribution failed to run."
}

// Options tune a Runtime.
type Options struct {
	Logger *slog.Logger  // console.log lines and warnings; slog.Default() when nil
	Budget time.Duration // bound of one run; DefaultBudget when 0
	// Idle is how many idle VMs each function keeps; 2 × GOMAXPROCS when 0.
	Idle int
	// AllocLimit interrupts a run during which the process allocates
	// more than this many bytes (memory.go); DefaultAllocLimit when 0,
	// none when negative.
	AllocLimit int64
	// Observe, when set, is asked once for each function, when the
	// runtime is built, for what is told of each of its runs: how long
	// the run took and its error (nil, or an *Error). Whatever it looks up
	// by the function's name (a metric's children) it does once, here.
	Observe func(function string) Observer
}

// Observer is told of each run of one function.
type Observer func(elapsed time.Duration, err error)

// Runtime runs the CloudFront Functions of one configuration. It is safe
// for concurrent use.
type Runtime struct {
	fns        map[*config.Function]*function
	byARN      map[string]*function
	log        *slog.Logger
	budget     time.Duration
	allocLimit uint64
	inflight   atomic.Int64 // runs under way (the allocation bound is shared among them)
	observe    func(string) Observer
	eager      bool // build events of ordinary objects (viewerEvent.buildEager): tests compare the two
}

// function is one compiled function and its pool of idle VMs.
type function struct {
	cfg     *config.Function
	prog    *goja.Program
	pool    *vmPool
	observe Observer // nil: none
}

// New compiles every function of cfg and starts one VM of each (running its
// top-level code, which must define handler).
func New(cfg *config.Config, opts Options) (*Runtime, error) {
	rt := &Runtime{fns: map[*config.Function]*function{}, byARN: map[string]*function{}, log: opts.Logger, budget: opts.Budget, observe: opts.Observe}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	if rt.budget <= 0 {
		rt.budget = DefaultBudget
	}
	switch {
	case opts.AllocLimit == 0:
		rt.allocLimit = DefaultAllocLimit
	case opts.AllocLimit > 0:
		rt.allocLimit = uint64(opts.AllocLimit)
	}
	idle := opts.Idle
	if idle <= 0 {
		idle = 2 * runtime.GOMAXPROCS(0)
	}
	var errs []error
	for _, cf := range cfg.Functions {
		prog, err := goja.Compile(cf.Name, cf.Script, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s (%s): %w", cf.Name, where(cf), err))
			continue
		}
		f := &function{cfg: cf, prog: prog, pool: newVMPool(idle)}
		if rt.observe != nil {
			f.observe = rt.observe(cf.Name)
		}
		v, err := rt.newVM(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s (%s): %w", cf.Name, where(cf), err))
			continue
		}
		f.pool.put(v)
		rt.fns[cf] = f
		rt.byARN[cf.ARN] = f
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rt, nil
}

func where(cf *config.Function) string {
	if cf.File != "" {
		return cf.File
	}
	return "inline code"
}

// function returns the compiled fn: by identity, or — for a request that
// began under the configuration this runtime replaced — by ARN.
func (rt *Runtime) function(fn *config.Function) (*function, error) {
	if f, ok := rt.fns[fn]; ok {
		return f, nil
	}
	if f, ok := rt.byARN[fn.ARN]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("function %s is not in the running configuration", fn.Name)
}

// Info is what a run knows of its request besides the HTTP message.
type Info struct {
	DistributionDomainName string
	DistributionID         string
	RequestID              string // a fresh one is made when empty
	ViewerIP               string
	// Distribution and TargetOriginID are the request's distribution and
	// its behaviour's target (an origin or origin group ID): the origin
	// modification helpers choose among its origins. Nil in a test run.
	Distribution   *config.Distribution
	TargetOriginID string

	logs *[]string // a test run's console lines
}

// get returns an idle VM of f, or a new one.
func (rt *Runtime) get(f *function) (*vm, error) {
	if v := f.pool.get(); v != nil {
		return v, nil
	}
	return rt.newVM(f)
}

// put returns a VM to f's pool; a full pool drops it.
func (f *function) put(v *vm) {
	f.pool.put(v)
}

// call runs f's handler on the event that mk builds in the VM and hands
// use what the handler returned (a promise's value, for an async handler),
// exported to Go values (settle), and the origin its code chose (nil:
// none). The run began at start: Date is frozen there. use runs before
// the VM goes back to the pool, so that what it reads of the run (the
// event's records and lazy objects) is not shared with the VM's next run;
// it runs no JavaScript, and its error is returned as it is.
func (rt *Runtime) call(ctx context.Context, f *function, start time.Time, info *Info, eventType string,
	mk func(*vm) (*goja.Object, error), use func(out any, choice *originChoice) error) error {
	v, err := rt.get(f)
	if err != nil {
		return &Error{Function: f.cfg.Name, Kind: ExecutionError, Err: err}
	}
	if info.RequestID == "" {
		info.RequestID = newRequestID()
	}
	v.begin(ctx, start, info, eventType)
	ev, err := mk(v)
	if err != nil {
		v.end()
		f.put(v)
		return &Error{Function: f.cfg.Name, Kind: ExecutionError, Err: err}
	}

	// Everything that may run JavaScript — the handler, a promise's
	// value, getters read by the export — runs under the budget.
	v.watch.begin(start)
	v.args[0] = ev
	res, err := v.handler(goja.Undefined(), v.args[:]...)
	v.args[0] = nil
	out, err := v.settle(res, err)
	choice := v.choice
	interrupted := v.watch.end()
	if err != nil {
		err = rt.runError(f, err)
	} else {
		err = use(out, choice)
	}
	if v.ev != nil {
		v.ev.end()
	}
	v.end()
	if !interrupted {
		f.put(v)
	} // else the interrupt fired: this VM is never reused, though a
	// handler that returned first keeps its result.
	return err
}

// envelope completes an event: its context, version and viewer. A test
// event may bring its own (onlyAbsent): what it has is kept.
func (v *vm) envelope(ev *goja.Object, onlyAbsent bool) {
	if !onlyAbsent || absent(ev.Get("context")) {
		ctxObj := v.rt.NewObject()
		_ = ctxObj.Set("distributionDomainName", v.info.DistributionDomainName)
		_ = ctxObj.Set("distributionId", v.info.DistributionID)
		_ = ctxObj.Set("eventType", v.eventType)
		_ = ctxObj.Set("requestId", v.info.RequestID)
		_ = ev.Set("context", ctxObj)
	}
	if !onlyAbsent || absent(ev.Get("version")) {
		_ = ev.Set("version", "1.0")
	}
	if !onlyAbsent || absent(ev.Get("viewer")) {
		viewer := v.rt.NewObject()
		_ = viewer.Set("ip", v.info.ViewerIP)
		_ = ev.Set("viewer", viewer)
	}
}

// runError is a failed run's *Error: an interrupt, an exception or a
// rejected promise is an execution error; a result that breaks the rules
// is already a validation error.
func (rt *Runtime) runError(f *function, err error) error {
	var fe *Error
	switch {
	case errors.As(err, &fe):
		return err
	case errors.Is(err, errMemory):
		return &Error{Function: f.cfg.Name, Kind: ExecutionError, Err: fmt.Errorf("%w (CloudFront allows 2 MB a run)", errMemory)}
	case errors.Is(err, errBudget):
		return &Error{Function: f.cfg.Name, Kind: ExecutionError, Err: fmt.Errorf("%w (%v)", errBudget, rt.budget)}
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return &Error{Function: f.cfg.Name, Kind: ExecutionError, Err: fmt.Errorf("%w (%v)", errBudget, rt.budget)}
	}
	return &Error{Function: f.cfg.Name, Kind: ExecutionError, Err: err}
}

func absent(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }

// ordered is an object of the result whose key order matters (query
// string, headers, cookies): its keys in the order JavaScript lists them.
type ordered struct {
	keys []string
	m    map[string]any
}

// promiseType is what ExportType says of a promise.
var promiseType = reflect.TypeOf((*goja.Promise)(nil))

// settle turns what the handler returned into Go values: a promise's
// value, then the exported object, with the key order of its querystring,
// headers and cookies kept. A lazy object of the event (lazy.go) among
// those three stays as it is, for its reader; anywhere else it is
// exported as an ordinary object would be. The event's request or
// response record, when it is readable as it is, is returned itself
// (*record): its reader (returned) gets from it what result() would give.
func (v *vm) settle(res goja.Value, err error) (out any, rerr error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				out, rerr = nil, e
				return
			}
			out, rerr = nil, fmt.Errorf("reading the handler's result: %v", p)
		}
	}()
	if err != nil {
		return nil, err
	}
	if res != nil && res.ExportType() == promiseType {
		p, _ := res.Export().(*goja.Promise)
		switch p.State() {
		case goja.PromiseStateFulfilled:
			res = p.Result()
		case goja.PromiseStateRejected:
			return nil, fmt.Errorf("the handler's promise was rejected: %s", p.Result())
		default:
			return nil, errors.New("the handler's promise did not settle")
		}
	}
	if res == nil || goja.IsUndefined(res) || goja.IsNull(res) {
		return nil, &Error{Function: v.fn.Name, Kind: ValidationError, Err: errors.New("the handler returned nothing")}
	}
	if o, ok := res.(*goja.Object); ok && v.ev != nil {
		// Most often the request (or response) the handler was given,
		// its properties strings and the event's lazy objects: read slot
		// by slot, nothing exported.
		if rec := v.ev.recordOf(o); rec != nil && rec.readable(v.ev) {
			rec.snapshot(v.ev)
			return rec, nil
		}
	}
	exp := res.Export()
	if rec, ok := exp.(*record); ok { // another object of the event, or one the function changed in depth
		return rec.result(), nil
	}
	m, ok := exp.(map[string]any)
	o, isObj := res.(*goja.Object)
	if !ok || !isObj {
		return plainExport(exp), nil
	}
	for k, x := range m {
		switch k {
		case "querystring", "headers", "cookies":
			switch x := x.(type) {
			case *lazyFields:
				x.snapshot()
				continue
			case *record:
				m[k] = ordered{keys: x.Keys(), m: plainExport(x).(map[string]any)}
				continue
			case map[string]any:
				if sub, ok := o.Get(k).(*goja.Object); ok {
					m[k] = ordered{keys: sub.Keys(), m: plainExport(x).(map[string]any)}
					continue
				}
			}
		}
		m[k] = plainExport(x)
	}
	return m, nil
}

// observed tells f's observer of a run that began at start and ended with
// err.
func (f *function) observed(start time.Time, err error) {
	if f.observe != nil {
		f.observe(time.Since(start), err)
	}
}

// observeMissing tells Options.Observe of a run of a function the runtime
// does not have.
func (rt *Runtime) observeMissing(name string, start time.Time, err error) {
	if rt.observe != nil {
		if o := rt.observe(name); o != nil {
			o(time.Since(start), err)
		}
	}
}

// newRequestID returns a request ID of CloudFront's shape (URL-safe base64).
func newRequestID() string {
	var b [30]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}
