// Training throughput on the WebGPU adapter: full-batch steps (forward, loss, backward, Adam update)
// of the same model on sigmtl (1 step per submit, and 16 per submit) and tfjs (webgpu, wasm, cpu;
// the model written with tf.matMul / tf.sigmoid and trained by tfjs's own gradients and Adam), in
// this one process, interleaved. Also counts dispatches, submits and mapAsync calls per step, and,
// where the adapter has timestamp queries, each sigmtl kernel's GPU time. The CPU contestants
// (sigmtl's engine and reference, PyTorch) are compared each in its own process: bench/compare.ts.
import type { GpuContext } from '../src/gpu/context.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { DEFAULT_OPTIMIZER } from '../src/core/optimizers.js';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { initParameters } from '../src/core/init.js';
import { parameterLayout, view } from '../src/core/shape.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
import type { KernelTime } from '../src/gpu/passes.js';
import type { Counts, Peers } from './peers.js';
import { timedRow, type BenchRow } from './rows.js';
import { interleaved, type Contender } from './timing.js';

export interface TrainSize {
  d: number;
  T: number;
  N: number;
  /** Steps per timed run. */
  steps: number;
}

const LEARNING_RATE = 0.01;

interface Trainer {
  name: string;
  /** `steps` steps (default: the size's), then one loss readback. */
  run(steps?: number): Promise<void>;
  destroy(): void;
}

async function sigmtlTrainer(name: string, backend: TrainingBackend, size: TrainSize): Promise<Trainer> {
  const step = { start: 0, rows: size.N, learningRate: LEARNING_RATE };
  return {
    name,
    async run(steps = size.steps) {
      await backend.trainSteps(Array.from({ length: steps }, () => step));
      await backend.readLoss();
    },
    destroy: () => backend.destroy(),
  };
}

async function tfjsTrainer(peers: Peers, backendName: string, size: TrainSize, init: Float64Array, data: { X: Float32Array; Y: Float32Array }): Promise<Trainer> {
  const { tf } = peers;
  await tf.setBackend(backendName);
  const { d, T, N } = size;
  const layout = parameterLayout({ features: d, hidden: T, tasks: T });
  const variable = (values: Float64Array, shape: number[]) => tf.variable(tf.tensor(Float32Array.from(values), shape));
  const W = variable(view(init, layout.W), [T, d]);
  const b = variable(view(init, layout.b), [T]);
  const A = variable(view(init, layout.A), [T, T]);
  const c = variable(view(init, layout.c), [T]);
  const X = tf.tensor2d(data.X, [N, d]);
  const Y = tf.tensor2d(data.Y, [N, T]);
  const optimizer = tf.train.adam(LEARNING_RATE);
  const loss = () => {
    const S = tf.sigmoid(tf.add(tf.matMul(X, W, false, true), b));
    const prediction = tf.add(tf.matMul(S, A, false, true), c);
    // Σ_t mean_n (y − ŷ)², the same loss as sigmtl's MSE tasks with weight 1.
    return tf.div(tf.sum(tf.square(tf.sub(prediction, Y))), N) as ReturnType<typeof tf.scalar>;
  };
  return {
    name: `tfjs-${backendName}`,
    async run(steps = size.steps) {
      await tf.setBackend(backendName);
      let last: ReturnType<typeof tf.scalar> | null = null;
      for (let i = 0; i < steps; i++) {
        last?.dispose();
        last = optimizer.minimize(loss, i === steps - 1) as ReturnType<typeof tf.scalar> | null;
      }
      await last!.data();
      last!.dispose();
    },
    destroy() {
      tf.dispose([W, b, A, c, X, Y]);
      optimizer.dispose();
    },
  };
}

export interface TrainBenchResult {
  rows: BenchRow[];
  kernelTimes: Array<{ size: string; kernels: KernelTime[] }>;
}

export async function trainBench(ctx: GpuContext, peers: Peers, sizes: TrainSize[], budgetMs: number, counts: () => Counts, log: (s: string) => void): Promise<TrainBenchResult> {
  const rows: BenchRow[] = [];
  const kernelTimes: TrainBenchResult['kernelTimes'] = [];
  for (const size of sizes) {
    const { d, T, N } = size;
    const label = `d=${d} T=${T} N=${N}`;
    const shape = { features: d, hidden: T, tasks: T };
    const data = teacherStudentData({ shape, rows: N, seed: 5, noise: 0.1 });
    const init = initParameters(shape, 6, 'random');
    const config: BackendConfig = {
      shape,
      tasks: Array.from({ length: T }, () => ({ loss: 'mse' as const, weight: 1 })),
      optimizer: { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: LEARNING_RATE },
      maxBatch: N,
    };
    const trainers: Trainer[] = [];
    for (const [name, stepsPerSubmit] of [
      ['sigmtl-webgpu (1 step/submit)', 1],
      ['sigmtl-webgpu (16 steps/submit)', 16],
    ] as const) {
      const backend = await WebGpuBackend.create(ctx, config, { stepsPerSubmit });
      backend.setParameters(init);
      backend.setDataset(data);
      trainers.push(await sigmtlTrainer(name, backend, size));
    }
    for (const backendName of peers.tfBackends) trainers.push(await tfjsTrainer(peers, backendName, size, init, data));

    // Dispatches, submits and mapAsync per step, over 32 steps (4 at the largest size, where a tfjs
    // step takes seconds) and one loss report, after a warm-up.
    const perStep = new Map<string, Counts>();
    const counted = size.N * size.d > 4096 * 256 ? 4 : 32;
    for (const trainer of trainers) {
      if (!trainer.name.includes('webgpu')) continue;
      await trainer.run(1);
      const before = counts();
      await trainer.run(counted);
      const after = counts();
      perStep.set(trainer.name, {
        dispatches: (after.dispatches - before.dispatches) / counted,
        submits: (after.submits - before.submits) / counted,
        maps: (after.maps - before.maps) / counted,
      });
    }

    const contenders: Contender[] = trainers.map((t) => ({ name: t.name, run: () => t.run() }));
    const times = await interleaved(contenders, { budgetMs, maxRounds: 5, oneShotMs: budgetMs * 2 });
    for (const [name, t] of times) {
      const row = timedRow({ bench: 'train', impl: name, size: label, readback: true }, t);
      row.stepsPerSecond = size.steps / (t.medianMs / 1000);
      const c = perStep.get(name);
      if (c) {
        row.dispatchesPerStep = c.dispatches;
        row.submitsPerStep = c.submits;
        row.mapAsyncPerStep = c.maps;
      }
      rows.push(row);
      log(`  train ${label} ${name}: ${row.stepsPerSecond.toFixed(2)} steps/s (${t.runs} runs of ${size.steps} steps)`);
    }
    for (const t of trainers) t.destroy();

    if (ctx.features.includes('timestamp-query')) {
      const backend = await WebGpuBackend.create(ctx, config);
      backend.setParameters(init);
      backend.setDataset(data);
      await backend.profileStep({ start: 0, rows: N, learningRate: LEARNING_RATE }); // warm-up
      kernelTimes.push({ size: label, kernels: await backend.profileStep({ start: 0, rows: N, learningRate: LEARNING_RATE }) });
      backend.destroy();
    }
  }
  return { rows, kernelTimes };
}
