// Both matmul variants against the float64 reference: every transpose combination, every
// epilogue, the row sums, on awkward shapes and on a dispatch of more than 65,535 workgroups.
import { describe, expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { matmulReference, rowSumsReference } from '../src/cpu/reference.js';
import { sigmoid } from '../src/core/losses.js';
import { chooseMatmulTuning } from '../src/kernels/tuning.js';
import { matmulKernel, matmulVec4Fits, pickMatmulPipeline, type EpilogueName } from '../src/kernels/matmul.js';
import { KernelRegistry } from '../src/gpu/registry.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';
import { runMatmul } from '../src/verify/run-kernels.js';
import { CHECK_TOLERANCE, MATMUL_CASES, MATMUL_VARIANTS, TRANSPOSES } from '../src/verify/cases.js';
import { Random, uniformArray } from '../src/util/random.js';

const tolerance = CHECK_TOLERANCE.matmul;
// Every shape of the shared table (sigmtl check runs the ones marked for it).
const SHAPES = MATMUL_CASES.map((c) => c.shape);
const VARIANTS = MATMUL_VARIANTS;

function operands(random: Random, M: number, N: number, K: number) {
  return { a: uniformArray(random, M * K), b: uniformArray(random, K * N) };
}

function expectClose(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance) {
  const c = compareArrays(got, ref, tol);
  expect(c.ok, describeComparison(name, c, tol)).toBe(true);
}

describe.each(VARIANTS)('matmul %s', (variant) => {
  test.each(SHAPES)('%i×%i×%i, all transposes, with row sums', async (M, N, K) => {
    const ctx = await gpu();
    const random = new Random(M * 31 + N * 7 + K);
    for (const [transposeA, transposeB] of TRANSPOSES) {
      const { a, b } = operands(random, M, N, K);
      const shape = { M, N, K, transposeA, transposeB };
      const out = await runMatmul(ctx, chooseMatmulTuning(ctx, variant), { transposeA, transposeB, rowSums: true }, { M, N, K, a, b });
      const name = `${variant} ${M}×${N}×${K} tA=${transposeA} tB=${transposeB}`;
      expectClose(name, out.c, matmulReference(a, b, shape), tolerance(K));
      expectClose(`${name} row sums`, out.rowSums, rowSumsReference(a, shape), tolerance(K));
    }
  });

  const EPILOGUE_SHAPES: Array<[number, number, number]> = [
    [1, 1, 1],
    [45, 65, 37],
    [100, 5, 10],
    [44, 64, 36],
  ];
  test.each(EPILOGUE_SHAPES)('%i×%i×%i, every epilogue, every transpose', async (M, N, K) => {
    const ctx = await gpu();
    const random = new Random(7 + M + N + K);
    const epilogues: EpilogueName[] = ['bias', 'biasSigmoid', 'sigmoidGrad'];
    for (const epilogue of epilogues) {
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const { a, b } = operands(random, M, N, K);
        const aux = epilogue === 'sigmoidGrad' ? uniformArray(random, M * N, 0, 1) : uniformArray(random, N, -2, 2);
        const product = matmulReference(a, b, { M, N, K, transposeA, transposeB });
        const ref = product.map((v, i) => {
          const n = i % N;
          if (epilogue === 'bias') return v + aux[n]!;
          if (epilogue === 'biasSigmoid') return sigmoid(v + aux[n]!);
          return v * aux[i]! * (1 - aux[i]!);
        });
        const out = await runMatmul(ctx, chooseMatmulTuning(ctx, variant), { transposeA, transposeB, epilogue }, { M, N, K, a, b, aux });
        expectClose(`${variant} ${epilogue} ${M}×${N}×${K} tA=${transposeA} tB=${transposeB}`, out.c, ref, tolerance(K));
      }
    }
  });

  test('bias + sigmoid saturates cleanly at ±400', async () => {
    const ctx = await gpu();
    const M = 3;
    const N = 4;
    const K = 1;
    const a = Float32Array.from([1, 1, 1]);
    const b = Float32Array.from([0, 0, 0, 0]);
    const aux = Float32Array.from([400, -400, 0, 88.8]);
    const out = await runMatmul(ctx, chooseMatmulTuning(ctx, variant), { epilogue: 'biasSigmoid' }, { M, N, K, a, b, aux });
    for (let m = 0; m < M; m++) {
      expect(out.c[m * N]).toBe(1);
      expect(out.c[m * N + 1]).toBe(0);
      expect(out.c[m * N + 2]).toBe(0.5);
      expect(out.c[m * N + 3]).toBe(1);
    }
  });

  test('a dispatch of more than 65,535 workgroups', async () => {
    const ctx = await gpu();
    // Small tiled workgroups keep this fast on SwiftShader; the folding is the same at any size.
    const tuning = { ...chooseMatmulTuning(ctx, variant), tile: 4 };
    const options = { transposeB: true, rowSums: true };
    const kernel = await matmulKernel(KernelRegistry.of(ctx.device), tuning, options);
    const K = kernel.vec4 ? 4 : 2; // K = 4 takes the vec4 path where there is one
    const [tileRows] = pickMatmulPipeline(kernel, { M: 4, N: 1, K }).tile;
    const M = tileRows * ctx.limits.maxComputeWorkgroupsPerDimension + 5; // one tile column, max + 1 tile rows
    const N = 1;
    const random = new Random(99);
    const { a, b } = operands(random, M, N, K);
    const out = await runMatmul(ctx, tuning, options, { M, N, K, a, b });
    const shape = { M, N, K, transposeB: true };
    expectClose(`${variant} ${M}×${N}×${K}`, out.c, matmulReference(a, b, shape), tolerance(K));
    expectClose(`${variant} ${M}×${N}×${K} row sums`, out.rowSums, rowSumsReference(a, shape), tolerance(K));
  });
});

test('the vec4 kernel is chosen exactly where every stored row is whole vec4s', async () => {
  const ctx = await gpu();
  const kernel = await matmulKernel(KernelRegistry.of(ctx.device), chooseMatmulTuning(ctx, 'regblock-vec4'), { transposeA: true });
  expect(pickMatmulPipeline(kernel, { M: 44, N: 64, K: 36 })).toBe(kernel.vec4!.square);
  expect(pickMatmulPipeline(kernel, { M: 4096, N: 16, K: 36 })).toBe(kernel.vec4!.tall);
  expect(pickMatmulPipeline(kernel, { M: 16, N: 256, K: 36 })).toBe(kernel.vec4!.wide);
  expect(pickMatmulPipeline(kernel, { M: 45, N: 64, K: 36 })).toBe(kernel.general); // Aᵀ stored K×45
  expect(pickMatmulPipeline(kernel, { M: 44, N: 64, K: 36, offsetB: 2 })).toBe(kernel.general);
  expect(matmulVec4Fits({ transposeB: true }, { M: 5, N: 7, K: 8 })).toBe(true);
  expect(matmulVec4Fits({}, { M: 5, N: 7, K: 8 })).toBe(false);
});
