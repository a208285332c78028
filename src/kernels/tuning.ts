// Picks the kernels' shapes for an adapter: the matmul variant and workgroup, and the loss
// kernel's workgroup. On software adapters every
// workgroupBarrier is a thread switch, so the barrier-free register-blocked kernel wins there;
// real GPUs get the shared-memory tiled kernel.
import type { MatmulTuning, MatmulVariant } from './matmul.js';
import type { GpuContext } from '../gpu/context.js';

export function chooseMatmulTuning(ctx: GpuContext, variant?: MatmulVariant): MatmulTuning {
  const maxInvocations = ctx.limits.maxComputeInvocationsPerWorkgroup;
  const tile = maxInvocations >= 256 ? 16 : 8;
  const chosen = variant ?? (ctx.adapter.software ? 'regblock-vec4' : 'tiled');
  return { variant: chosen, workgroupX: 8, workgroupY: 8, tile };
}

/** Invocations per task in the loss kernel's reduction: fewer on software adapters (barriers are thread switches). */
export function chooseLossWorkgroup(ctx: GpuContext): number {
  return ctx.adapter.software ? 16 : 256;
}
