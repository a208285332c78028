// Host side of wasm/matmul.ts: the CPU engine's float32 matmul, C = epilogue(op(A)·op(B)) with the
// WGSL kernels' fused epilogues and row sums, in WebAssembly with 128-bit SIMD. The CPU engine
// (src/backends/wasm.ts) keeps its buffers in the module's memory (WasmKernels); in Node, where
// the native products are built (native/, registered by sigmtl/node), the products run there
// instead, on the same memory, with the CPU's own vector width. createWasmMatmul copies host
// arrays in and out, for tests and the bench.
import { Epilogue, type EpilogueName } from '../core/epilogues.js';
import { MATMUL_WASM_BASE64, MATMUL_WASM_RELAXED_BASE64, MATMUL_WASM_SHARED_BASE64, MATMUL_WASM_SHARED_RELAXED_BASE64 } from './wasm-matmul-bytes.js';
import type { NativeUpdate } from './optimizer.js';

interface Exports {
  memory?: WebAssembly.Memory;
  scratchBytes(M: number, N: number, K: number, tA: number, tB: number, threads: number): number;
  matmul(
    a: number,
    b: number,
    c: number,
    M: number,
    N: number,
    K: number,
    tA: number,
    tB: number,
    epilogue: number,
    aux: number,
    rowSums: number,
    scratch: number,
    bPitch: number,
    aPitch: number,
  ): void;
  packColumnPanels(src: number, rows: number, cols: number, out: number, pitch: number): void;
  lossSums(y: number, targets: number, mask: number, rows: number, T: number, codes: number, params: number, out: number): void;
  lossGradient(y: number, targets: number, mask: number, rows: number, T: number, codes: number, params: number, scales: number, gradY: number): void;
  pack(a: number, b: number, M: number, N: number, K: number, tA: number, tB: number, rowSums: number, scratch: number): void;
  compute(
    a: number,
    b: number,
    c: number,
    M: number,
    N: number,
    K: number,
    tA: number,
    tB: number,
    epilogue: number,
    aux: number,
    scratch: number,
    first: number,
    end: number,
    rowFirst: number,
    rowEnd: number,
    thread: number,
    bPitch: number,
    aPitch: number,
  ): void;
}

/**
 * Workers that run `compute` of the shared-memory build on the same memory (worker_threads in
 * Node, registered by sigmtl/node; none in a browser page, which stays on one thread).
 */
export interface ThreadPool {
  readonly workers: number;
  /** compute(...args) on worker `index`; resolves when it has finished. */
  compute(index: number, args: readonly number[]): Promise<void>;
  close(): void;
}
export type ThreadPoolFactory = (module: WebAssembly.Module, memory: WebAssembly.Memory, workers: number) => ThreadPool;

let threadPools: { create: ThreadPoolFactory; threads: number } | undefined;

/**
 * The native products (native/addon.c): the same matmul on the module's memory, by byte offset,
 * compiled for AVX-512, AVX2 + FMA and the baseline (`builds`: those this CPU runs, best first).
 */
export interface NativeProducts {
  readonly builds: readonly string[];
  /** Columns in a column panel of the native layout (the WebAssembly kernel's are 8 wide). */
  readonly panelWidth: number;
  /** A hash of native/'s sources when it was built. */
  readonly sourceHash: string;
  matmul(
    memory: ArrayBuffer,
    a: number,
    b: number,
    c: number,
    M: number,
    N: number,
    K: number,
    tA: number,
    tB: number,
    epilogue: number,
    aux: number,
    rowSums: number,
    bPitch: number,
    aPitch: number,
    threads: number,
    build: number,
  ): void;
  packColumnPanels(memory: ArrayBuffer, src: number, rows: number, cols: number, out: number, pitch: number): void;
  /** The float64 optimizer update of one piece (src/cpu/optimizer.ts's loops, bit for bit). */
  update: NativeUpdate;
}

let nativeProducts: NativeProducts | undefined;

/** Called by sigmtl/node with the built addon (undefined: none, or turned off). */
export function setNativeProducts(products: NativeProducts | undefined): void {
  nativeProducts = products;
}

/** The native builds the CPU engine can run here, best first ([] in a browser, or where the addon is not built). */
export function nativeProductBuilds(): readonly string[] {
  return nativeProducts?.builds ?? [];
}

/** Called by sigmtl/node: how to start workers, and how many threads to use by default. */
export function setWasmThreadPools(create: ThreadPoolFactory, threads: number): void {
  threadPools = { create, threads };
}

/** Threads the CPU engine uses by default: the machine's cores where workers can be started, else 1. */
export function defaultWasmThreads(): number {
  return threadPools && typeof SharedArrayBuffer !== 'undefined' ? threadPools.threads : 1;
}

/**
 * Products smaller than this (multiply–adds: ~0.1 ms of work) stay on one thread: handing work to
 * a worker and back costs tens of µs (measured: the step's 1M-multiply–add products were slower
 * on two threads than on one).
 */
export const PARALLEL_MIN_WORK = 1 << 22;

export interface WasmMatmulShape {
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

/** A shape for WasmKernels, whose operands may also be matrices kept in column panels (packColumnPanels). */
export interface WasmKernelShape extends WasmMatmulShape {
  /** op(A) (M×K) is in column panels of 8, this many bytes apart (transposeA is then ignored; no row sums). */
  aPanelPitch?: number;
  /** op(B) (K×N) is in column panels of 8, this many bytes apart (transposeB is then ignored). */
  bPanelPitch?: number;
}

/** The transpose code of wasm/matmul.ts for an operand in column panels (A_PANELS, B_PANELS; a test checks they agree). */
export const TRANSPOSE_PANELS = 2;
const transposeCodes = (shape: WasmKernelShape): [number, number] => [
  shape.aPanelPitch !== undefined ? TRANSPOSE_PANELS : shape.transposeA ? 1 : 0,
  shape.bPanelPitch !== undefined ? TRANSPOSE_PANELS : shape.transposeB ? 1 : 0,
];

export interface WasmMatmulOptions {
  epilogue?: EpilogueName;
  /** bias (N values) or S (M×N), for the epilogues that read it. */
  aux?: Float32Array;
  /** Also return the row sums of op(A). */
  rowSums?: boolean;
}

export interface WasmMatmul {
  /** Threads `product` runs on. */
  readonly threads: number;
  /** On this thread. */
  matmul(a: Float32Array, b: Float32Array, shape: WasmMatmulShape, options?: WasmMatmulOptions): { c: Float32Array; rowSums?: Float32Array };
  /** On every thread (large products; small ones stay on this thread). */
  product(a: Float32Array, b: Float32Array, shape: WasmMatmulShape, options?: WasmMatmulOptions): Promise<{ c: Float32Array; rowSums?: Float32Array }>;
  /** Stops the workers, if any. */
  destroy(): void;
}

/** Where the host's buffers start: past the module's own data and stack. */
const BASE = 65536;
const PAGE = 65536;

/** Which build: a shared memory (threads) or not, with relaxed SIMD (fused multiply–adds) or plain 128-bit SIMD. */
type Build = `${'plain' | 'shared'}-${'relaxed' | 'simd128'}`;
const BUILD_BYTES: Record<Build, string> = {
  'plain-simd128': MATMUL_WASM_BASE64,
  'shared-simd128': MATMUL_WASM_SHARED_BASE64,
  'plain-relaxed': MATMUL_WASM_RELAXED_BASE64,
  'shared-relaxed': MATMUL_WASM_SHARED_RELAXED_BASE64,
};
const compiled = new Map<Build, Promise<WebAssembly.Module>>();
/** Decoded once: every backend opened (a model search opens one per candidate and rung) asks. */
const decoded = new Map<string, Uint8Array<ArrayBuffer>>();
let simdValid: boolean | undefined;
let relaxedValid = false;

function moduleBytes(base64 = MATMUL_WASM_BASE64): Uint8Array<ArrayBuffer> {
  let bytes = decoded.get(base64);
  if (!bytes) {
    const text = atob(base64);
    bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    decoded.set(base64, bytes);
  }
  return bytes;
}

function compile(build: Build): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (!module) compiled.set(build, (module = WebAssembly.compile(moduleBytes(BUILD_BYTES[build]))));
  return module;
}

/** Whether this JavaScript engine runs WebAssembly SIMD (the module does not load without it). */
export function wasmSimdSupported(): boolean {
  try {
    simdValid ??= typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes());
  } catch {
    simdValid = false;
  }
  return simdValid;
}

/**
 * Whether this engine runs relaxed SIMD (Chrome ≥ 114, Node ≥ 22, Node 20 after
 * enableWasmRelaxedSimd() from sigmtl/node): the engine then uses the build whose multiply–adds
 * are fused. Asked afresh until it is (a flag set later counts; none is turned off).
 */
export function wasmRelaxedSimdSupported(): boolean {
  try {
    relaxedValid ||= typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes(MATMUL_WASM_RELAXED_BASE64));
  } catch {
    // not supported
  }
  return relaxedValid;
}

/** Kernel options: threads (default: defaultWasmThreads()); relaxed (default: where the runtime has it); native (default: where built). */
export interface WasmKernelOptions {
  threads?: number;
  /** false: the plain 128-bit build even where relaxed SIMD runs (for comparisons); true: refused where it does not run. */
  relaxedSimd?: boolean;
  /**
   * The products on the native addon (Node with sigmtl/node, where it is built): true or omitted,
   * its best build for this CPU; a build's name ('avx512', 'avx2', 'base') to pick one; false, on
   * WebAssembly. Omitted where there is none: WebAssembly.
   */
  native?: boolean | string;
}

/** Names for the native builds in descriptions. */
const NATIVE_BUILD_NAMES: Record<string, string> = { avx512: 'AVX-512', avx2: 'AVX2', base: 'SSE2' };

/** Which native build runs the products, on how many threads. */
interface NativeChoice {
  products: NativeProducts;
  build: number;
  threads: number;
}

function chooseNative(option: boolean | string | undefined, threads: number): NativeChoice | undefined {
  if (option === false || (option === undefined && !nativeProducts)) return undefined;
  if (!nativeProducts) {
    throw new RangeError(
      `native: ${JSON.stringify(option)}, but no native products are loaded: in Node import 'sigmtl/node' (and build them: npm run build:native); in a browser the CPU engine runs on WebAssembly`,
    );
  }
  const builds = nativeProducts.builds;
  const build = option === true || option === undefined ? 0 : builds.indexOf(option);
  if (build < 0) throw new RangeError(`native: no build ${JSON.stringify(option)} runs on this CPU (it runs ${builds.map((b) => JSON.stringify(b)).join(', ')})`);
  return { products: nativeProducts, build, threads };
}

/**
 * The module's memory as regions the caller keeps (parameters, activations, the data set), and
 * the matmul on them by pointer: what the CPU engine steps with, copying nothing per product.
 */
export class WasmKernels {
  private top = BASE;
  private scratch = 0;
  private scratchBytes = 0;

  private constructor(
    private readonly wasm: Exports,
    private readonly memory: WebAssembly.Memory,
    private readonly pool: ThreadPool | undefined,
    /** Whether the relaxed-SIMD build runs (fused multiply–adds). */
    readonly relaxedSimd: boolean,
    /** The native products, where they run the products instead of the module. */
    private readonly native?: NativeChoice,
  ) {}

  /** `threads` above 1 needs a thread pool factory (sigmtl/node). */
  static async create(options: WasmKernelOptions = {}): Promise<WasmKernels> {
    const threads = options.threads ?? defaultWasmThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const native = chooseNative(options.native, threads);
    if (threads > 1 && !native && !(threadPools && typeof SharedArrayBuffer !== 'undefined')) {
      // Never a silent single thread when more were asked for (a benchmark would mislabel it).
      throw new RangeError(`threads: ${threads} needs worker threads: in Node import 'sigmtl/node' first (it registers them); in a browser the CPU engine runs on one thread`);
    }
    const supported = wasmRelaxedSimdSupported();
    const relaxed = options.relaxedSimd ?? supported;
    if (relaxed && !supported) {
      throw new RangeError(
        'relaxedSimd: true, but this JavaScript engine has no WebAssembly relaxed SIMD (Node 20: call enableWasmRelaxedSimd() from sigmtl/node first, or run node with --experimental-wasm-relaxed-simd; Node ≥ 22 and Chrome ≥ 114 have it)',
      );
    }
    const simd = relaxed ? 'relaxed' : 'simd128';
    if (native) {
      // The native products run their own threads: one plain memory, no workers.
      const instance = await WebAssembly.instantiate(await compile(`plain-${simd}`), {});
      const wasm = instance.exports as unknown as Exports;
      return new WasmKernels(wasm, wasm.memory!, undefined, relaxed, native);
    }
    if (threads > 1) {
      const module = await compile(`shared-${simd}`);
      const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      return new WasmKernels(instance.exports as unknown as Exports, memory, threadPools!.create(module, memory, threads - 1), relaxed);
    }
    const instance = await WebAssembly.instantiate(await compile(`plain-${simd}`), {});
    const wasm = instance.exports as unknown as Exports;
    return new WasmKernels(wasm, wasm.memory!, undefined, relaxed);
  }

  /** Threads the products run on. */
  get threads(): number {
    return this.native?.threads ?? (this.pool?.workers ?? 0) + 1;
  }

  /** What runs the products: 'native AVX-512', 'WebAssembly relaxed SIMD', … */
  get productsKind(): string {
    if (this.native) return `native ${NATIVE_BUILD_NAMES[this.native.products.builds[this.native.build]!] ?? this.native.products.builds[this.native.build]}`;
    return `WebAssembly ${this.relaxedSimd ? 'relaxed SIMD' : 'SIMD'}`;
  }

  /** The optimizer update in native code, where the products run there. */
  get nativeUpdate(): NativeUpdate | undefined {
    return this.native?.products.update;
  }

  /** Columns in one column panel of a matrix kept in panels (columnPanelsOf): 8 here, the native build's width there. */
  get panelWidth(): number {
    return this.native?.products.panelWidth ?? 8;
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
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
    return start;
  }

  /** A view of a region (made fresh: growing the memory detaches older views). */
  f32(pointer: number, floats: number): Float32Array {
    return new Float32Array(this.memory.buffer, pointer, floats);
  }

  private scratchFor(shape: WasmKernelShape): number {
    const need = this.wasm.scratchBytes(shape.M, shape.N, shape.K, ...transposeCodes(shape), this.threads);
    if (need > this.scratchBytes) {
      // Scratch goes on top; a later alloc() moves past it, so a larger one is taken afresh.
      this.scratch = this.alloc(need / 4);
      this.scratchBytes = need;
    }
    return this.scratch;
  }

  /** C = epilogue(op(A)·op(B)) on regions, on this thread; aux and rowSums are pointers (0: none). */
  matmul(a: number, b: number, c: number, shape: WasmKernelShape, epilogue: EpilogueName = 'none', aux = 0, rowSums = 0): void {
    if (this.native) return this.nativeProduct(1, a, b, c, shape, epilogue, aux, rowSums);
    const scratch = this.scratchFor(shape);
    this.wasm.matmul(a, b, c, shape.M, shape.N, shape.K, ...transposeCodes(shape), Epilogue[epilogue], aux, rowSums, scratch, shape.bPanelPitch ?? 0, shape.aPanelPitch ?? 0);
  }

  private nativeProduct(threads: number, a: number, b: number, c: number, shape: WasmKernelShape, epilogue: EpilogueName, aux: number, rowSums: number): void {
    const { products, build } = this.native!;
    const [tA, tB] = transposeCodes(shape);
    const buffer = this.memory.buffer as ArrayBuffer;
    products.matmul(buffer, a, b, c, shape.M, shape.N, shape.K, tA, tB, Epilogue[epilogue], aux, rowSums, shape.bPanelPitch ?? 0, shape.aPanelPitch ?? 0, threads, build);
  }

  /**
   * Bytes between two column panels of a rows-row matrix: rows × 4·panelWidth, plus one cache
   * line where that is a multiple of 4 KiB — panels a power of two apart would fall into the same
   * cache sets, and X·Wᵀ reads rows of every panel in turn.
   */
  panelPitch(rows: number): number {
    const bytes = 4 * this.panelWidth * rows;
    return bytes % 4096 === 0 ? bytes + 64 : bytes;
  }

  /** A host matrix (rows×cols, row-major) into column panels of panelWidth, panelPitch(rows) bytes apart; its pointer. */
  columnPanelsOf(values: Float32Array, rows: number, cols: number): number {
    const pitch = this.panelPitch(rows);
    const out = this.alloc((Math.ceil(cols / this.panelWidth) * pitch) / 4);
    const mark = this.mark;
    const staged = this.alloc(values.length);
    this.f32(staged, values.length).set(values);
    if (this.native) this.native.products.packColumnPanels(this.memory.buffer as ArrayBuffer, staged, rows, cols, out, pitch);
    else this.wasm.packColumnPanels(staged, rows, cols, out, pitch);
    this.release(mark);
    return out;
  }

  /** The module's task-loss kernels (wasm/matmul.ts: lossSums, lossGradient), by pointer. */
  get losses(): Pick<Exports, 'lossSums' | 'lossGradient'> {
    return this.wasm;
  }

  /** A view of a region as f64 or i32 (8- and 4-byte aligned pointers). */
  f64(pointer: number, count: number): Float64Array {
    return new Float64Array(this.memory.buffer, pointer, count);
  }

  i32(pointer: number, count: number): Int32Array {
    return new Int32Array(this.memory.buffer, pointer, count);
  }

  /**
   * The same on every thread: packed here, then C shared out — by B's column panels when C is
   * wide, by A's row panels when it is tall (this thread takes the first share). Small products
   * stay on this thread.
   */
  async product(a: number, b: number, c: number, shape: WasmKernelShape, epilogue: EpilogueName = 'none', aux = 0, rowSums = 0): Promise<void> {
    if (this.native) return this.nativeProduct(this.native.threads, a, b, c, shape, epilogue, aux, rowSums);
    const { M, N, K } = shape;
    const columns = Math.ceil(N / 8);
    const rows = Math.ceil(M / 4);
    const byColumns = columns >= rows;
    const panels = byColumns ? columns : rows;
    if (!this.pool || M * N * K < PARALLEL_MIN_WORK || panels < 2) return this.matmul(a, b, c, shape, epilogue, aux, rowSums);
    const scratch = this.scratchFor(shape);
    const [tA, tB] = transposeCodes(shape);
    const pitch = shape.bPanelPitch ?? 0;
    const aPitch = shape.aPanelPitch ?? 0;
    this.wasm.pack(a, b, M, N, K, tA, tB, rowSums, scratch);
    const threads = Math.min(this.threads, panels);
    const share = (t: number): [number, number, number, number] => {
      const [first, end] = [Math.floor((t * panels) / threads), Math.floor(((t + 1) * panels) / threads)];
      return byColumns ? [first, end, 0, rows] : [0, columns, first, end];
    };
    const code = Epilogue[epilogue];
    const others = Array.from({ length: threads - 1 }, (_, i) => this.pool!.compute(i, [a, b, c, M, N, K, tA, tB, code, aux, scratch, ...share(i + 1), i + 1, pitch, aPitch]));
    this.wasm.compute(a, b, c, M, N, K, tA, tB, code, aux, scratch, ...share(0), 0, pitch, aPitch);
    await Promise.all(others);
  }

  destroy(): void {
    this.pool?.close();
  }
}

/** The matmul on host arrays (copied in and out each call): for tests, checks and the bench. */
export async function createWasmMatmul(options: WasmKernelOptions = {}): Promise<WasmMatmul> {
  const kernels = await WasmKernels.create({ threads: 1, ...options });
  /** Copies the operands in; returns the regions and how to read the result (then frees them). */
  const stage = (a: Float32Array, b: Float32Array, shape: WasmMatmulShape, options: WasmMatmulOptions) => {
    const { M, N, K } = shape;
    for (const [name, v] of Object.entries({ M, N, K })) if (!Number.isInteger(v) || v < 1) throw new RangeError(`matmul: ${name} must be a positive integer, got ${v}`);
    if (a.length !== M * K) throw new RangeError(`matmul: A has ${a.length} values, expected ${M * K}`);
    if (b.length !== K * N) throw new RangeError(`matmul: B has ${b.length} values, expected ${K * N}`);
    const epilogue = options.epilogue ?? 'none';
    const auxLength = epilogue === 'sigmoidGrad' ? M * N : epilogue === 'none' ? 0 : N;
    if ((options.aux?.length ?? 0) < auxLength) throw new RangeError(`matmul: the ${epilogue} epilogue needs aux of ${auxLength} values`);
    const mark = kernels.mark;
    const pa = kernels.alloc(a.length);
    const pb = kernels.alloc(b.length);
    const pAux = auxLength ? kernels.alloc(auxLength) : 0;
    const pc = kernels.alloc(M * N);
    const pSums = options.rowSums ? kernels.alloc(M) : 0;
    kernels.f32(pa, a.length).set(a);
    kernels.f32(pb, b.length).set(b);
    if (auxLength) kernels.f32(pAux, auxLength).set(options.aux!.subarray(0, auxLength));
    const args = [pa, pb, pc, shape, epilogue, pAux, pSums] as const;
    const result = () => {
      const out = { c: kernels.f32(pc, M * N).slice(), ...(pSums && { rowSums: kernels.f32(pSums, M).slice() }) };
      kernels.release(mark);
      return out;
    };
    return { args, result, release: () => kernels.release(mark) };
  };
  return {
    threads: kernels.threads,
    matmul(a, b, shape, options = {}) {
      const staged = stage(a, b, shape, options);
      try {
        kernels.matmul(...staged.args);
      } catch (error) {
        staged.release();
        throw error;
      }
      return staged.result();
    },
    async product(a, b, shape, options = {}) {
      const staged = stage(a, b, shape, options);
      try {
        await kernels.product(...staged.args);
      } catch (error) {
        staged.release();
        throw error;
      }
      return staged.result();
    },
    destroy: () => kernels.destroy(),
  };
}
