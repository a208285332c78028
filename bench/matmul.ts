// Matmul f32 throughput: sigmtl's kernels, tfjs (webgpu, wasm, cpu), gpu.js and sigmtl's CPU
// backend, on square sizes and on the model's real layer shapes (forward and the transposed
// backward products). GFLOP/s = 2·M·N·K / time.
import type { GpuContext } from '../src/gpu/context.js';
import { autotuneMatmul } from '../src/kernels/autotune.js';
import { matmulReference } from '../src/cpu/reference.js';
import { Random, uniformArray } from '../src/util/random.js';
import type { Peers } from './peers.js';
import { timedRow, type BenchRow } from './rows.js';
import { sigmtlMatmul } from './sigmtl-matmul.js';
import { interleaved, type Contender } from './timing.js';
import { createWasmMatmul, defaultWasmThreads } from '../src/cpu/wasm-matmul.js';
import '../src/node.js'; // the CPU engine's worker pool

export interface MatmulShape {
  label: string;
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

export const square = (n: number): MatmulShape => ({ label: `${n}²`, M: n, N: n, K: n });

/** The products of one training step at batch N, d features, H = T. */
export function layerShapes(d: number, T: number, N: number): MatmulShape[] {
  const tag = `d=${d} T=${T} N=${N}`;
  return [
    { label: `X·Wᵀ (${tag})`, M: N, N: T, K: d, transposeB: true },
    { label: `G_Zᵀ·X (${tag})`, M: T, N: d, K: N, transposeA: true },
  ];
}

export async function matmulBench(ctx: GpuContext, peers: Peers, shapes: MatmulShape[], budgetMs: number, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const random = new Random(3);
  const tuning = (await autotuneMatmul(ctx)).tuning; // the kernel the trainer uses on this adapter
  const { tf } = peers;
  const wasm = await createWasmMatmul();
  const wasmThreads = await createWasmMatmul({ threads: defaultWasmThreads() });
  try {
    for (const shape of shapes) {
      const { M, N, K } = shape;
      const tA = shape.transposeA ?? false;
      const tB = shape.transposeB ?? false;
      const a = uniformArray(random, M * K);
      const b = uniformArray(random, K * N);
      const aShape: [number, number] = tA ? [K, M] : [M, K];
      const bShape: [number, number] = tB ? [N, K] : [K, N];
      const contenders: Contender[] = [];
      const cleanups: Array<() => void> = [];

      const ours = await sigmtlMatmul(ctx, tuning, { transposeA: tA, transposeB: tB }, { M, N, K }, a, b);
      cleanups.push(() => ours.destroy());
      contenders.push({ name: 'sigmtl-webgpu|1', run: () => ours.run(true) }, { name: 'sigmtl-webgpu|0', run: () => ours.run(false) });

      for (const backend of peers.tfBackends) {
        await tf.setBackend(backend);
        const ta = tf.tensor2d(a, aShape);
        const tb = tf.tensor2d(b, bShape);
        cleanups.push(() => tf.dispose([ta, tb]));
        contenders.push({
          name: `tfjs-${backend}|1`,
          run: async () => {
            await tf.setBackend(backend);
            const c = tf.matMul(ta, tb, tA, tB);
            await c.data();
            c.dispose();
          },
        });
        if (backend === 'webgpu') {
          contenders.push({
            name: 'tfjs-webgpu|0',
            run: async () => {
              await tf.setBackend('webgpu');
              const c = tf.matMul(ta, tb, tA, tB);
              // Flush tfjs's open pass and command encoder (what its own readback does first), then wait.
              const webgpu = tf.backend() as unknown as { endComputePassEncoder(): void; submitQueue(): void; device: GPUDevice };
              webgpu.endComputePassEncoder();
              webgpu.submitQueue();
              await webgpu.device.queue.onSubmittedWorkDone();
              c.dispose();
            },
          });
        }
      }

      if (peers.gpujs) {
        const { GPU, Input, mode } = peers.gpujs;
        const gpu = new GPU({ mode: mode as 'webgpu' });
        const kernel = gpu
          .createKernel(function (this: { thread: { x: number; y: number }; constants: { K: number; tA: number; tB: number } }, x: number[][], y: number[][]) {
            let sum = 0;
            for (let k = 0; k < this.constants.K; k++) {
              let av = 0;
              let bv = 0;
              if (this.constants.tA === 1) av = x[k]![this.thread.y]!;
              else av = x[this.thread.y]![k]!;
              if (this.constants.tB === 1) bv = y[this.thread.x]![k]!;
              else bv = y[k]![this.thread.x]!;
              sum += av * bv;
            }
            return sum;
          })
          .setConstants({ K, tA: tA ? 1 : 0, tB: tB ? 1 : 0 })
          .setOutput([N, M]);
        const inA = new Input(a as unknown as number[], [aShape[1], aShape[0]]);
        const inB = new Input(b as unknown as number[], [bShape[1], bShape[0]]);
        cleanups.push(() => gpu.destroy());
        contenders.push({ name: `gpu.js-${mode}|1`, run: async () => kernel(inA, inB) });
      }

      contenders.push({ name: 'sigmtl-cpu|1', run: async () => matmulReference(a, b, { M, N, K, transposeA: tA, transposeB: tB }) });
      // The CPU engine's matmul (f32, Wasm SIMD), copies into and out of its memory included.
      contenders.push({ name: 'sigmtl-wasm|1', run: async () => wasm.matmul(a, b, { M, N, K, transposeA: tA, transposeB: tB }) });
      if (wasmThreads.threads > 1) {
        contenders.push({ name: `sigmtl-wasm (${wasmThreads.threads} threads)|1`, run: () => wasmThreads.product(a, b, { M, N, K, transposeA: tA, transposeB: tB }) });
      }

      const times = await interleaved(contenders, { budgetMs, maxRounds: 7, oneShotMs: budgetMs * 2 });
      const flops = 2 * M * N * K;
      for (const [name, t] of times) {
        const [impl, readback] = name.split('|') as [string, string];
        const row = timedRow({ bench: 'matmul', impl, size: `${shape.label} (${M}×${N}×${K})`, readback: readback === '1' }, t);
        row.gflops = flops / (t.medianMs * 1e6);
        rows.push(row);
        log(`  matmul ${row.size} ${impl}${readback === '1' ? '' : ' (no readback)'}: ${t.medianMs.toFixed(1)} ms, ${row.gflops.toFixed(3)} GFLOP/s (${t.runs} runs)`);
      }
      for (const cleanup of cleanups) cleanup();
    }
  } finally {
    wasm.destroy();
    wasmThreads.destroy();
  }
  return rows;
}
