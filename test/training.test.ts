// Whole training steps on the GPU against the float64 CPU backend, and training to a known answer.
import { describe, expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { CpuBackend } from '../src/backends/cpu.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from '../src/core/optimizers.js';
import type { TaskSpec } from '../src/core/losses.js';
import type { BackendConfig, TrainStep } from '../src/core/backend.js';
import { initParameters } from '../src/core/init.js';
import { parameterLayout, view } from '../src/core/shape.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
import { chooseMatmulTuning } from '../src/kernels/tuning.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';
import { DivergenceError, trainModel } from '../src/train/trainer.js';
import { DEFAULT_SCHEDULE } from '../src/train/schedule.js';

const SEED_SHAPE = { features: 10, hidden: 5, tasks: 5 };
const MIXED_TASKS: TaskSpec[] = [
  { loss: 'mse', weight: 1 },
  { loss: 'bce', weight: 0.5 },
  { loss: 'mse', weight: 2 },
  { loss: 'bce', weight: 1 },
  { loss: 'mse', weight: 1 },
];

function seedData() {
  const data = teacherStudentData({ shape: SEED_SHAPE, rows: 100, seed: 3, noise: 0.1 });
  // Tasks 1 and 3 are binary: threshold the teacher's outputs; mask out a few targets.
  for (let i = 0; i < data.Y.length; i++) {
    const t = i % 5;
    if (t === 1 || t === 3) data.Y[i] = data.Y[i]! > 0 ? 1 : 0;
    if ((i * 7) % 23 === 0) data.mask[i] = 0;
  }
  return data;
}

function epochSteps(count: number, rows: number, batch: number, learningRate: number): TrainStep[] {
  const steps: TrainStep[] = [];
  for (let i = 0; i < count; i++) {
    const start = (i * batch) % rows;
    steps.push({ start, rows: Math.min(batch, rows - start), learningRate });
  }
  return steps;
}

function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance) {
  const c = compareArrays(got, ref, tol);
  expect(c.ok, describeComparison(name, c, tol)).toBe(true);
}

const OPTIMIZERS: OptimizerConfig[] = [
  { ...DEFAULT_OPTIMIZER, kind: 'sgd', learningRate: 0.1 },
  { ...DEFAULT_OPTIMIZER, kind: 'momentum', learningRate: 0.05, weightDecay: 1e-3 },
  { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: 0.01, weightDecay: 1e-3 },
];

// f32 against f64: one step agrees to rounding; differences then grow with the step count
// (Adam's normalised update amplifies them where the gradient is near zero).
const TOLERANCE_AFTER: Record<number, Tolerance> = {
  1: { atol: 1e-5, rtol: 1e-4 },
  10: { atol: 1e-4, rtol: 1e-3 },
  100: { atol: 2e-3, rtol: 1e-2 },
};

describe.each(['regblock', 'tiled'] as const)('GPU (%s matmul) against the CPU backend', (variant) => {
  test.each(OPTIMIZERS)('$kind: parameters after 1, 10 and 100 steps', async (optimizer) => {
    const ctx = await gpu();
    const data = seedData();
    const config: BackendConfig = { shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer, maxBatch: 32 };
    const cpu = new CpuBackend(config);
    const gpuBackend = await WebGpuBackend.create(ctx, config, { tuning: chooseMatmulTuning(ctx, variant), stepsPerSubmit: 8 });
    const init = initParameters(SEED_SHAPE, 1);
    for (const backend of [cpu, gpuBackend]) {
      backend.setParameters(init);
      backend.setDataset(data);
    }
    const steps = epochSteps(100, data.rows, 32, optimizer.learningRate); // includes a 4-row last batch
    let done = 0;
    for (const checkpoint of [1, 10, 100]) {
      const chunk = steps.slice(done, checkpoint);
      await Promise.all([cpu.trainSteps(chunk), gpuBackend.trainSteps(chunk)]);
      done = checkpoint;
      const [want, got] = await Promise.all([cpu.getParameters(), gpuBackend.getParameters()]);
      expectClose(`${optimizer.kind} after ${checkpoint} steps`, got, want, TOLERANCE_AFTER[checkpoint]!);
    }
    const [cpuLoss, gpuLoss] = await Promise.all([cpu.readLoss(), gpuBackend.readLoss()]);
    expect(gpuLoss.steps).toBe(100);
    expectClose(`${optimizer.kind} mean loss`, gpuLoss.perTask, cpuLoss.perTask, { atol: 1e-4, rtol: 1e-3 });
    const [cpuState, gpuState] = await Promise.all([cpu.getOptimizerState(), gpuBackend.getOptimizerState()]);
    expect(gpuState.step).toBe(cpuState.step);
    gpuBackend.destroy();
  });

  test('gradients and predictions of one batch, including a batch of 1', async () => {
    const ctx = await gpu();
    const data = seedData();
    const config: BackendConfig = { shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer: DEFAULT_OPTIMIZER, maxBatch: 64 };
    const cpu = new CpuBackend(config);
    const gpuBackend = await WebGpuBackend.create(ctx, config, { tuning: chooseMatmulTuning(ctx, variant) });
    const init = initParameters(SEED_SHAPE, 2);
    for (const backend of [cpu, gpuBackend]) {
      backend.setParameters(init);
      backend.setDataset(data);
    }
    for (const [start, rows] of [
      [0, 64],
      [37, 1],
      [99, 1],
      [50, 50],
    ] as const) {
      const [want, got] = await Promise.all([cpu.gradients(start, rows), gpuBackend.gradients(start, rows)]);
      expectClose(`grads rows ${start}+${rows}`, got.grads, want.grads, { atol: 1e-6, rtol: 1e-4 });
      expectClose(`loss rows ${start}+${rows}`, got.perTask, want.perTask, { atol: 1e-6, rtol: 1e-5 });
    }
    // 100 rows through a 64-row buffer: predict streams in chunks.
    const [want, got] = await Promise.all([cpu.predict(data.X, 100), gpuBackend.predict(data.X, 100)]);
    expectClose('predictions', got, want, { atol: 1e-5, rtol: 1e-5 });
    gpuBackend.destroy();
  });
});

test('a frozen A stays exactly as initialised on both backends', async () => {
  const ctx = await gpu();
  const data = seedData();
  const config: BackendConfig = { shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer: DEFAULT_OPTIMIZER, maxBatch: 50, coupling: { freezeA: true } };
  const init = initParameters(SEED_SHAPE, 4);
  const gpuBackend = await WebGpuBackend.create(ctx, config);
  const cpu = new CpuBackend(config);
  for (const backend of [cpu, gpuBackend]) {
    backend.setParameters(init);
    backend.setDataset(data);
    await backend.trainSteps(epochSteps(20, 100, 50, 0.05));
    const params = await backend.getParameters();
    const { offset, size } = backend.layout.A;
    expect(Array.from(params.subarray(offset, offset + size))).toEqual(Array.from(Float32Array.from(init.subarray(offset, offset + size))));
    expect(params[0]).not.toBe(Math.fround(init[0]!)); // W did train
  }
  gpuBackend.destroy();
});

test('teacher–student: training on the GPU lowers the MSE at least 100×', async () => {
  const ctx = await gpu();
  const shape = { features: 8, hidden: 4, tasks: 4 };
  const data = teacherStudentData({ shape, rows: 512, seed: 9, weightScale: 1 });
  const tasks: TaskSpec[] = Array(4).fill({ loss: 'mse', weight: 1 });
  const optimizer = { ...DEFAULT_OPTIMIZER, kind: 'adam' as const, learningRate: 0.02 };
  const backend = await WebGpuBackend.create(ctx, { shape, tasks, optimizer, maxBatch: 512 });
  backend.setParameters(initParameters(shape, 10, 'random'));
  backend.setDataset(data);
  const full = { start: 0, rows: 512 };
  const before = (await backend.gradients(0, 512)).perTask.reduce((a, b) => a + b);
  await backend.trainSteps(Array.from({ length: 3000 }, (_, i) => ({ ...full, learningRate: i < 2000 ? 0.02 : 0.005 })));
  const after = (await backend.gradients(0, 512)).perTask.reduce((a, b) => a + b);
  expect(after, `MSE before ${before}, after ${after}`).toBeLessThan(before / 100);
  backend.destroy();
});

test('vec4 kernels in a whole step: a shape where every product fits them agrees with the CPU', async () => {
  const ctx = await gpu();
  const shape = { features: 12, hidden: 8, tasks: 4 };
  const data = teacherStudentData({ shape, rows: 128, seed: 21, noise: 0.1 });
  const tasks: TaskSpec[] = Array(4).fill({ loss: 'mse', weight: 1 });
  const config: BackendConfig = { shape, tasks, optimizer: { ...DEFAULT_OPTIMIZER, kind: 'adam' }, maxBatch: 32 };
  const cpu = new CpuBackend(config);
  const gpuBackend = await WebGpuBackend.create(ctx, config, { tuning: chooseMatmulTuning(ctx, 'regblock-vec4') });
  const init = initParameters(shape, 22, 'random');
  for (const backend of [cpu, gpuBackend]) {
    backend.setParameters(init);
    backend.setDataset(data);
  }
  const [want, got] = await Promise.all([cpu.gradients(32, 32), gpuBackend.gradients(32, 32)]);
  expectClose('vec4 gradients', got.grads, want.grads, { atol: 1e-6, rtol: 1e-4 });
  const steps = epochSteps(10, 128, 32, 0.01);
  await Promise.all([cpu.trainSteps(steps), gpuBackend.trainSteps(steps)]);
  expectClose('vec4 after 10 steps', await gpuBackend.getParameters(), await cpu.getParameters(), TOLERANCE_AFTER[10]!);
  gpuBackend.destroy();
});

test('the coupling regularisers pull A toward the identity or toward zero, the same on both backends', async () => {
  const ctx = await gpu();
  const data = seedData();
  const init = initParameters(SEED_SHAPE, 4, 'random');
  const layout = parameterLayout(SEED_SHAPE);
  const distance = async (backend: { getParameters(): Promise<Float64Array> }, target: (t: number, h: number) => number) => {
    const A = view(await backend.getParameters(), layout.A);
    let sum = 0;
    for (let t = 0; t < 5; t++) for (let h = 0; h < 5; h++) sum += (A[t * 5 + h]! - target(t, h)) ** 2;
    return Math.sqrt(sum);
  };
  const identity = (t: number, h: number) => (t === h ? 1 : 0);
  const results: Record<string, number> = {};
  for (const [name, coupling] of [
    ['none', {}],
    ['identity', { identityA: 5 }],
    ['l1', { l1A: 0.05 }],
  ] as const) {
    const config: BackendConfig = { shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer: { ...DEFAULT_OPTIMIZER, kind: 'sgd', learningRate: 0.05 }, maxBatch: 50, coupling };
    const cpu = new CpuBackend(config);
    const gpuBackend = await WebGpuBackend.create(ctx, config);
    for (const backend of [cpu, gpuBackend]) {
      backend.setParameters(init);
      backend.setDataset(data);
      await backend.trainSteps(epochSteps(40, 100, 50, 0.05));
    }
    expectClose(`${name} regulariser`, await gpuBackend.getParameters(), await cpu.getParameters(), TOLERANCE_AFTER[10]!);
    results[`${name}→I`] = await distance(cpu, identity);
    results[`${name}→0`] = await distance(cpu, () => 0);
    gpuBackend.destroy();
  }
  expect(results['identity→I']!).toBeLessThan(results['none→I']! / 2);
  expect(results['l1→0']!).toBeLessThan(results['none→0']!);
});

describe('the trainer', () => {
  const trainerOptions = {
    epochs: 3,
    batchSize: 16,
    learningRate: 0.01,
    schedule: DEFAULT_SCHEDULE,
    seed: 7,
    reportEvery: 7,
    patience: 0,
    verifyEvery: 0,
  };

  test('streams a data set larger than one GPU buffer in shards, with the same result as the CPU', async () => {
    const ctx = await gpu();
    const data = seedData();
    const config: BackendConfig = { shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer: DEFAULT_OPTIMIZER, maxBatch: 16 };
    const init = initParameters(SEED_SHAPE, 9);
    const gpuBackend = await WebGpuBackend.create(ctx, config, { maxDatasetRows: 40 });
    const cpu = new CpuBackend(config);
    expect(() => gpuBackend.setDataset(data)).toThrow('data set of 100 rows exceeds one GPU buffer (40 rows)');
    for (const backend of [cpu, gpuBackend]) {
      backend.setParameters(init);
      const result = await trainModel(backend, data, undefined, trainerOptions);
      expect(result.steps).toBe(21); // 7 batches of 16 (the last of 4) per epoch
    }
    expectClose('sharded training', await gpuBackend.getParameters(), await cpu.getParameters(), TOLERANCE_AFTER[100]!);
    gpuBackend.destroy();
  });

  test('--verify-every passes on the GPU and catches a backend whose gradients are wrong', async () => {
    const ctx = await gpu();
    const data = seedData();
    const config: BackendConfig = { shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer: DEFAULT_OPTIMIZER, maxBatch: 16 };
    const gpuBackend = await WebGpuBackend.create(ctx, config);
    gpuBackend.setParameters(initParameters(SEED_SHAPE, 9));
    const result = await trainModel(gpuBackend, data, undefined, { ...trainerOptions, verifyEvery: 5 });
    expect(result.verifications).toBe(5); // steps 0, 5, 10, 15, 20
    gpuBackend.destroy();

    const broken = new CpuBackend(config);
    broken.setParameters(initParameters(SEED_SHAPE, 9));
    const honest = broken.gradients.bind(broken);
    broken.gradients = async (start, rows) => {
      const report = await honest(start, rows);
      report.grads[3]! += 0.01;
      return report;
    };
    await expect(trainModel(broken, data, undefined, { ...trainerOptions, verifyEvery: 5 })).rejects.toThrow(
      /step 0: the cpu gradients disagree with the float64 reference\ngradients: max abs 1\.00e-2/,
    );
  });

  test('a diverging run stops with a remedy and the last good parameters', async () => {
    const data = seedData();
    const optimizer = { ...DEFAULT_OPTIMIZER, kind: 'sgd' as const, learningRate: 1e30 };
    const cpu = new CpuBackend({ shape: SEED_SHAPE, tasks: MIXED_TASKS, optimizer, maxBatch: 16 });
    const init = initParameters(SEED_SHAPE, 9);
    cpu.setParameters(init);
    const run = trainModel(cpu, data, undefined, { ...trainerOptions, learningRate: 1e30 });
    await expect(run).rejects.toThrow(/training diverged: the loss became (NaN|Infinity) at epoch 1.*Try a lower learning rate/);
    await run.catch((error: DivergenceError) => expect(Array.from(error.lastGoodParams)).toEqual(Array.from(init)));
  });
});
