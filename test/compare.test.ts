// Δm and the single-task comparison: the formula against hand-worked numbers, and the single-task
// models against training each task alone through train() (the same rows, seeds and settings).
import { afterAll, describe, expect, test } from 'vitest';
import { deltaM, taskDeltaM, train, type TaskMetrics } from '../src/index.js';
import { requestNodeDevice } from '../src/node.js';

const regression = (rmse: number, mae: number): TaskMetrics => ({ kind: 'regression', count: 10, mse: rmse ** 2, rmse, mae, r2: 0.5 });
const binary = (accuracy: number, f1: number, auc: number): TaskMetrics => ({ kind: 'binary', count: 10, accuracy, f1, auc });

describe('Δm (LibMTL): hand-worked', () => {
  test('a regression task: lower RMSE and MAE are better', () => {
    // (2 − 1.5)/2 = +0.25 on RMSE, (1 − 1.2)/1 = −0.2 on MAE: mean +0.025 → +2.5 %
    expect(taskDeltaM(regression(2, 1), regression(1.5, 1.2))).toBeCloseTo(2.5, 12);
  });

  test('a binary task: higher is better; an undefined F1 is left out', () => {
    // accuracy −(0.8 − 0.9)/0.8 = +0.125, AUC −(0.5 − 0.6)/0.5 = +0.2, F1 NaN skipped: +16.25 %
    expect(taskDeltaM(binary(0.8, NaN, 0.5), binary(0.9, 0.7, 0.6))).toBeCloseTo(16.25, 12);
  });

  test('the mean over tasks; identical models give 0; a worse multi-task model is negative', () => {
    const single = { a: regression(2, 1), b: binary(0.8, NaN, 0.5) };
    const multi = { overall: {}, tasks: { a: regression(1.5, 1.2), b: binary(0.9, 0.7, 0.6) } };
    const result = deltaM(single, multi);
    expect(result.deltaM).toBeCloseTo((2.5 + 16.25) / 2, 12);
    expect(result.perTask).toEqual({ a: expect.closeTo(2.5, 12), b: expect.closeTo(16.25, 12) });
    expect(deltaM(single, { overall: {}, tasks: single }).deltaM).toBe(0);
    expect(taskDeltaM(regression(1, 1), regression(2, 2))).toBe(-100);
  });
});

/** Three related tasks: two regressions sharing a factor and a binary one. */
function data(rows = 300) {
  const features: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [Math.sin(i * 1.3), Math.cos(i * 0.7), ((i * 7) % 11) / 11 - 0.5];
    const shared = Math.tanh(2 * a - b);
    features.push([a, b, c]);
    targets.push([shared + 0.1 * c, shared - 0.3 * c, shared > 0 ? 1 : 0]);
  }
  return { features, targets, taskNames: ['u', 'v', 'w'] };
}

let device: GPUDevice | undefined;
afterAll(() => device?.destroy());

describe.each(['cpu', 'webgpu'] as const)('compareSingleTask on %s', (backend) => {
  test('single-task models are exactly train() on one task; Δm and the ablation are reported', async () => {
    if (backend === 'webgpu') device ??= await requestNodeDevice();
    const common = { ...data(), epochs: 40, hidden: 4, testSplit: 0.25, seed: 11, backend, device: backend === 'webgpu' ? device : undefined };
    const result = await train({ ...common, compareSingleTask: true });
    const c = result.comparison!;
    expect(Object.keys(c.singleTask)).toEqual(['u', 'v', 'w']);
    expect(Number.isFinite(c.deltaM)).toBe(true);
    expect(c.noCoupling.metrics.tasks.w!.kind).toBe('binary');
    // The oracle: the same task trained alone through the public API, same rows and seed.
    const alone = await train({ ...common, targets: common.targets.map((r) => [r[1]!]), taskNames: ['v'], coupling: { init: 'random' } });
    expect(c.singleTask.v).toEqual(alone.metrics.tasks.v);
  }, 120_000);
});
