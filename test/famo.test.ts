// FAMO (src/core/weighting.ts): its step against hand-worked values, its gradient against finite
// differences of the objective it follows, WebGPU against the CPU over 100 steps, and an exact
// resume from a checkpoint that carries its state.
import { describe, expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { famoStep } from '../src/cpu/famo.js';
import { referenceGradients } from '../src/cpu/step.js';
import { forward, taskLoss } from '../src/cpu/reference.js';
import { CpuBackend } from '../src/backends/cpu.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
import { FAMO, famoStateSize } from '../src/core/weighting.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { initParameters } from '../src/core/init.js';
import { DEFAULT_OPTIMIZER } from '../src/core/optimizers.js';
import { parameterLayout } from '../src/core/shape.js';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';
import { train } from '../src/index.js';

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance) {
  const c = compareArrays(got, want, tol);
  expect(c.ok, describeComparison(name, c, tol)).toBe(true);
}

describe('FAMO step (float64), hand-worked', () => {
  test('first step: uniform logits, α ∝ 1/L_t summing to the observed task count; the losses are kept', () => {
    // z = (½, ½), c = ½/1 + ½/4 = 0.625: α = 2·(½/0.625, ½/(0.625·4)) = (1.6, 0.4)
    const { weights, state } = famoStep([1, 4], new Float64Array(8), 0);
    expectClose('α', weights, [1.6, 0.4], { atol: 1e-7, rtol: 1e-7 });
    expect(Array.from(state)).toEqual([0, 0, 0, 0, 0, 0, 1, 4]);
  });

  test('second step: the task whose log-loss fell gets a lower logit (one Adam step of 0.025)', () => {
    // δ = (log 1 − log 0.5, 0); g = z⊙(δ − z·δ) = (+0.1733, −0.1733); Adam's first step moves by lr·sign(g):
    // ξ = (−0.025, +0.025), then α = 2·z_t/(c·L_t) with L = (0.5, 4)
    const { weights, state } = famoStep([0.5, 4], [0, 0, 0, 0, 0, 0, 1, 4], 1);
    expectClose('ξ', state.subarray(0, 2), [-0.025, 0.025], { atol: 1e-8, rtol: 1e-6 });
    expectClose('α', weights, [1.7677075189, 0.2322924811], { atol: 1e-8, rtol: 1e-8 });
  });

  test('a task not observed in the batch gets no weight and no logit change from δ', () => {
    const { weights, state } = famoStep([2, 0, 2], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 1);
    expect(weights[1]).toBe(0);
    expectClose('α', weights, [1, 0, 1], { atol: 1e-7, rtol: 1e-7 });
    expect(state[3 * 3 + 1]).toBe(0); // an unobserved task's last loss is unknown (0), so next step's δ is 0
  });
});

const SHAPE = { features: 5, hidden: 4, tasks: 3 };

function data(rows: number) {
  const d = teacherStudentData({ shape: SHAPE, rows, seed: 12, noise: 0.1 });
  for (let n = 0; n < 20; n++) d.mask[n * 3 + 2] = 0; // the third task is absent from the first 20 rows
  return d;
}

test('the gradient is |P|/c·∇Σ_t z_t·log L_t with z and c held: central differences', () => {
  const layout = parameterLayout(SHAPE);
  const d = data(40);
  const tasks = [0, 1, 2].map(() => ({ loss: 'mse' as const, weight: 1 }));
  const params = initParameters(SHAPE, 3, 'random');
  const state = Float64Array.from([0.3, -0.2, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // logits, no history
  const got = referenceGradients(params, layout, d, tasks, 0, 40, { weighting: 'famo', step: 0, weightingState: state });
  const losses = (p: Float64Array) => taskLoss(forward(p, layout, d.X, 40).Y, d.Y, d.mask, tasks, 40).perTask;
  const L = losses(params);
  const z = [0.3, -0.2, 0.1].map(Math.exp);
  const zSum = z.reduce((a, b) => a + b, 0);
  const c = z.reduce((sum, v, t) => sum + v / zSum / (L[t]! + FAMO.lossEpsilon), 0);
  const objective = (p: Float64Array) => (3 / c) * Array.from(losses(p)).reduce((sum, l, t) => sum + (z[t]! / zSum) * Math.log(l + FAMO.lossEpsilon), 0);
  const h = 1e-6;
  for (const i of [0, 7, layout.A.offset + 2, layout.b.offset + 1, layout.c.offset + 2]) {
    const up = params.slice();
    const down = params.slice();
    up[i]! += h;
    down[i]! -= h;
    const numeric = (objective(up) - objective(down)) / (2 * h);
    expect(Math.abs(got.grads[i]! - numeric), `parameter ${i}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(numeric));
  }
});

test('WebGPU and the CPU agree after 100 steps, the state included; the mean α is reported', async () => {
  const ctx = await gpu();
  const d = data(96);
  const tasks = [
    { loss: 'mse' as const, weight: 1 },
    { loss: 'mse' as const, weight: 2 },
    { loss: 'mse' as const, weight: 1 },
  ];
  const config: BackendConfig = { shape: SHAPE, tasks, optimizer: { ...DEFAULT_OPTIMIZER, learningRate: 0.02 }, maxBatch: 16, weighting: 'famo' };
  const cpu = new CpuBackend(config);
  const webgpu = await WebGpuBackend.create(ctx, config, { stepsPerSubmit: 8 });
  for (const backend of [cpu, webgpu] as TrainingBackend[]) {
    backend.setParameters(initParameters(SHAPE, 1, 'random'));
    backend.setDataset(d);
  }
  const steps = Array.from({ length: 100 }, (_, i) => ({ start: (i * 16) % 96, rows: 16, learningRate: 0.02 }));
  await Promise.all([cpu.trainSteps(steps), webgpu.trainSteps(steps)]);
  const [want, got] = await Promise.all([cpu.getParameters(), webgpu.getParameters()]);
  expectClose('parameters after 100 steps', got, want, { atol: 2e-3, rtol: 1e-2 });
  const [cpuState, gpuState] = await Promise.all([cpu.getOptimizerState(), webgpu.getOptimizerState()]);
  expect(gpuState.weighting!.length).toBe(famoStateSize(3));
  expectClose('FAMO state (ξ, m, v, last losses)', gpuState.weighting!, cpuState.weighting!, { atol: 1e-3, rtol: 1e-2 });
  expect(cpuState.weighting![0]).not.toBe(0); // the logits moved
  const [cpuLoss, gpuLoss] = await Promise.all([cpu.readLoss(), webgpu.readLoss()]);
  expectClose('mean α', gpuLoss.taskWeights!, cpuLoss.taskWeights!, { atol: 1e-3, rtol: 1e-2 });
  webgpu.destroy();
});

test('train(): verification passes under FAMO and a run resumed from a checkpoint is exact', async () => {
  const d = teacherStudentData({ shape: { features: 4, hidden: 3, tasks: 2 }, rows: 200, seed: 5, noise: 0.1 });
  const rows = Array.from({ length: 200 }, (_, n) => ({
    x: Array.from(d.X.subarray(n * 4, n * 4 + 4)),
    y: Array.from(d.Y.subarray(n * 2, n * 2 + 2)),
  }));
  const common = {
    features: rows.map((r) => r.x),
    targets: rows.map((r) => r.y),
    epochs: 4,
    batchSize: 20,
    validationSplit: 0,
    weighting: 'famo' as const,
    seed: 6,
    backend: 'cpu' as const,
  };
  // --verify-every on WebGPU: each 7th step's gradients against the float64 reference, FAMO's state read from the GPU.
  const verified = await train({ ...common, backend: 'webgpu', device: (await gpu()).device, verifyEvery: 7 });
  expect(verified.steps).toBe(40);
  const whole = await train(common);
  expect(Object.values(whole.taskWeights).every((w) => w > 0 && w !== 1)).toBe(true);
  let checkpoint: Uint8Array | undefined;
  await train({ ...common, epochs: 2, checkpoint: { every: 2, write: (b) => void (checkpoint = b) } });
  const resumed = await train({ ...common, resume: checkpoint });
  expect(resumed.model.parameters()).toEqual(whole.model.parameters());
}, 60_000);
