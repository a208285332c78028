// GPU vs CPU: the same n×n matmul and sigmoid on sigmtl's WebGPU kernels, sigmtl's CPU engine
// (float32 WebAssembly SIMD, one thread; matmul), sigmtl's float64 reference (in a Web Worker; a
// yardstick) and gpu.js (WebGPU mode where it has an adapter, WebGL2 otherwise). Times are medians
// of 5 runs after a warm-up (with their range), including upload and readback. The crossover —
// against the CPU engine, the CPU's real contender — counts only where the WebGPU kernel's
// slowest run beats the engine's fastest, so it does not flip on a few per cent of noise.
import { GPU, Input } from 'gpu.js';
import { createWasmMatmul, describeDevice, gpuMatmul, gpuSigmoid } from 'sigmtl';
import type { CpuJob } from './cpu-worker.js';

/** n uniform values in [lo, hi) from a seeded generator (mulberry32), so runs compare like with like. */
function uniformArray(next: () => number, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CompareRow {
  op: 'matmul' | 'sigmoid';
  n: number;
  impl: string;
  /** Median. */
  ms: number;
  /** Fastest and slowest run. */
  range: [number, number];
  gflops: number | null;
  /** Max |result − float64 CPU result|. */
  maxDiff: number;
}

/** What each contestant is, exactly. */
export const CONTESTANTS = {
  gpu: 'sigmtl WebGPU (f32 WGSL kernels)',
  engine: 'sigmtl CPU engine (f32, WebAssembly SIMD, 1 thread)',
  cpu: 'sigmtl CPU reference (f64 plain loops, one Web Worker; a yardstick, not a contender)',
  gpujs: (mode: string) => `gpu.js 2.x (${mode}, f32)`,
};

export interface CompareReport {
  adapter: string;
  software: boolean;
  gpujsMode: string;
  rows: CompareRow[];
  /** Smallest n from which sigmtl's WebGPU matmul beats the CPU engine at every larger n tested. */
  crossover: number | null;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A run that takes less than this is repeated within one timing (browsers round performance.now() to ~0.1 ms). */
const MIN_TIMED_MS = 5;

async function timed<T>(run: () => Promise<T>, repeats = 5): Promise<{ ms: number; range: [number, number]; value: T }> {
  let value = await run(); // warm-up: compiles pipelines and kernels
  // Calls per timing: doubled until one timing is long enough for the clock's resolution.
  let calls = 1;
  for (;;) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) value = await run();
    if (performance.now() - started >= MIN_TIMED_MS || calls >= 1 << 16) break;
    calls *= 2;
  }
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    for (let c = 0; c < calls; c++) value = await run();
    times.push((performance.now() - started) / calls);
  }
  return { ms: median(times), range: [Math.min(...times), Math.max(...times)], value };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function createCpuWorker() {
  const worker = new Worker(new URL('./cpu-worker.ts', import.meta.url), { type: 'module' });
  const run = (job: CpuJob) =>
    new Promise<{ result: Float64Array; ms: number }>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage(job);
    });
  return { run, terminate: () => worker.terminate() };
}

async function createGpuJs(): Promise<{ gpu: GPU; mode: string }> {
  const mode = GPU.isWebGPUSupported && (await GPU.isWebGPUAvailable()) ? 'webgpu' : GPU.isWebGL2Supported ? 'webgl2' : 'cpu';
  return { gpu: new GPU({ mode: mode as 'webgpu' }), mode };
}

const flatten = (rows: ArrayLike<ArrayLike<number>>, n: number) => {
  const out = new Float32Array(n * n);
  for (let r = 0; r < n; r++) out.set(rows[r] as Float32Array, r * n);
  return out;
};

export async function runComparison(device: GPUDevice, sizes: number[], onRow: (row: CompareRow) => void): Promise<CompareReport> {
  const rows: CompareRow[] = [];
  const add = (row: CompareRow) => {
    rows.push(row);
    onRow(row);
  };
  const cpu = createCpuWorker();
  const engine = await createWasmMatmul();
  const { gpu, mode } = await createGpuJs();
  const random = seeded(17);
  try {
    for (const n of sizes) {
      const a = uniformArray(random, n * n);
      const b = uniformArray(random, n * n);
      const flops = 2 * n * n * n;
      const gflops = (ms: number) => flops / (ms * 1e6);
      const reference = await timed(() => cpu.run({ kind: 'matmul', a, b, n }), 3);
      add({ op: 'matmul', n, impl: CONTESTANTS.cpu, ms: reference.ms, range: reference.range, gflops: gflops(reference.ms), maxDiff: 0 });
      const ours = await timed(() => gpuMatmul(device, a, b, { M: n, N: n, K: n }));
      add({ op: 'matmul', n, impl: CONTESTANTS.gpu, ms: ours.ms, range: ours.range, gflops: gflops(ours.ms), maxDiff: maxDiff(ours.value, reference.value.result) });
      const onCpu = await timed(async () => engine.matmul(a, b, { M: n, N: n, K: n }).c);
      add({ op: 'matmul', n, impl: CONTESTANTS.engine, ms: onCpu.ms, range: onCpu.range, gflops: gflops(onCpu.ms), maxDiff: maxDiff(onCpu.value, reference.value.result) });
      const kernel = gpu
        .createKernel(function (this: { thread: { x: number; y: number }; constants: { n: number } }, x: number[][], y: number[][]) {
          let sum = 0;
          for (let i = 0; i < this.constants.n; i++) sum += x[this.thread.y]![i]! * y[i]![this.thread.x]!;
          return sum;
        })
        .setConstants({ n })
        .setOutput([n, n]);
      const theirs = await timed(async () =>
        flatten((await kernel(new Input(a as unknown as number[], [n, n]), new Input(b as unknown as number[], [n, n]))) as Float32Array[], n),
      );
      add({
        op: 'matmul',
        n,
        impl: CONTESTANTS.gpujs(mode),
        ms: theirs.ms,
        range: theirs.range,
        gflops: gflops(theirs.ms),
        maxDiff: maxDiff(theirs.value, reference.value.result),
      });
      kernel.destroy?.();

      const x = uniformArray(random, n * n, -8, 8);
      const sigRef = await timed(() => cpu.run({ kind: 'sigmoid', x }), 3);
      add({ op: 'sigmoid', n, impl: CONTESTANTS.cpu, ms: sigRef.ms, range: sigRef.range, gflops: null, maxDiff: 0 });
      const sigOurs = await timed(() => gpuSigmoid(device, x));
      add({ op: 'sigmoid', n, impl: CONTESTANTS.gpu, ms: sigOurs.ms, range: sigOurs.range, gflops: null, maxDiff: maxDiff(sigOurs.value, sigRef.value.result) });
      const sigKernel = gpu
        .createKernel(function (this: { thread: { x: number } }, v: number[]) {
          return 1 / (1 + Math.exp(-v[this.thread.x]!));
        })
        .setOutput([n * n]);
      const sigTheirs = await timed(async () => Float32Array.from((await sigKernel(x)) as Float32Array));
      add({ op: 'sigmoid', n, impl: CONTESTANTS.gpujs(mode), ms: sigTheirs.ms, range: sigTheirs.range, gflops: null, maxDiff: maxDiff(sigTheirs.value, sigRef.value.result) });
      sigKernel.destroy?.();
    }
  } finally {
    cpu.terminate();
    gpu.destroy();
  }
  const adapter = describeDevice(device);
  return {
    adapter: adapter.label,
    software: adapter.software,
    gpujsMode: mode,
    rows,
    crossover: crossover(rows, sizes),
  };
}

function crossover(rows: CompareRow[], sizes: number[]): number | null {
  const row = (n: number, impl: string) => rows.find((r) => r.op === 'matmul' && r.n === n && r.impl === impl);
  let found: number | null = null;
  for (const n of [...sizes].reverse()) {
    // Clearly faster: the GPU's slowest run against the CPU engine's fastest.
    if ((row(n, CONTESTANTS.gpu)?.range[1] ?? Infinity) < (row(n, CONTESTANTS.engine)?.range[0] ?? 0)) found = n;
    else break;
  }
  return found;
}
