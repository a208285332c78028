// Picks the matmul kernel for an adapter by timing the candidates on it. Software adapters skip
// the timing (the barrier-free vec4 kernel is known to win there by an order of magnitude); a
// hardware adapter times the shared-memory tiled kernel against the register-blocked vec4 one on
// the products of a training step and keeps the faster. The choice is cached per device, and in
// an optional store (a file in Node, localStorage in a browser) keyed by the adapter's identity.
import { createStorage } from '../gpu/buffers.js';
import type { GpuContext } from '../gpu/context.js';
import { createBindGroup, KernelRegistry } from '../gpu/registry.js';
import { chooseMatmulTuning } from './tuning.js';
import { UniformArena } from '../gpu/uniforms.js';
import type { KeyValueStore } from '../util/store.js';
import { encodeMatmul, matmulKernel, writeMatmulDims, type MatmulDims, type MatmulOptions, type MatmulTuning } from './matmul.js';

/** Where autotuning keeps its choice across runs. */
export type TuningStore = KeyValueStore;

export interface AutotuneOptions {
  store?: TuningStore;
  /** Time the candidates even on a software adapter (tests). */
  force?: boolean;
  /** How long each candidate may take in total, ms. */
  budgetMs?: number;
}

export interface AutotuneResult {
  tuning: MatmulTuning;
  /** Median ms per candidate; empty when the choice came from a cache or the adapter kind. */
  timings: Record<string, number>;
  source: 'adapter' | 'cache' | 'store' | 'measured';
}

const cache = new WeakMap<GPUDevice, Promise<AutotuneResult>>();

/** A training step's products at a mid-sized shape (d=256, T=32, batch 1024). */
const PROBES: Array<{ options: MatmulOptions; dims: MatmulDims }> = [
  { options: { transposeB: true }, dims: { M: 1024, N: 32, K: 256 } },
  { options: { transposeA: true }, dims: { M: 32, N: 256, K: 1024 } },
  { options: {}, dims: { M: 256, N: 256, K: 256 } },
];

export function adapterKey(ctx: GpuContext): string {
  const a = ctx.adapter;
  return `sigmtl-matmul-v1|${a.vendor}|${a.architecture}|${a.device}|${a.description}`;
}

export function autotuneMatmul(ctx: GpuContext, options: AutotuneOptions = {}): Promise<AutotuneResult> {
  let result = cache.get(ctx.device);
  if (!result || options.force) {
    result = tune(ctx, options);
    cache.set(ctx.device, result);
  }
  return result;
}

async function tune(ctx: GpuContext, options: AutotuneOptions): Promise<AutotuneResult> {
  if (ctx.adapter.software && !options.force) return { tuning: chooseMatmulTuning(ctx), timings: {}, source: 'adapter' };
  const key = adapterKey(ctx);
  const stored = options.force ? undefined : options.store?.get(key);
  if (stored) return { tuning: JSON.parse(stored) as MatmulTuning, timings: {}, source: 'store' };
  const candidates = [chooseMatmulTuning(ctx, 'tiled'), chooseMatmulTuning(ctx, 'regblock-vec4')];
  const timings: Record<string, number> = {};
  for (const candidate of candidates) timings[candidate.variant] = await timeCandidate(ctx, candidate, options.budgetMs ?? 2000);
  const best = candidates.reduce((a, b) => (timings[b.variant]! < timings[a.variant]! ? b : a));
  options.store?.set(key, JSON.stringify(best));
  return { tuning: best, timings, source: 'measured' };
}

/** Median time of one pass over the probe products, ms (at most 5 rounds, within the budget). */
async function timeCandidate(ctx: GpuContext, tuning: MatmulTuning, budgetMs: number): Promise<number> {
  const device = ctx.device;
  const registry = KernelRegistry.of(device);
  const arena = new UniformArena(device, PROBES.length);
  const buffers: GPUBuffer[] = [];
  const runs: Array<{ kernel: Awaited<ReturnType<typeof matmulKernel>>; group: GPUBindGroup; offset: number; dims: MatmulDims }> = [];
  for (const probe of PROBES) {
    const { M, N, K } = probe.dims;
    const kernel = await matmulKernel(registry, tuning, probe.options);
    const a = createStorage(device, 'autotune a', M * K);
    const b = createStorage(device, 'autotune b', K * N);
    const c = createStorage(device, 'autotune c', M * N);
    const aux = createStorage(device, 'autotune aux', 4);
    const rowSums = createStorage(device, 'autotune row sums', M);
    buffers.push(a, b, c, aux, rowSums);
    const group = createBindGroup(device, kernel.general.kernel, { a, b, aux, c, rowSums }, arena.binding);
    runs.push({ kernel, group, offset: arena.push((v) => writeMatmulDims(v, probe.dims)), dims: probe.dims });
  }
  arena.flush();
  const once = async () => {
    const encoder = device.createCommandEncoder({ label: 'autotune' });
    const pass = encoder.beginComputePass();
    for (const r of runs) encodeMatmul(pass, r.kernel, r.group, r.offset, r.dims, ctx.limits.maxComputeWorkgroupsPerDimension);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await once(); // warm-up
  const times: number[] = [];
  const started = performance.now();
  while (times.length < 5 && (times.length === 0 || performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  for (const buffer of buffers) buffer.destroy();
  arena.destroy();
  return times.sort((x, y) => x - y)[Math.floor(times.length / 2)]!;
}
