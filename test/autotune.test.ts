// The matmul autotuner: it times the candidates on this adapter (forced here, since SwiftShader is
// software and would otherwise skip straight to the register-blocked kernel), keeps the faster,
// and remembers it in a store keyed by the adapter.
import { expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { adapterKey, autotuneMatmul } from '../src/kernels/autotune.js';

test('a software adapter gets the register-blocked vec4 kernel without timing', async () => {
  const ctx = await gpu();
  const result = await autotuneMatmul(ctx);
  expect(result.source).toBe('adapter');
  expect(result.tuning.variant).toBe('regblock-vec4');
});

test('timing the candidates picks the faster one here and stores the choice', async () => {
  const ctx = await gpu();
  const saved = new Map<string, string>();
  const store = { get: (k: string) => saved.get(k), set: (k: string, v: string) => void saved.set(k, v) };
  const measured = await autotuneMatmul(ctx, { store, force: true, budgetMs: 300 });
  expect(measured.source).toBe('measured');
  expect(Object.keys(measured.timings).sort()).toEqual(['regblock-vec4', 'tiled']);
  // On SwiftShader every barrier is a thread switch: the tiled kernel is several times slower.
  expect(measured.timings['regblock-vec4']!).toBeLessThan(measured.timings.tiled!);
  expect(measured.tuning.variant).toBe('regblock-vec4');
  expect(JSON.parse(saved.get(adapterKey(ctx))!)).toEqual(measured.tuning);
});
