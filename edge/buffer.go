package edge

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// bufferPrelude defines cloudfront-js-2.0's Buffer ("JavaScript runtime
// 2.0 features for CloudFront Functions": the buffer module) as Node has
// it, on a subclass of Uint8Array whose string encodings Go does (decode,
// encode). goja has no Buffer of its own; subclassing Uint8Array works in
// goja, so a Buffer is a Uint8Array (index access, length, iteration,
// keys/values/entries come from it). Node's slice shares memory where a
// typed array's copies: slice is subarray here, as in Node. The sizes of
// what it makes are bounded as the other allocating builtins (memory.go).
const bufferPrelude = `(function (decode, encode, isEncoding, charge) {
	'use strict';
	var enc = function (e) {
		if (e === undefined || e === null) { return 'utf8'; }
		e = String(e);
		if (!isEncoding(e)) { throw new TypeError('Unknown encoding: ' + e); }
		return e;
	};
	var int = function (v, d) { v = Math.trunc(Number(v)); return isNaN(v) ? d : v; };
	var clamp = function (v, d, len) {
		if (v === undefined) { return d; }
		v = int(v, 0);
		if (v < 0) { v += len; }
		return Math.max(0, Math.min(v, len));
	};
	var bytesOf = function (v, e) {
		if (typeof v === 'string') { return new Uint8Array(decode(v, enc(e))); }
		if (typeof v === 'number') { return Uint8Array.of(v & 255); }
		if (v instanceof Uint8Array) { return v; }
		throw new TypeError('The value must be a string, number, Buffer or Uint8Array');
	};
	var checkOffset = function (b, off, n) {
		off = off === undefined ? 0 : Number(off);
		if (!Number.isInteger(off) || off < 0 || off + n > b.length) {
			throw new RangeError('The value of "offset" is out of range. It must be >= 0 and <= ' + (b.length - n) + '. Received ' + off);
		}
		return off;
	};
	class Buffer extends Uint8Array {
		static from(v, a, b) {
			if (typeof v === 'string') { return new Buffer(decode(v, enc(a))); }
			if (v instanceof ArrayBuffer) {
				var off = a === undefined ? 0 : int(a, 0), len = b === undefined ? v.byteLength - off : int(b, 0);
				return new Buffer(v, off, len);
			}
			if (v === null || typeof v !== 'object') {
				throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer, Array, or array-like object');
			}
			if (v.type === 'Buffer' && Array.isArray(v.data)) { v = v.data; }
			var n = v.length >>> 0;
			charge(n);
			var out = new Buffer(n);
			for (var i = 0; i < n; i++) { out[i] = v[i] & 255; }
			return out;
		}
		static alloc(n, fill, e) {
			if (typeof n !== 'number' || n < 0 || n !== n) { throw new TypeError('The "size" argument must be a non-negative number'); }
			var b = new Buffer(n);
			if (fill !== undefined && fill !== 0) { b.fill(fill, 0, b.length, e); }
			return b;
		}
		static allocUnsafe(n) { return Buffer.alloc(n); }
		static allocUnsafeSlow(n) { return Buffer.alloc(n); }
		static isBuffer(b) { return b instanceof Buffer; }
		static isEncoding(e) { return typeof e === 'string' && isEncoding(e); }
		static byteLength(s, e) {
			if (typeof s === 'string') { return decode(s, enc(e)).byteLength; }
			if (s instanceof ArrayBuffer || ArrayBuffer.isView(s)) { return s.byteLength; }
			throw new TypeError('The "string" argument must be a string, Buffer, or ArrayBuffer');
		}
		static compare(a, b) {
			if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) { throw new TypeError('The arguments must be Buffers or Uint8Arrays'); }
			var n = Math.min(a.length, b.length);
			for (var i = 0; i < n; i++) {
				if (a[i] !== b[i]) { return a[i] < b[i] ? -1 : 1; }
			}
			return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
		}
		static concat(list, total) {
			if (!Array.isArray(list)) { throw new TypeError('The "list" argument must be an Array of Buffers or Uint8Arrays'); }
			var n = 0, i;
			for (i = 0; i < list.length; i++) {
				if (!(list[i] instanceof Uint8Array)) { throw new TypeError('list[' + i + '] is not a Buffer or Uint8Array'); }
				n += list[i].length;
			}
			if (total !== undefined) { n = int(total, 0); }
			var out = Buffer.alloc(n), at = 0;
			for (i = 0; i < list.length && at < n; i++) {
				var part = list[i].length > n - at ? list[i].subarray(0, n - at) : list[i];
				out.set(part, at);
				at += part.length;
			}
			return out;
		}
		get parent() { return this.buffer; }
		get offset() { return this.byteOffset; }
		toString(e, start, end) {
			start = clamp(start, 0, this.length);
			end = clamp(end, this.length, this.length);
			if (end <= start) { return ''; }
			return encode(this.subarray(start, end), enc(e));
		}
		toJSON() { return {type: 'Buffer', data: Array.prototype.slice.call(this)}; }
		toLocaleString(e, s, t) { return this.toString(e, s, t); }
		equals(o) {
			if (!(o instanceof Uint8Array)) { throw new TypeError('The "otherBuffer" argument must be a Buffer or Uint8Array'); }
			return Buffer.compare(this, o) === 0;
		}
		compare(t, ts, te, ss, se) {
			if (!(t instanceof Uint8Array)) { throw new TypeError('The "target" argument must be a Buffer or Uint8Array'); }
			return Buffer.compare(this.subarray(clamp(ss, 0, this.length), clamp(se, this.length, this.length)),
				t.subarray(clamp(ts, 0, t.length), clamp(te, t.length, t.length)));
		}
		slice(start, end) { return this.subarray(start, end); }
		copy(t, ts, ss, se) {
			ts = clamp(ts, 0, t.length);
			ss = clamp(ss, 0, this.length);
			se = clamp(se, this.length, this.length);
			var n = Math.max(0, Math.min(se - ss, t.length - ts));
			t.set(this.subarray(ss, ss + n), ts);
			return n;
		}
		write(s, a, b, c) {
			var off = 0, len, e;
			if (typeof a === 'string') { e = a; } else {
				off = a === undefined ? 0 : int(a, 0);
				if (typeof b === 'string') { e = b; } else { len = b; e = c; }
			}
			if (off < 0 || off > this.length) { throw new RangeError('The value of "offset" is out of range'); }
			var bytes = new Uint8Array(decode(String(s), enc(e)));
			var n = Math.min(bytes.length, this.length - off, len === undefined ? Infinity : int(len, 0));
			this.set(bytes.subarray(0, n), off);
			return n;
		}
		fill(v, a, b, e) {
			var start = 0, end = this.length;
			if (typeof a === 'string') { e = a; } else {
				start = clamp(a, 0, this.length);
				if (typeof b === 'string') { e = b; } else { end = clamp(b, this.length, this.length); }
			}
			if (typeof v === 'number' || typeof v === 'boolean') {
				return Uint8Array.prototype.fill.call(this, Number(v) & 255, start, end);
			}
			var bytes = bytesOf(v, e);
			if (bytes.length === 0) { throw new TypeError('The fill value is empty'); }
			if (end <= start) { return this; }
			// The pattern once, then doubled with copyWithin: a few calls,
			// not a JavaScript loop over every byte.
			var n = Math.min(bytes.length, end - start);
			this.set(bytes.subarray(0, n), start);
			for (var done = n; done < end - start; done *= 2) {
				this.copyWithin(start + done, start, start + Math.min(done, end - start - done));
			}
			return this;
		}
		indexOf(v, from, e) {
			if (typeof from === 'string') { e = from; from = 0; }
			from = clamp(from, 0, this.length);
			var bytes = bytesOf(v, e);
			outer: for (var i = from; i + bytes.length <= this.length; i++) {
				for (var j = 0; j < bytes.length; j++) { if (this[i + j] !== bytes[j]) { continue outer; } }
				return i;
			}
			return -1;
		}
		lastIndexOf(v, from, e) {
			if (typeof from === 'string') { e = from; from = undefined; }
			var bytes = bytesOf(v, e);
			var i = from === undefined ? this.length - bytes.length : Math.min(clamp(from, 0, this.length), this.length - bytes.length);
			outer: for (; i >= 0; i--) {
				for (var j = 0; j < bytes.length; j++) { if (this[i + j] !== bytes[j]) { continue outer; } }
				return i;
			}
			return -1;
		}
		includes(v, from, e) { return this.indexOf(v, from, e) !== -1; }
		swap16() { return swap(this, 2); }
		swap32() { return swap(this, 4); }
		swap64() { return swap(this, 8); }
		readUIntBE(off, n) { return readUInt(this, off, n, false); }
		readUIntLE(off, n) { return readUInt(this, off, n, true); }
		readIntBE(off, n) { return signed(readUInt(this, off, n, false), n); }
		readIntLE(off, n) { return signed(readUInt(this, off, n, true), n); }
		writeUIntBE(v, off, n) { return writeUInt(this, v, off, n, false); }
		writeUIntLE(v, off, n) { return writeUInt(this, v, off, n, true); }
		writeIntBE(v, off, n) { return writeUInt(this, v, off, n, false, true); }
		writeIntLE(v, off, n) { return writeUInt(this, v, off, n, true, true); }
	}
	var swap = function (b, n) {
		if (b.length % n !== 0) { throw new RangeError('Buffer size must be a multiple of ' + (n * 8) + '-bits'); }
		for (var i = 0; i < b.length; i += n) {
			for (var j = 0; j < n / 2; j++) { var t = b[i + j]; b[i + j] = b[i + n - 1 - j]; b[i + n - 1 - j] = t; }
		}
		return b;
	};
	var readUInt = function (b, off, n, le) {
		if (!Number.isInteger(n) || n < 1 || n > 6) { throw new RangeError('The value of "byteLength" is out of range. It must be >= 1 and <= 6'); }
		off = checkOffset(b, off, n);
		var v = 0;
		for (var i = 0; i < n; i++) { v = v * 256 + b[off + (le ? n - 1 - i : i)]; }
		return v;
	};
	var signed = function (v, n) { var lim = Math.pow(2, 8 * n - 1); return v >= lim ? v - 2 * lim : v; };
	var writeUInt = function (b, v, off, n, le, isSigned) {
		if (!Number.isInteger(n) || n < 1 || n > 6) { throw new RangeError('The value of "byteLength" is out of range. It must be >= 1 and <= 6'); }
		off = checkOffset(b, off, n);
		v = Number(v);
		var lim = Math.pow(2, 8 * n);
		var lo = isSigned ? -lim / 2 : 0, hi = isSigned ? lim / 2 - 1 : lim - 1;
		if (!Number.isInteger(v) || v < lo || v > hi) {
			throw new RangeError('The value of "value" is out of range. It must be >= ' + lo + ' and <= ' + hi + '. Received ' + v);
		}
		if (v < 0) { v += lim; }
		for (var i = 0; i < n; i++) {
			b[off + (le ? i : n - 1 - i)] = v % 256;
			v = Math.floor(v / 256);
		}
		return off + n;
	};
	// The fixed-width readers and writers: readUInt8 … writeDoubleBE, with
	// Node's lower-case aliases (readUint16LE …), through a DataView.
	var fixed = {Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float: 4, Double: 8, BigInt64: 8, BigUInt64: 8};
	Object.keys(fixed).forEach(function (name) {
		var n = fixed[name];
		var dv = name === 'Float' ? 'Float32' : name === 'Double' ? 'Float64' : name.replace('UInt', 'Uint');
		if (typeof DataView.prototype['get' + dv] !== 'function') { return; }
		var ends = n === 1 ? [''] : ['LE', 'BE'];
		ends.forEach(function (end) {
			var le = end === 'LE';
			var read = function (off) {
				off = checkOffset(this, off, n);
				return new DataView(this.buffer, this.byteOffset, this.length)['get' + dv](off, le);
			};
			var write = function (v, off) {
				off = checkOffset(this, off, n);
				if (dv.indexOf('Big') === 0) {
					new DataView(this.buffer, this.byteOffset, this.length)['set' + dv](off, v, le);
				} else if (dv.indexOf('Float') === 0) {
					new DataView(this.buffer, this.byteOffset, this.length)['set' + dv](off, Number(v), le);
				} else {
					var bits = n * 8, signedInt = dv.indexOf('Int') === 0;
					var lo = signedInt ? -Math.pow(2, bits - 1) : 0, hi = signedInt ? Math.pow(2, bits - 1) - 1 : Math.pow(2, bits) - 1;
					v = Number(v);
					if (!Number.isInteger(v) || v < lo || v > hi) {
						throw new RangeError('The value of "value" is out of range. It must be >= ' + lo + ' and <= ' + hi + '. Received ' + v);
					}
					new DataView(this.buffer, this.byteOffset, this.length)['set' + dv](off, v, le);
				}
				return off + n;
			};
			[name, name.replace('UInt', 'Uint')].forEach(function (alias) {
				Object.defineProperty(Buffer.prototype, 'read' + alias + end, {value: read, writable: true, configurable: true});
				Object.defineProperty(Buffer.prototype, 'write' + alias + end, {value: write, writable: true, configurable: true});
			});
		});
	});
	['readUIntBE', 'readUIntLE', 'writeUIntBE', 'writeUIntLE'].forEach(function (k) {
		Object.defineProperty(Buffer.prototype, k.replace('UInt', 'Uint'), {value: Buffer.prototype[k], writable: true, configurable: true});
	});
	Buffer.poolSize = 8192;
	globalThis.Buffer = Buffer;
	return Buffer;
})`

// installBuffer defines Buffer in v's runtime, and require('buffer')'s
// module ({Buffer}).
func (v *vm) installBuffer() error {
	r := v.rt
	res, err := r.RunString(bufferPrelude)
	if err != nil {
		return err
	}
	def, _ := goja.AssertFunction(res)
	decode := func(s, enc string) goja.Value {
		b, ok := decodeString(s, enc)
		if !ok {
			panic(r.NewTypeError("malformed %s data", enc))
		}
		v.charge(float64(len(b)))
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
	isEncoding := func(enc string) bool { _, ok := encodeBytes(nil, enc); return ok }
	buf, err := def(goja.Undefined(), r.ToValue(decode), r.ToValue(encode), r.ToValue(isEncoding), r.ToValue(func(n float64) { v.charge(n) }))
	if err != nil {
		return err
	}
	mod := r.NewObject()
	_ = mod.Set("Buffer", buf)
	v.modules["buffer"] = mod
	return nil
}

// decodeString is Buffer.from(s, enc); base64 and base64url accept either
// alphabet, with or without padding, as Node does. hex stops at the first
// pair that is not hex, as Node does.
func decodeString(s, enc string) ([]byte, bool) {
	switch strings.ToLower(enc) {
	case "utf8", "utf-8":
		return []byte(s), true
	case "hex":
		b := make([]byte, 0, len(s)/2)
		for i := 0; i+1 < len(s); i += 2 {
			c, err := hex.DecodeString(s[i : i+2])
			if err != nil {
				break
			}
			b = append(b, c[0])
		}
		return b, true
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
