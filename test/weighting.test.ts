// Task weighting rules against hand-worked values (src/core/weighting.ts).
import { expect, test } from 'vitest';
import { dwaWeights } from '../src/core/weighting.js';

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
