// Task weighting rules against hand-worked values (src/core/weighting.ts).
import { expect, test } from 'vitest';
import { AGGREGATOR_KINDS, dwaWeights, WEIGHTING_KINDS, WEIGHTINGS } from '../src/core/weighting.js';
import { WEIGHTING_STRATEGIES } from '../src/cpu/weightings.js';
import { WEIGHTING_STAGES } from '../src/kernels/weighting-stages.js';

test('dynamic weight average: λ from hand-worked loss ratios', () => {
  // ratios L(e−1)/L(e−2) = 1 and 0.5 at τ = 2: λ = 2·e^{0.5}/(e^{0.5} + e^{0.25}), 2·e^{0.25}/(e^{0.5} + e^{0.25})
  const lambda = dwaWeights([2, 1], [2, 2], 2);
  expect(lambda[0]).toBeCloseTo(1.124353, 5);
  expect(lambda[1]).toBeCloseTo(0.875647, 5);
  // the task whose loss fell least gets the most weight; a cooler τ sharpens it
  expect(dwaWeights([2, 1], [2, 2], 0.5)[0]).toBeCloseTo(1.462117, 5);
  expect(Array.from(dwaWeights([1, 1, 1], [2, 2, 2]))).toEqual([1, 1, 1]);
  // huge ratios do not overflow
  expect(Array.from(dwaWeights([1e300, 1], [1, 1], 0.01)).every(Number.isFinite)).toBe(true);
});

test('every weighting strategy implements the hook its entry names, and only that one', () => {
  for (const kind of WEIGHTING_KINDS) {
    const entry = WEIGHTINGS[kind];
    const strategy = WEIGHTING_STRATEGIES[kind];
    expect(Boolean(strategy.scaleTasks), `${kind}: scaleTasks`).toBe(entry.stepHook === 'scaleTasks');
    expect(Boolean(strategy.aggregate), `${kind}: aggregate`).toBe(entry.stepHook === 'aggregate');
    // Per-step state only where a step hook keeps it; weights that move are charted.
    if (entry.stateSize(3) > 0) expect(entry.stepHook, kind).toBe('scaleTasks');
    expect(entry.chart === 'none', kind).toBe(!entry.reportedWeights);
    // A DDP job runs it from its Python in the table, or refuses it with the reason (not both).
    expect(Boolean(entry.torch), `${kind}: torch or ddpRefusal`).toBe(entry.ddpRefusal === undefined);
    expect(Boolean(entry.torch?.epochWeights), `${kind}: epochWeights in both languages`).toBe(Boolean(entry.epochWeights));
  }
  expect(WEIGHTING_KINDS.filter((k) => WEIGHTINGS[k].stepHook === 'aggregate')).toEqual([...AGGREGATOR_KINDS]);
});

test('every weighting with a step hook has a WebGPU stage at that hook; the others have none or one after the loss', () => {
  const hookOf = { scaleTasks: 'afterLoss', aggregate: 'afterOutputGradient' } as const;
  for (const kind of WEIGHTING_KINDS) {
    const { stepHook } = WEIGHTINGS[kind];
    const stage = WEIGHTING_STAGES[kind];
    if (stepHook === 'none') expect(stage?.hook ?? 'afterLoss', kind).toBe('afterLoss');
    else expect(stage?.hook, kind).toBe(hookOf[stepHook]);
    if (stage) expect(stage.dispatches, kind).toBeGreaterThan(0);
  }
  // The loss kernel's GLS case leaves G_Y per task: its rescaling is the stage's.
  expect(WEIGHTING_STAGES.gls?.hook).toBe('afterLoss');
});

test('the strategies combine hand-worked task losses (L and the factors on G_Y)', () => {
  const tasks = [
    { loss: 'mse' as const, weight: 2 },
    { loss: 'bce' as const, weight: 1 },
    { loss: 'mse' as const, weight: 1 },
  ];
  const perTask = Float64Array.of(0.5, 2, 0); // the third task has no observed rows
  const counts = [4, 2, 0];
  // equal: L = 2·0.5 + 1·2 = 3; s_t = w_t/count_t
  const equal = WEIGHTING_STRATEGIES.equal.combine({ perTask, counts, tasks });
  expect(equal.total).toBeCloseTo(3, 12);
  expect(Array.from(equal.scales)).toEqual([0.5, 0.5, 0]);
  // uw with s = (0, ln 2, 1): factors 2·½·1 = 1 and 1·1·½ = ½; L = 1·0.5 + ½·2 + ½·(2·0 + ln 2 + 1)
  const logVar = [0, Math.log(2), 1];
  const uw = WEIGHTING_STRATEGIES.uw.combine({ perTask, counts, tasks, logVar });
  expect(uw.total).toBeCloseTo(0.5 + 1 + 0.5 * (Math.log(2) + 1), 12);
  expect(uw.scales[0]).toBeCloseTo(1 / 4, 12);
  expect(uw.scales[1]).toBeCloseTo(0.5 / 2, 12);
  expect(uw.gradLogVar[0]).toBeCloseTo(2 * 0.5 - 1 * 0.5, 12);
  expect(uw.gradLogVar[1]).toBeCloseTo(0.5 - 0.5 * 2, 12);
  expect(uw.gradLogVar[2]).toBeCloseTo(0.5, 12); // unobserved: only the ½·s_t term
  // gls over the observed tasks: L = exp((2·ln 0.5 + 1·ln 2)/3) = 2^{−1/3}; ∂L/∂L_t = L·w_t/(3·L_t)
  const gls = WEIGHTING_STRATEGIES.gls.combine({ perTask, counts, tasks });
  const L = 2 ** (-1 / 3);
  expect(gls.total).toBeCloseTo(L, 12);
  expect(gls.scales[0]).toBeCloseTo((L * 2) / (3 * 0.5) / 4, 12);
  expect(gls.scales[1]).toBeCloseTo((L * 1) / (3 * 2) / 2, 12);
  expect(gls.scales[2]).toBe(0);
});
