package control

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/edge"
)

// This file is the CloudFront Functions API: Create, Describe, Get,
// Update, Publish, List, Delete and Test. A function has a DEVELOPMENT
// stage (what Create and Update write) and, once published, a LIVE stage,
// the one the edge runs and distributions associate. The settings'
// functions are shown too, both stages their code; an update of one is an
// overlay that wins until the settings change its code, and deleting one
// is refused (remove it from the settings).

// Function statuses, as CloudFront reports them.
const (
	statusUnpublished  = "UNPUBLISHED"
	statusUnassociated = "UNASSOCIATED"
	statusDeployed     = "DEPLOYED"
)

// functionConfigDoc is the API's FunctionConfig.
type functionConfigDoc struct {
	Comment                   string
	Runtime                   string
	KeyValueStoreAssociations *kvsAssociations `json:",omitempty"`
}

// kvsAssociations is the API's KeyValueStoreAssociations.
type kvsAssociations struct {
	Quantity *int
	Items    []kvsAssociation
}

// kvsAssociation is the API's KeyValueStoreAssociation.
type kvsAssociation struct {
	KeyValueStoreARN string
}

// functionMetadataDoc is the API's FunctionMetadata.
type functionMetadataDoc struct {
	FunctionARN      string
	Stage            string
	CreatedTime      string
	LastModifiedTime string
}

// functionSummaryDoc is the API's FunctionSummary.
type functionSummaryDoc struct {
	Name             string
	Status           string
	FunctionConfig   *functionConfigDoc
	FunctionMetadata *functionMetadataDoc
}

// functionListDoc is the API's FunctionList.
type functionListDoc struct {
	NextMarker string `json:",omitempty"`
	MaxItems   int
	Quantity   *int
	Items      []functionSummaryDoc
}

// tagsDoc is the API's Tags: accepted, not kept.
type tagsDoc struct {
	Quantity *int // not sent by the SDKs; lets the codec read Items as a list
	Items    []struct {
		Key   string
		Value string
	}
}

// createFunctionRequest is the API's CreateFunctionRequest.
type createFunctionRequest struct {
	Name           string
	FunctionConfig *functionConfigDoc
	FunctionCode   string // base64
	Tags           *tagsDoc
}

// updateFunctionRequest is the API's UpdateFunctionRequest.
type updateFunctionRequest struct {
	FunctionConfig *functionConfigDoc
	FunctionCode   string // base64
}

// testFunctionRequest is the API's TestFunctionRequest.
type testFunctionRequest struct {
	Stage       string
	EventObject string // base64
}

// testResultDoc is the API's TestResult.
type testResultDoc struct {
	FunctionSummary       *functionSummaryDoc
	ComputeUtilization    string
	FunctionExecutionLogs []string
	FunctionErrorMessage  string
	FunctionOutput        string
}

func (h *handler) routeFunctions() {
	h.mux.HandleFunc("POST /2020-05-31/function", h.createFunction)
	h.mux.HandleFunc("GET /2020-05-31/function", h.listFunctions)
	h.mux.HandleFunc("GET /2020-05-31/function/{name}", h.getFunction)
	h.mux.HandleFunc("GET /2020-05-31/function/{name}/describe", h.describeFunction)
	h.mux.HandleFunc("PUT /2020-05-31/function/{name}", h.updateFunction)
	h.mux.HandleFunc("DELETE /2020-05-31/function/{name}", h.deleteFunction)
	h.mux.HandleFunc("POST /2020-05-31/function/{name}/publish", h.publishFunction)
	h.mux.HandleFunc("POST /2020-05-31/function/{name}/test", h.testFunction)
}

func (h *handler) functionARN(name string) string {
	return "arn:aws:cloudfront::" + h.o.AccountID + ":function/" + name
}

// summary renders f at stage st; cfg (the configuration serving) decides
// whether it is DEPLOYED.
func (h *handler) functionSummary(f *apiFunction, stage string, cfg *config.Config) *functionSummaryDoc {
	st := f.stage(stage)
	status := statusUnpublished
	if f.live != nil {
		status = statusUnassociated
		if functionInUse(cfg, f.name) {
			status = statusDeployed
		}
	}
	fc := &functionConfigDoc{Comment: st.comment, Runtime: st.runtime, KeyValueStoreAssociations: &kvsAssociations{Items: []kvsAssociation{}}}
	for _, arn := range st.stores {
		fc.KeyValueStoreAssociations.Items = append(fc.KeyValueStoreAssociations.Items, kvsAssociation{KeyValueStoreARN: arn})
	}
	return &functionSummaryDoc{Name: f.name, Status: status, FunctionConfig: fc,
		FunctionMetadata: &functionMetadataDoc{FunctionARN: h.functionARN(f.name), Stage: stage,
			CreatedTime: f.created.UTC().Format(timeFormat), LastModifiedTime: st.modified.UTC().Format(timeFormat)}}
}

// functionInUse reports whether a behaviour of cfg runs the function name.
func functionInUse(cfg *config.Config, name string) bool {
	if cfg == nil {
		return false
	}
	for _, d := range cfg.Distributions {
		for _, b := range append([]*config.Behavior{d.Default}, d.Behaviors...) {
			if b == nil {
				continue
			}
			for _, fn := range []*config.Function{b.ViewerRequestFunction, b.ViewerResponseFunction} {
				if fn != nil && fn.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// lookupFunction returns the function the path names as the API shows it
// now, or answers NoSuchFunctionExists.
func (h *handler) lookupFunction(w http.ResponseWriter, r *http.Request) *apiFunction {
	ov, base := h.view()
	name := r.PathValue("name")
	if f, ok := ov.functionsOver(base, h.start)[name]; ok {
		return f
	}
	h.fail(w, noSuchFunction(name))
	return nil
}

func noSuchFunction(name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NoSuchFunctionExists", Message: fmt.Sprintf("the function %s does not exist", name)}
}

// stageParam reads the Stage query parameter (DEVELOPMENT when absent).
func stageParam(r *http.Request) (string, *Error) {
	switch s := r.URL.Query().Get("Stage"); s {
	case "":
		return stageDevelopment, nil
	case stageDevelopment, stageLive:
		return s, nil
	default:
		return "", invalidArgument(fmt.Sprintf("Stage %q is not DEVELOPMENT or LIVE", s))
	}
}

// checkIfMatch answers InvalidIfMatchVersion when the request has no
// If-Match and PreconditionFailed when it is none of current.
func checkIfMatch(r *http.Request, what string, current ...string) *Error {
	v := r.Header.Get("If-Match")
	if v == "" {
		return &Error{Status: http.StatusBadRequest, Code: "InvalidIfMatchVersion", Message: "the If-Match version is missing or not valid for the " + what}
	}
	if !slices.Contains(current, v) {
		return &Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
			Message: fmt.Sprintf("the If-Match version %s does not match the current version of the %s", v, what)}
	}
	return nil
}

// codeErr maps a config.NewFunction error to CloudFront's: code over 10 KB
// is FunctionSizeLimitExceeded, anything else (syntax error with line and
// column, a 2.0 feature in 1.0, a bad name or runtime) InvalidArgument.
func codeErr(err error) *Error {
	if errors.Is(err, config.ErrFunctionSize) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "FunctionSizeLimitExceeded", Message: err.Error()}
	}
	return invalidArgument(err.Error())
}

// readBody decodes the request's XML body, whose root is root, into v.
func readBody(r *http.Request, root string, v any) *Error {
	body, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(body)) == 0 {
		return &Error{Status: http.StatusBadRequest, Code: "MissingBody", Message: "this operation requires a " + root + " body"}
	}
	if err := decodeXML(xml.NewDecoder(bytes.NewReader(body)), root, v); err != nil {
		var e *Error
		errors.As(inputErr(err), &e)
		return e
	}
	return nil
}

// newStage checks a function's configuration and base64 code (as
// config.NewFunction checks the settings' functions) against the stores
// there are, and returns it as a stage.
func (h *handler) newStage(name string, fc *functionConfigDoc, code64 string, stores map[string]*apiStore) (*functionStage, *Error) {
	if fc == nil {
		return nil, invalidArgument("FunctionConfig is required")
	}
	code, err := base64.StdEncoding.DecodeString(code64)
	if err != nil {
		return nil, invalidArgument("FunctionCode is not base64: " + err.Error())
	}
	if len(code) == 0 {
		return nil, invalidArgument("FunctionCode is required")
	}
	st := &functionStage{runtime: fc.Runtime, comment: fc.Comment, code: string(code), etag: newETag(), modified: h.o.Now()}
	if a := fc.KeyValueStoreAssociations; a != nil {
		if len(a.Items) > 1 {
			return nil, invalidArgument(fmt.Sprintf("a function can be associated with one key value store, not %d", len(a.Items)))
		}
		for _, kv := range a.Items {
			s := storeByARN(stores, kv.KeyValueStoreARN)
			if s == nil {
				return nil, invalidArgument("KeyValueStoreARN " + kv.KeyValueStoreARN + " names no key value store")
			}
			st.stores = append(st.stores, s.arn)
		}
	}
	if _, err := config.NewFunction(name, st.runtime, st.code); err != nil {
		return nil, codeErr(err)
	}
	return st, nil
}

func (h *handler) createFunction(w http.ResponseWriter, r *http.Request) {
	var req createFunctionRequest
	if e := readBody(r, "CreateFunctionRequest", &req); e != nil {
		h.fail(w, e)
		return
	}
	var f *apiFunction
	cfg, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		base := h.b.Base()
		if _, ok := cur.functionsOver(base, h.start)[req.Name]; ok {
			return nil, &Error{Status: http.StatusConflict, Code: "FunctionAlreadyExists", Message: fmt.Sprintf("a function named %s already exists", req.Name)}
		}
		st, e := h.newStage(req.Name, req.FunctionConfig, req.FunctionCode, cur.storesOver(base, h.start))
		if e != nil {
			return nil, e
		}
		f = &apiFunction{name: req.Name, created: st.modified, dev: st}
		next := cur.clone()
		next.functions[f.name] = f
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.o.Logger.Info("function created", "function", f.name, "runtime", f.dev.runtime)
	w.Header().Set("ETag", f.dev.etag)
	w.Header().Set("Location", "http://"+r.Host+Version+"function/"+f.name)
	h.write(w, http.StatusCreated, "FunctionSummary", h.functionSummary(f, stageDevelopment, cfg))
}

// stageOf finds the function and stage r names (the Stage query
// parameter), answering the error itself when there is none; the ETag of
// the stage is set on w.
func (h *handler) stageOf(w http.ResponseWriter, r *http.Request) (f *apiFunction, stage string, st *functionStage) {
	stage, e := stageParam(r)
	if e != nil {
		h.fail(w, e)
		return nil, "", nil
	}
	if f = h.lookupFunction(w, r); f == nil {
		return nil, "", nil
	}
	if st = f.stage(stage); st == nil {
		h.fail(w, noSuchFunction(f.name+" (stage LIVE: the function was never published)"))
		return nil, "", nil
	}
	w.Header().Set("ETag", st.etag)
	return f, stage, st
}

func (h *handler) describeFunction(w http.ResponseWriter, r *http.Request) {
	f, stage, st := h.stageOf(w, r)
	if st == nil {
		return
	}
	h.write(w, http.StatusOK, "FunctionSummary", h.functionSummary(f, stage, h.b.Config()))
}

func (h *handler) getFunction(w http.ResponseWriter, r *http.Request) {
	_, _, st := h.stageOf(w, r)
	if st == nil {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(st.code)))
	_, _ = io.WriteString(w, st.code)
}

func (h *handler) updateFunction(w http.ResponseWriter, r *http.Request) {
	var req updateFunctionRequest
	if e := readBody(r, "UpdateFunctionRequest", &req); e != nil {
		h.fail(w, e)
		return
	}
	name := r.PathValue("name")
	var f *apiFunction
	cfg, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		base := h.b.Base()
		old, ok := cur.functionsOver(base, h.start)[name]
		if !ok {
			return nil, noSuchFunction(name)
		}
		if e := checkIfMatch(r, "function", old.dev.etag); e != nil {
			return nil, e
		}
		st, e := h.newStage(name, req.FunctionConfig, req.FunctionCode, cur.storesOver(base, h.start))
		if e != nil {
			return nil, e
		}
		nf := *old
		nf.dev = st
		var next *overlay
		next, f = cur.withFunction(name, old, &nf)
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.o.Logger.Info("function updated", "function", name, "stage", stageDevelopment)
	w.Header().Set("ETag", f.dev.etag)
	w.Header().Set("ETtag", f.dev.etag) // the SDKs read UpdateFunction's version from this (sic) header
	h.write(w, http.StatusOK, "FunctionSummary", h.functionSummary(f, stageDevelopment, cfg))
}

func (h *handler) publishFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var f *apiFunction
	cfg, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		old, ok := cur.functionsOver(h.b.Base(), h.start)[name]
		if !ok {
			return nil, noSuchFunction(name)
		}
		if e := checkIfMatch(r, "function", old.dev.etag); e != nil {
			return nil, e
		}
		nf := *old
		live := *old.dev
		live.etag, live.modified = newETag(), h.o.Now()
		nf.live = &live
		var next *overlay
		next, f = cur.withFunction(name, old, &nf)
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.o.Logger.Info("function published", "function", name)
	h.write(w, http.StatusOK, "FunctionSummary", h.functionSummary(f, stageLive, cfg))
}

func (h *handler) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	_, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		f, ok := cur.functionsOver(h.b.Base(), h.start)[name]
		if !ok {
			return nil, noSuchFunction(name)
		}
		etags := []string{f.dev.etag}
		if f.live != nil {
			etags = append(etags, f.live.etag)
		}
		if e := checkIfMatch(r, "function", etags...); e != nil {
			return nil, e
		}
		if f.settings || f.replaces != "" {
			return nil, &Error{Status: http.StatusBadRequest, Code: "UnsupportedOperation",
				Message: fmt.Sprintf("the function %s is defined by edgefront's settings; remove it there", name)}
		}
		if functionInUse(h.b.Config(), name) {
			return nil, &Error{Status: http.StatusConflict, Code: "FunctionInUse",
				Message: fmt.Sprintf("the function %s is associated with a cache behavior; remove the association first", name)}
		}
		next := cur.clone()
		delete(next.functions, name)
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.o.Logger.Info("function deleted", "function", name)
	w.WriteHeader(http.StatusNoContent)
}

// functionSortKey orders listed functions: by name, DEVELOPMENT before LIVE.
func functionSortKey(name, stage string) string { return name + "/" + stage }

func (h *handler) listFunctions(w http.ResponseWriter, r *http.Request) {
	marker, maxItems, e := pageParams(r)
	if e != nil {
		h.fail(w, e)
		return
	}
	filter := r.URL.Query().Get("Stage")
	if filter != "" && filter != stageDevelopment && filter != stageLive {
		h.fail(w, invalidArgument(fmt.Sprintf("Stage %q is not DEVELOPMENT or LIVE", filter)))
		return
	}
	ov, base := h.view()
	fns := ov.functionsOver(base, h.start)
	type entry struct {
		f     *apiFunction
		stage string
	}
	var ids []string
	entries := map[string]entry{}
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		for _, stage := range []string{stageDevelopment, stageLive} {
			if (filter == "" || filter == stage) && fns[name].stage(stage) != nil {
				id := functionSortKey(name, stage)
				ids = append(ids, id)
				entries[id] = entry{fns[name], stage}
			}
		}
	}
	from, to, next := page(ids, marker, maxItems)
	cfg := h.b.Config()
	out := &functionListDoc{MaxItems: maxItems, NextMarker: next, Items: []functionSummaryDoc{}}
	for _, id := range ids[from:to] {
		out.Items = append(out.Items, *h.functionSummary(entries[id].f, entries[id].stage, cfg))
	}
	h.write(w, http.StatusOK, "FunctionList", out)
}

func (h *handler) testFunction(w http.ResponseWriter, r *http.Request) {
	var req testFunctionRequest
	if e := readBody(r, "TestFunctionRequest", &req); e != nil {
		h.fail(w, e)
		return
	}
	stage := req.Stage
	if stage == "" {
		stage = stageDevelopment
	}
	if stage != stageDevelopment && stage != stageLive {
		h.fail(w, invalidArgument(fmt.Sprintf("Stage %q is not DEVELOPMENT or LIVE", stage)))
		return
	}
	event, err := base64.StdEncoding.DecodeString(req.EventObject)
	if err != nil || len(event) == 0 {
		h.fail(w, invalidArgument("EventObject is required, base64"))
		return
	}
	f := h.lookupFunction(w, r)
	if f == nil {
		return
	}
	st := f.stage(stage)
	if st == nil {
		h.fail(w, noSuchFunction(f.name+" (stage LIVE: the function was never published)"))
		return
	}
	if e := checkIfMatch(r, "function", st.etag); e != nil {
		h.fail(w, e)
		return
	}
	res, e := h.runTest(r, f.name, st, event)
	if e != nil {
		h.fail(w, e)
		return
	}
	doc := &testResultDoc{FunctionSummary: h.functionSummary(f, stage, h.b.Config()),
		ComputeUtilization: strconv.Itoa(res.Utilization), FunctionExecutionLogs: append([]string{}, res.Logs...),
		FunctionErrorMessage: res.ErrorMessage, FunctionOutput: res.Output}
	h.write(w, http.StatusOK, "TestResult", doc)
}

// runTest runs the stage st of the function name on event with the
// stores the configuration serving has (edge.Runtime.Test): a runtime of
// its own, so a test never touches the edge's.
func (h *handler) runTest(r *http.Request, name string, st *functionStage, event []byte) (*edge.TestResult, *Error) {
	cfg := h.b.Config()
	var kvs []*config.KeyValueStore
	for _, arn := range st.stores {
		for _, kv := range cfg.KeyValueStores {
			if kv.ARN == arn {
				kvs = append(kvs, kv)
			}
		}
	}
	fn, err := config.NewFunction(name, st.runtime, st.code, kvs...)
	if err != nil {
		return nil, codeErr(err)
	}
	rt, err := edge.New(&config.Config{Functions: map[string]*config.Function{fn.ARN: fn}},
		edge.Options{Idle: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil { // the top-level code threw or defines no handler: the test's result
		return &edge.TestResult{ErrorMessage: err.Error()}, nil
	}
	start := time.Now()
	res, err := rt.Test(r.Context(), fn, event)
	if err != nil {
		return nil, invalidArgument("EventObject: " + err.Error())
	}
	h.o.Logger.Debug("function tested", "function", name, "took", time.Since(start))
	return res, nil
}

// withFunction returns a copy of ov with nf, the changed version of old,
// as function name. A function of the settings becomes the API's,
// overriding the settings' until their code changes.
func (ov *overlay) withFunction(name string, old, nf *apiFunction) (*overlay, *apiFunction) {
	if old.settings {
		nf.settings = false
		nf.replaces = digest(old.live.runtime, old.live.code)
	}
	next := ov.clone()
	next.functions[name] = nf
	return next, nf
}
