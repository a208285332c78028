// Host side of shaders/loss.wgsl: per-task MSE / BCE-with-logits, G_Y and the loss accumulator.
// TaskInfo, LossDims and the LOSS_* / WEIGHTING_* codes are declared here and in src/core, and
// generated into the shader.
import { LOSS_WGSL, resolveLoss, type TaskSpec } from '../core/losses.js';
import { WEIGHTING_WGSL } from '../core/weighting.js';
import { wgslPreamble, wgslStruct } from '../core/wgsl.js';
import { checkPowerOfTwo } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { composeWgsl, SHADER_FILES } from './shaders.js';

/** One per task in the `tasks` storage buffer. */
export const TaskInfo = wgslStruct('TaskInfo', [
  ['weight', 'f32'],
  ['kind', 'u32'],
  /** c_t of uncertainty weighting, from the loss table. */
  ['uncertaintyScale', 'f32'],
  /** The loss's parameter (Huber's δ, the quantile's q; 0 for a loss without one). */
  ['param', 'f32'],
]);

export const LossDims = wgslStruct('LossDims', [
  ['rows', 'u32'],
  ['tasks', 'u32'],
  /** First row of the batch inside the targets and mask buffers. */
  ['offsetRows', 'u32'],
  /** WEIGHTING_* code (src/core/weighting.ts). */
  ['weighting', 'u32'],
]);
export type LossDims = { rows: number; tasks: number; offsetRows: number; weighting: number };

const SOURCE = composeWgsl(wgslPreamble(LOSS_WGSL, WEIGHTING_WGSL, TaskInfo.wgsl, LossDims.wgsl), SHADER_FILES.sigmoidFn, SHADER_FILES.lossFn, SHADER_FILES.loss);

/** Invocations per task's workgroup: a power of two (the reduction halves it). */
export function lossKernel(registry: KernelRegistry, workgroup = 256): Promise<Kernel> {
  checkPowerOfTwo('loss', workgroup);
  return registry.get(
    {
      name: 'loss',
      source: SOURCE,
      entryPoint: 'main',
      inputs: ['y', 'targets', 'mask', 'tasks', 'logVar'],
      outputs: ['gradY', 'lossSums', 'gradLogVar'],
      uniform: 'dims',
    },
    { WORKGROUP: workgroup },
  );
}

/** Bytes of the `tasks` buffer for T tasks (at least 16, as bindings need). */
export const taskInfoBytes = (tasks: number) => Math.max(16, tasks * TaskInfo.byteSize);

/** The `tasks` buffer: one TaskInfo (weight, loss code, c_t, loss parameter) per task. */
export function packTaskInfo(tasks: readonly TaskSpec[]): ArrayBuffer {
  const bytes = new ArrayBuffer(taskInfoBytes(tasks.length));
  const view = new DataView(bytes);
  tasks.forEach((task, t) => {
    const { entry, param } = resolveLoss(task.loss);
    TaskInfo.write(view, { weight: task.weight, kind: entry.code, uncertaintyScale: entry.uncertaintyScale, param }, t * TaskInfo.byteSize);
  });
  return bytes;
}

export function writeLossDims(view: DataView, d: LossDims): void {
  LossDims.write(view, d);
}

export function encodeLoss(pass: GPUComputePassEncoder, kernel: Kernel, bindGroup: GPUBindGroup, uniformOffset: number, tasks: number): void {
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(tasks); // one workgroup per task
}
