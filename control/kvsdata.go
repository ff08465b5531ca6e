package control

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file is the cloudfront-keyvaluestore data plane (REST, JSON
// bodies), under KeyValueStorePrefix as its SDKs send it:
//
//	GET    /key-value-stores/{KvsARN}              DescribeKeyValueStore
//	GET    /key-value-stores/{KvsARN}/keys         ListKeys (MaxResults, NextToken)
//	POST   /key-value-stores/{KvsARN}/keys         UpdateKeys (If-Match)
//	GET    /key-value-stores/{KvsARN}/keys/{Key}   GetKey
//	PUT    /key-value-stores/{KvsARN}/keys/{Key}   PutKey (If-Match)
//	DELETE /key-value-stores/{KvsARN}/keys/{Key}   DeleteKey (If-Match)
//
// Every write needs the data's current ETag (a stale one is a
// ConflictException) and answers a new one; it goes through the same
// change path as every API change, so the next request of a function
// associated with the store reads what was written. Requests are signed
// with SigV4A.

// Key value store quotas (CloudFront Developer Guide, "Quotas on
// KeyValueStore").
const (
	maxKeyBytes   = 512
	maxValueBytes = 1024
	maxListKeys   = 50
)

func (h *handler) routeKeyValueStoreData() {
	h.kvs.HandleFunc("GET /key-value-stores/{arn}", h.kvsDescribe)
	h.kvs.HandleFunc("GET /key-value-stores/{arn}/keys", h.kvsListKeys)
	h.kvs.HandleFunc("POST /key-value-stores/{arn}/keys", h.kvsUpdateKeys)
	h.kvs.HandleFunc("GET /key-value-stores/{arn}/keys/{key}", h.kvsGetKey)
	h.kvs.HandleFunc("PUT /key-value-stores/{arn}/keys/{key}", h.kvsPutKey)
	h.kvs.HandleFunc("DELETE /key-value-stores/{arn}/keys/{key}", h.kvsDeleteKey)
}

// serveKeyValueStoreData authenticates a data-plane request (SigV4A) and
// serves it; errors are the service's JSON errors.
func (h *handler) serveKeyValueStoreData(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		writeJSONError(w, &Error{Status: http.StatusBadRequest, Code: "ValidationException", Message: "reading the request body: " + err.Error()})
		return
	}
	if e := h.authenticateV4A(r, body); e != nil {
		writeJSONError(w, e)
		return
	}
	if _, pattern := h.kvs.Handler(r); pattern == "" {
		writeJSONError(w, &Error{Status: http.StatusNotFound, Code: "UnknownOperationException",
			Message: fmt.Sprintf("edgefront's cloudfront-keyvaluestore API does not implement %s %s", r.Method, r.URL.Path)})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.kvs.ServeHTTP(w, r)
}

// authenticateV4A checks the request's SigV4A Authorization header: with
// Options.Credentials, the signature against the key derived from the
// access key's secret; without, only its form.
func (h *handler) authenticateV4A(r *http.Request, body []byte) *Error {
	deny := func(msg string) *Error {
		return &Error{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: msg}
	}
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		return deny("request is missing an AWS Signature Version 4A (" + sigV4AAlgorithm + ") Authorization header")
	}
	a, err := parseAuthorizationAs(hdr, sigV4AAlgorithm)
	if err != nil {
		return deny(err.Error())
	}
	if len(h.o.Credentials) == 0 {
		return nil
	}
	secret, ok := h.o.Credentials[a.AccessKeyID]
	if !ok {
		return deny("the security token included in the request is invalid")
	}
	sum := sha256.Sum256(body)
	if err := verifySignatureV4A(r, a, secret, kvsSigningService, hex.EncodeToString(sum[:]), h.o.Now()); err != nil {
		return deny(err.Error())
	}
	return nil
}

// writeJSONError answers e as the restJson1 services do: the code in
// X-Amzn-ErrorType, the message in the body.
func writeJSONError(w http.ResponseWriter, e *Error) {
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.Message})
}

// failJSON answers err: an *Error as it is, anything else as
// InternalServerException.
func failJSON(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: "InternalServerException", Message: err.Error()}
	}
	writeJSONError(w, e)
}

func writeJSON(w http.ResponseWriter, etag string, v any) {
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func kvsValidation(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "ValidationException", Message: fmt.Sprintf(format, args...)}
}

func kvsNotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...)}
}

// dataStore returns the store the path's ARN names as the API shows it now.
func (h *handler) dataStore(r *http.Request) (*apiStore, *Error) {
	ov, base := h.view()
	if s := storeByARN(ov.storesOver(base, h.start), r.PathValue("arn")); s != nil {
		return s, nil
	}
	return nil, kvsNotFound("the key value store %s does not exist", r.PathValue("arn"))
}

// epoch is a restJson1 timestamp: seconds since 1970 as a number.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// sizes is the count and size every write answers with.
type sizes struct {
	ItemCount        int
	TotalSizeInBytes int64
}

func (h *handler) kvsDescribe(w http.ResponseWriter, r *http.Request) {
	s, e := h.dataStore(r)
	if e != nil {
		failJSON(w, e)
		return
	}
	writeJSON(w, s.dataETag, map[string]any{"ItemCount": len(s.data), "TotalSizeInBytes": s.size(), "KvsARN": s.arn,
		"Created": epoch(s.created), "LastModified": epoch(s.modified), "Status": kvsStatusReady})
}

func (h *handler) kvsGetKey(w http.ResponseWriter, r *http.Request) {
	s, e := h.dataStore(r)
	if e != nil {
		failJSON(w, e)
		return
	}
	key := r.PathValue("key")
	v, ok := s.data[key]
	if !ok {
		failJSON(w, kvsNotFound("the key %q does not exist in the key value store %s", key, s.name))
		return
	}
	writeJSON(w, "", map[string]any{"Key": key, "Value": v, "ItemCount": len(s.data), "TotalSizeInBytes": s.size()})
}

func (h *handler) kvsListKeys(w http.ResponseWriter, r *http.Request) {
	s, e := h.dataStore(r)
	if e != nil {
		failJSON(w, e)
		return
	}
	q := r.URL.Query()
	limit := maxListKeys
	if m := q.Get("MaxResults"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > maxListKeys {
			failJSON(w, kvsValidation("MaxResults %q is not 1 to %d", m, maxListKeys))
			return
		}
		limit = n
	}
	keys := slices.Sorted(maps.Keys(s.data))
	from := 0
	if tok := q.Get("NextToken"); tok != "" {
		after, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			failJSON(w, kvsValidation("NextToken %q is not one this API gave", tok))
			return
		}
		from, _ = slices.BinarySearch(keys, string(after)+"\x00")
	}
	to := min(from+limit, len(keys))
	type item struct{ Key, Value string }
	out := struct {
		Items     []item
		NextToken string `json:",omitempty"`
	}{Items: []item{}}
	for _, k := range keys[from:to] {
		out.Items = append(out.Items, item{k, s.data[k]})
	}
	if to < len(keys) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(keys[to-1]))
	}
	writeJSON(w, "", out)
}

// putKeyBody is PutKey's body.
type putKeyBody struct {
	Value *string
}

// updateKeysBody is UpdateKeys' body.
type updateKeysBody struct {
	Puts []struct {
		Key   *string
		Value *string
	}
	Deletes []struct {
		Key *string
	}
}

// decodeJSONBody reads a data-plane request body into v: one JSON object,
// no unknown fields.
func decodeJSONBody(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return kvsValidation("the request body is not valid JSON for this operation: %v", err)
	}
	if dec.More() {
		return kvsValidation("the request body has data after its JSON object")
	}
	return nil
}

// parseUpdateKeys reads UpdateKeys' body into the keys to put (in order)
// and to delete, each key and value within CloudFront's limits.
func parseUpdateKeys(body []byte) (puts [][2]string, deletes []string, e *Error) {
	var b updateKeysBody
	if e := decodeJSONBody(body, &b); e != nil {
		return nil, nil, e
	}
	for i, p := range b.Puts {
		if p.Key == nil || p.Value == nil {
			return nil, nil, kvsValidation("Puts[%d]: Key and Value are required", i)
		}
		if e := checkKeyValue(*p.Key, *p.Value); e != nil {
			return nil, nil, e
		}
		puts = append(puts, [2]string{*p.Key, *p.Value})
	}
	for i, d := range b.Deletes {
		if d.Key == nil {
			return nil, nil, kvsValidation("Deletes[%d]: Key is required", i)
		}
		if e := checkKeyValue(*d.Key, ""); e != nil {
			return nil, nil, e
		}
		deletes = append(deletes, *d.Key)
	}
	return puts, deletes, nil
}

// checkKeyValue checks a key (1 to 512 bytes) and a value (at most 1 KB).
func checkKeyValue(key, value string) *Error {
	if len(key) == 0 || len(key) > maxKeyBytes {
		return kvsValidation("the key is %d bytes; a key is 1 to %d bytes", len(key), maxKeyBytes)
	}
	if len(value) > maxValueBytes {
		return kvsValidation("the value of %q is %d bytes; the maximum is %d", key, len(value), maxValueBytes)
	}
	return nil
}

// writeData changes the data of the store the path names: edit gets a
// copy of its data to change. The request's If-Match must be the data's
// current ETag. It answers the new ETag, count and size.
func (h *handler) writeData(w http.ResponseWriter, r *http.Request, edit func(data map[string]string) *Error) {
	var s *apiStore
	_, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		old := storeByARN(cur.storesOver(h.b.Base(), h.start), r.PathValue("arn"))
		if old == nil {
			return nil, kvsNotFound("the key value store %s does not exist", r.PathValue("arn"))
		}
		switch m := r.Header.Get("If-Match"); {
		case m == "":
			return nil, kvsValidation("If-Match (the store's current ETag) is required")
		case m != old.dataETag:
			return nil, &Error{Status: http.StatusConflict, Code: "ConflictException",
				Message: fmt.Sprintf("If-Match %s is not the current ETag %s of the key value store %s", m, old.dataETag, old.name)}
		}
		ns := *old
		ns.data = maps.Clone(old.data)
		if e := edit(ns.data); e != nil {
			return nil, e
		}
		if n := ns.size(); n > config.MaxKeyValueStoreSize {
			return nil, &Error{Status: http.StatusPaymentRequired, Code: "ServiceQuotaExceededException",
				Message: fmt.Sprintf("the key value store would hold %d bytes; the maximum is %d (5 MB)", n, config.MaxKeyValueStoreSize)}
		}
		ns.dataETag, ns.modified = newETag(), h.o.Now()
		if old.settings {
			ns.settings, ns.replaces = false, dataDigest(old.data)
		}
		s = &ns
		next := cur.clone()
		next.stores[s.name] = s
		return next, nil
	})
	if e := (*Error)(nil); errors.As(err, &e) && e.Code == "PreconditionFailed" {
		// Another node wrote the store's data first: the data plane's
		// name for a stale ETag.
		err = &Error{Status: http.StatusConflict, Code: "ConflictException", Message: e.Message}
	}
	if err != nil {
		failJSON(w, err)
		return
	}
	h.o.Logger.Info("key value store written", "store", s.name, "items", len(s.data), "etag", s.dataETag)
	writeJSON(w, s.dataETag, sizes{ItemCount: len(s.data), TotalSizeInBytes: s.size()})
}

func (h *handler) kvsPutKey(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var b putKeyBody
	if e := decodeJSONBody(body, &b); e != nil {
		failJSON(w, e)
		return
	}
	key := r.PathValue("key")
	if b.Value == nil {
		failJSON(w, kvsValidation("Value is required"))
		return
	}
	if e := checkKeyValue(key, *b.Value); e != nil {
		failJSON(w, e)
		return
	}
	h.writeData(w, r, func(data map[string]string) *Error {
		data[key] = *b.Value
		return nil
	})
}

func (h *handler) kvsDeleteKey(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	h.writeData(w, r, func(data map[string]string) *Error {
		if _, ok := data[key]; !ok {
			return kvsNotFound("the key %q does not exist", key)
		}
		delete(data, key)
		return nil
	})
}

func (h *handler) kvsUpdateKeys(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	puts, deletes, e := parseUpdateKeys(body)
	if e != nil {
		failJSON(w, e)
		return
	}
	h.writeData(w, r, func(data map[string]string) *Error {
		for _, p := range puts {
			data[p[0]] = p[1]
		}
		for _, k := range deletes {
			delete(data, k)
		}
		return nil
	})
}
