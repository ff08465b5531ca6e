package lambdaedge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// Options configure an Engine.
type Options struct {
	Logger *slog.Logger
	// Observe, when set, is told of every run: the function's ARN, how
	// long it took and its failure's Kind ("" for success).
	Observe func(arn string, elapsed time.Duration, kind string)
	// MaxWorkers bounds each function's worker processes; 0 means
	// GOMAXPROCS×2.
	MaxWorkers int
	// Dir is where the bootstraps and inline code are written; "" is the
	// user's cache directory (else the temporary directory).
	Dir string
	// Getenv reads the environment (the remote invoker's credentials);
	// nil is os.Getenv.
	Getenv func(string) string
}

// Engine runs the Lambda@Edge functions of one configuration: a worker
// pool per function of the settings, and the remote invoker for the rest.
type Engine struct {
	opts   Options
	log    *slog.Logger
	remote *remote // nil without lambdaEndpoint

	mu    sync.Mutex
	pools map[string]*pool                 // by poolKey
	byFn  map[*config.LambdaFunction]*pool // the configuration's functions
	prev  *Engine
	taken map[string]*pool // the pools taken over from prev
}

// New starts the pools of cfg's functions that behaviours use. Pools of
// prev (the engine of the configuration being replaced; nil for none)
// whose function is unchanged — settings and code files — are taken over,
// warm; prev.Close then stops the rest. A runtime that is not installed or
// a handler that does not load is an error naming the function.
func New(ctx context.Context, cfg *config.Config, opts Options, prev *Engine) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = runtime.GOMAXPROCS(0) * 2
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			opts.Dir = d
		} else {
			opts.Dir = os.TempDir()
		}
	}
	e := &Engine{opts: opts, log: opts.Logger, pools: map[string]*pool{}, byFn: map[*config.LambdaFunction]*pool{}}
	if cfg.LambdaEndpoint != "" {
		e.remote = newRemote(cfg.LambdaEndpoint, opts.Getenv)
	}
	used := usedFunctions(cfg)
	if len(used) == 0 {
		return e, nil
	}
	node, python, err := writeBootstraps(opts.Dir)
	if err != nil {
		return nil, err
	}
	taken := map[string]*pool{}
	e.prev, e.taken = prev, taken
	for _, fn := range used {
		key := poolKey(fn)
		if p := e.pools[key]; p != nil {
			e.byFn[fn] = p
			continue
		}
		if p := prev.take(key); p != nil {
			e.pools[key], e.byFn[fn], taken[key] = p, p, p
			continue
		}
		boot := python
		if fn.Node() {
			boot = node
		}
		p, err := newPool(ctx, fn, boot, opts.Dir, opts.MaxWorkers, e.log)
		if err != nil {
			// The configuration is refused: prev keeps serving with
			// its pools, and only the new ones stop.
			prev.giveBack(taken)
			for key := range taken {
				delete(e.pools, key)
			}
			e.Close()
			return nil, err
		}
		e.pools[key], e.byFn[fn] = p, p
	}
	return e, nil
}

// usedFunctions are the settings' functions cfg's behaviours associate,
// each once, in a stable order.
func usedFunctions(cfg *config.Config) []*config.LambdaFunction {
	seen := map[*config.LambdaFunction]bool{}
	var out []*config.LambdaFunction
	for _, d := range cfg.Distributions {
		for _, b := range append([]*config.Behavior{d.Default}, d.Behaviors...) {
			if b == nil {
				continue
			}
			for _, a := range b.Lambda {
				if a != nil && a.Function != nil && !seen[a.Function] {
					seen[a.Function] = true
					out = append(out, a.Function)
				}
			}
		}
	}
	return out
}

// poolKey identifies a function's workers: its settings and the state of
// its code, so that a reload after an edit starts fresh workers.
func poolKey(fn *config.LambdaFunction) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00", fn.ARN, fn.Runtime, fn.Handler, fn.CodeDir, fn.Timeout, fn.Code)
	if fn.CodeDir != "" {
		n := 0
		filepath.WalkDir(fn.CodeDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || n > 5000 {
				return filepath.SkipDir
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "__pycache__" || d.Name() == ".git") {
				return filepath.SkipDir
			}
			if info, err := d.Info(); err == nil && !d.IsDir() {
				n++
				fmt.Fprintf(&b, "%s %d %d\x00", path, info.Size(), info.ModTime().UnixNano())
			}
			return nil
		})
	}
	return b.String()
}

// take hands the pool with key over to a successor engine.
func (e *Engine) take(key string) *pool {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[key]
	delete(e.pools, key)
	return p
}

// giveBack returns pools taken from e.
func (e *Engine) giveBack(pools map[string]*pool) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, p := range pools {
		e.pools[k] = p
	}
}

// Release abandons e, a configuration that was not installed after all:
// the pools it took over go back to the engine it took them from, and its
// own stop.
func (e *Engine) Release() {
	if e == nil {
		return
	}
	e.mu.Lock()
	for key := range e.taken {
		delete(e.pools, key)
	}
	e.mu.Unlock()
	e.prev.giveBack(e.taken)
	e.Close()
}

// Close stops the workers of the pools no successor took; it waits for
// the idle ones to exit.
func (e *Engine) Close() {
	if e == nil {
		return
	}
	e.mu.Lock()
	pools := e.pools
	e.pools = map[string]*pool{}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.close()
		}()
	}
	wg.Wait()
}

// WorkerPIDs are the process IDs of the engine's idle workers, for tests
// that check none outlives Close.
func (e *Engine) WorkerPIDs() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	for _, p := range e.pools {
		out = append(out, p.pids()...)
	}
	return out
}

// Invoke runs the settings' function fn on payload, an event document,
// within ctx (a Lambda Invoke API in front of the workers). A handler's
// own failure is a *FunctionError.
func (e *Engine) Invoke(ctx context.Context, requestID string, fn *config.LambdaFunction, payload []byte) ([]byte, error) {
	p := e.poolOf(fn)
	if p == nil {
		return nil, errorf("%s has no workers", fn.ARN)
	}
	return p.invoke(ctx, requestID, payload)
}

// poolOf is fn's pool: the configuration's, or — for a request that
// started under the configuration before a reload — the pool of the same
// function the reload kept.
func (e *Engine) poolOf(fn *config.LambdaFunction) *pool {
	e.mu.Lock()
	p := e.byFn[fn]
	e.mu.Unlock()
	if p != nil {
		return p
	}
	key := poolKey(fn)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pools[key]
}

// timeout is CloudFront's timeout at kind, capped by fn's own.
func timeout(kind int, fn *config.LambdaFunction) time.Duration {
	t := OriginTimeout
	if kind == viewerRequest || kind == viewerResponse {
		t = ViewerTimeout
	}
	if fn != nil && fn.Timeout > 0 && fn.Timeout < t {
		t = fn.Timeout
	}
	return t
}

// Run runs the Lambda@Edge function ev.Behavior associates at ev.Point,
// if any, and applies its result to ev. A viewer-response function does
// not run for an answer of 400 or more ("Restrictions on all edge
// functions"). Failures are *proxy.HookError with CloudFront's status.
func (e *Engine) Run(ctx context.Context, ev *proxy.Event) error {
	kind := int(ev.Point)
	if kind < 0 || kind > viewerResponse {
		return nil
	}
	a := ev.Behavior.Lambda[kind]
	if a == nil || (kind == viewerResponse && ev.Status >= 400) {
		return nil
	}
	start := time.Now()
	err := e.run(ctx, ev, a, kind)
	if e.opts.Observe != nil {
		e.opts.Observe(a.ARN, time.Since(start), Kind(err))
	}
	return err
}

func (e *Engine) run(ctx context.Context, ev *proxy.Event, a *config.LambdaAssociation, kind int) error {
	rec, err := buildEvent(ev, a, kind)
	if err != nil {
		return hookError(fmt.Errorf("reading the request body: %w", err), false)
	}
	doc, err := marshalEvent(rec)
	if err != nil {
		return hookError(err, false)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout(kind, a.Function))
	defer cancel()
	var out []byte
	if a.Function != nil {
		p := e.poolOf(a.Function)
		if p == nil {
			return hookError(errorf("%s has no workers (the configuration was reloaded)", a.ARN), false)
		}
		out, err = p.invoke(tctx, ev.RequestID, doc)
	} else if e.remote != nil {
		out, err = e.remote.invoke(tctx, a.ARN, doc)
	} else {
		return hookError(errorf("%s: no lambdaEndpoint to invoke it at", a.ARN), false)
	}
	if err != nil {
		timedOut := ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || tctx.Err() != nil)
		e.log.Warn("lambda@edge function failed", "function", a.ARN, "eventType", a.EventType, "requestId", ev.RequestID, "err", err)
		return hookError(err, timedOut)
	}
	if err := apply(ev, a, kind, rec, out); err != nil {
		e.log.Warn("lambda@edge function result failed validation", "function", a.ARN, "eventType", a.EventType, "requestId", ev.RequestID, "err", err)
		return hookError(err, false)
	}
	return nil
}
