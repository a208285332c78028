// The CPU engine's native products (native/, src/io/native-products.ts) against the float64
// reference: every build this CPU runs (AVX-512, AVX2 + FMA, the baseline), every operand layout
// (as stored, transposed, column panels) and epilogue, ragged edges and K past one cache block,
// row sums, one thread against two; the build against its sources; bad offsets refused. The
// engine on each build against PyTorch and the float64 backend is in golden.test.ts and
// wasm-backend.test.ts.
import { describe, expect, test } from 'vitest';
import { createWasmMatmul, nativeProductBuilds, setNativeProducts, TRANSPOSE_PANELS, WasmKernels, type NativeProducts } from '../src/cpu/wasm-matmul.js';
import { loadNativeProducts, nativeProductsAbsence } from '../src/io/native-products.js';
import { matmulReference, rowSumsReference, sigmoid } from '../src/cpu/reference.js';
import { Epilogue, type EpilogueName } from '../src/core/epilogues.js';
import { Random, uniformArray } from '../src/util/random.js';
import { NATIVE_MIN_WORK, WasmBackend } from '../src/backends/wasm.js';
import type { BackendConfig } from '../src/core/backend.js';
import { DEFAULT_OPTIMIZER, updateRules } from '../src/core/optimizers.js';
import { newOptimizerState, optimizerStep } from '../src/cpu/optimizer.js';
import { parameterLayout } from '../src/core/shape.js';
import { compareArrays, describeComparison } from '../src/util/compare.js';
// @ts-expect-error: a plain .mjs script without types
import { nativeSourceHash } from '../scripts/build-native.mjs';

const addon = loadNativeProducts();
setNativeProducts(addon);
const BUILDS = nativeProductBuilds();

test('the native products are built here, from the sources in native/ as they are now', () => {
  expect(addon, `not loaded: ${nativeProductsAbsence}`).toBeDefined();
  expect(addon!.sourceHash, 'native/ changed since the build: npm run build:native').toBe((nativeSourceHash as () => string)());
  expect(BUILDS.at(-1)).toBe('base');
  if (process.arch === 'x64') expect(BUILDS).toContain('avx2'); // every x86-64 CI machine of ours has AVX2
});

// Shapes around each build's tiles (16 or 32 columns, 6 to 16 rows), K past KC = 512 and not a
// multiple of the panel width.
const SHAPES = [
  [1, 1, 1],
  [5, 3, 7],
  [17, 33, 40],
  [33, 16, 600],
  [9, 70, 1100],
  [40, 5, 17],
  [13, 64, 1030],
] as const;

/** op(A) M×K and op(B) K×N (row-major) laid out as the codes say, in a fresh engine memory. */
function expected(a: Float32Array, b: Float32Array, shape: { M: number; N: number; K: number }, epilogue: EpilogueName, aux: Float32Array): Float64Array {
  const { N } = shape;
  return matmulReference(a, b, shape).map((v, i) => {
    if (epilogue === 'bias') return v + aux[i % N]!;
    if (epilogue === 'biasSigmoid') return sigmoid(v + aux[i % N]!);
    if (epilogue === 'sigmoidGrad') return v * aux[i]! * (1 - aux[i]!);
    return v;
  });
}

describe.each(BUILDS)('native build %s against the float64 reference', (build) => {
  test.each(SHAPES)('%i×%i×%i: as stored and transposed, every epilogue, with row sums', async (M, N, K) => {
    const engine = await createWasmMatmul({ native: build });
    const random = new Random(M * 1000 + N * 10 + K);
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        for (const epilogue of Object.keys(Epilogue) as EpilogueName[]) {
          const a = uniformArray(random, M * K);
          const b = uniformArray(random, K * N);
          const aux = uniformArray(random, epilogue === 'sigmoidGrad' ? M * N : N, 0.05, 0.95);
          const shape = { M, N, K, transposeA, transposeB };
          const got = engine.matmul(a, b, shape, { epilogue, aux, rowSums: true });
          const tol = { atol: 1e-6 + 2e-7 * K, rtol: 1e-5 };
          const name = `${build} ${M}×${N}×${K} tA=${transposeA} tB=${transposeB} ${epilogue}`;
          let c = compareArrays(got.c, expected(a, b, shape, epilogue, aux), tol);
          expect(c.ok, describeComparison(name, c, tol)).toBe(true);
          c = compareArrays(got.rowSums!, rowSumsReference(a, shape), tol);
          expect(c.ok, describeComparison(`${name} row sums`, c, tol)).toBe(true);
        }
      }
    }
    engine.destroy();
  });

  test.each(SHAPES)('%i×%i×%i: op(A) or op(B) in column panels (the data set as the engine keeps it), a batch from row 3', async (M, N, K) => {
    const k = await WasmKernels.create({ threads: 1, native: build });
    expect(k.panelWidth).toBe(addon!.panelWidth);
    const random = new Random(M + N + K);
    const start = 3;
    for (const side of ['A', 'B'] as const) {
      // The panelled operand is a (start + rows) × cols matrix; the product reads rows from `start`.
      const [rows, cols] = side === 'A' ? [M, K] : [K, N];
      const whole = uniformArray(random, (start + rows) * cols);
      const other = uniformArray(random, side === 'A' ? K * N : M * K);
      const panels = k.columnPanelsOf(whole, start + rows, cols);
      const pitch = k.panelPitch(start + rows);
      const at = k.alloc(other.length);
      k.f32(at, other.length).set(other);
      const bias = uniformArray(random, N);
      const biasAt = k.alloc(N);
      k.f32(biasAt, N).set(bias);
      const out = k.alloc(M * N);
      const shape = { M, N, K, ...(side === 'A' ? { aPanelPitch: pitch } : { bPanelPitch: pitch }) };
      const first = panels + 4 * k.panelWidth * start;
      await k.product(side === 'A' ? first : at, side === 'A' ? at : first, out, shape, 'bias', biasAt);
      const batch = whole.subarray(start * cols);
      const want = expected(side === 'A' ? batch : other, side === 'A' ? other : batch, { M, N, K }, 'bias', bias);
      const tol = { atol: 1e-6 + 2e-7 * K, rtol: 1e-5 };
      const c = compareArrays(k.f32(out, M * N), want, tol);
      expect(c.ok, describeComparison(`${build} ${M}×${N}×${K} ${side} in panels`, c, tol)).toBe(true);
    }
    expect(TRANSPOSE_PANELS).toBe(2);
    k.destroy();
  });

  test('two threads give the same bits as one (C shared out by tiles, each summed in the same order)', async () => {
    const random = new Random(5);
    const [one, two] = [await createWasmMatmul({ native: build, threads: 1 }), await createWasmMatmul({ native: build, threads: 2 })];
    expect(two.threads).toBe(2);
    for (const [M, N, K] of [
      [300, 64, 700],
      [64, 300, 700],
    ] as const) {
      const a = uniformArray(random, M * K);
      const b = uniformArray(random, K * N);
      const aux = uniformArray(random, N);
      const shape = { M, N, K, transposeA: M < N };
      const [x, y] = [await one.product(a, b, shape, { epilogue: 'biasSigmoid', aux }), await two.product(a, b, shape, { epilogue: 'biasSigmoid', aux })];
      expect(Array.from(y.c)).toEqual(Array.from(x.c));
    }
  });
});

test('by default the engine runs its products natively, but a tiny model stays on WebAssembly (a native call costs more than its products)', async () => {
  const config = (features: number, hidden: number, maxBatch: number): BackendConfig => ({
    shape: { features, hidden, tasks: 2 },
    tasks: [
      { loss: 'mse', weight: 1 },
      { loss: 'mse', weight: 1 },
    ],
    optimizer: DEFAULT_OPTIMIZER,
    maxBatch,
  });
  const large = await WasmBackend.create(config(64, 16, 64), { threads: 1 });
  expect(64 * 16 * 64).toBeGreaterThanOrEqual(NATIVE_MIN_WORK);
  expect(large.description).toMatch(new RegExp(`native ${{ avx512: 'AVX-512', avx2: 'AVX2', base: 'SSE2' }[BUILDS[0]!]}`));
  const tiny = await WasmBackend.create(config(10, 5, 100), { threads: 1 });
  expect(tiny.description).toMatch(/WebAssembly/);
  const asked = await WasmBackend.create(config(10, 5, 100), { threads: 1, native: true });
  expect(asked.description).toMatch(/native/);
  for (const b of [large, tiny, asked]) b.destroy();
});

describe('the native optimizer update', () => {
  // The float64 loops of src/cpu/optimizer.ts are checked against PyTorch's optimizers
  // (golden.test.ts); the native loops must give the same bits (same operations, same order, no
  // fused multiply–adds). Pieces: W and A decayed, A with the coupling regulariser (its own
  // gradient array), A frozen, b and c plain.
  const layout = { features: 7, hidden: 5, tasks: 3 };
  const cases = (['sgd', 'momentum', 'adam'] as const).flatMap((kind) =>
    [
      { weightDecay: 0, coupling: undefined, frozen: false },
      { weightDecay: 0.05, coupling: { l1: 0.01, toIdentity: 0.1 }, frozen: false },
      { weightDecay: 0.05, coupling: undefined, frozen: true },
    ].map((rules) => ({ kind, ...rules })),
  );
  test.each(cases)('$kind, weight decay $weightDecay, coupling $coupling, A frozen $frozen: bit for bit the float64 loops', ({ kind, weightDecay, coupling, frozen }) => {
    const shape = parameterLayout(layout);
    const count = shape.count;
    const rules = updateRules(shape, { freezeA: frozen, l1A: coupling?.l1, identityA: coupling?.toIdentity });
    const config = { ...DEFAULT_OPTIMIZER, kind, weightDecay, learningRate: 0.03 };
    const random = new Random(11);
    const start = Float64Array.from(uniformArray(random, count, -1, 1));
    const [js, native] = [Float64Array.from(start), Float64Array.from(start)];
    const [jsState, nativeState] = [newOptimizerState(count), newOptimizerState(count)];
    for (let step = 0; step < 25; step++) {
      const grads = Float64Array.from(uniformArray(random, count, -2, 2)).map((g, i) => (i % 7 === 3 ? g * 1e-6 : g));
      optimizerStep(js, grads, jsState, config, 0.03 * (1 - step / 50), rules);
      optimizerStep(native, grads, nativeState, config, 0.03 * (1 - step / 50), rules, addon!.update);
    }
    expect(Array.from(js).some((v, i) => v !== start[i])).toBe(true);
    expect(Array.from(native)).toEqual(Array.from(js)); // toEqual on numbers: Object.is per element
    expect(Array.from(nativeState.state1)).toEqual(Array.from(jsState.state1));
    expect(Array.from(nativeState.state2)).toEqual(Array.from(jsState.state2));
  });

  test('it refuses a piece outside its arrays, a non-Float64Array and an unknown optimizer', () => {
    const update = addon!.update;
    const [p, g, m, v] = [new Float64Array(8), new Float64Array(8), new Float64Array(8), new Float64Array(8)];
    const settings = [0.01, 0, 1, 1, 0.9, 0.999, 1e-8, 0.9] as const;
    expect(() => update('adam', p, g, m, v, 0, 8, 0, ...settings)).not.toThrow();
    expect(() => update('adam', p, g, m, v, 0, 9, 0, ...settings)).toThrow(/outside/);
    expect(() => update('adam', p, g, m, v, 2, 8, 3, ...settings)).toThrow(/outside/);
    expect(() => update('adam', p, new Float32Array(8) as unknown as Float64Array, m, v, 0, 8, 0, ...settings)).toThrow(/Float64Array/);
    expect(() => update('lion' as 'adam', p, g, m, v, 0, 8, 0, ...settings)).toThrow(/sgd, momentum or adam/);
  });
});

describe('what the native products refuse', () => {
  test('an operand past the end of the memory, a build this CPU does not run, native without the addon', async () => {
    const products = addon as NativeProducts;
    const memory = new ArrayBuffer(1024);
    expect(() => products.matmul(memory, 0, 512, 768, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0)).not.toThrow();
    expect(() => products.matmul(memory, 0, 512, 900, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0)).toThrow(/outside the memory/);
    expect(() => products.matmul(memory, 2, 512, 768, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0)).toThrow(/aligned/);
    expect(() => products.matmul(memory, 0, 512, 768, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0, 1, 99)).toThrow(/build/);
    await expect(WasmKernels.create({ threads: 1, native: 'neon-on-x86' })).rejects.toThrow(/no build "neon-on-x86" runs on this CPU/);
    setNativeProducts(undefined);
    try {
      await expect(WasmKernels.create({ threads: 1, native: true })).rejects.toThrow(/no native products are loaded/);
      expect((await WasmKernels.create({ threads: 1 })).productsKind).toMatch(/^WebAssembly/);
    } finally {
      setNativeProducts(addon);
    }
  });
});
