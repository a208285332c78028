// The gradient aggregators (src/core/weighting.ts): their weights against hand-worked cases and
// against independent solutions — exhaustive KKT enumeration for MGDA and UPGrad, PCGrad run on
// the gradient vectors themselves — then the WebGPU kernel against the same values, the task
// Gramian against separate backward passes, the aggregated gradient against the two-task closed
// forms on both backends, and 100 training steps of WebGPU against the CPU.
import { describe, expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { aggregatorWeights, mgdaWeights, pcgradOrder, pcgradWeights, upgradWeights } from '../src/cpu/aggregators.js';
import { gramianOf, sharedTaskGradients } from '../src/cpu/step.js';
import { forward, taskLoss } from '../src/cpu/reference.js';
import { CpuBackend } from '../src/backends/cpu.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
import { runAggregate } from '../src/verify/run-kernels.js';
import { AGGREGATOR_KINDS, type AggregatorKind } from '../src/core/weighting.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { initParameters } from '../src/core/init.js';
import { DEFAULT_OPTIMIZER } from '../src/core/optimizers.js';
import { parameterLayout, view } from '../src/core/shape.js';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { Random } from '../src/util/random.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance) {
  const c = compareArrays(got, want, tol);
  expect(c.ok, describeComparison(name, c, tol)).toBe(true);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, v, i) => sum + v * b[i]!, 0);

// Hand-worked two-task cases: vectors, and α for each aggregator (scaled so that no conflict gives 1).
const HAND_WORKED: { name: string; vectors: number[][]; alpha: Record<AggregatorKind, number[]> }[] = [
  // orthogonal: nothing conflicts; MGDA's min-norm point of (1,0),(0,1) is their midpoint
  {
    name: 'orthogonal',
    vectors: [
      [1, 0],
      [0, 1],
    ],
    alpha: { mgda: [1, 1], pcgrad: [1, 1], upgrad: [1, 1] },
  },
  // min ‖a(1,0) + (1−a)(0,2)‖² = a² + 4(1−a)²: a = 0.8
  {
    name: 'orthogonal, unequal',
    vectors: [
      [1, 0],
      [0, 2],
    ],
    alpha: { mgda: [1.6, 0.4], pcgrad: [1, 1], upgrad: [1, 1] },
  },
  // ⟨g1, g2⟩ = −1: PCGrad g1' = g1 + ½g2, g2' = g2 + g1 → α = (2, 1.5); UPGrad's projections are the same
  // for two tasks; MGDA: (2a−1)² + (1−a)² is least at a = 0.6
  {
    name: 'conflicting',
    vectors: [
      [1, 0],
      [-1, 1],
    ],
    alpha: { mgda: [1.2, 0.8], pcgrad: [2, 1.5], upgrad: [2, 1.5] },
  },
  // opposite: every method cancels them (α equal, so Σ α_t g_t = 0)
  {
    name: 'opposite',
    vectors: [
      [1, 2],
      [-1, -2],
    ],
    alpha: { mgda: [1, 1], pcgrad: [2, 2], upgrad: [2, 2] },
  },
  // a task without gradient (absent from the batch) takes no part
  {
    name: 'a zero gradient',
    vectors: [
      [1, 0],
      [0, 0],
      [0, 3],
    ],
    alpha: { mgda: [1.8, 0, 0.2], pcgrad: [1, 0, 1], upgrad: [1, 0, 1] },
  },
];

describe('aggregator weights (float64) against hand-worked values', () => {
  test.each(HAND_WORKED)('$name', ({ vectors, alpha }) => {
    const T = vectors.length;
    const G = gramianOf(vectors.map((v) => Float64Array.from(v)));
    for (const kind of AGGREGATOR_KINDS) expectClose(kind, aggregatorWeights(kind, G, T), alpha[kind], { atol: 1e-6, rtol: 1e-6 });
  });
});

// --- independent solutions ------------------------------------------------------------------

/** Solves M·x = r (Gaussian elimination with partial pivoting); undefined when singular. */
function solve(M: number[][], r: number[]): number[] | undefined {
  const n = r.length;
  const a = M.map((row, i) => [...row, r[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    if (Math.abs(a[pivot]![col]!) < 1e-12) return undefined;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const f = a[row]![col]! / a[col]![col]!;
      for (let k = col; k <= n; k++) a[row]![k]! -= f * a[col]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

const subsets = (items: number[]) => Array.from({ length: 2 ** items.length }, (_, mask) => items.filter((_, i) => mask & (1 << i)));
const quadratic = (G: Float64Array, T: number, v: number[]) => v.reduce((sum, vs, s) => sum + vs * v.reduce((inner, vt, t) => inner + G[s * T + t]! * vt, 0), 0);

/** MGDA by enumeration: on each support S, the stationary point of aᵀGa with Σa = 1; the feasible one with the least norm. */
function mgdaByEnumeration(G: Float64Array, T: number): number[] {
  const P = Array.from({ length: T }, (_, t) => t).filter((t) => G[t * T + t]! > 0);
  let best: number[] | undefined;
  for (const S of subsets(P).filter((s) => s.length > 0)) {
    const M = [...S.map((s) => [...S.map((t) => G[s * T + t]!), 1]), [...S.map(() => 1), 0]];
    const x = solve(M, [...S.map(() => 0), 1]);
    if (!x || x.slice(0, S.length).some((v) => v < -1e-12)) continue;
    const a = new Array<number>(T).fill(0);
    S.forEach((s, i) => (a[s] = x[i]!));
    if (!best || quadratic(G, T, a) < quadratic(G, T, best) - 1e-15) best = a;
  }
  return best!.map((a) => a * P.length);
}

/** UPGrad by enumeration: for each i, min vᵀGv over v ≥ e_i, trying every set of free variables. */
function upgradByEnumeration(G: Float64Array, T: number): number[] {
  const P = Array.from({ length: T }, (_, t) => t).filter((t) => G[t * T + t]! > 0);
  const alpha = new Array<number>(T).fill(0);
  for (const i of P) {
    const lower: number[] = Array.from({ length: T }, (_, t) => (t === i ? 1 : 0));
    let best: number[] | undefined;
    for (const free of subsets(P)) {
      const fixed = P.filter((t) => !free.includes(t));
      const x = solve(
        free.map((s) => free.map((t) => G[s * T + t]!)),
        free.map((s) => -fixed.reduce((sum, t) => sum + G[s * T + t]! * lower[t]!, 0)),
      );
      if (free.length && !x) continue;
      const v: number[] = [...lower];
      free.forEach((t, k) => (v[t] = x![k]!));
      if (free.some((t) => v[t]! < lower[t]! - 1e-12)) continue;
      if (!best || quadratic(G, T, v) < quadratic(G, T, best) - 1e-15) best = v;
    }
    P.forEach((t) => (alpha[t]! += best![t]!));
  }
  return alpha;
}

/** PCGrad on the vectors themselves, as the paper writes it. */
function pcgradOnVectors(vectors: number[][], step: number, seed: number): number[] {
  const T = vectors.length;
  const sum = new Array<number>(vectors[0]!.length).fill(0);
  vectors.forEach((g, i) => {
    if (dot(g, g) === 0) return;
    const projected = [...g];
    for (const j of pcgradOrder(T, i, step, seed)) {
      const other = vectors[j]!;
      if (j === i || dot(other, other) === 0) continue;
      const d = dot(projected, other);
      if (d < 0) projected.forEach((_, k) => (projected[k]! -= (d / dot(other, other)) * other[k]!));
    }
    projected.forEach((v, k) => (sum[k]! += v));
  });
  return sum;
}

const combine = (vectors: number[][], alpha: ArrayLike<number>) => vectors[0]!.map((_, k) => vectors.reduce((sum, g, t) => sum + alpha[t]! * g[k]!, 0));

function randomVectors(seed: number, T: number, length: number): number[][] {
  const random = new Random(seed);
  // A shared direction plus noise: some pairs conflict, some do not.
  const common = Array.from({ length }, () => random.normal());
  return Array.from({ length: T }, (_, t) => common.map((c) => (t % 2 ? -0.5 : 0.3) * c + random.normal()));
}

describe('aggregator weights (float64) against independent solutions', () => {
  test.each([2, 3, 4, 5])('%i tasks, random gradients (MGDA and UPGrad by KKT enumeration, PCGrad on the vectors)', (T) => {
    for (let seed = 1; seed <= 6; seed++) {
      const vectors = randomVectors(seed * 10 + T, T, 7);
      const G = gramianOf(vectors.map((v) => Float64Array.from(v)));
      // The directions Σ α_t·g_t are unique (α need not be where G is ill-conditioned); the solvers
      // stop at a tolerance, so they agree to about 1e-5 of the gradients' scale.
      const tol = { atol: 1e-4, rtol: 1e-4 };
      expectClose(`mgda seed ${seed}`, combine(vectors, mgdaWeights(G, T)), combine(vectors, mgdaByEnumeration(G, T)), tol);
      expectClose(`upgrad seed ${seed}`, combine(vectors, upgradWeights(G, T)), combine(vectors, upgradByEnumeration(G, T)), tol);
      const alpha = pcgradWeights(G, T, seed, 99);
      expectClose(`pcgrad seed ${seed}`, combine(vectors, alpha), pcgradOnVectors(vectors, seed, 99), { atol: 1e-9, rtol: 1e-9 });
    }
  });

  test('UPGrad: the aggregated direction conflicts with no task; MGDA: the min-norm point has equal inner products', () => {
    const vectors = randomVectors(7, 4, 6);
    const G = gramianOf(vectors.map((v) => Float64Array.from(v)));
    for (const [kind, check] of [
      ['upgrad', (products: number[]) => products.every((p) => p >= -1e-9)],
      ['mgda', (products: number[]) => Math.max(...products) - Math.min(...products) < 1e-4 * Math.max(...products.map(Math.abs))],
    ] as const) {
      const alpha = aggregatorWeights(kind, G, 4);
      const direction = vectors[0]!.map((_, k) => vectors.reduce((sum, g, t) => sum + alpha[t]! * g[k]!, 0));
      // MGDA: every task with a > 0 sees the same ⟨d, g_t⟩ at the optimum (here all have a > 0 or the check covers the support)
      const support = vectors.filter((_, t) => kind === 'upgrad' || alpha[t]! > 1e-9);
      expect(check(support.map((g) => dot(direction, g))), kind).toBe(true);
    }
  });

  test('PCGrad: the order is a seeded permutation that changes with the step', () => {
    const order = pcgradOrder(7, 2, 5, 1);
    expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pcgradOrder(7, 2, 5, 1)).toEqual(order);
    const others = [6, 7, 8, 9].map((step) => pcgradOrder(7, 2, step, 1).join());
    expect(new Set(others).size).toBeGreaterThan(1);
  });
});

// --- WebGPU ---------------------------------------------------------------------------------

describe('the aggregate kernel (WebGPU)', () => {
  test.each(HAND_WORKED)('hand-worked: $name', async ({ vectors, alpha }) => {
    const ctx = await gpu();
    const T = vectors.length;
    const G = gramianOf(vectors.map((v) => Float64Array.from(v)));
    for (const kind of AGGREGATOR_KINDS) expectClose(kind, await runAggregate(ctx, kind, G, T), alpha[kind], { atol: 1e-5, rtol: 1e-5 });
  });

  test('random Gramians of 1–9 tasks, one with a task absent: the same α as the float64 twin', async () => {
    const ctx = await gpu();
    for (let T = 1; T <= 9; T++) {
      const vectors = randomVectors(100 + T, T, 12);
      if (T === 6) vectors[3] = vectors[3]!.map(() => 0);
      const G = gramianOf(vectors.map((v) => Float64Array.from(v)));
      const G32 = Float32Array.from(G); // the kernel's input, exactly
      for (const kind of AGGREGATOR_KINDS) {
        const want = aggregatorWeights(kind, Float64Array.from(G32), T, 3, 42);
        expectClose(`${kind}, ${T} tasks`, await runAggregate(ctx, kind, G32, T, 3, 42), want, { atol: 1e-4, rtol: 1e-3 });
      }
    }
  });
});

const SHAPE = { features: 6, hidden: 4, tasks: 2 };

/** Two tasks that pull apart: the second target is minus the first, plus noise. */
function conflictingData(rows: number) {
  const data = teacherStudentData({ shape: SHAPE, rows, seed: 8, noise: 0.05 });
  for (let n = 0; n < rows; n++) data.Y[n * 2 + 1] = -data.Y[n * 2]! + 0.3 * Math.sin(n);
  return data;
}

/** α of the two-task closed forms: MGDA's a = clamp((G22 − G12)/(G11 + G22 − 2G12)); PCGrad = UPGrad = (1 − G12/G11, 1 − G12/G22) under conflict. */
function twoTaskAlpha(kind: AggregatorKind, G: Float64Array): number[] {
  const [g11, g12, , g22] = G as unknown as number[];
  if (kind === 'mgda') {
    const a = Math.min(1, Math.max(0, (g22! - g12!) / (g11! + g22! - 2 * g12!)));
    return [2 * a, 2 * (1 - a)];
  }
  return g12! < 0 ? [1 - g12! / g11!, 1 - g12! / g22!] : [1, 1];
}

describe.each(AGGREGATOR_KINDS)('%s in a training step', (kind) => {
  test('the aggregated gradient of W and b is Σ α_t·J_t (two-task closed form, J_t from separate backward passes), on both backends', async () => {
    const ctx = await gpu();
    const data = conflictingData(48);
    const tasks = [
      { loss: 'mse' as const, weight: 1 },
      { loss: 'mse' as const, weight: 1.5 },
    ];
    const config: BackendConfig = { shape: SHAPE, tasks, optimizer: DEFAULT_OPTIMIZER, maxBatch: 48, weighting: kind, seed: 3 };
    const params = initParameters(SHAPE, 4, 'random');
    // Both tasks read the hidden units alike (A's rows equal, c = 0), so with y2 ≈ −y1 their residuals pull apart.
    const A = parameterLayout(SHAPE).A.offset;
    for (let h = 0; h < SHAPE.hidden; h++) params[A + SHAPE.hidden + h] = params[A + h]!;
    const cpu = new CpuBackend(config);
    const webgpu = await WebGpuBackend.create(ctx, config);
    // Independent of the backends: per-task gradients of the shared parameters, one backward pass each.
    const { S, Y } = forward(params, webgpu.layout, data.X, data.rows);
    const { gradY } = taskLoss(Y, data.Y, data.mask, tasks, data.rows);
    const J = sharedTaskGradients(params, webgpu.layout, data.X, S, gradY, data.rows);
    const G = gramianOf(J);
    expect(G[1]!, 'the two tasks conflict').toBeLessThan(0);
    const alpha = twoTaskAlpha(kind, G);
    const want = J[0]!.map((j0, i) => alpha[0]! * j0 + alpha[1]! * J[1]![i]!);
    for (const backend of [cpu, webgpu] as TrainingBackend[]) {
      backend.setParameters(params);
      backend.setDataset(data);
      const got = await backend.gradients(0, data.rows);
      const tol = backend.kind === 'cpu' ? { atol: 1e-12, rtol: 1e-9 } : { atol: 1e-5, rtol: 2e-3 };
      expectClose(`${backend.kind} Gramian`, got.gramian!, G, tol);
      expectClose(`${backend.kind} α`, got.taskWeights!, alpha, tol);
      const shared = [...view(got.grads, webgpu.layout.W), ...view(got.grads, webgpu.layout.b)];
      expectClose(`${backend.kind} aggregated gradient`, shared, want, tol);
    }
    webgpu.destroy();
  });

  test('WebGPU and the CPU agree after 100 steps (7 tasks, some absent from batches); the mean α is reported', async () => {
    const ctx = await gpu();
    const shape = { features: 8, hidden: 5, tasks: 7 };
    const data = teacherStudentData({ shape, rows: 96, seed: 2, noise: 0.1 });
    for (let i = 0; i < data.mask.length; i++) if (i % 7 === 6 && i < 7 * 40) data.mask[i] = 0; // task 6 absent from the first 40 rows
    for (let n = 0; n < data.rows; n++) data.Y[n * 7 + 3] = -data.Y[n * 7 + 2]!; // a conflicting pair
    const tasks = Array.from({ length: 7 }, () => ({ loss: 'mse' as const, weight: 1 }));
    const config: BackendConfig = { shape, tasks, optimizer: { ...DEFAULT_OPTIMIZER, learningRate: 0.01 }, maxBatch: 16, weighting: kind, seed: 11 };
    const cpu = new CpuBackend(config);
    const webgpu = await WebGpuBackend.create(ctx, config, { stepsPerSubmit: 8 });
    for (const backend of [cpu, webgpu] as TrainingBackend[]) {
      backend.setParameters(initParameters(shape, 1, 'random'));
      backend.setDataset(data);
    }
    const steps = Array.from({ length: 100 }, (_, i) => ({ start: (i * 16) % 96, rows: 16, learningRate: 0.01 }));
    await Promise.all([cpu.trainSteps(steps), webgpu.trainSteps(steps)]);
    const [want, got] = await Promise.all([cpu.getParameters(), webgpu.getParameters()]);
    expectClose(`${kind} parameters after 100 steps`, got, want, { atol: 2e-3, rtol: 1e-2 });
    const [cpuLoss, gpuLoss] = await Promise.all([cpu.readLoss(), webgpu.readLoss()]);
    expect(gpuLoss.taskWeights).toBeDefined();
    expectClose(`${kind} mean α`, gpuLoss.taskWeights!, cpuLoss.taskWeights!, { atol: 1e-3, rtol: 1e-2 });
    expect(Math.min(...gpuLoss.taskWeights!)).toBeGreaterThan(0);
    webgpu.destroy();
  });
});
