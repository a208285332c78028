// The kernel cases that `sigmtl check` and the test suite share: the matmul shapes (each marked
// whether check runs it — check stays quick, the tests take them all), the transposes, the
// variants, and the tolerances of float32 kernels against the float64 reference.
import type { MatmulVariant } from '../kernels/matmul.js';
import type { Tolerance } from '../util/compare.js';

export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['regblock', 'regblock-vec4', 'tiled'];

export const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** [M, N, K], why the shape is there, and whether `sigmtl check` runs it. */
export const MATMUL_CASES: ReadonlyArray<{ shape: [number, number, number]; why: string; check: boolean }> = [
  { shape: [1, 1, 1], why: 'the smallest', check: true },
  { shape: [7, 13, 5], why: 'odd, under one tile', check: true },
  { shape: [45, 65, 37], why: 'odd, over one tile', check: true },
  { shape: [10000, 3, 7], why: 'tall and skinny', check: false },
  { shape: [33, 17, 129], why: 'a multiple of no tile', check: false },
  { shape: [64, 64, 64], why: 'exactly whole tiles', check: false },
  { shape: [100, 5, 10], why: "the seed's layer shapes (N=100, T=5, d=10)", check: true },
  { shape: [5, 10, 100], why: '...and its transposed gradient product', check: false },
  { shape: [12, 8, 16], why: 'all multiples of 4: the vec4 kernel, with partial 8×8 blocks', check: false },
  { shape: [20, 12, 8], why: 'multiples of 4', check: false },
  { shape: [44, 64, 36], why: 'multiples of 4: the vec4 kernel where the variant has one', check: true },
  { shape: [300, 12, 20], why: 'vec4, tall tile (few columns)', check: true },
  { shape: [12, 260, 8], why: 'vec4, wide tile (few rows)', check: false },
];

/** Tolerances, float32 kernels against float64. */
export const CHECK_TOLERANCE = {
  /** f32 accumulation of K products of values in [−1, 1]. */
  matmul: (K: number): Tolerance => ({ atol: 1e-6 + 2e-7 * K, rtol: 1e-5 }),
  elementwise: { atol: 1e-6, rtol: 1e-5 } as Tolerance,
  step: { atol: 1e-6, rtol: 1e-4 } as Tolerance,
  tenSteps: { atol: 1e-4, rtol: 1e-3 } as Tolerance,
};
