// Host side of shaders/sigmoid.wgsl: S = σ(Z) and G_Z = G_S ⊙ S ⊙ (1 − S), elementwise.
import { foldWorkgroups } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { WGSL } from './shaders.js';

const WORKGROUP = 256; // @workgroup_size in sigmoid.wgsl

export function sigmoidForwardKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({ name: 'sigmoid', source: WGSL.sigmoid, entryPoint: 'sigmoid_forward', inputs: ['z'], outputs: ['s'] });
}

export function sigmoidBackwardKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({
    name: 'sigmoid',
    source: WGSL.sigmoid,
    entryPoint: 'sigmoid_backward',
    inputs: ['s', 'gradS'],
    outputs: ['gradZ'],
  });
}

export function writeSigmoidSize(view: DataView, count: number): void {
  view.setUint32(0, count, true);
}

export function encodeElementwise(
  pass: GPUComputePassEncoder,
  kernel: Kernel,
  bindGroup: GPUBindGroup,
  uniformOffset: number,
  count: number,
  maxPerDimension: number,
): void {
  if (count === 0) return;
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(...foldWorkgroups(Math.ceil(count / WORKGROUP), maxPerDimension));
}
