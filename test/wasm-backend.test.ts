// The CPU engine (src/backends/wasm.ts) against the float64 CPU backend, step by step, as the
// WebGPU backend is checked: every optimizer, loss, mask, weighting and aggregator, awkward shapes
// and a batch of 1; then train() on it end to end.
import { describe, expect, test } from 'vitest';
import { CpuBackend } from '../src/backends/cpu.js';
import { WasmBackend } from '../src/backends/wasm.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from '../src/core/optimizers.js';
import type { TaskSpec } from '../src/core/losses.js';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { initParameters } from '../src/core/init.js';
import { WEIGHTING_KINDS } from '../src/core/weighting.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';
import { train } from '../src/index.js';
import { nativeProductBuilds, setNativeProducts, type WasmKernelOptions } from '../src/cpu/wasm-matmul.js';
import { loadNativeProducts } from '../src/io/native-products.js';

// The engine's products on WebAssembly, and on each native build this CPU runs (native/).
setNativeProducts(loadNativeProducts());
const ENGINES: [string, WasmKernelOptions][] = [
  ['WebAssembly', { native: false }],
  ...nativeProductBuilds().map((build): [string, WasmKernelOptions] => [`native ${build}`, { native: build }]),
];

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance) {
  const c = compareArrays(got, want, tol);
  expect(c.ok, describeComparison(name, c, tol)).toBe(true);
}

const SHAPE = { features: 11, hidden: 6, tasks: 5 };
const TASKS: TaskSpec[] = [
  { loss: 'mse', weight: 1 },
  { loss: 'bce', weight: 0.5 },
  { loss: 'mse', weight: 2 },
  { loss: 'bce', weight: 1 },
  { loss: 'mse', weight: 1 },
];

function data() {
  const d = teacherStudentData({ shape: SHAPE, rows: 90, seed: 3, noise: 0.1 });
  for (let i = 0; i < d.Y.length; i++) {
    const t = i % 5;
    if (t === 1 || t === 3) d.Y[i] = d.Y[i]! > 0 ? 1 : 0;
    if ((i * 7) % 23 === 0) d.mask[i] = 0;
  }
  return d;
}

async function pair(config: BackendConfig, options: WasmKernelOptions): Promise<[TrainingBackend, TrainingBackend]> {
  const cpu = new CpuBackend(config);
  const wasm = await WasmBackend.create(config, options);
  const d = data();
  for (const backend of [cpu, wasm]) {
    backend.setParameters(initParameters(config.shape, 1, config.shape.hidden === config.shape.tasks ? 'identity' : 'random'));
    backend.setDataset(d);
  }
  return [cpu, wasm];
}

const steps = (count: number, lr: number) => Array.from({ length: count }, (_, i) => ({ start: (i * 32) % 90, rows: Math.min(32, 90 - ((i * 32) % 90)), learningRate: lr }));

describe.each(ENGINES)('the CPU engine (%s) against the float64 reference', (_name, engine) => {
  test('gradients of one batch, and of a batch of 1; predictions', async () => {
    const [cpu, wasm] = await pair({ shape: SHAPE, tasks: TASKS, optimizer: DEFAULT_OPTIMIZER, maxBatch: 32 }, engine);
    for (const [start, rows] of [
      [0, 32],
      [57, 1],
      [58, 32],
    ] as const) {
      const [want, got] = await Promise.all([cpu.gradients(start, rows), wasm.gradients(start, rows)]);
      expectClose(`gradients ${start}+${rows}`, got.grads, want.grads, { atol: 1e-6, rtol: 1e-4 });
      expectClose(`losses ${start}+${rows}`, got.perTask, want.perTask, { atol: 1e-6, rtol: 1e-5 });
    }
    const X = data().X;
    expectClose('predictions', await wasm.predict(X, 90), await cpu.predict(X, 90), { atol: 1e-5, rtol: 1e-5 });
  });

  const OPTIMIZERS: OptimizerConfig[] = [
    { ...DEFAULT_OPTIMIZER, kind: 'sgd', learningRate: 0.1 },
    { ...DEFAULT_OPTIMIZER, kind: 'momentum', learningRate: 0.05, weightDecay: 1e-3 },
    { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: 0.01, weightDecay: 1e-3 },
  ];
  test.each(OPTIMIZERS)('$kind: parameters after 100 steps (H ≠ T, coupling regularisers)', async (optimizer) => {
    const config: BackendConfig = { shape: { ...SHAPE, hidden: 7 }, tasks: TASKS, optimizer, maxBatch: 32, coupling: { l1A: 1e-3, identityA: 0 } };
    const [cpu, wasm] = await pair(config, engine);
    await Promise.all([cpu.trainSteps(steps(100, optimizer.learningRate)), wasm.trainSteps(steps(100, optimizer.learningRate))]);
    expectClose(`${optimizer.kind} after 100 steps`, await wasm.getParameters(), await cpu.getParameters(), { atol: 2e-4, rtol: 1e-3 });
    expectClose('mean loss', (await wasm.readLoss()).perTask, (await cpu.readLoss()).perTask, { atol: 1e-5, rtol: 1e-4 });
  });

  test.each(WEIGHTING_KINDS)('weighting %s: parameters, state and reported weights after 100 steps', async (weighting) => {
    const config: BackendConfig = { shape: SHAPE, tasks: TASKS, optimizer: { ...DEFAULT_OPTIMIZER, learningRate: 0.01 }, maxBatch: 32, weighting, seed: 4 };
    const [cpu, wasm] = await pair(config, engine);
    await Promise.all([cpu.trainSteps(steps(100, 0.01)), wasm.trainSteps(steps(100, 0.01))]);
    expectClose(`${weighting} after 100 steps`, await wasm.getParameters(), await cpu.getParameters(), { atol: 2e-4, rtol: 1e-3 });
    const [c, w] = [await cpu.getOptimizerState(), await wasm.getOptimizerState()];
    if (c.weighting) expectClose('FAMO state', w.weighting!, c.weighting, { atol: 1e-4, rtol: 1e-3 });
    const [cl, wl] = [await cpu.readLoss(), await wasm.readLoss()];
    if (cl.taskWeights) expectClose('mean α', wl.taskWeights!, cl.taskWeights, { atol: 1e-4, rtol: 1e-3 });
    if (weighting === 'mgda') {
      const [gc, gw] = [await cpu.gradients(0, 32), await wasm.gradients(0, 32)];
      expectClose('task Gramian', gw.gramian!, gc.gramian!, { atol: 1e-7, rtol: 1e-4 });
    }
  });
});

test("train({ backend: 'wasm' }) learns and agrees with the float64 backend", async () => {
  const d = teacherStudentData({ shape: { features: 6, hidden: 4, tasks: 3 }, rows: 400, seed: 8, noise: 0.05 });
  const options = { features: d.X, targets: d.Y, featureCount: 6, taskCount: 3, epochs: 20, validationSplit: 0, seed: 2 };
  const wasm = await train({ ...options, backend: 'wasm' });
  // A model this small stays on WebAssembly by default (see native.test.ts).
  const cpu = await train({ ...options, backend: 'cpu' });
  expect(wasm.backend).toBe('wasm');
  expect(wasm.adapter).toMatch(/CPU engine \(float32, WebAssembly (relaxed )?SIMD/);
  expect(wasm.lossLast).toBeLessThan(wasm.lossFirst / 3);
  expect(wasm.agreement.ok).toBe(true);
  const [w, c] = [wasm.model.parameters(), cpu.model.parameters()];
  w.W.forEach((v, i) => expect(Math.abs(v - c.W[i]!)).toBeLessThan(1e-3 + 1e-2 * Math.abs(c.W[i]!)));
});

test.each(ENGINES)('on 2 threads the engine (%s) trains exactly as on one', async (_name, engine) => {
  await import('../src/node.js'); // registers the worker pool
  const shape = { features: 64, hidden: 32, tasks: 8 };
  const d = teacherStudentData({ shape, rows: 512, seed: 4, noise: 0.1 });
  const config: BackendConfig = {
    shape,
    tasks: Array.from({ length: 8 }, () => ({ loss: 'mse' as const, weight: 1 })),
    optimizer: DEFAULT_OPTIMIZER,
    maxBatch: 256,
    weighting: 'upgrad',
  };
  const [one, two] = await Promise.all([WasmBackend.create(config, { ...engine, threads: 1 }), WasmBackend.create(config, { ...engine, threads: 2 })]);
  expect(two.description).toMatch(/2 threads/);
  for (const backend of [one, two]) {
    backend.setParameters(initParameters(shape, 3, 'random'));
    backend.setDataset(d);
    await backend.trainSteps(Array.from({ length: 20 }, (_, i) => ({ start: (i % 2) * 256, rows: 256, learningRate: 0.01 })));
  }
  expect(Array.from(await two.getParameters())).toEqual(Array.from(await one.getParameters()));
  one.destroy();
  two.destroy();
});
