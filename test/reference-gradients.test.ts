// The float64 reference's analytic gradients against central finite differences, for every
// parameter (W, b, A, c), MSE and BCE, with masks and task weights; and the coupling regularisers.
import { describe, expect, test } from 'vitest';
import { backward, forward, taskLoss } from '../src/cpu/reference.js';
import { initParameters } from '../src/core/init.js';
import { parameterLayout, PARAMETER_NAMES, type ModelShape } from '../src/core/shape.js';
import type { TaskSpec } from '../src/core/losses.js';
import { Random } from '../src/util/random.js';
import { DEFAULT_OPTIMIZER, newOptimizerState, updateRules } from '../src/core/optimizers.js';
import { optimizerStep } from '../src/cpu/optimizer.js';

function problem(shape: ModelShape, rows: number, tasks: TaskSpec[], seed: number, maskRate: number) {
  const random = new Random(seed);
  const layout = parameterLayout(shape);
  const params = initParameters(shape, seed, 'random');
  for (let i = 0; i < params.length; i++) params[i]! += 0.3 * random.normal(); // biases off zero
  const X = Float64Array.from({ length: rows * shape.features }, () => random.normal());
  const T = shape.tasks;
  const targets = Float64Array.from({ length: rows * T }, (_, i) => (tasks[i % T]!.loss === 'bce' ? Number(random.next() < 0.5) : random.normal()));
  const mask = Float64Array.from({ length: rows * T }, () => Number(random.next() >= maskRate));
  const loss = (p: Float64Array) => taskLoss(forward(p, layout, X, rows).Y, targets, mask, tasks, rows).total;
  const analytic = () => {
    const { S, Y } = forward(params, layout, X, rows);
    return backward(params, layout, X, S, taskLoss(Y, targets, mask, tasks, rows).gradY, rows);
  };
  return { layout, params, loss, analytic };
}

const CASES: Array<[string, ModelShape, TaskSpec[], number]> = [
  ['MSE, H = T', { features: 4, hidden: 3, tasks: 3 }, Array(3).fill({ loss: 'mse', weight: 1 }), 0],
  [
    'BCE, H ≠ T, weights',
    { features: 5, hidden: 4, tasks: 2 },
    [
      { loss: 'bce', weight: 0.3 },
      { loss: 'bce', weight: 2 },
    ],
    0,
  ],
  [
    'mixed, masks, weights',
    { features: 3, hidden: 5, tasks: 4 },
    [
      { loss: 'mse', weight: 1 },
      { loss: 'bce', weight: 0.5 },
      { loss: 'mse', weight: 3 },
      { loss: 'bce', weight: 1 },
    ],
    0.3,
  ],
  // Huber's two branches (|e| ≤ δ and beyond) and its kink are all met: outputs and targets ~N(0, 1).
  [
    'Huber beside MSE and BCE, masks',
    { features: 4, hidden: 3, tasks: 3 },
    [
      { loss: 'huber', weight: 1 },
      { loss: 'mse', weight: 0.5 },
      { loss: 'huber', weight: 2 },
    ],
    0.2,
  ],
  // Huber with δ = 0.5 and quantiles: piecewise, so finite differences hold away from the kinks (random data lands on none).
  [
    'Huber δ = 0.5 and quantiles 0.1, 0.5, 0.9, masks',
    { features: 4, hidden: 5, tasks: 4 },
    [
      { loss: 'huber:0.5', weight: 1 },
      { loss: 'quantile:0.1', weight: 1 },
      { loss: 'quantile', weight: 0.5 },
      { loss: 'quantile:0.9', weight: 2 },
    ],
    0.2,
  ],
];

describe.each(CASES)('reference gradients: %s', (_name, shape, tasks, maskRate) => {
  test('match central finite differences for W, b, A and c', () => {
    const { layout, params, loss, analytic } = problem(shape, 9, tasks, 42, maskRate);
    const grads = analytic();
    const h = 1e-6;
    for (const name of PARAMETER_NAMES) {
      const segment = layout[name];
      for (let i = segment.offset; i < segment.offset + segment.size; i++) {
        const plus = params.slice();
        const minus = params.slice();
        plus[i]! += h;
        minus[i]! -= h;
        const numeric = (loss(plus) - loss(minus)) / (2 * h);
        const error = Math.abs(numeric - grads[i]!);
        expect(error, `${name}[${i - segment.offset}]: analytic ${grads[i]} numeric ${numeric}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(numeric));
      }
    }
  });
});

test('the coupling regularisers: the optimizer adds their gradient (central finite differences of the penalty)', () => {
  // R(A) = λ1·Σ|A| + (λI/2)·Σ(A − I)², written here independently of src/. One SGD step with zero
  // data gradient moves A by −lr·∂R/∂A, so (A − A′)/lr is what the optimizer took as ∂R/∂A.
  const shape = { features: 2, hidden: 4, tasks: 3 };
  const layout = parameterLayout(shape);
  const params = initParameters(shape, 9, 'random');
  const [l1, towardIdentity] = [0.07, 0.4];
  const penalty = (A: Float64Array) => {
    let sum = 0;
    for (let t = 0; t < shape.tasks; t++) {
      for (let h = 0; h < shape.hidden; h++) {
        const a = A[t * shape.hidden + h]!;
        sum += l1 * Math.abs(a) + 0.5 * towardIdentity * (a - (t === h ? 1 : 0)) ** 2;
      }
    }
    return sum;
  };
  const A = params.slice(layout.A.offset, layout.A.offset + layout.A.size);
  const lr = 1e-3;
  const after = params.slice();
  const rules = updateRules(layout, { l1A: l1, identityA: towardIdentity });
  optimizerStep(after, new Float64Array(layout.count), newOptimizerState(layout.count), { ...DEFAULT_OPTIMIZER, kind: 'sgd' }, lr, rules);
  const h = 1e-6;
  for (let i = 0; i < A.length; i++) {
    const plus = A.slice();
    const minus = A.slice();
    plus[i]! += h;
    minus[i]! -= h;
    const numeric = (penalty(plus) - penalty(minus)) / (2 * h);
    const taken = (params[layout.A.offset + i]! - after[layout.A.offset + i]!) / lr;
    expect(Math.abs(taken - numeric), `A[${i}]`).toBeLessThan(1e-6);
  }
  // W, b and c are not regularised: with zero gradient they stay.
  for (const name of ['W', 'b', 'c'] as const) {
    for (let i = 0; i < layout[name].size; i++) expect(after[layout[name].offset + i]).toBe(params[layout[name].offset + i]);
  }
});

/** Outputs, targets and a mask for three weighted tasks (MSE, BCE, MSE), every `maskEvery`-th entry missing. */
function weightedTasks(rows: number, seed: number, maskEvery: number) {
  const T = 3;
  const random = new Random(seed);
  const tasks: TaskSpec[] = [
    { loss: 'mse', weight: 1 },
    { loss: 'bce', weight: 0.5 },
    { loss: 'mse', weight: 2 },
  ];
  const Y = Float64Array.from({ length: rows * T }, () => random.normal());
  const targets = Float64Array.from({ length: rows * T }, (_, i) => (tasks[i % T]!.loss === 'bce' ? Number(random.next() < 0.5) : random.normal()));
  const mask = Float64Array.from({ length: rows * T }, (_, i) => Number(i % maskEvery !== 0));
  return { T, tasks, Y, targets, mask };
}

test('uncertainty weighting: ∂L/∂s and ∂L/∂Y of Σ w_t(c_t·e^{−s_t}·L_t + ½·s_t) against central finite differences', () => {
  const rows = 7;
  const { T, tasks, Y, targets, mask } = weightedTasks(rows, 4, 5);
  const logVar = Float64Array.from([0.3, -0.4, 0.1]);
  const total = (y: Float64Array, s: Float64Array) => taskLoss(y, targets, mask, tasks, rows, 0, { kind: 'uw', logVar: s }).total;
  const analytic = taskLoss(Y, targets, mask, tasks, rows, 0, { kind: 'uw', logVar });
  const h = 1e-6;
  for (let t = 0; t < T; t++) {
    const [plus, minus] = [logVar.slice(), logVar.slice()];
    plus[t]! += h;
    minus[t]! -= h;
    expect(Math.abs(analytic.gradLogVar[t]! - (total(Y, plus) - total(Y, minus)) / (2 * h)), `s[${t}]`).toBeLessThan(1e-7);
  }
  for (let i = 0; i < Y.length; i++) {
    const [plus, minus] = [Y.slice(), Y.slice()];
    plus[i]! += h;
    minus[i]! -= h;
    expect(Math.abs(analytic.gradY[i]! - (total(plus, logVar) - total(minus, logVar)) / (2 * h)), `Y[${i}]`).toBeLessThan(1e-7);
  }
});

test('the geometric loss strategy: ∂L/∂Y of exp(Σ w_t·log L_t / Σ w_t) against central finite differences', () => {
  const rows = 6;
  const { tasks, Y, targets, mask } = weightedTasks(rows, 7, 4);
  const total = (y: Float64Array) => taskLoss(y, targets, mask, tasks, rows, 0, { kind: 'gls' }).total;
  const analytic = taskLoss(Y, targets, mask, tasks, rows, 0, { kind: 'gls' });
  // The loss itself is the weighted geometric mean of the task losses.
  const { perTask } = analytic;
  expect(analytic.total).toBeCloseTo(Math.exp((1 * Math.log(perTask[0]!) + 0.5 * Math.log(perTask[1]!) + 2 * Math.log(perTask[2]!)) / 3.5), 12);
  const h = 1e-6;
  for (let i = 0; i < Y.length; i++) {
    const [plus, minus] = [Y.slice(), Y.slice()];
    plus[i]! += h;
    minus[i]! -= h;
    expect(Math.abs(analytic.gradY[i]! - (total(plus) - total(minus)) / (2 * h)), `Y[${i}]`).toBeLessThan(1e-7);
  }
});
