package edge

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/url"
	"sort"
	"strings"

	"github.com/dop251/goja"

	"github.com/edgefront/edgefront/config"
)

// newHash returns the hash named as Node's crypto names it.
func newHash(name string) (func() hash.Hash, bool) {
	switch strings.ToLower(name) {
	case "md5":
		return md5.New, true
	case "sha1":
		return sha1.New, true
	case "sha256":
		return sha256.New, true
	}
	return nil, false
}

// encodeDigest renders a digest as hex, base64 or base64url; no encoding
// gives the bytes as a binary (Latin-1) string.
func encodeDigest(sum []byte, enc string) (string, bool) {
	switch enc {
	case "hex":
		return hex.EncodeToString(sum), true
	case "base64":
		return base64.StdEncoding.EncodeToString(sum), true
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(sum), true
	case "", "binary", "latin1":
		r := make([]rune, len(sum))
		for i, b := range sum {
			r[i] = rune(b)
		}
		return string(r), true
	}
	return "", false
}

// cryptoModule is require('crypto'): createHash and createHmac with
// update(data) and digest(encoding).
func (v *vm) cryptoModule() goja.Value {
	r := v.rt
	hasher := func(h hash.Hash) *goja.Object {
		o := r.NewObject()
		done := false
		_ = o.Set("update", func(data string) *goja.Object {
			if done {
				panic(r.NewTypeError("digest already called"))
			}
			h.Write([]byte(data))
			return o
		})
		_ = o.Set("digest", func(call goja.FunctionCall) goja.Value {
			if done {
				panic(r.NewTypeError("digest already called"))
			}
			done = true
			enc := ""
			if a := call.Argument(0); !goja.IsUndefined(a) {
				enc = a.String()
			}
			if enc == "" && v.fn.Runtime == config.FunctionRuntime2 { // 2.0: a Buffer
				from, _ := goja.AssertFunction(r.Get("Buffer").ToObject(r).Get("from"))
				b, err := from(r.Get("Buffer"), r.ToValue(r.NewArrayBuffer(h.Sum(nil))))
				if err != nil {
					panic(err)
				}
				return b
			}
			s, ok := encodeDigest(h.Sum(nil), enc)
			if !ok {
				panic(r.NewTypeError("digest encoding %q is not hex, base64 or base64url", enc))
			}
			return r.ToValue(s)
		})
		return o
	}
	m := r.NewObject()
	_ = m.Set("createHash", func(alg string) *goja.Object {
		nh, ok := newHash(alg)
		if !ok {
			panic(r.NewTypeError("hash %q is not md5, sha1 or sha256", alg))
		}
		return hasher(nh())
	})
	_ = m.Set("createHmac", func(alg, key string) *goja.Object {
		nh, ok := newHash(alg)
		if !ok {
			panic(r.NewTypeError("hmac %q is not md5, sha1 or sha256", alg))
		}
		return hasher(hmac.New(nh, []byte(key)))
	})
	return m
}

// querystringModule is require('querystring'): parse/decode,
// stringify/encode, escape and unescape, as Node's module does them.
func (v *vm) querystringModule() goja.Value {
	r := v.rt
	m := r.NewObject()
	parse := func(call goja.FunctionCall) goja.Value {
		s := call.Argument(0).String()
		sep, eq := argOr(call, 1, "&"), argOr(call, 2, "=")
		return r.ToValue(parseQuery(r, s, sep, eq))
	}
	stringify := func(call goja.FunctionCall) goja.Value {
		sep, eq := argOr(call, 1, "&"), argOr(call, 2, "=")
		o, ok := call.Argument(0).(*goja.Object)
		if !ok {
			return r.ToValue("")
		}
		var parts []string
		for _, k := range o.Keys() {
			val := o.Get(k)
			ek := url.QueryEscape(k)
			if arr, ok := val.Export().([]any); ok {
				for _, e := range arr {
					parts = append(parts, ek+eq+url.QueryEscape(stringOf(e)))
				}
				continue
			}
			parts = append(parts, ek+eq+url.QueryEscape(stringOf(val.Export())))
		}
		return r.ToValue(strings.Join(parts, sep))
	}
	_ = m.Set("parse", parse)
	_ = m.Set("decode", parse)
	_ = m.Set("stringify", stringify)
	_ = m.Set("encode", stringify)
	_ = m.Set("escape", func(s string) string { return url.QueryEscape(s) })
	_ = m.Set("unescape", func(s string) string { return unescape(s) })
	return m
}

func argOr(call goja.FunctionCall, i int, def string) string {
	a := call.Argument(i)
	if goja.IsUndefined(a) || goja.IsNull(a) || a.String() == "" {
		return def
	}
	return a.String()
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// parseQuery parses a query string into an object whose repeated names
// hold arrays.
func parseQuery(r *goja.Runtime, s, sep, eq string) *goja.Object {
	o := r.NewObject()
	if s == "" {
		return o
	}
	vals := map[string][]string{}
	var order []string
	for _, part := range strings.Split(s, sep) {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, eq)
		k, val = unescape(k), unescape(val)
		if _, seen := vals[k]; !seen {
			order = append(order, k)
		}
		vals[k] = append(vals[k], val)
	}
	for _, k := range order {
		if vs := vals[k]; len(vs) == 1 {
			_ = o.Set(k, vs[0])
		} else {
			_ = o.Set(k, vs)
		}
	}
	return o
}

func stringOf(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// cloudfrontModule is cloudfront-js-2.0's `import cf from 'cloudfront'`:
// kvs() reads the function's key value store (get, exists, meta, each a
// promise); the origin modification helpers are origin.go's.
func (v *vm) cloudfrontModule() goja.Value {
	r := v.rt
	m := r.NewObject()
	_ = m.Set("updateRequestOrigin", v.updateRequestOrigin)
	_ = m.Set("selectRequestOriginById", v.selectRequestOriginById)
	_ = m.Set("createRequestOriginGroup", v.createRequestOriginGroup)
	_ = m.Set("kvs", func(call goja.FunctionCall) goja.Value {
		if len(v.fn.KeyValueStores) == 0 {
			panic(r.NewTypeError("function %s has no key value store associated", v.fn.Name))
		}
		store := v.fn.KeyValueStores[0]
		if id := call.Argument(0); !goja.IsUndefined(id) && id.String() != store.ID {
			panic(r.NewTypeError("key value store %q is not associated with function %s", id.String(), v.fn.Name))
		}
		settle := func(val any, err error) goja.Value {
			p, resolve, reject := r.NewPromise()
			if err != nil {
				_ = reject(r.NewGoError(err))
			} else {
				_ = resolve(val)
			}
			return r.ToValue(p)
		}
		k := r.NewObject()
		_ = k.Set("get", func(call goja.FunctionCall) goja.Value {
			key := call.Argument(0).String()
			val, ok := store.Data[key]
			if !ok {
				return settle(nil, errKeyNotFound(key))
			}
			format := "string"
			if o, ok := call.Argument(1).(*goja.Object); ok {
				if f := o.Get("format"); f != nil && !goja.IsUndefined(f) {
					format = f.String()
				}
			}
			switch format {
			case "string":
				return settle(val, nil)
			case "json":
				var out any
				if err := json.Unmarshal([]byte(val), &out); err != nil {
					return settle(nil, err)
				}
				return settle(out, nil)
			case "bytes":
				u8, err := r.New(r.Get("Uint8Array"), r.ToValue(r.NewArrayBuffer([]byte(val))))
				if err != nil {
					return settle(nil, err)
				}
				return settle(u8, nil)
			}
			return settle(nil, errFormat(format))
		})
		_ = k.Set("exists", func(key string) goja.Value {
			_, ok := store.Data[key]
			return settle(ok, nil)
		})
		_ = k.Set("meta", func() goja.Value {
			meta := r.NewObject()
			_ = meta.Set("keyCount", len(store.Data))
			if !store.Modified.IsZero() {
				when := store.Modified.Format("2006-01-02T15:04:05.000Z")
				_ = meta.Set("creationDateTime", when)
				_ = meta.Set("lastUpdatedDateTime", when)
			}
			return settle(meta, nil)
		})
		return k
	})
	return m
}

type kvsError string

func (e kvsError) Error() string { return string(e) }

func errKeyNotFound(key string) error { return kvsError("Key not found: " + key) }
func errFormat(f string) error {
	return kvsError("format " + f + " is not string, json or bytes")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
