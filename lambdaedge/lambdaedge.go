// Package lambdaedge runs Lambda@Edge functions at the proxy's four hook
// points: it builds CloudFront's event from the request ("Lambda@Edge
// event structure"), runs the handler — in warm node or python3 worker
// processes of its own (pool.go, worker.go), or through a Lambda Invoke
// API (remote.go) — and applies the result with CloudFront's rules,
// answering failures with CloudFront's statuses.
//
// One idea: a function's handler runs in a long-lived worker process that
// speaks newline-delimited JSON on fds 3 and 4, so that the handler's own
// output is its log and a hung handler is one process group to kill.
package lambdaedge

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/edgefront/edgefront/proxy"
)

// CloudFront's names of Lambda@Edge failures (the X-Cache value's first
// word and the access log's x-edge-detailed-result-type).
const (
	// ExecutionError: the handler threw, or its worker died (503).
	ExecutionError = "LambdaExecutionError"
	// ValidationError: the result breaks CloudFront's rules (502).
	ValidationError = "LambdaValidationError"
	// LimitExceeded: the handler ran past its timeout (503).
	LimitExceeded = "LambdaLimitExceeded"
)

// The error pages' texts.
const (
	msgExecution  = "The Lambda function associated with the CloudFront distribution is invalid or doesn't have the required permissions."
	msgValidation = "The Lambda function result failed validation: "
	msgLimit      = "The Lambda function associated with the CloudFront distribution exceeded its timeout."
)

// Timeouts CloudFront gives a Lambda@Edge function ("Quotas on
// Lambda@Edge"): 5 s at viewer events, 30 s at origin events; a function's
// own timeout may be shorter.
const (
	ViewerTimeout = 5 * time.Second
	OriginTimeout = 30 * time.Second
)

// FunctionError is a handler's own failure: it threw, rejected or called
// back with an error.
type FunctionError struct {
	Type    string
	Message string
}

func (e *FunctionError) Error() string { return "the handler failed: " + e.Type + ": " + e.Message }

// errCrashed marks a worker that died or broke the protocol.
var errCrashed = errors.New("the function's worker failed")

// Kind is CloudFront's name for err (ExecutionError, ValidationError,
// LimitExceeded), "" for nil.
func Kind(err error) string {
	var he *proxy.HookError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &he):
		return he.Result
	}
	return ExecutionError
}

// hookError gives err, a run's failure, CloudFront's status and page.
func hookError(err error, timedOut bool) error {
	var ve *validationError
	switch {
	case errors.As(err, &ve):
		return &proxy.HookError{Status: http.StatusBadGateway, Message: msgValidation + ve.reason, Result: ValidationError, Err: err}
	case timedOut:
		return &proxy.HookError{Status: http.StatusServiceUnavailable, Message: msgLimit, Result: LimitExceeded, Err: err}
	}
	return &proxy.HookError{Status: http.StatusServiceUnavailable, Message: msgExecution, Result: ExecutionError, Err: err}
}

// errorf is fmt.Errorf, named for the package's errors.
func errorf(format string, args ...any) error { return fmt.Errorf("lambda@edge: "+format, args...) }
