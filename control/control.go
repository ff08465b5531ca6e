// Package control is edgefront's CloudFront control API: the subset of
// CloudFront's REST API (version 2020-05-31, XML bodies) that the AWS SDKs
// and `aws cloudfront` use for invalidations, for reading and updating
// distributions, and for CloudFront Functions and KeyValueStores; and the
// cloudfront-keyvaluestore data plane (JSON, /key-value-stores/…) that
// reads and writes a store's keys. Both are served on the admin listener.
//
// What the API makes — functions, stores, DistributionConfigs — is an
// overlay (overlay.go) over the configuration the edge loads, applied to
// every configuration it loads (API.Reload), so a reload keeps it; with a
// SharedConfig (shared.go) the nodes of a cluster share the overlay.
//
// It reaches the running edge only through Backend: the configuration
// loaded and the one serving, the cache's ban (Invalidate), and the swap to
// a new configuration. Requests are authenticated with AWS Signature
// Version 4 (SigV4A for the data plane), either checked against configured
// keys or, for local use, only required to be present.
package control

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgefront/edgefront/config"
)

// Namespace is the XML namespace of CloudFront's 2020-05-31 API.
const Namespace = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

// Version is the path prefix of the API.
const Version = "/2020-05-31/"

// Backend is the running edge as the control API sees it.
type Backend interface {
	// Config returns the configuration serving now.
	Config() *config.Config
	// Invalidate makes every cached object of the distribution whose path
	// matches one of paths (a '*' suffix is a prefix match) and that was
	// stored before at a miss (cache.Store.InvalidateBatch): one
	// invalidation batch, published at once.
	Invalidate(distributionID string, paths []string, at time.Time)
	// Base returns the configuration the edge loaded (settings file,
	// template, quick mode) without what the API made.
	Base() *config.Config
	// Load makes cfg — base with the API's overlay applied — the
	// configuration serving: the edge's one path to a new configuration
	// (its functions compiled, its hooks and distributions swapped in).
	// On error the running configuration keeps serving; on success Base
	// returns base from then on. An *Error chooses the API error,
	// config.Errors are reported with the first CloudFront error code
	// among them, else as InvalidArgument.
	Load(ctx context.Context, base, cfg *config.Config) error
}

// Options configures the control API.
type Options struct {
	// Credentials maps access key IDs to secret access keys. When set,
	// every request's SigV4 signature is verified with them; when empty,
	// any request carrying a well-formed SigV4 Authorization header is
	// accepted (local use).
	Credentials map[string]string
	// InvalidationInProgress is how long a new invalidation is reported
	// InProgress. The ban takes effect at once whatever it is; 0 (the
	// default) reports Completed from the first read after the create, so
	// `aws cloudfront wait invalidation-completed` returns at once.
	InvalidationInProgress time.Duration
	// KeepInvalidations is how many completed invalidations are kept per
	// distribution for Get/ListInvalidations (default 1000).
	KeepInvalidations int
	// Invalidations, when set, shares invalidations with the other nodes
	// of a cluster (replication.go); nil for a single node.
	Invalidations Replicator
	// Config, when set, shares what the API makes — DistributionConfigs,
	// functions, key value stores — with the other nodes of a cluster
	// (shared.go); nil for a single node, whose overlay lives in memory.
	Config SharedConfig
	// AccountID is the account in distribution ARNs (default 123456789012).
	AccountID string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives a line per change (slog.Default() when nil).
	Logger *slog.Logger
}

// API is the control API's handler. Mount it on the admin listener under
// Version ("/2020-05-31/") and KeyValueStorePrefix ("/key-value-stores/").
type API struct{ h *handler }

// KeyValueStorePrefix is the path prefix of the cloudfront-keyvaluestore
// data plane, as its SDKs send it.
const KeyValueStorePrefix = "/key-value-stores/"

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// Reload applies the API's overlay to base, a configuration the edge has
// just loaded, and makes the result serve (Backend.Load): the functions,
// stores and distributions the API made survive the reload, except where
// base changed what they replaced. On error the running configuration
// keeps serving.
func (a *API) Reload(ctx context.Context, base *config.Config) error {
	_, err := a.h.changeShared(ctx, base, false, func(cur *overlay) (*overlay, error) { return cur, nil })
	return err
}

// Error is an API error: the HTTP status and CloudFront's error code.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// MaxRequestBody bounds a request body (bytes): the whole body is read,
// hashed for the signature check and kept for the handler, so it must be
// small. The largest DistributionConfig within CloudFront's quotas is far
// smaller.
const MaxRequestBody = 8 << 20

// handler serves the API.
type handler struct {
	b     Backend
	o     Options
	mux   *http.ServeMux
	inv   *invalidations
	start time.Time

	kvs *http.ServeMux // the cloudfront-keyvaluestore data plane

	// changeMu serialises every change: read the overlay, build the next,
	// apply it, swap it in. ov is read without it.
	changeMu sync.Mutex
	ov       atomic.Pointer[overlay]

	modMu    sync.Mutex
	modified map[string]stamp // by distribution ID
}

// stamp is when a distribution's configuration (ETag) was last seen to change.
type stamp struct {
	etag string
	at   time.Time
}

// New returns the control API.
func New(b Backend, o Options) *API {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.KeepInvalidations <= 0 {
		o.KeepInvalidations = 1000
	}
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	h := &handler{b: b, o: o, mux: http.NewServeMux(), kvs: http.NewServeMux(), inv: newInvalidations(o.KeepInvalidations),
		start: o.Now(), modified: map[string]stamp{}}
	h.ov.Store(emptyOverlay())
	h.mux.HandleFunc("POST /2020-05-31/distribution/{id}/invalidation", h.createInvalidation)
	h.mux.HandleFunc("GET /2020-05-31/distribution/{id}/invalidation", h.listInvalidations)
	h.mux.HandleFunc("GET /2020-05-31/distribution/{id}/invalidation/{inv}", h.getInvalidation)
	h.mux.HandleFunc("GET /2020-05-31/distribution", h.listDistributions)
	h.mux.HandleFunc("GET /2020-05-31/distribution/{id}", h.getDistribution)
	h.mux.HandleFunc("GET /2020-05-31/distribution/{id}/config", h.getDistributionConfig)
	h.mux.HandleFunc("PUT /2020-05-31/distribution/{id}/config", h.updateDistribution)
	h.routeFunctions()
	h.routeKeyValueStores()
	h.routeKeyValueStoreData()
	return &API{h: h}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, KeyValueStorePrefix) {
		h.serveKeyValueStoreData(w, r)
		return
	}
	reqID := newRequestID()
	w.Header().Set("X-Amz-Request-Id", reqID)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, reqID, &Error{Status: http.StatusRequestEntityTooLarge, Code: "InvalidArgument",
				Message: fmt.Sprintf("the request body is larger than %d bytes", MaxRequestBody)})
			return
		}
		writeError(w, reqID, &Error{Status: http.StatusBadRequest, Code: "MalformedInput", Message: "reading the request body: " + err.Error()})
		return
	}
	if e := h.authenticate(r, body); e != nil {
		writeError(w, reqID, e)
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		msg := fmt.Sprintf("edgefront's control API does not implement %s %s", r.Method, r.URL.Path)
		if op := operationName(r.Method, r.URL.Path, r.URL.RawQuery); op != "" {
			msg = op + " is not supported by edgefront's control API; configure it in the file edgefront reads (SIGHUP or a change of the file reloads it)"
		}
		writeError(w, reqID, &Error{Status: http.StatusBadRequest, Code: "InvalidAction", Message: msg})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.mux.ServeHTTP(w, r)
}

// authenticate checks the request's SigV4 Authorization header.
func (h *handler) authenticate(r *http.Request, body []byte) *Error {
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		return &Error{Status: http.StatusForbidden, Code: "MissingAuthenticationToken", Message: "request is missing an AWS Signature Version 4 Authorization header"}
	}
	a, err := parseAuthorization(hdr)
	if err != nil {
		return &Error{Status: http.StatusForbidden, Code: "IncompleteSignature", Message: err.Error()}
	}
	if len(h.o.Credentials) == 0 {
		return nil
	}
	secret, ok := h.o.Credentials[a.AccessKeyID]
	if !ok {
		return &Error{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "the security token included in the request is invalid"}
	}
	sum := sha256.Sum256(body)
	if err := verifySignature(r, a, secret, hex.EncodeToString(sum[:]), h.o.Now()); err != nil {
		return &Error{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: err.Error()}
	}
	return nil
}

// newRequestID returns a UUID-shaped request ID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// errorResponse is CloudFront's error document.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, reqID string, e *Error) {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	out, err := xml.Marshal(errorResponse{Xmlns: Namespace, Type: typ, Code: e.Code, Message: e.Message, RequestID: reqID})
	if err != nil { // cannot happen: only strings
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
}
