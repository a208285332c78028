// Host side of wasm/matmul.ts: the CPU engine's float32 matmul, C = epilogue(op(A)·op(B)) with the
// WGSL kernels' fused epilogues and row sums, in WebAssembly with 128-bit SIMD (one thread). The
// operands are copied into the module's memory for each call; the step-level engine that keeps
// its buffers there is the next piece (issue #13).
import { Epilogue, type EpilogueName } from '../core/epilogues.js';
import { MATMUL_WASM_BASE64 } from './wasm-matmul-bytes.js';

interface Exports {
  memory: WebAssembly.Memory;
  packedBytesA(M: number, K: number): number;
  packedBytesB(K: number, N: number): number;
  matmul(a: number, b: number, c: number, M: number, N: number, K: number, tA: number, tB: number, epilogue: number, aux: number, rowSums: number, scratch: number): void;
}

export interface WasmMatmulShape {
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

export interface WasmMatmulOptions {
  epilogue?: EpilogueName;
  /** bias (N values) or S (M×N), for the epilogues that read it. */
  aux?: Float32Array;
  /** Also return the row sums of op(A). */
  rowSums?: boolean;
}

export interface WasmMatmul {
  matmul(a: Float32Array, b: Float32Array, shape: WasmMatmulShape, options?: WasmMatmulOptions): { c: Float32Array; rowSums?: Float32Array };
}

/** Where the host's buffers start: past the module's own data and stack. */
const BASE = 65536;
const PAGE = 65536;

let compiled: Promise<WebAssembly.Module> | undefined;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(MATMUL_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Whether this JavaScript engine runs WebAssembly SIMD (the module does not load without it). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes());
  } catch {
    return false;
  }
}

export async function createWasmMatmul(): Promise<WasmMatmul> {
  compiled ??= WebAssembly.compile(moduleBytes());
  const instance = await WebAssembly.instantiate(await compiled, {});
  const wasm = instance.exports as unknown as Exports;
  const align = (n: number) => Math.ceil(n / 16) * 16;
  return {
    matmul(a, b, shape, options = {}) {
      const { M, N, K } = shape;
      for (const [name, v] of Object.entries({ M, N, K })) if (!Number.isInteger(v) || v < 1) throw new RangeError(`matmul: ${name} must be a positive integer, got ${v}`);
      if (a.length !== M * K) throw new RangeError(`matmul: A has ${a.length} values, expected ${M * K}`);
      if (b.length !== K * N) throw new RangeError(`matmul: B has ${b.length} values, expected ${K * N}`);
      const epilogue = options.epilogue ?? 'none';
      const auxLength = epilogue === 'sigmoidGrad' ? M * N : epilogue === 'none' ? 0 : N;
      if ((options.aux?.length ?? 0) < auxLength) throw new RangeError(`matmul: the ${epilogue} epilogue needs aux of ${auxLength} values`);
      // Layout: A, B, aux, C, row sums, scratch (packed panels and a tile), each 16-byte aligned.
      let at = BASE;
      const place = (bytes: number) => {
        const start = at;
        at = align(at + bytes);
        return start;
      };
      const pa = place(4 * a.length);
      const pb = place(4 * b.length);
      const pAux = place(4 * auxLength);
      const pc = place(4 * M * N);
      const pSums = options.rowSums ? place(4 * M) : 0;
      const scratch = place(wasm.packedBytesA(M, K) + wasm.packedBytesB(K, N) + 128);
      if (at > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((at - wasm.memory.buffer.byteLength) / PAGE));
      const f32 = (offset: number, length: number) => new Float32Array(wasm.memory.buffer, offset, length);
      f32(pa, a.length).set(a);
      f32(pb, b.length).set(b);
      if (auxLength) f32(pAux, auxLength).set(options.aux!.subarray(0, auxLength));
      wasm.matmul(pa, pb, pc, M, N, K, shape.transposeA ? 1 : 0, shape.transposeB ? 1 : 0, Epilogue[epilogue], pAux, pSums, scratch);
      return { c: f32(pc, M * N).slice(), ...(pSums && { rowSums: f32(pSums, M).slice() }) };
    },
  };
}
