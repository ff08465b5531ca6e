package edge

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// bufferPrelude defines cloudfront-js-2.0's Buffer (Node's, in part: from,
// alloc, concat, isBuffer, byteLength, toString, equals) as a Uint8Array
// whose encodings Go does. goja has no Buffer of its own.
const bufferPrelude = `(function (decode, encode) {
	class Buffer extends Uint8Array {
		static from(v, enc) {
			if (typeof v === 'string') { return new Buffer(decode(v, enc === undefined ? 'utf8' : String(enc))); }
			if (v instanceof ArrayBuffer) { return new Buffer(v.slice(0)); }
			var b = new Buffer(v.length);
			for (var i = 0; i < v.length; i++) { b[i] = v[i] & 255; }
			return b;
		}
		static alloc(n, fill) { var b = new Buffer(n); if (typeof fill === 'number') { b.fill(fill); } return b; }
		static isBuffer(b) { return b instanceof Buffer; }
		static byteLength(s, enc) { return typeof s === 'string' ? Buffer.from(s, enc).length : s.length; }
		static concat(list) {
			var n = 0, i;
			for (i = 0; i < list.length; i++) { n += list[i].length; }
			var out = new Buffer(n), at = 0;
			for (i = 0; i < list.length; i++) { out.set(list[i], at); at += list[i].length; }
			return out;
		}
		toString(enc) { return encode(this, enc === undefined ? 'utf8' : String(enc)); }
		equals(o) {
			if (this.length !== o.length) { return false; }
			for (var i = 0; i < this.length; i++) { if (this[i] !== o[i]) { return false; } }
			return true;
		}
	}
	globalThis.Buffer = Buffer;
})`

// installBuffer defines Buffer in r.
func installBuffer(r *goja.Runtime) error {
	v, err := r.RunString(bufferPrelude)
	if err != nil {
		return err
	}
	def, _ := goja.AssertFunction(v)
	decode := func(s, enc string) goja.Value {
		b, ok := decodeString(s, enc)
		if !ok {
			panic(r.NewTypeError("unknown or malformed encoding %q", enc))
		}
		return r.ToValue(r.NewArrayBuffer(b))
	}
	encode := func(v goja.Value, enc string) string {
		b, _ := v.Export().([]byte)
		s, ok := encodeBytes(b, enc)
		if !ok {
			panic(r.NewTypeError("unknown encoding %q", enc))
		}
		return s
	}
	_, err = def(goja.Undefined(), r.ToValue(decode), r.ToValue(encode))
	return err
}

// decodeString is Buffer.from(s, enc); base64 and base64url accept either
// alphabet, with or without padding, as Node does.
func decodeString(s, enc string) ([]byte, bool) {
	switch strings.ToLower(enc) {
	case "utf8", "utf-8":
		return []byte(s), true
	case "hex":
		b, err := hex.DecodeString(s)
		return b, err == nil
	case "base64", "base64url":
		s = strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(s), "=")
		b, err := base64.RawStdEncoding.DecodeString(s)
		return b, err == nil
	case "latin1", "binary", "ascii":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b, true
	}
	return nil, false
}

// encodeBytes is buf.toString(enc).
func encodeBytes(b []byte, enc string) (string, bool) {
	switch strings.ToLower(enc) {
	case "utf8", "utf-8":
		return strings.ToValidUTF8(string(b), string(utf8.RuneError)), true
	case "hex":
		return hex.EncodeToString(b), true
	case "base64":
		return base64.StdEncoding.EncodeToString(b), true
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b), true
	case "latin1", "binary":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	case "ascii":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c & 0x7f)
		}
		return string(r), true
	}
	return "", false
}
