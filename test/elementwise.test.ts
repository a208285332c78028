// The standalone sigmoid kernels, the loss kernel and the optimizer kernel against the reference.
import { describe, expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { lossGradient, taskLoss } from '../src/cpu/reference.js';
import { sigmoid } from '../src/core/losses.js';
import { optimizerStep } from '../src/cpu/optimizer.js';
import { newOptimizerState } from '../src/core/optimizers.js';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from '../src/core/optimizers.js';
import type { TaskSpec } from '../src/core/losses.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';
import { CHECK_TOLERANCE } from '../src/verify/cases.js';
import { runLoss, runOptimizer, runSigmoidBackward, runSigmoidForward } from '../src/verify/run-kernels.js';
import { Random, uniformArray } from '../src/util/random.js';

const F32: Tolerance = CHECK_TOLERANCE.elementwise; // the tolerance sigmtl check uses

function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol = F32) {
  const c = compareArrays(got, ref, tol);
  expect(c.ok, describeComparison(name, c, tol)).toBe(true);
}

describe('sigmoid', () => {
  test('forward and backward on awkward sizes', async () => {
    const ctx = await gpu();
    const random = new Random(3);
    for (const n of [1, 7, 255, 256, 257, 4099]) {
      const z = uniformArray(random, n, -12, 12);
      const s = await runSigmoidForward(ctx, z);
      expectClose(`σ n=${n}`, s, Array.from(z, sigmoid));
      const gradS = uniformArray(random, n);
      const gradZ = await runSigmoidBackward(ctx, s, gradS);
      expectClose(
        `σ' n=${n}`,
        gradZ,
        Array.from(s, (v, i) => gradS[i]! * v * (1 - v)),
      );
    }
  });

  test('±400 gives exactly 1 and 0 and a zero gradient, never NaN', async () => {
    const ctx = await gpu();
    const z = Float32Array.from([400, -400, 1e30, -1e30, 0, 88, -88, 100, -100]);
    const s = await runSigmoidForward(ctx, z);
    expect(Array.from(s.subarray(0, 5))).toEqual([1, 0, 1, 0, 0.5]);
    expect(s.every(Number.isFinite)).toBe(true);
    const gradZ = await runSigmoidBackward(ctx, s, new Float32Array(z.length).fill(1));
    expect(Array.from(gradZ.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(gradZ.every(Number.isFinite)).toBe(true);
  });

  test('a dispatch of more than 65,535 workgroups', async () => {
    const ctx = await gpu();
    const n = 256 * ctx.limits.maxComputeWorkgroupsPerDimension + 300;
    const z = new Float32Array(n);
    for (let i = 0; i < n; i++) z[i] = ((i % 2001) - 1000) / 50;
    const s = await runSigmoidForward(ctx, z);
    expectClose(`σ n=${n}`, s, Array.from(z, sigmoid));
  });
});

describe('loss', () => {
  const TASKS: TaskSpec[] = [
    { loss: 'mse', weight: 1 },
    { loss: 'bce', weight: 0.5 },
    { loss: 'mse', weight: 2 },
    { loss: 'bce', weight: 1 },
  ];

  function batch(random: Random, rows: number, maskRate: number) {
    const T = TASKS.length;
    const y = uniformArray(random, rows * T, -3, 3);
    const targets = new Float32Array(rows * T);
    const mask = new Float32Array(rows * T);
    for (let i = 0; i < rows * T; i++) {
      const t = i % T;
      targets[i] = TASKS[t]!.loss === 'bce' ? (random.next() < 0.4 ? 1 : 0) : random.normal();
      mask[i] = random.next() < maskRate ? 0 : 1;
    }
    return { rows, y, targets, mask, tasks: TASKS };
  }

  test.each([1, 5, 100, 257, 3001])('MSE and BCE with masks and task weights, %i rows', async (rows) => {
    const ctx = await gpu();
    const run = batch(new Random(rows), rows, 0.2);
    const got = await runLoss(ctx, run);
    const ref = taskLoss(Float64Array.from(run.y), run.targets, run.mask, TASKS, rows);
    expectClose(`L_t rows=${rows}`, got.perTask, ref.perTask, { atol: 1e-5, rtol: 1e-5 });
    expectClose(`G_Y rows=${rows}`, got.gradY, ref.gradY);
  });

  test('a task whose mask is empty adds no loss and gets no gradient', async () => {
    const ctx = await gpu();
    const run = batch(new Random(11), 50, 0);
    for (let n = 0; n < 50; n++) run.mask[n * TASKS.length + 1] = 0;
    const got = await runLoss(ctx, run);
    expect(got.perTask[1]).toBe(0);
    for (let n = 0; n < 50; n++) expect(got.gradY[n * TASKS.length + 1]).toBe(0);
    expect(got.gradY.every(Number.isFinite)).toBe(true);
  });

  test('BCE at logits ±400 stays finite and exact', async () => {
    const ctx = await gpu();
    const tasks: TaskSpec[] = [{ loss: 'bce', weight: 1 }];
    const y = Float32Array.from([400, -400, 400, -400]);
    const targets = Float32Array.from([1, 0, 0, 1]);
    const got = await runLoss(ctx, { rows: 4, y, targets, mask: new Float32Array(4).fill(1), tasks });
    expect(got.perTask[0]).toBeCloseTo(200, 3); // (0 + 0 + 400 + 400) / 4
    expect(Array.from(got.gradY)).toEqual([0, 0, 0.25, -0.25]);
    expect(lossGradient('bce', 400, 0)).toBe(1);
  });
});

describe('optimizer', () => {
  const configs: OptimizerConfig[] = [
    { ...DEFAULT_OPTIMIZER, kind: 'sgd', learningRate: 0.1 },
    { ...DEFAULT_OPTIMIZER, kind: 'momentum', learningRate: 0.05, weightDecay: 0.01 },
    { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: 0.01 },
    { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: 0.003, weightDecay: 0.1 },
  ];

  test.each(configs)('$kind (lr $learningRate, decay $weightDecay; frozen range, coupling regulariser) over three steps', async (config) => {
    const ctx = await gpu();
    const random = new Random(5);
    const n = 1000;
    const rules = {
      decayCount: 600,
      frozen: [100, 200] as const,
      coupling: { start: 150, end: 350, cols: 20, l1: 0.02, toIdentity: 0.3 }, // overlaps the frozen range
    };
    const cpuParams = Float64Array.from(uniformArray(random, n));
    const cpuState = newOptimizerState(n);
    let gpuArrays: Record<'params' | 'state1' | 'state2', Float32Array> = { params: Float32Array.from(cpuParams), state1: new Float32Array(n), state2: new Float32Array(n) };
    for (let step = 1; step <= 3; step++) {
      const grads = uniformArray(random, n);
      optimizerStep(cpuParams, grads, cpuState, config, config.learningRate, rules);
      const values = { count: n, rules, step, learningRate: config.learningRate };
      gpuArrays = await runOptimizer(ctx, config, values, { ...gpuArrays, grads });
    }
    expectClose(`${config.kind} params`, gpuArrays.params, cpuParams, F32);
    expectClose(`${config.kind} state1`, gpuArrays.state1, cpuState.state1, F32);
    expectClose(`${config.kind} state2`, gpuArrays.state2, cpuState.state2, F32);
  });
});
