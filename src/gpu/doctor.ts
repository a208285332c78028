// `sigmtl doctor`: what the adapter is, whether it is software, its limits and features, and
// which matmul kernel sigmtl picks for it.
import { WANTED_LIMITS, type GpuContext } from './context.js';
import { chooseMatmulTuning } from './tuning.js';

/** The limits sigmtl raises to the adapter's, and the two alignments its buffer layout depends on. */
export const REPORTED_LIMITS = [...WANTED_LIMITS, 'minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment'] as const;

export interface DoctorReport {
  adapter: GpuContext['adapter'];
  origin: string;
  limits: Record<string, number>;
  features: readonly string[];
  matmul: ReturnType<typeof chooseMatmulTuning>;
}

export function doctorReport(ctx: GpuContext): DoctorReport {
  const limits: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) limits[name] = ctx.limits[name];
  return { adapter: ctx.adapter, origin: ctx.origin, limits, features: ctx.features, matmul: chooseMatmulTuning(ctx) };
}
