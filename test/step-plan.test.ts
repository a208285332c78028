// The step plan (src/core/step-plan.ts), which the CPU engine runs and the WebGPU backend takes its
// products from: its shapes against a hand-written table of the model's matrices, and the plan
// run in float64 (matmulReference, the epilogues written out) against the reference's own loops.
import { describe, expect, test } from 'vitest';
import { dimSize, GRADIENT_OF, STEP_PLAN, STEP_PRODUCTS, type Operand, type ProductStage } from '../src/core/step-plan.js';
import { initParameters } from '../src/core/init.js';
import { parameterLayout, view } from '../src/core/shape.js';
import { matmulReference, rowSumsReference, sigmoid, taskLoss } from '../src/cpu/reference.js';
import { referenceGradients } from '../src/cpu/step.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { compareArrays, describeComparison } from '../src/util/compare.js';

const sizes = { rows: 7, features: 5, hidden: 4, tasks: 3 };
const { rows, features: d, hidden: H, tasks: T } = sizes;
/** Each operand's stored shape, by hand: rows × columns. */
const SHAPE: Record<Operand, [number, number]> = {
  X: [rows, d],
  W: [H, d],
  b: [1, H],
  A: [T, H],
  c: [1, T],
  S: [rows, H],
  Y: [rows, T],
  G_Y: [rows, T],
  G_Z: [rows, H],
  dW: [H, d],
  db: [1, H],
  dA: [T, H],
  dc: [1, T],
};
const products = STEP_PLAN.filter((s): s is ProductStage => s.stage === 'product');

describe('the step plan', () => {
  test.each(products.map((p) => [p.label, p] as const))('%s: operand shapes agree', (_, p) => {
    const [M, N, K] = [dimSize(p.M, sizes), dimSize(p.N, sizes), dimSize(p.K, sizes)];
    const [ar, ac] = SHAPE[p.a];
    expect(p.transposeA ? [ac, ar] : [ar, ac], 'op(a) is M×K').toEqual([M, K]);
    const [br, bc] = SHAPE[p.b];
    expect(p.transposeB ? [bc, br] : [br, bc], 'op(b) is K×N').toEqual([K, N]);
    expect(SHAPE[p.out], 'out is M×N').toEqual([M, N]);
    if (p.aux) expect(SHAPE[p.aux][0] * SHAPE[p.aux][1], 'aux').toBe(p.epilogue === 'sigmoidGrad' ? M * N : N);
    if (p.rowSums) expect(SHAPE[p.rowSums][0] * SHAPE[p.rowSums][1], 'row sums').toBe(M);
  });

  test('the order: forward, the loss, dA before the aggregator, then G_Z and dW, the update last', () => {
    expect(STEP_PLAN.map((s) => (s.stage === 'product' ? s.out : s.stage))).toEqual(['S', 'Y', 'loss', 'dA', 'aggregate', 'G_Z', 'dW', 'update']);
    expect(Object.values(STEP_PRODUCTS)).toHaveLength(products.length);
  });

  test('run in float64, it gives the reference loops’ gradients (MSE, equal weighting)', () => {
    const shape = { features: d, hidden: H, tasks: T };
    const layout = parameterLayout(shape);
    const params = initParameters(shape, 3, 'random');
    const data = teacherStudentData({ shape, rows, seed: 4, noise: 0.1 });
    const tasks = Array.from({ length: T }, (_, t) => ({ loss: 'mse' as const, weight: 1 + t }));
    const values = new Map<Operand, Float64Array>([
      ['X', Float64Array.from(data.X)],
      ...(['W', 'b', 'A', 'c'] as const).map((name): [Operand, Float64Array] => [name, view(params, layout[name]).slice()]),
    ]);
    const grads = new Float64Array(layout.count);
    for (const stage of STEP_PLAN) {
      if (stage.stage === 'loss') {
        values.set('G_Y', taskLoss(values.get('Y')!, data.Y, data.mask, tasks, rows).gradY);
        continue;
      }
      if (stage.stage !== 'product') continue;
      const shapeOf = { M: dimSize(stage.M, sizes), N: dimSize(stage.N, sizes), K: dimSize(stage.K, sizes), transposeA: stage.transposeA, transposeB: stage.transposeB };
      const acc = matmulReference(values.get(stage.a)!, values.get(stage.b)!, shapeOf);
      const aux = stage.aux ? values.get(stage.aux)! : undefined;
      const out = acc.map((v, i) => {
        const n = i % shapeOf.N;
        if (stage.epilogue === 'bias') return v + aux![n]!;
        if (stage.epilogue === 'biasSigmoid') return sigmoid(v + aux![n]!);
        if (stage.epilogue === 'sigmoidGrad') return v * aux![i]! * (1 - aux![i]!);
        return v;
      });
      values.set(stage.out, out);
      if (stage.rowSums) values.set(stage.rowSums, rowSumsReference(values.get(stage.a)!, shapeOf));
      for (const operand of [stage.out, stage.rowSums]) {
        const parameter = operand ? GRADIENT_OF[operand] : undefined;
        if (parameter) grads.set(values.get(operand!)!, layout[parameter].offset);
      }
    }
    const want = referenceGradients(params, layout, data, tasks, 0, rows).grads;
    const tol = { atol: 1e-12, rtol: 1e-10 };
    const c = compareArrays(grads, want, tol);
    expect(c.ok, describeComparison('plan vs reference loops', c, tol)).toBe(true);
  });
});
