package lambdaedge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgefront/edgefront/config"
)

// pool is the warm workers of one function: at most max at once; a request
// waits for a free worker within its own deadline. A worker that fails
// (it hung past the timeout, died, broke the protocol) is killed and a
// fresh one started when next needed.
type pool struct {
	fn      *config.LambdaFunction
	codeDir string // fn.CodeDir, or the directory fn.Code was written to
	boot    string
	log     *slog.Logger
	max     int

	mu      sync.Mutex
	idle    []*worker
	n       int           // workers alive: idle and busy
	free    chan struct{} // a token when a worker goes idle or dies
	closed  bool
	cleanup func()
}

// newPool starts fn's pool with one warm worker: a handler that does not
// load, or a runtime that is not installed, is an error here, at load.
func newPool(ctx context.Context, fn *config.LambdaFunction, boot, tmp string, max int, log *slog.Logger) (*pool, error) {
	p := &pool{fn: fn, codeDir: fn.CodeDir, boot: boot, log: log, max: max, free: make(chan struct{}, max), cleanup: func() {}}
	if fn.Code != "" {
		dir, err := os.MkdirTemp(tmp, "inline-")
		if err != nil {
			return nil, err
		}
		name := "index.py"
		if fn.Node() {
			name = "index.js"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fn.Code), 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		p.codeDir, p.cleanup = dir, func() { os.RemoveAll(dir) }
	}
	w, err := startWorker(ctx, fn, p.codeDir, boot, log)
	if err != nil {
		p.cleanup()
		return nil, err
	}
	p.idle, p.n = []*worker{w}, 1
	return p, nil
}

// errClosed is the error of a pool that was stopped (its configuration
// was replaced) while a request waited.
var errClosed = errors.New("the function's workers were stopped (the configuration was reloaded)")

// get returns an idle worker, starting one when there is room, or waits.
func (p *pool) get(ctx context.Context) (*worker, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errClosed
		}
		if n := len(p.idle); n > 0 {
			w := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.mu.Unlock()
			return w, nil
		}
		if p.n < p.max {
			p.n++
			p.mu.Unlock()
			w, err := startWorker(ctx, p.fn, p.codeDir, p.boot, p.log)
			if err != nil {
				p.dead()
				return nil, err
			}
			return w, nil
		}
		p.mu.Unlock()
		select {
		case <-p.free:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// put returns w to the pool, or stops it when the pool is closed.
func (p *pool) put(w *worker) {
	p.mu.Lock()
	if p.closed {
		p.n--
		p.mu.Unlock()
		go w.stop(time.Second)
		return
	}
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	p.signal()
}

// dead counts a worker gone.
func (p *pool) dead() {
	p.mu.Lock()
	p.n--
	p.mu.Unlock()
	p.signal()
}

func (p *pool) signal() {
	select {
	case p.free <- struct{}{}:
	default:
	}
}

// invoke runs the handler on event in a worker of the pool within ctx.
func (p *pool) invoke(ctx context.Context, requestID string, event []byte) ([]byte, error) {
	w, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	out, broken, err := w.invoke(ctx, requestID, event)
	if broken {
		w.kill() // hung past the timeout, or died: a fresh one replaces it
		p.dead()
		if ctx.Err() != nil {
			p.log.Warn("lambda@edge handler timed out; its worker was killed", "function", p.fn.ARN, "requestId", requestID)
		}
		return nil, err
	}
	p.put(w)
	return out, err
}

// close stops the pool's idle workers and, as they come back, its busy
// ones; it waits for the idle ones.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.n -= len(idle)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range idle {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stop(time.Second)
		}()
	}
	wg.Wait()
	p.cleanup()
}

// pids are the process IDs of the pool's idle workers (for tests).
func (p *pool) pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, w := range p.idle {
		out = append(out, w.pid())
	}
	return out
}

// String names the pool for errors.
func (p *pool) String() string { return fmt.Sprintf("%s (%s)", p.fn.ARN, p.fn.Runtime) }
