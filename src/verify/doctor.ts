// `sigmtl doctor`: what the adapter is, whether it is software, its limits and features, and
// which matmul kernel sigmtl picks for it (and how: the adapter kind, a cached or a fresh timing).
import { WANTED_LIMITS, type GpuContext } from '../gpu/context.js';
import { autotuneMatmul, type AutotuneResult, type TuningStore } from '../kernels/autotune.js';

/** The limits sigmtl raises to the adapter's, and the two alignments its buffer layout depends on. */
export const REPORTED_LIMITS = [...WANTED_LIMITS, 'minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment'] as const;

export interface DoctorReport {
  adapter: GpuContext['adapter'];
  origin: string;
  limits: Record<string, number>;
  features: readonly string[];
  matmul: AutotuneResult;
}

export async function doctorReport(ctx: GpuContext, store?: TuningStore): Promise<DoctorReport> {
  const limits: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) limits[name] = ctx.limits[name];
  return { adapter: ctx.adapter, origin: ctx.origin, limits, features: ctx.features, matmul: await autotuneMatmul(ctx, { store }) };
}
