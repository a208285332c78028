// Host side of shaders/loss.wgsl: per-task MSE / BCE-with-logits, G_Y and the loss accumulator.
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { writeU32s } from '../gpu/uniforms.js';
import { WGSL } from './shaders.js';

export type LossKind = 'mse' | 'bce';
export const LOSS_KIND_CODE: Record<LossKind, number> = { mse: 0, bce: 1 };

export interface TaskSpec {
  loss: LossKind;
  weight: number;
}

/** Invocations per task's workgroup: a power of two (the reduction halves it). */
export function lossKernel(registry: KernelRegistry, workgroup = 256): Promise<Kernel> {
  if (!(workgroup >= 1 && (workgroup & (workgroup - 1)) === 0)) throw new RangeError(`loss workgroup ${workgroup} is not a power of two`);
  return registry.get(
    {
      name: 'loss',
      source: WGSL.loss,
      entryPoint: 'main',
      inputs: ['y', 'targets', 'mask', 'tasks'],
      outputs: ['gradY', 'lossSums'],
    },
    { WORKGROUP: workgroup },
  );
}

/** The `tasks` buffer: one (weight f32, kind u32) pair per task. */
export function packTaskInfo(tasks: readonly TaskSpec[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, tasks.length * 8));
  const view = new DataView(bytes);
  tasks.forEach((task, t) => {
    view.setFloat32(8 * t, task.weight, true);
    view.setUint32(8 * t + 4, LOSS_KIND_CODE[task.loss], true);
  });
  return bytes;
}

export interface LossDims {
  rows: number;
  tasks: number;
  /** First row of the batch inside the targets and mask buffers. */
  offsetRows: number;
}

export function writeLossDims(view: DataView, d: LossDims): void {
  writeU32s(view, [d.rows, d.tasks, d.offsetRows]);
}

export function encodeLoss(pass: GPUComputePassEncoder, kernel: Kernel, bindGroup: GPUBindGroup, uniformOffset: number, tasks: number): void {
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(tasks); // one workgroup per task
}
