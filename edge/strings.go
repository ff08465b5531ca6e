package edge

import (
	"unicode/utf8"

	"github.com/dop251/goja"
)

// This file is cloudfront-js-1.0's non-standard String methods ("JavaScript
// runtime features for CloudFront Functions"): byte strings, which 1.0
// has as strings whose characters are all below 256, and their
// conversions. 2.0 has Buffer instead (buffer.go).

// latin1 returns b as a byte string: one character per byte.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// bytesOf returns the bytes of byte string s, false if a character is 256
// or above.
func bytesOf(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// installStringHelpers defines String.bytesFrom and the prototype's
// fromBytes, fromUTF8, toBytes and toUTF8, each taking an optional
// [start, end) range of the string.
func installStringHelpers(r *goja.Runtime) error {
	str := r.Get("String").ToObject(r)
	proto := str.Get("prototype").ToObject(r)
	// part is this string's [start, end) range, as slice() takes it.
	part := func(call goja.FunctionCall) string {
		s := []rune(call.This.String())
		start, end := 0, len(s)
		clamp := func(v goja.Value, def int) int {
			if goja.IsUndefined(v) {
				return def
			}
			n := int(v.ToInteger())
			if n < 0 {
				n += len(s)
			}
			return max(0, min(n, len(s)))
		}
		start, end = clamp(call.Argument(0), start), clamp(call.Argument(1), end)
		if start >= end {
			return ""
		}
		return string(s[start:end])
	}
	bytesFrom := func(call goja.FunctionCall) goja.Value {
		src := call.Argument(0)
		if o, ok := src.(*goja.Object); ok && o.ClassName() == "Array" {
			var b []byte
			for _, k := range o.Keys() {
				b = append(b, byte(o.Get(k).ToInteger()))
			}
			return r.ToValue(latin1(b))
		}
		enc := "utf8"
		if e := call.Argument(1); !goja.IsUndefined(e) {
			enc = e.String()
		}
		b, ok := decodeString(src.String(), enc)
		if !ok {
			panic(r.NewTypeError("String.bytesFrom: unknown or malformed encoding %q", enc))
		}
		return r.ToValue(latin1(b))
	}
	helpers := map[string]func(goja.FunctionCall) goja.Value{
		"fromBytes": func(call goja.FunctionCall) goja.Value {
			b, ok := bytesOf(part(call))
			if !ok {
				return goja.Null()
			}
			return r.ToValue(latin1(b))
		},
		"fromUTF8": func(call goja.FunctionCall) goja.Value {
			b, ok := bytesOf(part(call))
			if !ok || !utf8.Valid(b) {
				return goja.Null()
			}
			return r.ToValue(string(b))
		},
		"toBytes": func(call goja.FunctionCall) goja.Value {
			b, ok := bytesOf(part(call))
			if !ok {
				return goja.Null()
			}
			return r.ToValue(latin1(b))
		},
		"toUTF8": func(call goja.FunctionCall) goja.Value {
			return r.ToValue(latin1([]byte(part(call))))
		},
		"bytesFrom": bytesFrom,
	}
	for name, fn := range helpers {
		if err := proto.DefineDataProperty(name, r.ToValue(fn), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	return str.Set("bytesFrom", bytesFrom)
}
