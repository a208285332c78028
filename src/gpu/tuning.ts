// Picks the matmul variant and workgroup shape for an adapter. On software adapters every
// workgroupBarrier is a thread switch, so the barrier-free register-blocked kernel wins there;
// real GPUs get the shared-memory tiled kernel.
import type { MatmulTuning, MatmulVariant } from '../kernels/matmul.js';
import type { GpuContext } from './context.js';

export function chooseMatmulTuning(ctx: GpuContext, variant?: MatmulVariant): MatmulTuning {
  const maxInvocations = ctx.limits.maxComputeInvocationsPerWorkgroup;
  const tile = maxInvocations >= 256 ? 16 : 8;
  const chosen = variant ?? (ctx.adapter.software ? 'regblock-vec4' : 'tiled');
  return { variant: chosen, workgroupX: 8, workgroupY: 8, tile };
}
