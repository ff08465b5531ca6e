package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file is the overlay shared by the nodes of a cluster: with a
// SharedConfig (Options.Config), every object the API makes — a
// DistributionConfig, a function, a key value store — is one entry of a
// store every node reads (package cluster: a JetStream key-value bucket),
// written with compare-and-set on the entry's revision, and every node
// applies every entry (API.ApplyShared), one entry at a time: a
// distribution changes atomically everywhere.
//
// An object remembers the revision of its entry; a write names it, so two
// nodes that change the same object from the same version cannot both
// succeed — the second gets PreconditionFailed, as at CloudFront. The ETag
// of a distribution the API changed is derived from its entry's revision:
// the same on every node, and never the same for two versions.

// SharedConfig keeps the API's objects where every node of a cluster reads
// them. A single node has none: the overlay lives in memory.
type SharedConfig interface {
	// Write stores e (e.Value nil: deletes the entry) if the entry's
	// revision is still e.Rev (0: it does not exist, or was deleted), and
	// returns the entry's new revision (0 for a delete). It returns an
	// error wrapping ErrConflict when another write came first.
	Write(ctx context.Context, e SharedEntry) (uint64, error)
}

// SharedEntry is one object of the shared overlay.
type SharedEntry struct {
	Key   string // "dist.ID", "fn.NAME" or "kvs.NAME"
	Value []byte // the object (JSON); nil: deleted
	Rev   uint64 // the entry's revision
}

// ErrConflict is what SharedConfig.Write wraps when the entry changed
// since the revision the write names.
var ErrConflict = errors.New("the object was changed by another node first")

// Key prefixes of the shared overlay's entries.
const (
	keyDist     = "dist."
	keyFunction = "fn."
	keyStore    = "kvs."
)

// Wire forms of the overlay's objects (JSON).
type (
	wireDist struct {
		Config   *config.DistributionConfig `json:"config"`
		Replaces string                     `json:"replaces,omitempty"`
	}
	wireStage struct {
		Runtime  string    `json:"runtime"`
		Comment  string    `json:"comment,omitempty"`
		Code     string    `json:"code"`
		Stores   []string  `json:"stores,omitempty"`
		ETag     string    `json:"etag"`
		Modified time.Time `json:"modified"`
	}
	wireFunction struct {
		Name     string     `json:"name"`
		Created  time.Time  `json:"created"`
		Dev      *wireStage `json:"dev"`
		Live     *wireStage `json:"live,omitempty"`
		Replaces string     `json:"replaces,omitempty"`
	}
	wireStore struct {
		Name     string            `json:"name"`
		ID       string            `json:"id"`
		ARN      string            `json:"arn"`
		Comment  string            `json:"comment,omitempty"`
		Created  time.Time         `json:"created"`
		Modified time.Time         `json:"modified"`
		ETag     string            `json:"etag"`
		DataETag string            `json:"dataETag"`
		Data     map[string]string `json:"data"`
		Replaces string            `json:"replaces,omitempty"`
	}
)

func stageWire(st *functionStage) *wireStage {
	if st == nil {
		return nil
	}
	return &wireStage{Runtime: st.runtime, Comment: st.comment, Code: st.code, Stores: st.stores, ETag: st.etag, Modified: st.modified}
}

func (w *wireStage) stage() *functionStage {
	if w == nil {
		return nil
	}
	return &functionStage{runtime: w.Runtime, comment: w.Comment, code: w.Code, stores: w.Stores, etag: w.ETag, modified: w.Modified}
}

// encodeObject returns the entry of the object at key in o (Value nil
// when o has none).
func (o *overlay) encodeObject(key string) (SharedEntry, error) {
	e := SharedEntry{Key: key}
	var v any
	switch kind, name := splitKey(key); kind {
	case keyDist:
		if d, ok := o.dists[name]; ok {
			v, e.Rev = wireDist{Config: d.dc, Replaces: d.replaces}, d.rev
		}
	case keyFunction:
		if f, ok := o.functions[name]; ok {
			v, e.Rev = wireFunction{Name: f.name, Created: f.created, Dev: stageWire(f.dev), Live: stageWire(f.live), Replaces: f.replaces}, f.rev
		}
	case keyStore:
		if s, ok := o.stores[name]; ok {
			v, e.Rev = wireStore{Name: s.name, ID: s.id, ARN: s.arn, Comment: s.comment, Created: s.created, Modified: s.modified,
				ETag: s.etag, DataETag: s.dataETag, Data: s.data, Replaces: s.replaces}, s.rev
		}
	default:
		return e, fmt.Errorf("control: %q is not a key of the shared configuration", key)
	}
	if v == nil {
		return e, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return e, fmt.Errorf("control: encoding %s: %w", key, err)
	}
	e.Value = b
	return e, nil
}

// withEntry returns a copy of o with the entry e applied (its object
// replaced, or removed when e.Value is nil).
func (o *overlay) withEntry(e SharedEntry) (*overlay, error) {
	next := o.clone()
	kind, name := splitKey(e.Key)
	switch kind {
	case keyDist:
		if e.Value == nil {
			delete(next.dists, name)
			break
		}
		var w wireDist
		if err := json.Unmarshal(e.Value, &w); err != nil || w.Config == nil {
			return nil, fmt.Errorf("control: decoding %s: %w", e.Key, errors.Join(err, errors.New("no config")))
		}
		next.dists[name] = &apiDist{dc: w.Config, replaces: w.Replaces, rev: e.Rev}
	case keyFunction:
		if e.Value == nil {
			delete(next.functions, name)
			break
		}
		var w wireFunction
		if err := json.Unmarshal(e.Value, &w); err != nil || w.Dev == nil {
			return nil, fmt.Errorf("control: decoding %s: %w", e.Key, errors.Join(err, errors.New("no DEVELOPMENT stage")))
		}
		next.functions[name] = &apiFunction{name: w.Name, created: w.Created, dev: w.Dev.stage(), live: w.Live.stage(), replaces: w.Replaces, rev: e.Rev}
	case keyStore:
		if e.Value == nil {
			delete(next.stores, name)
			break
		}
		var w wireStore
		if err := json.Unmarshal(e.Value, &w); err != nil {
			return nil, fmt.Errorf("control: decoding %s: %w", e.Key, err)
		}
		if w.Data == nil {
			w.Data = map[string]string{}
		}
		next.stores[name] = &apiStore{name: w.Name, id: w.ID, arn: w.ARN, comment: w.Comment, created: w.Created, modified: w.Modified,
			etag: w.ETag, dataETag: w.DataETag, data: w.Data, replaces: w.Replaces, rev: e.Rev}
	default:
		return nil, fmt.Errorf("control: %q is not a key of the shared configuration", e.Key)
	}
	next.setRev(e.Key, e.Rev)
	return next, nil
}

// rev returns the last revision of the entry key this node knows (0:
// none).
func (o *overlay) rev(key string) uint64 { return o.revs[key] }

// setRev records that the entry key is at revision rev, and so is its
// object in o (built by this node, or just read from the store).
func (o *overlay) setRev(key string, rev uint64) {
	if o.revs == nil {
		o.revs = map[string]uint64{}
	}
	o.revs[key] = rev
	kind, name := splitKey(key)
	switch kind {
	case keyDist:
		if d, ok := o.dists[name]; ok {
			nd := *d
			nd.rev = rev
			o.dists[name] = &nd
		}
	case keyFunction:
		if f, ok := o.functions[name]; ok {
			nf := *f
			nf.rev = rev
			o.functions[name] = &nf
		}
	case keyStore:
		if s, ok := o.stores[name]; ok {
			ns := *s
			ns.rev = rev
			o.stores[name] = &ns
		}
	}
}

// changedKeys lists the keys whose objects differ between cur and next.
func changedKeys(cur, next *overlay) []string {
	var keys []string
	diff := func(prefix string, a, b map[string]bool) {
		for name := range b {
			keys = append(keys, prefix+name)
		}
		for name := range a {
			if !b[name] {
				keys = append(keys, prefix+name)
			}
		}
	}
	diff(keyDist, changed(cur.dists, next.dists), changed(next.dists, cur.dists))
	diff(keyFunction, changed(cur.functions, next.functions), changed(next.functions, cur.functions))
	diff(keyStore, changed(cur.stores, next.stores), changed(next.stores, cur.stores))
	slices.Sort(keys)
	return slices.Compact(keys)
}

// changed returns the names whose value in a is not the same pointer in b.
func changed[V comparable](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for name, v := range a {
		if w, ok := b[name]; !ok || w != v {
			out[name] = true
		}
	}
	return out
}

func splitKey(key string) (kind, name string) {
	for _, p := range []string{keyDist, keyFunction, keyStore} {
		if rest, ok := strings.CutPrefix(key, p); ok {
			return p, rest
		}
	}
	return "", key
}

// share writes the objects build changed (cur → next) to the shared
// configuration, each with the revision this node has of it, and returns
// next with the new revisions. The first conflict stops it: the API answers
// PreconditionFailed, and the objects already written stay (every node,
// this one included, applies them as they come back from the store).
func (h *handler) share(ctx context.Context, cur, next *overlay) (*overlay, error) {
	keys := changedKeys(cur, next)
	if len(keys) == 0 {
		return next, nil
	}
	out := next.clone()
	for _, key := range keys {
		e, err := next.encodeObject(key)
		if err != nil {
			return nil, err
		}
		e.Rev = cur.rev(key)
		rev, err := h.o.Config.Write(ctx, e)
		if errors.Is(err, ErrConflict) {
			if kind, name := splitKey(key); e.Rev == 0 && e.Value != nil && kind != keyDist {
				// Created on another node meanwhile.
				if kind == keyFunction {
					return nil, &Error{Status: http.StatusConflict, Code: "FunctionAlreadyExists", Message: fmt.Sprintf("a function named %s already exists", name)}
				}
				return nil, &Error{Status: http.StatusConflict, Code: "EntityAlreadyExists", Message: fmt.Sprintf("a key value store named %s already exists", name)}
			}
			return nil, &Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
				Message: fmt.Sprintf("%s was changed on another node first: read it again for its current version (%v)", key, err)}
		}
		if err != nil {
			return nil, &Error{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable",
				Message: fmt.Sprintf("the change could not be shared with the cluster: %v", err)}
		}
		out.setRev(key, rev)
	}
	return out, nil
}

// errUnchanged is what a build returns when there is nothing to apply.
var errUnchanged = errors.New("unchanged")

// ApplyShared applies entries of the shared configuration (package
// cluster calls it with every entry of the store at start, then with each
// entry as it changes): each object the entries name is replaced (or
// removed) unless this node already has that revision of it. All of
// entries are applied at once, in one new configuration; on error (the
// edge refused the result) none is.
func (a *API) ApplyShared(ctx context.Context, entries []SharedEntry) error {
	h := a.h
	_, err := h.changeShared(ctx, nil, false, func(cur *overlay) (*overlay, error) {
		next := cur
		for _, e := range entries {
			if e.Rev != 0 && next.rev(e.Key) >= e.Rev {
				continue // this node wrote it, or has it already
			}
			n, err := next.withEntry(e)
			if err != nil {
				return nil, err
			}
			next = n
		}
		if next == cur {
			return nil, errUnchanged
		}
		return next, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		keys := make([]string, len(entries))
		for i, e := range entries {
			keys[i] = e.Key
		}
		return fmt.Errorf("control: applying the shared configuration (%s): %w", strings.Join(keys, ", "), err)
	}
	return nil
}

// revisionETag is the ETag of a distribution whose configuration is the
// shared entry at rev: the same on every node.
func revisionETag(rev uint64) string { return digestETag("revision", strconv.FormatUint(rev, 10)) }

// withRevisionETags returns cfg with the ETag of every distribution o
// changed through the shared configuration derived from its revision.
func (o *overlay) withRevisionETags(cfg *config.Config) *config.Config {
	var ds []*config.Distribution
	for i, d := range cfg.Distributions {
		od, ok := o.dists[d.ID]
		if !ok || od.rev == 0 {
			continue
		}
		if ds == nil {
			ds = slices.Clone(cfg.Distributions)
		}
		nd := *d
		nd.ETag = revisionETag(od.rev)
		ds[i] = &nd
	}
	if ds == nil {
		return cfg
	}
	next := *cfg
	next.Distributions = ds
	return &next
}

// SettingsDigest identifies what of cfg, a loaded configuration, the
// shared configuration lies over: its distributions' versions, its
// functions' code and its key value stores' data. Nodes whose settings have
// the same digest apply the shared configuration alike.
func SettingsDigest(cfg *config.Config) string {
	var parts []string
	for _, d := range cfg.Distributions {
		parts = append(parts, keyDist+d.ID+"="+d.ETag)
	}
	for _, fn := range cfg.Functions {
		parts = append(parts, keyFunction+fn.Name+"="+digest(fn.Runtime, fn.Code))
	}
	for name, kv := range cfg.KeyValueStores {
		parts = append(parts, keyStore+name+"="+dataDigest(kv.Data))
	}
	slices.Sort(parts)
	return digest(parts...)
}
