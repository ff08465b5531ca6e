package control

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file is the overlay: what the API made — CloudFront Functions (both
// stages), KeyValueStores with their data, and DistributionConfigs — kept
// apart from the configuration the edge loads (the settings file, a
// template) and applied over every configuration it loads, so a reload
// keeps it. On a single node it lives in memory: a restart forgets it; in
// a cluster (Options.Config) every object is an entry of the shared
// configuration (shared.go), which every node applies.
//
// The settings win where they change what the overlay replaced: an API
// update of a settings function, a write to a settings key value store and
// an UpdateDistribution each remember the loaded version they replaced,
// and a reload that brings another version drops them. A function or
// store the API created gives way to a settings one of the same name.

// overlay is one version of what the API made. It is never modified once
// built: a change builds the next version, applies it, and keeps it only
// when the edge took the result.
type overlay struct {
	functions map[string]*apiFunction // by name
	stores    map[string]*apiStore    // by name
	dists     map[string]*apiDist     // by distribution ID
	// revs is the last revision of every entry of the shared
	// configuration this node knows (shared.go), objects deleted or set
	// aside by rebase included: the next write of the key names it. Nil
	// for a single node.
	revs map[string]uint64
}

// Function stages.
const (
	stageDevelopment = "DEVELOPMENT"
	stageLive        = "LIVE"
)

// apiFunction is a CloudFront Function as the API shows it.
type apiFunction struct {
	name    string
	created time.Time
	dev     *functionStage
	live    *functionStage // nil until published
	// settings is true for a function of the loaded configuration that
	// the overlay does not replace (shown, never stored in the overlay).
	settings bool
	// replaces is the digest of the settings' code an API update replaced
	// ("" for a function the API created).
	replaces string
	// rev is the revision of its entry in the shared configuration (0:
	// none, a single node's).
	rev uint64
}

// stage returns the function's stage by name (nil when it has none).
func (f *apiFunction) stage(name string) *functionStage {
	if name == stageLive {
		return f.live
	}
	return f.dev
}

// functionStage is one stage of a function: its code and configuration.
type functionStage struct {
	runtime, comment, code string
	stores                 []string // associated key value store ARNs
	etag                   string
	modified               time.Time
}

// apiStore is a KeyValueStore as the API shows it.
type apiStore struct {
	name, id, arn, comment string
	created, modified      time.Time
	etag                   string            // the resource's version (CloudFront API)
	dataETag               string            // the data's version (cloudfront-keyvaluestore API)
	data                   map[string]string // never modified: a write copies it
	settings               bool              // as apiFunction.settings
	replaces               string            // digest of the settings' data a write replaced
	rev                    uint64            // as apiFunction.rev
}

// size is the store's size as CloudFront counts it: keys and values.
func (s *apiStore) size() int64 {
	var n int64
	for k, v := range s.data {
		n += int64(len(k) + len(v))
	}
	return n
}

// apiDist is a DistributionConfig set by UpdateDistribution.
type apiDist struct {
	dc       *config.DistributionConfig
	replaces string // the loaded distribution's ETag it replaced
	rev      uint64 // as apiFunction.rev; its ETag is derived from it
}

// emptyOverlay is the overlay before any change.
func emptyOverlay() *overlay {
	return &overlay{functions: map[string]*apiFunction{}, stores: map[string]*apiStore{}, dists: map[string]*apiDist{}}
}

// clone returns a copy of o whose maps may be changed (the values are
// shared: replace them, never modify them).
func (o *overlay) clone() *overlay {
	return &overlay{functions: maps.Clone(o.functions), stores: maps.Clone(o.stores), dists: maps.Clone(o.dists), revs: maps.Clone(o.revs)}
}

// newETag returns a fresh version identifier of CloudFront's shape.
func newETag() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "E" + base32.StdEncoding.EncodeToString(b[:])[:13]
}

// digestETag returns a version identifier derived from parts, for what
// the settings define (stable across calls and reloads).
func digestETag(parts ...string) string {
	return "E" + digest(parts...)[:13]
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base32.StdEncoding.EncodeToString(h.Sum(nil))
}

// dataDigest identifies a store's data.
func dataDigest(data map[string]string) string {
	parts := make([]string, 0, 2*len(data))
	for _, k := range slices.Sorted(maps.Keys(data)) {
		parts = append(parts, k, data[k])
	}
	return digest(parts...)
}

// settingsFunction shows a function of the loaded configuration: both
// stages are its code.
func settingsFunction(fn *config.Function, at time.Time) *apiFunction {
	st := &functionStage{runtime: fn.Runtime, code: fn.Code, modified: at}
	for _, kv := range fn.KeyValueStores {
		st.stores = append(st.stores, kv.ARN)
	}
	st.etag = digestETag(stageDevelopment, fn.Runtime, fn.Code)
	live := *st
	live.etag = digestETag(stageLive, fn.Runtime, fn.Code)
	return &apiFunction{name: fn.Name, created: at, dev: st, live: &live, settings: true}
}

// settingsStore shows a key value store of the loaded configuration.
func settingsStore(kv *config.KeyValueStore, at time.Time) *apiStore {
	if !kv.Modified.IsZero() {
		at = kv.Modified
	}
	d := dataDigest(kv.Data)
	return &apiStore{name: kv.Name, id: kv.ID, arn: kv.ARN, created: at, modified: at,
		etag: digestETag("store", kv.Name), dataETag: digestETag("data", d), data: kv.Data, settings: true}
}

// functions returns every function the API shows over base: the
// settings' and the overlay's (which win by name), by name. start is when
// settings functions count as created.
func (o *overlay) functionsOver(base *config.Config, start time.Time) map[string]*apiFunction {
	out := map[string]*apiFunction{}
	if base != nil {
		for _, fn := range base.Functions {
			out[fn.Name] = settingsFunction(fn, start)
		}
	}
	maps.Copy(out, o.functions)
	return out
}

// storesOver is functionsOver for key value stores.
func (o *overlay) storesOver(base *config.Config, start time.Time) map[string]*apiStore {
	out := map[string]*apiStore{}
	if base != nil {
		for _, kv := range base.KeyValueStores {
			out[kv.Name] = settingsStore(kv, start)
		}
	}
	maps.Copy(out, o.stores)
	return out
}

// storeByARN finds a store by ARN, or by the ID an ARN of another account
// ends with.
func storeByARN(stores map[string]*apiStore, arn string) *apiStore {
	_, id, _ := strings.Cut(arn, ":key-value-store/")
	for _, s := range stores {
		if s.arn == arn || id != "" && s.id == id {
			return s
		}
	}
	return nil
}

// rebase drops what the loaded configuration base now decides: overrides
// of settings functions, stores and distributions whose loaded version
// changed, and API-made functions and stores whose name the settings now
// use.
func (o *overlay) rebase(base *config.Config) *overlay {
	next := o.clone()
	settingsFns := map[string]*config.Function{}
	for _, fn := range base.Functions {
		settingsFns[fn.Name] = fn
	}
	for name, f := range o.functions {
		sf, ok := settingsFns[name]
		if ok != (f.replaces != "") || ok && digest(sf.Runtime, sf.Code) != f.replaces {
			delete(next.functions, name)
		}
	}
	for name, s := range o.stores {
		kv, ok := base.KeyValueStores[name]
		if ok != (s.replaces != "") || ok && dataDigest(kv.Data) != s.replaces {
			delete(next.stores, name)
		}
	}
	loaded := map[string]string{}
	for _, d := range base.Distributions {
		loaded[d.ID] = d.ETag
	}
	for id, d := range o.dists {
		if loaded[id] != d.replaces {
			delete(next.dists, id)
		}
	}
	return next
}

// apply returns base with o applied: the stores and the LIVE stage of the
// functions (config.Config.WithFunctions), then the DistributionConfigs
// (config.Config.WithDistribution, in ID order).
func (o *overlay) apply(base *config.Config) (*config.Config, error) {
	stores := maps.Clone(base.KeyValueStores)
	if stores == nil {
		stores = map[string]*config.KeyValueStore{}
	}
	for name, s := range o.stores {
		stores[name] = &config.KeyValueStore{Name: s.name, ID: s.id, ARN: s.arn, Data: s.data, Modified: s.modified}
	}
	byARN := func(arn string) (*config.KeyValueStore, bool) {
		_, id, _ := strings.Cut(arn, ":key-value-store/")
		for _, kv := range stores {
			if kv.ARN == arn || id != "" && kv.ID == id {
				return kv, true
			}
		}
		return nil, false
	}
	fns := map[string]*config.Function{}
	for arn, fn := range base.Functions {
		if _, replaced := o.functions[fn.Name]; replaced {
			continue
		}
		nf := *fn // the same code, bound to this version of its stores
		nf.KeyValueStores = nil
		for _, kv := range fn.KeyValueStores {
			nf.KeyValueStores = append(nf.KeyValueStores, stores[kv.Name])
		}
		fns[arn] = &nf
	}
	for _, f := range o.functions {
		if f.live == nil {
			continue
		}
		var kvs []*config.KeyValueStore
		for _, arn := range f.live.stores {
			kv, ok := byARN(arn)
			if !ok {
				return nil, invalidArgument("function " + f.name + ": key value store " + arn + " does not exist")
			}
			kvs = append(kvs, kv)
		}
		fn, err := config.NewFunction(f.name, f.live.runtime, f.live.code, kvs...)
		if err != nil {
			return nil, codeErr(err)
		}
		fns[fn.ARN] = fn
	}
	cfg := base.WithFunctions(fns, stores)
	for _, id := range slices.Sorted(maps.Keys(o.dists)) {
		next, err := cfg.WithDistribution(id, o.dists[id].dc)
		if err != nil {
			return nil, err
		}
		cfg = next
	}
	return o.withRevisionETags(cfg), nil
}
