// Runs one kernel on host arrays (fresh buffers per call): the building block of `sigmtl check`
// and the kernel tests. Training never goes through here; it uses the model's own buffers.
import { checkErrors, type GpuContext } from '../gpu/context.js';
import { createStorage, readFloats } from '../gpu/buffers.js';
import { createBindGroup, KernelRegistry } from '../gpu/registry.js';
import { UniformArena } from '../gpu/uniforms.js';
import { AGGREGATOR_CODES, WEIGHTINGS, type AggregatorKind, type WeightingKind } from '../core/weighting.js';
import { AggregateDims, aggregateKernel, aggregateScratchFloats } from '../kernels/aggregate.js';
import { encodeOneWorkgroup } from '../gpu/dispatch.js';
import { encodeLoss, lossKernel, packTaskInfo, taskInfoBytes, writeLossDims } from '../kernels/loss.js';
import { type TaskSpec } from '../core/losses.js';
import { encodeMatmul, matmulKernel, writeMatmulDims, type MatmulOptions, type MatmulTuning } from '../kernels/matmul.js';
import { optimizerKernel, writeOptimizerStep, type OptimizerStepValues } from '../kernels/optimizer.js';
import { type OptimizerConfig } from '../core/optimizers.js';
import { encodeElementwise, sigmoidBackwardKernel, sigmoidForwardKernel, writeSigmoidSize } from '../kernels/sigmoid.js';

async function runPass(ctx: GpuContext, what: string, body: (pass: GPUComputePassEncoder, arena: UniformArena) => void): Promise<void> {
  const arena = new UniformArena(ctx.device, 1, `${what} uniforms`);
  const encoder = ctx.device.createCommandEncoder({ label: what });
  const pass = encoder.beginComputePass({ label: what });
  body(pass, arena);
  pass.end();
  arena.flush();
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  arena.destroy();
  checkErrors(ctx.device, what);
}

export interface MatmulRun {
  M: number;
  N: number;
  K: number;
  a: Float32Array;
  b: Float32Array;
  /** bias (N) or S (M×N), for the epilogues that read it */
  aux?: Float32Array;
}

export async function runMatmul(ctx: GpuContext, tuning: MatmulTuning, options: MatmulOptions, run: MatmulRun) {
  const device = ctx.device;
  const kernel = await matmulKernel(KernelRegistry.of(device), tuning, options);
  const a = createStorage(device, 'a', run.a.length, run.a);
  const b = createStorage(device, 'b', run.b.length, run.b);
  const aux = createStorage(device, 'aux', run.aux?.length ?? 4, run.aux);
  const c = createStorage(device, 'c', run.M * run.N);
  const rowSums = createStorage(device, 'rowSums', run.M);
  const dims = { M: run.M, N: run.N, K: run.K };
  await runPass(ctx, kernel.general.kernel.key, (pass, arena) => {
    const group = createBindGroup(device, kernel.general.kernel, { a, b, aux, c, rowSums }, arena.binding);
    encodeMatmul(
      pass,
      kernel,
      group,
      arena.push((v) => writeMatmulDims(v, dims)),
      dims,
      ctx.limits.maxComputeWorkgroupsPerDimension,
    );
  });
  const result = { c: await readFloats(device, c, run.M * run.N), rowSums: await readFloats(device, rowSums, run.M) };
  for (const buffer of Object.values({ a, b, aux, c, rowSums })) buffer.destroy();
  return result;
}

export async function runSigmoidForward(ctx: GpuContext, z: Float32Array): Promise<Float32Array> {
  const device = ctx.device;
  const kernel = await sigmoidForwardKernel(KernelRegistry.of(device));
  const input = createStorage(device, 'z', z.length, z);
  const output = createStorage(device, 's', z.length);
  await runPass(ctx, 'sigmoid_forward', (pass, arena) => {
    const group = createBindGroup(device, kernel, { forwardZ: input, forwardS: output }, arena.binding);
    encodeElementwise(
      pass,
      kernel,
      group,
      arena.push((v) => writeSigmoidSize(v, z.length)),
      z.length,
      ctx.limits.maxComputeWorkgroupsPerDimension,
    );
  });
  const s = await readFloats(device, output, z.length);
  input.destroy();
  output.destroy();
  return s;
}

export async function runSigmoidBackward(ctx: GpuContext, s: Float32Array, gradS: Float32Array): Promise<Float32Array> {
  const device = ctx.device;
  const kernel = await sigmoidBackwardKernel(KernelRegistry.of(device));
  const sBuffer = createStorage(device, 's', s.length, s);
  const gBuffer = createStorage(device, 'gradS', gradS.length, gradS);
  const output = createStorage(device, 'gradZ', s.length);
  await runPass(ctx, 'sigmoid_backward', (pass, arena) => {
    const group = createBindGroup(device, kernel, { backwardS: sBuffer, backwardGradS: gBuffer, backwardGradZ: output }, arena.binding);
    encodeElementwise(
      pass,
      kernel,
      group,
      arena.push((v) => writeSigmoidSize(v, s.length)),
      s.length,
      ctx.limits.maxComputeWorkgroupsPerDimension,
    );
  });
  const gradZ = await readFloats(device, output, s.length);
  for (const buffer of Object.values({ backwardS: sBuffer, backwardGradS: gBuffer, backwardGradZ: output })) buffer.destroy();
  return gradZ;
}

export async function runLoss(
  ctx: GpuContext,
  run: { rows: number; y: Float32Array; targets: Float32Array; mask: Float32Array; tasks: readonly TaskSpec[]; weighting?: WeightingKind; logVar?: Float32Array },
) {
  const device = ctx.device;
  const T = run.tasks.length;
  const kernel = await lossKernel(KernelRegistry.of(device));
  const y = createStorage(device, 'y', run.y.length, run.y);
  const targets = createStorage(device, 'targets', run.targets.length, run.targets);
  const mask = createStorage(device, 'mask', run.mask.length, run.mask);
  const tasks = device.createBuffer({ label: 'tasks', size: taskInfoBytes(T), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(tasks, 0, packTaskInfo(run.tasks));
  const gradY = createStorage(device, 'gradY', run.rows * T);
  const lossSums = createStorage(device, 'lossSums', T);
  const logVar = createStorage(device, 'logVar', T, run.logVar);
  const gradLogVar = createStorage(device, 'gradLogVar', T);
  const weighting = WEIGHTINGS[run.weighting ?? 'equal'].code;
  await runPass(ctx, 'loss', (pass, arena) => {
    const group = createBindGroup(device, kernel, { y, targets, mask, tasks, logVar, gradY, lossSums, gradLogVar }, arena.binding);
    encodeLoss(
      pass,
      kernel,
      group,
      arena.push((v) => writeLossDims(v, { rows: run.rows, tasks: T, offsetRows: 0, weighting })),
      T,
    );
  });
  const result = {
    gradY: await readFloats(device, gradY, run.rows * T),
    perTask: await readFloats(device, lossSums, T),
    gradLogVar: await readFloats(device, gradLogVar, T),
  };
  for (const buffer of Object.values({ y, targets, mask, tasks, gradY, lossSums, logVar, gradLogVar })) buffer.destroy();
  return result;
}

export async function runOptimizer(
  ctx: GpuContext,
  config: OptimizerConfig,
  values: OptimizerStepValues,
  arrays: { params: Float32Array; grads: Float32Array; state1: Float32Array; state2: Float32Array },
) {
  const device = ctx.device;
  const kernel = await optimizerKernel(KernelRegistry.of(device));
  const n = arrays.params.length;
  const grads = createStorage(device, 'grads', n, arrays.grads);
  const params = createStorage(device, 'params', n, arrays.params);
  const state1 = createStorage(device, 'state1', n, arrays.state1);
  const state2 = createStorage(device, 'state2', n, arrays.state2);
  await runPass(ctx, 'optimizer', (pass, arena) => {
    const group = createBindGroup(device, kernel, { grads, params, state1, state2 }, arena.binding);
    encodeElementwise(
      pass,
      kernel,
      group,
      arena.push((v) => writeOptimizerStep(v, config, values)),
      n,
      ctx.limits.maxComputeWorkgroupsPerDimension,
    );
  });
  const result = {
    params: await readFloats(device, params, n),
    state1: await readFloats(device, state1, n),
    state2: await readFloats(device, state2, n),
  };
  for (const buffer of Object.values({ grads, params, state1, state2 })) buffer.destroy();
  return result;
}

/**
 * The aggregate kernel alone on a T×T Gramian: the task weights α it solves (applied to a G_Y of
 * one row of ones, which it scales to α).
 */
export async function runAggregate(ctx: GpuContext, kind: AggregatorKind, gramian: ArrayLike<number>, tasks: number, step = 0, seed = 0): Promise<Float32Array> {
  const device = ctx.device;
  const kernel = await aggregateKernel(KernelRegistry.of(device), tasks, ctx.adapter.software ? 16 : 64);
  const buffers = {
    gramian: createStorage(device, 'gramian', tasks * tasks, gramian),
    gradY: createStorage(device, 'gradY', tasks, new Float32Array(tasks).fill(1)),
    weightSums: createStorage(device, 'weightSums', tasks),
    scratch: createStorage(device, 'scratch', aggregateScratchFloats(tasks)),
  };
  const dims = { rows: 1, tasks, kind: AGGREGATOR_CODES[kind], step, seed, accumulate: 1 };
  await runPass(ctx, 'aggregate', (pass, arena) => {
    const group = createBindGroup(device, kernel, buffers, arena.binding);
    encodeOneWorkgroup(
      pass,
      kernel.pipeline,
      group,
      arena.push((v) => AggregateDims.write(v, dims)),
    );
  });
  const alpha = await readFloats(device, buffers.gradY, tasks);
  for (const buffer of Object.values(buffers)) buffer.destroy();
  return alpha;
}
