package lambdaedge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/config"
)

// worker is one warm node or python3 process running edgefront's bootstrap
// with one function's handler loaded. It runs one request at a time: a
// request line on the process's fd 3, a result line back on its fd 4. Its
// stdout and stderr are the handler's logs.
type worker struct {
	fn     *config.LambdaFunction
	cmd    *exec.Cmd
	in     *os.File               // the process's fd 3, our end
	lines  chan []byte            // result lines from fd 4; closed when the process exits
	exited chan struct{}          // closed once the process is reaped
	reqID  atomic.Pointer[string] // the request being run, for the log lines
	seq    int64
}

// maxResultLine bounds a result line: a 1 MB body base64-encoded and the
// rest of the response, with room to spare.
const maxResultLine = 4 << 20

// startWorker starts a worker for fn with the bootstrap in boot and waits
// (within ctx) for it to load the handler.
func startWorker(ctx context.Context, fn *config.LambdaFunction, codeDir, boot string, log *slog.Logger) (*worker, error) {
	exe, script := "python3", boot
	if fn.Node() {
		exe = "node"
	}
	path, err := exec.LookPath(exe)
	if err != nil {
		return nil, fmt.Errorf("lambda function %s: runtime %s needs %s, which is not installed (%w)", fn.ARN, fn.Runtime, exe, err)
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	cmd := exec.Command(path, script, codeDir, fn.Handler, fn.Name, fn.ARN)
	cmd.Dir = codeDir
	cmd.Env = workerEnv(fn)
	cmd.ExtraFiles = []*os.File{reqR, resW} // fd 3 and fd 4
	setProcessGroup(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	w := &worker{fn: fn, cmd: cmd, in: reqW, lines: make(chan []byte, 1), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		reqR.Close()
		reqW.Close()
		resR.Close()
		resW.Close()
		return nil, fmt.Errorf("lambda function %s: starting %s: %w", fn.ARN, exe, err)
	}
	reqR.Close()
	resW.Close()
	var logged sync.WaitGroup
	logged.Add(1)
	go func() {
		defer logged.Done()
		w.copyLogs(out, log)
	}()
	go w.readResults(resR)
	go func() {
		logged.Wait() // Wait closes the stdout pipe: read it all first
		cmd.Wait()
		close(w.exited)
	}()
	select {
	case line, ok := <-w.lines:
		var ready struct {
			Ready bool          `json:"ready"`
			Error *handlerError `json:"error"`
		}
		if ok && json.Unmarshal(line, &ready) == nil && ready.Ready {
			return w, nil
		}
		w.kill()
		if ready.Error != nil {
			return nil, fmt.Errorf("lambda function %s (%s): loading handler %s from %s: %s: %s", fn.ARN, fn.Runtime, fn.Handler, codeDir,
				ready.Error.Type, ready.Error.Message)
		}
		return nil, fmt.Errorf("lambda function %s (%s): the %s worker exited while loading handler %s", fn.ARN, fn.Runtime, exe, fn.Handler)
	case <-ctx.Done():
		w.kill()
		return nil, fmt.Errorf("lambda function %s: loading handler %s: %w", fn.ARN, fn.Handler, ctx.Err())
	}
}

// workerEnv is the environment of a worker: Lambda's reserved variables,
// and nothing of edgefront's own (Lambda@Edge has no environment
// variables of its own, nor the host's credentials).
func workerEnv(fn *config.LambdaFunction) []string {
	env := []string{"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name, "AWS_EXECUTION_ENV=AWS_Lambda_" + fn.Runtime, "NODE_NO_WARNINGS=1", "LANG=C.UTF-8"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "SYSTEMROOT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// readResults sends each line of r to w.lines until it ends.
func (w *worker) readResults(r *os.File) {
	defer close(w.lines)
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br, maxResultLine)
		if err != nil {
			return
		}
		w.lines <- line
	}
}

// readLine reads one line of at most max bytes (without its newline).
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > max {
			return nil, errors.New("result line too long")
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

// copyLogs logs each line the handler prints, with the request it ran for.
func (w *worker) copyLogs(r io.Reader, log *slog.Logger) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		id := ""
		if p := w.reqID.Load(); p != nil {
			id = *p
		}
		log.Info("lambda@edge", "function", w.fn.ARN, "requestId", id, "log", sc.Text())
	}
	io.Copy(io.Discard, r)
}

// request is what the bootstrap reads.
type request struct {
	ID        int64           `json:"id"`
	RequestID string          `json:"requestId"`
	TimeoutMs int64           `json:"timeoutMs"`
	Event     json.RawMessage `json:"event"`
}

// reply is what the bootstrap writes for a request.
type reply struct {
	ID     int64           `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *handlerError   `json:"error"`
}

// handlerError is a handler's thrown error or callback error.
type handlerError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// invoke runs the handler on event within ctx. A worker whose run fails
// other than by the handler's own error must not be used again (broken).
func (w *worker) invoke(ctx context.Context, requestID string, event []byte) (result []byte, broken bool, err error) {
	w.seq++
	timeout := int64(30000)
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d).Milliseconds()
	}
	line, err := json.Marshal(request{ID: w.seq, RequestID: requestID, TimeoutMs: timeout, Event: event})
	if err != nil {
		return nil, false, err
	}
	w.reqID.Store(&requestID)
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		return nil, true, fmt.Errorf("%w: the worker is gone: %w", errCrashed, err)
	}
	select {
	case out, ok := <-w.lines:
		if !ok {
			return nil, true, fmt.Errorf("%w: the worker exited while running the handler", errCrashed)
		}
		var r reply
		if err := json.Unmarshal(out, &r); err != nil || r.ID != w.seq {
			return nil, true, fmt.Errorf("%w: the worker's answer is not the protocol's", errCrashed)
		}
		if r.Error != nil {
			return nil, false, &FunctionError{Type: r.Error.Type, Message: r.Error.Message}
		}
		return r.Result, false, nil
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
}

// kill ends the worker's process group at once and waits until it is
// reaped.
func (w *worker) kill() {
	w.in.Close()
	killProcessGroup(w.cmd)
	<-w.exited
}

// stop asks the worker to exit (its input closes) and kills it when it
// does not within grace.
func (w *worker) stop(grace time.Duration) {
	w.in.Close()
	select {
	case <-w.exited:
	case <-time.After(grace):
		w.kill()
	}
	killProcessGroup(w.cmd) // what the handler left running
}

// pid is the worker's process ID.
func (w *worker) pid() int { return w.cmd.Process.Pid }
