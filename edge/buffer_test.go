package edge

import (
	"net/http/httptest"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// TestBufferMethods: cloudfront-js-2.0's Buffer as Node documents it
// ("JavaScript runtime 2.0 features for CloudFront Functions": the buffer
// module), one row per method; each expression's value is compared as
// JSON.
func TestBufferMethods(t *testing.T) {
	tests := []struct{ expr, want string }{
		// Buffer.from and the encodings
		{`Buffer.from('héllo').toString()`, `"héllo"`},
		{`Buffer.from('héllo', 'utf-8').length`, `6`},
		{`Buffer.from('68690a', 'hex').toString('utf8')`, `"hi\n"`},
		{`Buffer.from('6869zz', 'hex').length`, `2`},
		{`Buffer.from('aGk/Pg==', 'base64').toString('hex')`, `"68693f3e"`},
		{`Buffer.from('aGk_Pg', 'base64url').toString('base64url')`, `"aGk_Pg"`},
		{`Buffer.from('aGk_Pg', 'base64').toString('base64')`, `"aGk/Pg=="`},
		{`Buffer.from('\u00e9\u00ff', 'latin1').toString('hex')`, `"e9ff"`},
		{`Buffer.from('\u00e9', 'binary').toString('latin1')`, `"é"`},
		{`Buffer.from([0x41, 0xc3, 0x80]).toString('ascii')`, `"AC\u0000"`},
		{`Buffer.from([1, 256, -1, 3.7]).toJSON().data`, `[1,0,255,3]`},
		{`Buffer.from(Buffer.from('ab')).toString()`, `"ab"`},
		{`(function () { var a = Buffer.from('ab'); var b = Buffer.from(a); b[0] = 0x7a; return a.toString(); })()`, `"ab"`},
		{`Buffer.from(new Uint8Array([104, 105]).buffer).toString()`, `"hi"`},
		{`Buffer.from(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2).toJSON().data`, `[2,3]`},
		{`Buffer.from({type: 'Buffer', data: [104, 105]}).toString()`, `"hi"`},
		{`(function () { try { Buffer.from('x', 'utf16'); } catch (e) { return e instanceof TypeError; } })()`, `true`},
		{`(function () { try { Buffer.from(7); } catch (e) { return e instanceof TypeError; } })()`, `true`},
		// statics
		{`Buffer.alloc(3).toJSON().data`, `[0,0,0]`},
		{`Buffer.alloc(5, 'ab').toString()`, `"ababa"`},
		{`Buffer.alloc(2, 255).toJSON().data`, `[255,255]`},
		{`Buffer.alloc(4, 'aGk=', 'base64').toString()`, `"hihi"`},
		{`Buffer.allocUnsafe(4).length`, `4`},
		{`Buffer.isBuffer(Buffer.alloc(1))`, `true`},
		{`Buffer.isBuffer(new Uint8Array(1))`, `false`},
		{`[Buffer.isEncoding('hex'), Buffer.isEncoding('UTF8'), Buffer.isEncoding('base64url'), Buffer.isEncoding('utf16le'), Buffer.isEncoding(1)]`, `[true,true,true,false,false]`},
		{`[Buffer.byteLength('€'), Buffer.byteLength('aGk=', 'base64'), Buffer.byteLength(new Uint8Array(3))]`, `[3,2,3]`},
		{`[Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.compare(Buffer.from('b'), Buffer.from('a')), Buffer.compare(Buffer.from('a'), Buffer.from('a')), Buffer.compare(Buffer.from('a'), Buffer.from('ab'))]`, `[-1,1,0,-1]`},
		{`Buffer.concat([Buffer.from('ab'), new Uint8Array([99]), Buffer.from('d')]).toString()`, `"abcd"`},
		{`Buffer.concat([Buffer.from('abc'), Buffer.from('def')], 4).toString()`, `"abcd"`},
		{`Buffer.concat([Buffer.from('a')], 3).toJSON().data`, `[97,0,0]`},
		// instance methods
		{`Buffer.from('hello').toString('utf8', 1, 3)`, `"el"`},
		{`Buffer.from('hello').toString(undefined, -2)`, `"lo"`},
		{`Buffer.from('hello')[1]`, `101`},
		{`Buffer.from('hello').length`, `5`},
		{`JSON.stringify(Buffer.from('hi'))`, `"{\"type\":\"Buffer\",\"data\":[104,105]}"`},
		{`[Buffer.from('ab').equals(Buffer.from('ab')), Buffer.from('ab').equals(new Uint8Array([97, 98])), Buffer.from('ab').equals(Buffer.from('a'))]`, `[true,true,false]`},
		{`[Buffer.from('abc').compare(Buffer.from('abd')), Buffer.from('abc').compare(Buffer.from('xbc'), 1, 3, 1, 3)]`, `[-1,0]`},
		{`(function () { var b = Buffer.from('hello'); var s = b.slice(1, 3); s[0] = 0x61; return [b.toString(), Buffer.isBuffer(s)]; })()`, `["hallo",true]`},
		{`(function () { var b = Buffer.from('hello'); b.subarray(-2)[0] = 0x4c; return b.toString(); })()`, `"helLo"`},
		{`(function () { var t = Buffer.alloc(4, '.'); var n = Buffer.from('abc').copy(t, 1, 1); return [n, t.toString()]; })()`, `[2,".bc."]`},
		{`(function () { var b = Buffer.alloc(6, '-'); var n = b.write('hé', 1); return [n, b.toString('latin1', 0, 6)]; })()`, `[3,"-hÃ©--"]`},
		{`(function () { var b = Buffer.alloc(4); b.write('ffee', 'hex'); return b.toString('hex'); })()`, `"ffee0000"`},
		{`(function () { var b = Buffer.alloc(4); return [b.write('abcdef', 1, 2), b.toString('hex')]; })()`, `[2,"00616200"]`},
		{`Buffer.alloc(5).fill('xy', 1, 4).toString('latin1')`, `"\u0000xyx\u0000"`},
		{`Buffer.alloc(3).fill(0x61).toString()`, `"aaa"`},
		{`[Buffer.from('abcabc').indexOf('c'), Buffer.from('abcabc').indexOf('c', 3), Buffer.from('abcabc').indexOf(98), Buffer.from('abcabc').indexOf(Buffer.from('ca')), Buffer.from('abc').indexOf('z')]`, `[2,5,1,2,-1]`},
		{`[Buffer.from('abcabc').lastIndexOf('b'), Buffer.from('abcabc').lastIndexOf('b', 3), Buffer.from('abc').lastIndexOf('z')]`, `[4,1,-1]`},
		{`[Buffer.from('hello').includes('ell'), Buffer.from('hello').includes('6c6c', 0, 'hex'), Buffer.from('hello').includes('x')]`, `[true,true,false]`},
		{`Buffer.from([1, 2, 3, 4]).swap16().toJSON().data`, `[2,1,4,3]`},
		{`Buffer.from([1, 2, 3, 4]).swap32().toJSON().data`, `[4,3,2,1]`},
		{`Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]).swap64().toJSON().data`, `[8,7,6,5,4,3,2,1]`},
		{`Array.from(Buffer.from('ab').entries())`, `[[0,97],[1,98]]`},
		{`Array.from(Buffer.from('ab').keys()).concat(Array.from(Buffer.from('ab').values()))`, `[0,1,97,98]`},
		// numbers
		{`(function () { var b = Buffer.from([0x12, 0x34, 0x56, 0x78, 0xff]); return [b.readUInt8(4), b.readUInt16BE(0), b.readUInt16LE(0), b.readUInt32BE(0), b.readUInt32LE(0), b.readInt8(4), b.readUint16BE(1)]; })()`,
			`[255,4660,13330,305419896,2018915346,-1,13398]`},
		{`(function () { var b = Buffer.from([0xff, 0xfe, 0x01, 0x02]); return [b.readInt16BE(0), b.readInt16LE(0), b.readInt32BE(0), b.readUIntBE(0, 3), b.readUIntLE(0, 3), b.readIntBE(0, 3), b.readIntLE(1, 2)]; })()`,
			`[-2,-257,-130814,16776705,130815,-511,510]`},
		{`(function () { var b = Buffer.alloc(8); b.writeFloatLE(1.5, 0); b.writeFloatBE(-2, 4); return [b.readFloatLE(0), b.readFloatBE(4), b.toString('hex')]; })()`,
			`[1.5,-2,"0000c03fc0000000"]`},
		{`(function () { var b = Buffer.alloc(8); b.writeDoubleBE(0.1); return [b.readDoubleBE(0), b.toString('hex')]; })()`, `[0.1,"3fb999999999999a"]`},
		{`(function () { var b = Buffer.alloc(6); var end = b.writeUInt16BE(0xabcd, 0); end = b.writeUInt32LE(0x01020304, end); return [end, b.toString('hex')]; })()`, `[6,"abcd04030201"]`},
		{`(function () { var b = Buffer.alloc(4); b.writeInt16LE(-2, 0); b.writeInt8(-128, 2); b.writeUInt8(7, 3); return b.toString('hex'); })()`, `"feff8007"`},
		{`(function () { var b = Buffer.alloc(6); b.writeUIntBE(0x123456, 0, 3); b.writeIntLE(-2, 3, 3); return b.toString('hex'); })()`, `"123456feffff"`},
		{`(function () { try { Buffer.alloc(2).readUInt32LE(0); } catch (e) { return e instanceof RangeError; } })()`, `true`},
		{`(function () { try { Buffer.alloc(2).writeUInt8(256, 0); } catch (e) { return e instanceof RangeError; } })()`, `true`},
		{`(function () { try { Buffer.alloc(2).readUInt8(-1); } catch (e) { return e instanceof RangeError; } })()`, `true`},
		{`(function () { var b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(-2)); return [b.readBigUInt64LE(0) === BigInt('0xfeffffffffffffff'), b.readBigInt64BE(0) === BigInt(-2)]; })()`, `[true,true]`},
		// the module, and what a Buffer still is
		{`require('buffer').Buffer === Buffer`, `true`},
		{`[Buffer.from('a') instanceof Uint8Array, new Uint8Array(2) instanceof Uint8Array, new ArrayBuffer(2) instanceof ArrayBuffer, ArrayBuffer.isView(Buffer.alloc(1)), Uint8Array.BYTES_PER_ELEMENT]`, `[true,true,true,true,1]`},
	}
	// In parts: a function's code is at most 10 KB.
	for part := 0; part*20 < len(tests); part++ {
		rows := tests[part*20 : min(len(tests), part*20+20)]
		var code string
		for _, tt := range rows {
			code += "\ttry { out.push(JSON.stringify(" + tt.expr + ")); } catch (e) { out.push('threw ' + e); }\n"
		}
		fn := inline(t, "buffers"+string(rune('a'+part)), config.FunctionRuntime2, "function handler(event) {\n\tvar out = [];\n"+code+"\treturn {statusCode: 200, body: out.join('\\n')};\n}")
		resp, err := generatedBy(runtimeFor(t, nil, fn), fn, httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		got := splitLines(string(resp.Body))
		if len(got) != len(rows) {
			t.Fatalf("%d results for %d expressions: %q", len(got), len(rows), resp.Body)
		}
		for i, tt := range rows {
			if got[i] != tt.want {
				t.Errorf("%s\n  = %s\n want %s", tt.expr, got[i], tt.want)
			}
		}
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
