// WebAssembly relaxed SIMD in Node: shipped from Node 22 (V8 11.4+), behind a V8 flag in Node 20.
// The CPU engine's relaxed build fuses its microkernel's multiply–adds (f32x4.relaxed_madd, one
// FMA instruction on x86-64 with FMA3), worth ~1.3× on the two large products of a step.
import { setFlagsFromString } from 'node:v8';
import { wasmRelaxedSimdSupported } from '../cpu/wasm-matmul.js';

/** Turns relaxed SIMD on where this Node has it behind a flag; returns whether it runs now. */
export function enableWasmRelaxedSimd(): boolean {
  if (wasmRelaxedSimdSupported()) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return wasmRelaxedSimdSupported();
}
