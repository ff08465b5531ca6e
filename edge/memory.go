package edge

import (
	"fmt"

	"github.com/dop251/goja"
)

// This file bounds the memory of a run as far as goja allows. CloudFront
// gives a function 2 MB per run; goja has no heap limit and no per-VM
// allocation counter, so edgefront enforces two bounds instead:
//
//  1. No single string, array or buffer made by a builtin that allocates in
//     one step may be over maxAllocBytes (2 MB): String.prototype.repeat,
//     padStart, padEnd, Array.prototype.join and fill, the ArrayBuffer and
//     typed array constructors (Buffer's included), Buffer.alloc, from,
//     concat. These are the calls that could allocate hundreds of MB before
//     the interrupt is looked at (goja checks it between instructions, not
//     inside a builtin).
//  2. A run during which the process allocates more than
//     Options.AllocLimit bytes (DefaultAllocLimit, 256 MB) is interrupted:
//     the watchdog (watch.go) samples runtime/metrics 250 µs into the run
//     (its starting point: what a run allocates before is not counted) and
//     every millisecond after. It
//     is process-wide, not per run: it catches a handler that grows memory
//     step by step (a string doubled in a loop, an array pushed to), at
//     the price of counting what the rest of the process allocates
//     meanwhile, which is why the bound is far above CloudFront's 2 MB.
//
// Either failure is an execution error (503), and the VM is dropped.

// maxAllocBytes is the largest single allocation a helper makes: CloudFront's
// 2 MB per run.
const maxAllocBytes = 2 << 20

// DefaultAllocLimit bounds what the process may allocate during one run.
const DefaultAllocLimit = 256 << 20

// memoryPrelude wraps the builtins that allocate in one step so that they
// ask charge(bytes) first.
const memoryPrelude = `(function (charge) {
	'use strict';
	var define = function (o, name, fn) {
		Object.defineProperty(o, name, {value: fn, writable: true, configurable: true, enumerable: false});
	};
	var num = function (n) { n = Number(n); return n > 0 ? n : 0; };
	var repeat = String.prototype.repeat, padStart = String.prototype.padStart, padEnd = String.prototype.padEnd;
	define(String.prototype, 'repeat', function repeat_(n) { charge(String(this).length * num(n)); return repeat.call(this, n); });
	define(String.prototype, 'padStart', function padStart_(n, s) { charge(num(n)); return padStart.call(this, n, s); });
	define(String.prototype, 'padEnd', function padEnd_(n, s) { charge(num(n)); return padEnd.call(this, n, s); });
	var join = Array.prototype.join, fill = Array.prototype.fill;
	define(Array.prototype, 'join', function join_(sep) {
		charge(num(this.length) * (sep === undefined ? 1 : String(sep).length + 1));
		return join.call(this, sep);
	});
	define(Array.prototype, 'fill', function fill_(v, start, end) { charge(num(this.length) * 8); return fill.apply(this, arguments); });
	// sized wraps constructor C: instances keep C's prototype, so that
	// instanceof and what goja makes itself are alike.
	var AB = ArrayBuffer;
	var sized = function (C, per) {
		var W = function () {
			if (new.target === undefined) { throw new TypeError('Constructor ' + C.name + ' requires \'new\''); }
			var a = arguments[0];
			if (typeof a === 'number') {
				charge(num(a) * per);
			} else if (a !== null && typeof a === 'object' && !(a instanceof AB) && typeof a.length === 'number') {
				charge(num(a.length) * per);
			}
			return Reflect.construct(C, arguments, new.target === W ? C : new.target);
		};
		Object.getOwnPropertyNames(C).forEach(function (k) {
			if (k !== 'prototype' && k !== 'length' && k !== 'name' && k !== 'caller' && k !== 'arguments') {
				Object.defineProperty(W, k, Object.getOwnPropertyDescriptor(C, k));
			}
		});
		Object.defineProperty(W, 'name', {value: C.name});
		Object.setPrototypeOf(W, Object.getPrototypeOf(C));
		W.prototype = C.prototype;
		return W;
	};
	globalThis.ArrayBuffer = sized(ArrayBuffer, 1);
	var typed = {Int8Array: 1, Uint8Array: 1, Uint8ClampedArray: 1, Int16Array: 2, Uint16Array: 2,
		Int32Array: 4, Uint32Array: 4, Float32Array: 4, Float64Array: 8};
	Object.keys(typed).forEach(function (name) {
		if (typeof globalThis[name] === 'function') { globalThis[name] = sized(globalThis[name], typed[name]); }
	});
})`

// installMemoryBounds wraps r's allocating builtins (bound 1 above).
func (v *vm) installMemoryBounds() error {
	res, err := v.rt.RunString(memoryPrelude)
	if err != nil {
		return err
	}
	def, _ := goja.AssertFunction(res)
	_, err = def(goja.Undefined(), v.rt.ToValue(func(n float64) { v.charge(n) }))
	return err
}

// charge refuses an allocation of n bytes over maxAllocBytes: the run is
// interrupted (an execution error), whatever the handler catches.
func (v *vm) charge(n float64) {
	if n <= maxAllocBytes {
		return
	}
	v.watch.stop(errMemory)
	panic(v.rt.NewGoError(fmt.Errorf("%w: an allocation of %.0f bytes, over %d", errMemory, n, maxAllocBytes)))
}
