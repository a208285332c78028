// Host side of shaders/sigmoid.wgsl: S = σ(Z) and G_Z = G_S ⊙ S ⊙ (1 − S), elementwise.
import { wgslConstant, wgslPreamble, wgslStruct } from '../core/wgsl.js';
import { foldWorkgroups } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { composeWgsl, ELEMENTWISE_WORKGROUP, SHADER_FILES } from './shaders.js';

export const Size = wgslStruct('Size', [['count', 'u32']]);

const SOURCE = composeWgsl(wgslPreamble(wgslConstant('WORKGROUP_SIZE', ELEMENTWISE_WORKGROUP), Size.wgsl), SHADER_FILES.sigmoidFn, SHADER_FILES.sigmoid);

export function sigmoidForwardKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({ name: 'sigmoid', source: SOURCE, entryPoint: 'sigmoid_forward', inputs: ['forwardZ'], outputs: ['forwardS'], uniform: 'forwardSize' });
}

export function sigmoidBackwardKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({
    name: 'sigmoid',
    source: SOURCE,
    entryPoint: 'sigmoid_backward',
    inputs: ['backwardS', 'backwardGradS'],
    outputs: ['backwardGradZ'],
    uniform: 'backwardSize',
  });
}

export function writeSigmoidSize(view: DataView, count: number): void {
  Size.write(view, { count });
}

/** One invocation per element (the sigmoid kernels and the optimizer), folded past 65,535 workgroups. */
export function encodeElementwise(pass: GPUComputePassEncoder, kernel: Kernel, bindGroup: GPUBindGroup, uniformOffset: number, count: number, maxPerDimension: number): void {
  if (count === 0) return;
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(...foldWorkgroups(Math.ceil(count / ELEMENTWISE_WORKGROUP), maxPerDimension));
}
