// The CPU engine's WebAssembly matmul (wasm/matmul.ts, src/cpu/wasm-matmul.ts) against the float64
// reference on awkward shapes, every transpose and epilogue, with row sums; its committed bytes
// against a fresh compile of the source; its epilogue codes against the shared table.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createWasmMatmul, TRANSPOSE_PANELS, WasmKernels, wasmRelaxedSimdSupported, wasmSimdSupported } from '../src/cpu/wasm-matmul.js';
import { enableWasmRelaxedSimd } from '../src/io/relaxed-simd.js';
import { LOSSES } from '../src/core/losses.js';
import * as BYTES from '../src/cpu/wasm-matmul-bytes.js';
import { matmulReference, rowSumsReference, sigmoid } from '../src/cpu/reference.js';
import { Epilogue, type EpilogueName } from '../src/core/epilogues.js';
import { Random, uniformArray } from '../src/util/random.js';
import { compareArrays, describeComparison } from '../src/util/compare.js';
// @ts-expect-error: a plain .mjs script without types
import { BUILDS, compileMatmul } from '../scripts/build-wasm.mjs';

const SHAPES = [
  [1, 1, 1],
  [7, 13, 5],
  [4, 8, 16],
  [45, 65, 37],
  [33, 17, 129],
  [100, 5, 10],
  [3, 257, 2],
] as const;

// Node 20 has relaxed SIMD behind a flag (sigmtl/node turns it on); both builds are tested.
enableWasmRelaxedSimd();

describe('wasm matmul against the float64 reference', () => {
  test('SIMD and relaxed SIMD are available here; the plain build is refused nothing, relaxed is asked for by default', async () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(wasmRelaxedSimdSupported()).toBe(true);
    expect((await WasmKernels.create({ threads: 1 })).relaxedSimd).toBe(true);
    expect((await WasmKernels.create({ threads: 1, relaxedSimd: false })).relaxedSimd).toBe(false);
  });

  test.each(SHAPES.flatMap((shape) => [true, false].map((relaxed) => [...shape, relaxed] as const)))(
    '%i×%i×%i (relaxed SIMD %s), every transpose and epilogue, with row sums',
    async (M, N, K, relaxedSimd) => {
      const engine = await createWasmMatmul({ relaxedSimd });
      const random = new Random(M * 1000 + N * 10 + K);
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          for (const epilogue of Object.keys(Epilogue) as EpilogueName[]) {
            const a = uniformArray(random, M * K);
            const b = uniformArray(random, K * N);
            const aux = uniformArray(random, epilogue === 'sigmoidGrad' ? M * N : N, 0.05, 0.95);
            const shape = { M, N, K, transposeA, transposeB };
            const got = engine.matmul(a, b, shape, { epilogue, aux, rowSums: true });
            const acc = matmulReference(a, b, shape);
            const want = acc.map((v, i) => {
              const n = i % N;
              if (epilogue === 'bias') return v + aux[n]!;
              if (epilogue === 'biasSigmoid') return sigmoid(v + aux[n]!);
              if (epilogue === 'sigmoidGrad') return v * aux[i]! * (1 - aux[i]!);
              return v;
            });
            const tol = { atol: 1e-6 + 2e-7 * K, rtol: 1e-5 };
            const name = `${M}×${N}×${K} tA=${transposeA} tB=${transposeB} ${epilogue}`;
            const c = compareArrays(got.c, want, tol);
            expect(c.ok, describeComparison(name, c, tol)).toBe(true);
            const sums = compareArrays(got.rowSums!, rowSumsReference(a, { ...shape }), tol);
            expect(sums.ok, describeComparison(`${name} row sums`, sums, tol)).toBe(true);
          }
        }
      }
    },
  );

  test('sigmoid at ±400 is exactly 0 and 1; bad shapes are refused', async () => {
    const engine = await createWasmMatmul();
    const { c } = engine.matmul(Float32Array.of(400, -400), Float32Array.of(1), { M: 2, N: 1, K: 1 }, { epilogue: 'biasSigmoid', aux: Float32Array.of(0) });
    expect(Array.from(c)).toEqual([1, 0]);
    expect(() => engine.matmul(new Float32Array(3), new Float32Array(2), { M: 2, N: 1, K: 2 })).toThrow('A has 3 values, expected 4');
    expect(() => engine.matmul(new Float32Array(4), new Float32Array(2), { M: 2, N: 1, K: 2 }, { epilogue: 'bias' })).toThrow('needs aux');
  });
});

test('the committed WebAssembly is the compiled source; its epilogue codes are the shared table', () => {
  const committed = BYTES as Record<string, string>;
  for (const build of BUILDS as { name: string; shared: boolean; relaxed: boolean }[]) {
    const fresh = compileMatmul(build.shared, build.relaxed) as Buffer;
    expect(fresh.toString('base64'), `${build.name}: run node scripts/build-wasm.mjs and commit src/cpu/wasm-matmul-bytes.ts`).toBe(committed[build.name]);
  }
  expect(Object.keys(committed).sort()).toEqual((BUILDS as { name: string }[]).map((b) => b.name).sort());
  const source = readFileSync('wasm/matmul.ts', 'utf8');
  for (const [name, code] of Object.entries(Epilogue)) {
    const constant = `EPILOGUE_${name.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
    expect(source, constant).toContain(`const ${constant}: i32 = ${code};`);
  }
  for (const entry of Object.values(LOSSES)) expect(source).toContain(`const LOSS_${entry.kind.toUpperCase()}: i32 = ${entry.code};`);
  expect(source).toContain(`const A_PANELS: i32 = ${TRANSPOSE_PANELS};`);
  expect(source).toContain(`const B_PANELS: i32 = ${TRANSPOSE_PANELS};`);
});

/** A region of the module's memory holding `values`; its pointer. */
function copyIn(k: WasmKernels, values: ArrayLike<number>): number {
  const at = k.alloc(values.length);
  k.f32(at, values.length).set(values);
  return at;
}

describe("the module's task losses and the data set's column panels", () => {
  // Six tasks: four MSE (one SIMD group, a masked NaN target in it), then BCE and MSE one by one.
  const T = 6;
  const rows = 2;
  const codes = [0, 0, 0, 0, 1, 0];
  const Y = [1, 2, 0.5, -1, 3, 2, /**/ 0.5, 0, 2, 4, -1, 0];
  const targets = [0, 2, 1, NaN, 0, 1, /**/ 1.5, 1, 0, 3, 1, -1];
  const mask = [1, 1, 1, 0, 1, 1, /**/ 1, 1, 1, 1, 1, 0];
  const softplus = (x: number) => Math.log1p(Math.exp(x));
  const s = (x: number) => 1 / (1 + Math.exp(-x));

  test('loss sums and counts, and G_Y = s_t·mask·∂ℓ/∂y, against hand-worked values', async () => {
    const k = await WasmKernels.create({ threads: 1 });
    const [y, t, m, scales] = [copyIn(k, Y), copyIn(k, targets), copyIn(k, mask), copyIn(k, [1, 2, 3, 4, 5, 6])];
    const codeAt = k.alloc(T);
    k.i32(codeAt, T).set(codes);
    const params = copyIn(k, Array(T).fill(0));
    const out = k.alloc(4 * T);
    const gradY = k.alloc(rows * T);
    k.losses.lossSums(y, t, m, rows, T, codeAt, params, out);
    const sums = Array.from(k.f64(out, 2 * T));
    // (1−0)² + (0.5−1.5)²; 0 + (0−1)²; (0.5−1)² + (2−0)²; row 0 masked, (4−3)²; BCE of (3, 0) and (−1, 1); (2−1)², row 1 masked
    const expected = [2, 1, 4.25, 1, 3 + softplus(-3) + 1 + softplus(-1), 1, /**/ 2, 2, 2, 1, 2, 1];
    sums.forEach((v, i) => expect(v, `sum/count ${i}`).toBeCloseTo(expected[i]!, 6));
    k.losses.lossGradient(y, t, m, rows, T, codeAt, params, scales, gradY);
    const g = Array.from(k.f32(gradY, rows * T));
    const expectedG = [2, 0, -3, 0, 5 * s(3), 12, /**/ -2, -4, 12, 8, 5 * (s(-1) - 1), 0];
    g.forEach((v, i) => expect(v, `G_Y ${i}`).toBeCloseTo(expectedG[i]!, 6));
    k.destroy();
  });

  test('X·Wᵀ + b, σ reads a batch of rows straight from the column panels (as training does)', async () => {
    const k = await WasmKernels.create({ threads: 1 });
    const random = new Random(8);
    const [dataRows, d, H, start, batch] = [41, 13, 9, 3, 23];
    const X = uniformArray(random, dataRows * d);
    const W = uniformArray(random, H * d);
    const b = uniformArray(random, H);
    const panels = k.columnPanelsOf(X, dataRows, d);
    const [w, bias, out] = [copyIn(k, W), copyIn(k, b), k.alloc(batch * H)];
    await k.product(panels + 32 * start, w, out, { M: batch, N: H, K: d, transposeB: true, aPanelPitch: k.panelPitch(dataRows) }, 'biasSigmoid', bias);
    const S = k.f32(out, batch * H);
    for (let n = 0; n < batch; n++) {
      for (let h = 0; h < H; h++) {
        let z = b[h]!;
        for (let j = 0; j < d; j++) z += X[(start + n) * d + j]! * W[h * d + j]!;
        expect(S[n * H + h]!, `S[${n}][${h}]`).toBeCloseTo(sigmoid(z), 5);
      }
    }
    k.destroy();
  });

  // Outputs y against targets 0, so e = y; five tasks: four SIMD lanes and a tail, each with its own parameter.
  const e = [0.5, 3, -2, -0.25, 1.5];
  async function lossesOf(code: number, param: number[]) {
    const k = await WasmKernels.create({ threads: 1 });
    const [y, t, m, scales, p] = [copyIn(k, e), copyIn(k, [0, 0, 0, 0, 0]), copyIn(k, [1, 1, 1, 1, 1]), copyIn(k, [1, 1, 1, 1, 1]), copyIn(k, param)];
    const codeAt = k.alloc(5);
    k.i32(codeAt, 5).set(Array(5).fill(code));
    const [out, gradY] = [k.alloc(20), k.alloc(5)];
    k.losses.lossSums(y, t, m, 1, 5, codeAt, p, out);
    k.losses.lossGradient(y, t, m, 1, 5, codeAt, p, scales, gradY);
    const result = { sums: Array.from(k.f64(out, 5)), gradients: Array.from(k.f32(gradY, 5)) };
    k.destroy();
    return result;
  }

  test('Huber: ½e² within δ, δ(|e| − ½δ) beyond; G_Y = e clipped to ±δ (hand-worked, δ per task)', async () => {
    const { sums, gradients } = await lossesOf(LOSSES.huber.code, [1, 2, 1, 0.5, 1]);
    expect(sums).toEqual([0.125, 4, 1.5, 0.03125, 1]);
    expect(gradients).toEqual([0.5, 2, -1, -0.25, 1]);
  });

  test('quantile: q·r for r = ŷ − y ≥ 0, (q − 1)·r below; G_Y = −q below the target, 1 − q above (hand-worked, q per task)', async () => {
    const { sums, gradients } = await lossesOf(LOSSES.quantile.code, [0.9, 0.1, 0.5, 0.9, 0.25]);
    [0.05, 2.7, 1, 0.225, 1.125].forEach((v, i) => expect(sums[i], `ℓ ${i}`).toBeCloseTo(v, 6));
    [0.1, 0.9, -0.5, -0.9, 0.75].forEach((v, i) => expect(gradients[i], `G_Y ${i}`).toBeCloseTo(v, 6));
  });

  test('dW-style products read a batch of rows straight from the column panels', async () => {
    const k = await WasmKernels.create({ threads: 1 });
    const random = new Random(7);
    const [dataRows, d, H, start, batch] = [37, 13, 7, 5, 20];
    const X = uniformArray(random, dataRows * d);
    const G = uniformArray(random, batch * H); // G_Z, batch×H
    const panels = k.columnPanelsOf(X, dataRows, d);
    const g = copyIn(k, G);
    const out = k.alloc(H * d);
    const sums = k.alloc(H);
    await k.product(g, panels + 32 * start, out, { M: H, N: d, K: batch, transposeA: true, bPanelPitch: k.panelPitch(dataRows) }, 'none', 0, sums);
    const dW = k.f32(out, H * d);
    for (let h = 0; h < H; h++) {
      let db = 0;
      for (let n = 0; n < batch; n++) db += G[n * H + h]!;
      expect(k.f32(sums, H)[h]!).toBeCloseTo(db, 4);
      for (let j = 0; j < d; j++) {
        let v = 0;
        for (let n = 0; n < batch; n++) v += G[n * H + h]! * X[(start + n) * d + j]!;
        expect(dW[h * d + j]!, `dW[${h}][${j}]`).toBeCloseTo(v, 4);
      }
    }
    k.destroy();
  });
});

describe('on several threads (worker_threads through sigmtl/node)', () => {
  test('the product on 2 threads is bit for bit the one-thread product, every transpose and epilogue', async () => {
    await import('../src/node.js'); // registers the worker pool
    const one = await createWasmMatmul();
    const two = await createWasmMatmul({ threads: 2 });
    expect(two.threads).toBe(2);
    const random = new Random(11);
    try {
      for (const [M, N, K] of [
        [130, 70, 129],
        [64, 256, 64],
        [9, 300, 500],
      ] as const) {
        for (const transposeA of [false, true]) {
          for (const transposeB of [false, true]) {
            const a = uniformArray(random, M * K);
            const b = uniformArray(random, K * N);
            const aux = uniformArray(random, M * N, 0.05, 0.95);
            const shape = { M, N, K, transposeA, transposeB };
            for (const epilogue of ['none', 'sigmoidGrad'] as const) {
              const want = one.matmul(a, b, shape, { epilogue, aux, rowSums: true });
              const got = await two.product(a, b, shape, { epilogue, aux, rowSums: true });
              expect(Array.from(got.c)).toEqual(Array.from(want.c));
              expect(Array.from(got.rowSums!)).toEqual(Array.from(want.rowSums!));
            }
          }
        }
      }
    } finally {
      two.destroy();
    }
  });
});
