// Host side of the gradient aggregators' kernels and their stage: shaders/task_jacobian.wgsl (each
// task's backpropagated hidden gradient, side by side), shaders/gramian.wgsl (G_st = ⟨J_s, J_t⟩
// from the matmul Δᵀ·X between them) and shaders/aggregate.wgsl (α from G, then G_Y scaled). Their
// float64 twins: src/cpu/aggregators.ts. The dims
// structs, the AGGREGATOR_* codes and the solvers' limits are declared here and in src/core, and generated into the shaders.
import { STEP_PRODUCTS } from '../core/step-plan.js';
import { AGGREGATOR_CODES, AGGREGATOR_LIMITS, AGGREGATOR_WGSL, type AggregatorKind } from '../core/weighting.js';
import { wgslConstant, wgslF32Constant, wgslPreamble, wgslStruct } from '../core/wgsl.js';
import { createStorage } from '../gpu/buffers.js';
import { checkPowerOfTwo, encodeOneWorkgroup, foldWorkgroups } from '../gpu/dispatch.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { encodeMatmul, matmulKernel, writeMatmulDims, type MatmulDims } from './matmul.js';
import { composeWgsl, ELEMENTWISE_WORKGROUP, SHADER_FILES } from './shaders.js';
import type { StageEnvironment, WeightingStageType } from './weighting-stages.js';

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

export function taskJacobianKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({ name: 'task_jacobian', source: JACOBIAN_SOURCE, entryPoint: 'main', inputs: ['gradY', 'params', 'hidden'], outputs: ['deltas'], uniform: 'dims' });
}

export function gramianKernel(registry: KernelRegistry, workgroup = 64): Promise<Kernel> {
  checkPowerOfTwo('gramian', workgroup);
  return registry.get(
    { name: 'gramian', source: GRAMIAN_SOURCE, entryPoint: 'main', inputs: ['jacobian', 'jacobianBias'], outputs: ['gramian'], uniform: 'dims' },
    { WORKGROUP: workgroup },
  );
}

export function aggregateKernel(registry: KernelRegistry, tasks: number, workgroup = 64): Promise<Kernel> {
  checkPowerOfTwo('aggregate', workgroup);
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

/** The aggregators' per-task buffers must fit the device's storage bindings: say which and how to shrink them. */
function checkAggregatorBuffers({ config, bufferLimit }: StageEnvironment): void {
  const { features: d, hidden: H, tasks: T } = config.shape;
  const needs: [string, number, string][] = [
    ['the per-task hidden gradients Δ (batch×T×H floats)', 4 * config.maxBatch * T * H, 'a smaller batchSize or hidden'],
    ['the per-task gradients J (T×H×d floats)', 4 * T * H * d, 'a smaller hidden'],
  ];
  for (const [what, bytes, advice] of needs) {
    if (bytes > bufferLimit) {
      throw new RangeError(`weighting '${config.weighting}': ${what} take ${bytes} bytes, over this device's ${bufferLimit}-byte storage binding limit; use ${advice}`);
    }
  }
}

/**
 * MGDA, PCGrad and UPGrad on the GPU, after dA and dc (4 dispatches): Δ_t = (G_Y[:,t]·A[t,:]) ⊙
 * S(1−S) for every task, J = Δᵀ·X with row sums (the step plan's dW product, on every task's Δ at
 * once), the task Gramian G of J, then one workgroup solves α from G and scales G_Y's columns, so
 * the step's dW and db are Σ_t α_t·J_t.
 */
export const aggregatorStage: WeightingStageType = {
  hook: 'afterOutputGradient',
  dispatches: 4,
  async prepare(env) {
    checkAggregatorBuffers(env);
    const workgroup = env.software ? 16 : 64;
    const { gradW } = STEP_PRODUCTS;
    const variant = { transposeA: gradW.transposeA, transposeB: gradW.transposeB, epilogue: gradW.epilogue, rowSums: gradW.rowSums !== undefined };
    const [jacobianKernel, productKernel, gramian, aggregate] = await Promise.all([
      taskJacobianKernel(env.registry),
      matmulKernel(env.registry, env.tuning, variant),
      gramianKernel(env.registry, workgroup),
      aggregateKernel(env.registry, env.config.shape.tasks, workgroup),
    ]);
    const code = AGGREGATOR_CODES[env.config.weighting as AggregatorKind];
    return (ctx) => {
      const { features: d, hidden: H, tasks: T } = ctx.config.shape;
      const b = ctx.buffers;
      const own = {
        deltas: createStorage(ctx.device, 'Δ per task', ctx.config.maxBatch * T * H),
        jacobian: createStorage(ctx.device, 'J per task', T * H * d),
        jacobianBias: createStorage(ctx.device, 'J per task (bias)', T * H),
        gramian: createStorage(ctx.device, 'task Gramian', T * T),
        scratch: createStorage(ctx.device, 'aggregator scratch', aggregateScratchFloats(T)),
      };
      const groups = {
        jacobian: ctx.group(jacobianKernel, { gradY: b.gradOutput, params: b.params, hidden: b.hidden, deltas: own.deltas }),
        gramian: ctx.group(gramian, { jacobian: own.jacobian, jacobianBias: own.jacobianBias, gramian: own.gramian }),
        aggregate: ctx.group(aggregate, { gramian: own.gramian, gradY: b.gradOutput, weightSums: b.weightSums, scratch: own.scratch }),
      };
      let product: GPUBindGroup | undefined;
      return {
        reports: { gramian: [own.gramian, 0, T * T], taskWeights: [own.scratch, aggregateWeightsOffset(T), T] },
        bindData({ X }) {
          product = ctx.group(productKernel, { a: own.deltas, b: X, aux: b.unusedRead, c: own.jacobian, rowSums: own.jacobianBias });
        },
        encode(rec, step) {
          if (!product) throw new Error('aggregator: no data set bound');
          const jacobianDims = { rows: step.rows, tasks: T, hidden: H, offsetA: ctx.layout.A.offset };
          const jacobianOffset = ctx.arena.push((view) => JacobianDims.write(view, jacobianDims));
          encodeTaskJacobian(rec.next('Δ_t = (G_Y[:,t]·A[t,:]) ⊙ S(1−S)'), jacobianKernel, groups.jacobian, jacobianOffset, jacobianDims, ctx.maxPerDimension);
          const dims: MatmulDims = { M: T * H, N: d, K: step.rows, offsetB: step.start * d };
          const productOffset = ctx.arena.push((view) => writeMatmulDims(view, dims));
          encodeMatmul(rec.next('J = Δᵀ·X, row sums'), productKernel, product, productOffset, dims, ctx.maxPerDimension);
          const gramianOffset = ctx.arena.push((view) => GramianDims.write(view, { tasks: T, hidden: H, features: d }));
          encodeGramian(rec.next('G = J·Jᵀ'), gramian, groups.gramian, gramianOffset, T);
          const values = { rows: step.rows, tasks: T, kind: code, step: step.step >>> 0, seed: (ctx.config.seed ?? 0) >>> 0, accumulate: step.training ? 1 : 0 };
          const aggregateOffset = ctx.arena.push((view) => AggregateDims.write(view, values));
          encodeOneWorkgroup(rec.next('α from G; G_Y scaled'), aggregate.pipeline, groups.aggregate, aggregateOffset);
        },
        destroy() {
          for (const buffer of Object.values(own)) buffer.destroy();
        },
      };
    };
  },
};
