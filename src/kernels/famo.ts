// Host side of shaders/famo.wgsl, FAMO's stage: after the loss kernel, one workgroup takes the
// logits' Adam step, the task weights α and scales G_Y by them (its float64 twin: src/cpu/famo.ts).
// FamoDims and the FAMO_* constants are declared here and in src/core/weighting.ts, and
// generated into the shader.
import { LOSS_WGSL } from '../core/losses.js';
import { FAMO, weightingStateSize } from '../core/weighting.js';
import { constantName, wgslF32Constant, wgslPreamble, wgslStruct } from '../core/wgsl.js';
import { createStorage } from '../gpu/buffers.js';
import { checkPowerOfTwo, encodeOneWorkgroup } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { TaskInfo } from './loss.js';
import { composeWgsl, SHADER_FILES } from './shaders.js';
import type { WeightingStageType } from './weighting-stages.js';

export const FamoDims = wgslStruct('FamoDims', [
  ['rows', 'u32'],
  ['tasks', 'u32'],
  /** First row of the batch inside the targets and mask buffers. */
  ['offsetRows', 'u32'],
  /** Optimizer steps before this one: the logits move from the second step on. */
  ['step', 'u32'],
  /** 1: keep the new state and add α to weightSums (training steps); 0: leave them (gradients()). */
  ['training', 'u32'],
  /** 1 − β1^step and 1 − β2^step of the logits' Adam. */
  ['biasCorrection1', 'f32'],
  ['biasCorrection2', 'f32'],
]);
export type FamoDims = { rows: number; tasks: number; offsetRows: number; step: number; training: number };

const CONSTANTS = Object.entries(FAMO).map(([name, value]) => wgslF32Constant(`FAMO_${constantName(name)}`, value));
// taskLossSums reads `dims.tasks` and `dims.offsetRows`, which FamoDims has like LossDims.
const SOURCE = composeWgsl(
  wgslPreamble(LOSS_WGSL, ...CONSTANTS, TaskInfo.wgsl, FamoDims.wgsl),
  SHADER_FILES.sigmoidFn,
  SHADER_FILES.lossFn,
  SHADER_FILES.taskLosses,
  SHADER_FILES.famo,
);

export function famoKernel(registry: KernelRegistry, tasks: number, workgroup = 256): Promise<Kernel> {
  checkPowerOfTwo('famo', workgroup);
  return registry.get(
    { name: 'famo', source: SOURCE, entryPoint: 'main', inputs: ['y', 'targets', 'mask', 'tasks'], outputs: ['gradY', 'state', 'weightSums'], uniform: 'dims' },
    { WORKGROUP: workgroup, TASKS: tasks },
  );
}

export function writeFamoDims(view: DataView, d: FamoDims): void {
  const step = Math.max(d.step, 1); // the corrections are unused at step 0
  FamoDims.write(view, { ...d, biasCorrection1: 1 - FAMO.beta1 ** step, biasCorrection2: 1 - FAMO.beta2 ** step });
}

export const famoStage: WeightingStageType = {
  hook: 'afterLoss',
  dispatches: 1,
  async prepare(env) {
    const kernel = await famoKernel(env.registry, env.config.shape.tasks, env.lossWorkgroup);
    return (ctx) => {
      const tasks = ctx.config.shape.tasks;
      // ξ, Adam's m and v, the last step's L_t: zeros are FAMO's start.
      const floats = weightingStateSize(ctx.config.weighting, tasks);
      const state = { buffer: createStorage(ctx.device, 'FAMO state', floats), floats };
      let group: GPUBindGroup | undefined;
      return {
        state,
        bindData({ Y, mask }) {
          const b = ctx.buffers;
          group = ctx.group(kernel, { y: b.output, targets: Y, mask, tasks: b.tasks, gradY: b.gradOutput, state: state.buffer, weightSums: b.weightSums });
        },
        encode(rec, step) {
          if (!group) throw new Error('famo: no data set bound');
          const dims = { rows: step.rows, tasks, offsetRows: step.start, step: step.step, training: step.training ? 1 : 0 };
          const offset = ctx.arena.push((view) => writeFamoDims(view, dims));
          encodeOneWorkgroup(rec.next('FAMO: logits, G_Y rescaled'), kernel.pipeline, group, offset);
        },
        destroy() {
          state.buffer.destroy();
        },
      };
    };
  },
};
