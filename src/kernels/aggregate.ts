// Host side of the gradient aggregators' kernels: shaders/task_jacobian.wgsl (each task's
// backpropagated hidden gradient, side by side), shaders/gramian.wgsl (G_st = ⟨J_s, J_t⟩ from the
// matmul Δᵀ·X between them) and shaders/aggregate.wgsl (α from G, then G_Y scaled). The dims
// structs, the AGGREGATOR_* codes and the solvers' limits are declared here and in src/core, and generated into the shaders.
import { AGGREGATOR_LIMITS, AGGREGATOR_WGSL } from '../core/weighting.js';
import { wgslConstant, wgslF32Constant, wgslPreamble, wgslStruct } from '../core/wgsl.js';
import { foldWorkgroups } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { composeWgsl, ELEMENTWISE_WORKGROUP, SHADER_FILES } from './shaders.js';

export const JacobianDims = wgslStruct('JacobianDims', [
  ['rows', 'u32'],
  ['tasks', 'u32'],
  ['hidden', 'u32'],
  /** Where A starts in the flat parameters. */
  ['offsetA', 'u32'],
]);

export const GramianDims = wgslStruct('GramianDims', [
  ['tasks', 'u32'],
  ['hidden', 'u32'],
  ['features', 'u32'],
]);

export const AggregateDims = wgslStruct('AggregateDims', [
  ['rows', 'u32'],
  ['tasks', 'u32'],
  /** AGGREGATOR_* code. */
  ['kind', 'u32'],
  /** Optimizer steps so far and the run's seed: PCGrad's order. */
  ['step', 'u32'],
  ['seed', 'u32'],
  /** 1: add α to weightSums (training steps); 0: leave them (gradients()). */
  ['accumulate', 'u32'],
]);

const JACOBIAN_SOURCE = composeWgsl(wgslPreamble(wgslConstant('WORKGROUP_SIZE', ELEMENTWISE_WORKGROUP), JacobianDims.wgsl), SHADER_FILES.taskJacobian);
const GRAMIAN_SOURCE = composeWgsl(wgslPreamble(GramianDims.wgsl), SHADER_FILES.gramian);
const AGGREGATE_SOURCE = composeWgsl(
  wgslPreamble(
    AGGREGATOR_WGSL,
    wgslConstant('MGDA_STEPS', AGGREGATOR_LIMITS.mgdaSteps),
    wgslConstant('UPGRAD_SWEEPS', AGGREGATOR_LIMITS.upgradSweeps),
    wgslF32Constant('AGGREGATOR_TOLERANCE', AGGREGATOR_LIMITS.tolerance),
    AggregateDims.wgsl,
  ),
  SHADER_FILES.aggregate,
);

const powerOfTwo = (name: string, n: number) => {
  if (!(n >= 1 && (n & (n - 1)) === 0)) throw new RangeError(`${name} workgroup ${n} is not a power of two`);
};

export function taskJacobianKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({ name: 'task_jacobian', source: JACOBIAN_SOURCE, entryPoint: 'main', inputs: ['gradY', 'params', 'hidden'], outputs: ['deltas'], uniform: 'dims' });
}

export function gramianKernel(registry: KernelRegistry, workgroup = 64): Promise<Kernel> {
  powerOfTwo('gramian', workgroup);
  return registry.get(
    { name: 'gramian', source: GRAMIAN_SOURCE, entryPoint: 'main', inputs: ['jacobian', 'jacobianBias'], outputs: ['gramian'], uniform: 'dims' },
    { WORKGROUP: workgroup },
  );
}

export function aggregateKernel(registry: KernelRegistry, tasks: number, workgroup = 64): Promise<Kernel> {
  powerOfTwo('aggregate', workgroup);
  return registry.get(
    { name: 'aggregate', source: AGGREGATE_SOURCE, entryPoint: 'main', inputs: ['gramian'], outputs: ['gradY', 'weightSums', 'scratch'], uniform: 'dims' },
    { WORKGROUP: workgroup, TASKS: tasks },
  );
}

/** Floats of the aggregate kernel's scratch buffer for T tasks. */
export const aggregateScratchFloats = (tasks: number) => 3 * tasks * tasks + tasks;

/** Where the aggregate kernel leaves α (T floats) in its scratch buffer. */
export const aggregateWeightsOffset = (tasks: number) => 3 * tasks * tasks;

export function encodeTaskJacobian(
  pass: GPUComputePassEncoder,
  kernel: Kernel,
  group: GPUBindGroup,
  offset: number,
  dims: { rows: number; tasks: number; hidden: number },
  maxPerDimension: number,
): void {
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, group, [offset]);
  pass.dispatchWorkgroups(...foldWorkgroups(Math.ceil((dims.rows * dims.tasks * dims.hidden) / ELEMENTWISE_WORKGROUP), maxPerDimension));
}

export function encodeGramian(pass: GPUComputePassEncoder, kernel: Kernel, group: GPUBindGroup, offset: number, tasks: number): void {
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, group, [offset]);
  pass.dispatchWorkgroups(tasks, tasks);
}

export function encodeAggregate(pass: GPUComputePassEncoder, kernel: Kernel, group: GPUBindGroup, offset: number): void {
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, group, [offset]);
  pass.dispatchWorkgroups(1);
}
