// Host side of shaders/gls.wgsl, the geometric loss strategy's stage: after the loss kernel, one
// workgroup reads the batch's task losses and rescales G_Y[:,t] by L·w_t/(W_P·L_t) (its float64
// twin: `geometric` in src/cpu/weightings.ts).
import { LOSS_WGSL } from '../core/losses.js';
import { wgslPreamble } from '../core/wgsl.js';
import { checkPowerOfTwo, encodeOneWorkgroup } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { LossDims, TaskInfo } from './loss.js';
import { composeWgsl, SHADER_FILES } from './shaders.js';
import type { WeightingStageType } from './weighting-stages.js';

// taskLossSums reads `dims.tasks` and `dims.offsetRows`: the stage runs on the loss kernel's LossDims.
const SOURCE = composeWgsl(wgslPreamble(LOSS_WGSL, TaskInfo.wgsl, LossDims.wgsl), SHADER_FILES.sigmoidFn, SHADER_FILES.lossFn, SHADER_FILES.taskLosses, SHADER_FILES.gls);

/** One workgroup of `workgroup` invocations (a power of two) for a model of `tasks` tasks. */
export function glsKernel(registry: KernelRegistry, tasks: number, workgroup = 256): Promise<Kernel> {
  checkPowerOfTwo('gls', workgroup);
  return registry.get(
    { name: 'gls', source: SOURCE, entryPoint: 'main', inputs: ['y', 'targets', 'mask', 'tasks'], outputs: ['gradY'], uniform: 'dims' },
    { WORKGROUP: workgroup, TASKS: tasks },
  );
}

export const glsStage: WeightingStageType = {
  hook: 'afterLoss',
  dispatches: 1,
  async prepare(env) {
    const kernel = await glsKernel(env.registry, env.config.shape.tasks, env.lossWorkgroup);
    return (ctx) => {
      let group: GPUBindGroup | undefined;
      return {
        bindData({ Y, mask }) {
          const b = ctx.buffers;
          group = ctx.group(kernel, { y: b.output, targets: Y, mask, tasks: b.tasks, gradY: b.gradOutput });
        },
        encode(rec, step) {
          if (!group) throw new Error('gls: no data set bound');
          encodeOneWorkgroup(rec.next('geometric loss: G_Y rescaled'), kernel.pipeline, group, step.lossOffset);
        },
        destroy() {},
      };
    };
  },
};
