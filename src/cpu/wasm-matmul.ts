// Host side of wasm/matmul.ts: the CPU engine's float32 matmul, C = epilogue(op(A)·op(B)) with the
// WGSL kernels' fused epilogues and row sums, in WebAssembly with 128-bit SIMD (one thread). The
// CPU engine (src/cpu/wasm-backend.ts) keeps its buffers in the module's memory (WasmKernels);
// createWasmMatmul copies host arrays in and out, for tests and the bench.
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

/**
 * The module's memory as regions the caller keeps (parameters, activations, the data set), and
 * the matmul on them by pointer: what the CPU engine steps with, copying nothing per product.
 */
export class WasmKernels {
  private top = BASE;
  private scratch = 0;
  private scratchBytes = 0;

  private constructor(private readonly wasm: Exports) {}

  static async create(): Promise<WasmKernels> {
    compiled ??= WebAssembly.compile(moduleBytes());
    const instance = await WebAssembly.instantiate(await compiled, {});
    return new WasmKernels(instance.exports as unknown as Exports);
  }

  /** Bytes in use; release(mark) frees everything allocated after it. */
  get mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
    this.scratch = this.scratchBytes = 0;
  }

  /** A region of `floats` f32 (16-byte aligned); its pointer. */
  alloc(floats: number): number {
    const start = this.top;
    this.top = Math.ceil((this.top + 4 * floats) / 16) * 16;
    this.ensure(this.top);
    return start;
  }

  private ensure(bytes: number): void {
    const have = this.wasm.memory.buffer.byteLength;
    if (bytes > have) this.wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** A view of a region (made fresh: growing the memory detaches older views). */
  f32(pointer: number, floats: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, pointer, floats);
  }

  /** C = epilogue(op(A)·op(B)) on regions; aux and rowSums are pointers (0: none). */
  matmul(a: number, b: number, c: number, shape: WasmMatmulShape, epilogue: EpilogueName = 'none', aux = 0, rowSums = 0): void {
    const { M, N, K } = shape;
    const need = this.wasm.packedBytesA(M, K) + this.wasm.packedBytesB(K, N) + 128;
    if (need > this.scratchBytes) {
      // Scratch goes on top; a later alloc() moves past it, so a larger one is taken afresh.
      this.scratch = this.alloc(need / 4);
      this.scratchBytes = need;
    }
    this.wasm.matmul(a, b, c, M, N, K, shape.transposeA ? 1 : 0, shape.transposeB ? 1 : 0, Epilogue[epilogue], aux, rowSums, this.scratch);
  }
}

/** The matmul on host arrays (copied in and out each call): for tests, checks and the bench. */
export async function createWasmMatmul(): Promise<WasmMatmul> {
  const kernels = await WasmKernels.create();
  return {
    matmul(a, b, shape, options = {}) {
      const { M, N, K } = shape;
      for (const [name, v] of Object.entries({ M, N, K })) if (!Number.isInteger(v) || v < 1) throw new RangeError(`matmul: ${name} must be a positive integer, got ${v}`);
      if (a.length !== M * K) throw new RangeError(`matmul: A has ${a.length} values, expected ${M * K}`);
      if (b.length !== K * N) throw new RangeError(`matmul: B has ${b.length} values, expected ${K * N}`);
      const epilogue = options.epilogue ?? 'none';
      const auxLength = epilogue === 'sigmoidGrad' ? M * N : epilogue === 'none' ? 0 : N;
      if ((options.aux?.length ?? 0) < auxLength) throw new RangeError(`matmul: the ${epilogue} epilogue needs aux of ${auxLength} values`);
      const mark = kernels.mark;
      try {
        const pa = kernels.alloc(a.length);
        const pb = kernels.alloc(b.length);
        const pAux = auxLength ? kernels.alloc(auxLength) : 0;
        const pc = kernels.alloc(M * N);
        const pSums = options.rowSums ? kernels.alloc(M) : 0;
        kernels.f32(pa, a.length).set(a);
        kernels.f32(pb, b.length).set(b);
        if (auxLength) kernels.f32(pAux, auxLength).set(options.aux!.subarray(0, auxLength));
        kernels.matmul(pa, pb, pc, shape, epilogue, pAux, pSums);
        return { c: kernels.f32(pc, M * N).slice(), ...(pSums && { rowSums: kernels.f32(pSums, M).slice() }) };
      } finally {
        kernels.release(mark);
      }
    },
  };
}
