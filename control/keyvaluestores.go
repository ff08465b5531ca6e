package control

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/edgefront/edgefront/config"
)

// This file is the CloudFront API's KeyValueStore resource: Create,
// Describe, Update (the comment), List and Delete. A store is READY at
// once. Creating one from an S3 ImportSource is refused
// (UnsupportedOperation): create it empty and write its keys with the
// cloudfront-keyvaluestore API (kvsdata.go), or give it a file in the
// settings' keyValueStores. The settings' stores are shown too; deleting
// one is refused.

// kvsStatusReady is the only status edgefront's stores have.
const kvsStatusReady = "READY"

// kvsDoc is the API's KeyValueStore.
type kvsDoc struct {
	Name             string
	Id               string
	Comment          string
	ARN              string
	Status           string
	LastModifiedTime string
}

// kvsListDoc is the API's KeyValueStoreList.
type kvsListDoc struct {
	NextMarker string `json:",omitempty"`
	MaxItems   int
	Quantity   *int
	Items      []kvsDoc
}

// createKVSRequest is the API's CreateKeyValueStoreRequest.
type createKVSRequest struct {
	Name         string
	Comment      string
	ImportSource *struct {
		SourceType string
		SourceARN  string
	}
	Tags *tagsDoc
}

// updateKVSRequest is the API's UpdateKeyValueStoreRequest.
type updateKVSRequest struct {
	Comment string
}

func (h *handler) routeKeyValueStores() {
	h.mux.HandleFunc("POST /2020-05-31/key-value-store", h.createKeyValueStore)
	h.mux.HandleFunc("POST /2020-05-31/key-value-store/{$}", h.createKeyValueStore)
	h.mux.HandleFunc("GET /2020-05-31/key-value-store", h.listKeyValueStores)
	h.mux.HandleFunc("GET /2020-05-31/key-value-store/{$}", h.listKeyValueStores)
	h.mux.HandleFunc("GET /2020-05-31/key-value-store/{name}", h.describeKeyValueStore)
	h.mux.HandleFunc("PUT /2020-05-31/key-value-store/{name}", h.updateKeyValueStore)
	h.mux.HandleFunc("DELETE /2020-05-31/key-value-store/{name}", h.deleteKeyValueStore)
}

func kvsXML(s *apiStore) *kvsDoc {
	return &kvsDoc{Name: s.name, Id: s.id, Comment: s.comment, ARN: s.arn, Status: kvsStatusReady,
		LastModifiedTime: s.modified.UTC().Format(timeFormat)}
}

func noSuchStore(name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "EntityNotFound", Message: fmt.Sprintf("the key value store %s does not exist", name)}
}

// newUUID returns a random UUID (version 4).
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func (h *handler) createKeyValueStore(w http.ResponseWriter, r *http.Request) {
	var req createKVSRequest
	if e := readBody(r, "CreateKeyValueStoreRequest", &req); e != nil {
		h.fail(w, e)
		return
	}
	if req.ImportSource != nil {
		h.fail(w, &Error{Status: http.StatusBadRequest, Code: "UnsupportedOperation",
			Message: "ImportSource (importing a store from S3) is not emulated: create the store without it and write its keys with the cloudfront-keyvaluestore API (put-key, update-keys), or give it a file in the settings' keyValueStores"})
		return
	}
	if !config.ValidName(req.Name) {
		h.fail(w, invalidArgument(fmt.Sprintf("%q is not a key value store name (1 to 64 letters, digits, - and _)", req.Name)))
		return
	}
	var s *apiStore
	_, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		if _, ok := cur.storesOver(h.b.Base(), h.start)[req.Name]; ok {
			return nil, &Error{Status: http.StatusConflict, Code: "EntityAlreadyExists", Message: fmt.Sprintf("a key value store named %s already exists", req.Name)}
		}
		id, now := newUUID(), h.o.Now()
		s = &apiStore{name: req.Name, id: id, arn: "arn:aws:cloudfront::" + h.o.AccountID + ":key-value-store/" + id,
			comment: req.Comment, created: now, modified: now, etag: newETag(), dataETag: newETag(), data: map[string]string{}}
		next := cur.clone()
		next.stores[s.name] = s
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.o.Logger.Info("key value store created", "store", s.name, "id", s.id)
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Location", "http://"+r.Host+Version+"key-value-store/"+s.name)
	h.write(w, http.StatusCreated, "KeyValueStore", kvsXML(s))
}

func (h *handler) describeKeyValueStore(w http.ResponseWriter, r *http.Request) {
	ov, base := h.view()
	s, ok := ov.storesOver(base, h.start)[r.PathValue("name")]
	if !ok {
		h.fail(w, noSuchStore(r.PathValue("name")))
		return
	}
	w.Header().Set("ETag", s.etag)
	h.write(w, http.StatusOK, "KeyValueStore", kvsXML(s))
}

func (h *handler) updateKeyValueStore(w http.ResponseWriter, r *http.Request) {
	var req updateKVSRequest
	if e := readBody(r, "UpdateKeyValueStoreRequest", &req); e != nil {
		h.fail(w, e)
		return
	}
	name := r.PathValue("name")
	var s *apiStore
	_, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		old, ok := cur.storesOver(h.b.Base(), h.start)[name]
		if !ok {
			return nil, noSuchStore(name)
		}
		if e := checkIfMatch(r, "key value store", old.etag); e != nil {
			return nil, e
		}
		ns := *old
		ns.comment, ns.etag, ns.modified = req.Comment, newETag(), h.o.Now()
		if old.settings {
			ns.settings, ns.replaces = false, dataDigest(old.data)
		}
		s = &ns
		next := cur.clone()
		next.stores[name] = s
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("ETag", s.etag)
	h.write(w, http.StatusOK, "KeyValueStore", kvsXML(s))
}

func (h *handler) deleteKeyValueStore(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	_, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		base := h.b.Base()
		s, ok := cur.storesOver(base, h.start)[name]
		if !ok {
			return nil, noSuchStore(name)
		}
		if e := checkIfMatch(r, "key value store", s.etag); e != nil {
			return nil, e
		}
		if s.settings || s.replaces != "" {
			return nil, &Error{Status: http.StatusBadRequest, Code: "UnsupportedOperation",
				Message: fmt.Sprintf("the key value store %s is defined by edgefront's settings; remove it there", name)}
		}
		for _, f := range cur.functionsOver(base, h.start) {
			for _, st := range []*functionStage{f.dev, f.live} {
				if st != nil && slices.Contains(st.stores, s.arn) {
					return nil, &Error{Status: http.StatusConflict, Code: "CannotDeleteEntityWhileInUse",
						Message: fmt.Sprintf("the key value store %s is associated with the function %s; remove the association first", name, f.name)}
				}
			}
		}
		next := cur.clone()
		delete(next.stores, name)
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.o.Logger.Info("key value store deleted", "store", name)
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) listKeyValueStores(w http.ResponseWriter, r *http.Request) {
	marker, maxItems, e := pageParams(r)
	if e != nil {
		h.fail(w, e)
		return
	}
	ov, base := h.view()
	stores := ov.storesOver(base, h.start)
	var names []string
	if st := r.URL.Query().Get("Status"); st == "" || st == kvsStatusReady {
		names = slices.Sorted(maps.Keys(stores))
	}
	from, to, next := page(names, marker, maxItems)
	out := &kvsListDoc{MaxItems: maxItems, NextMarker: next, Items: []kvsDoc{}}
	for _, name := range names[from:to] {
		out.Items = append(out.Items, *kvsXML(stores[name]))
	}
	h.write(w, http.StatusOK, "KeyValueStoreList", out)
}
