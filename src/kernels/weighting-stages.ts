// The weightings on the GPU: one stage object per weighting that has kernels of its own, registered
// in one table. The WebGPU backend (src/backends/webgpu.ts) asks the run's stage at the step's hook
// points — after the loss kernel, after the output layer's gradient — and owns none of a stage's
// buffers, bind groups or dispatches. A weighting whose loss is the loss kernel's alone (equal,
// uw, dwa) has no stage. The float64 twins of these stages are src/cpu/weightings.ts; what each
// weighting is, src/core/weighting.ts.
import type { BackendConfig } from '../core/backend.js';
import type { ParameterLayout } from '../core/shape.js';
import type { WeightingKind } from '../core/weighting.js';
import type { PassRecorder } from '../gpu/passes.js';
import type { BindingResource, Kernel, KernelRegistry } from '../gpu/registry.js';
import type { UniformArena } from '../gpu/uniforms.js';
import type { MatmulKernel, MatmulTuning } from './matmul.js';
import { aggregatorStage } from './aggregate.js';
import { famoStage } from './famo.js';
import { glsStage } from './gls.js';

/** What a stage's kernels are compiled for. */
export interface StageEnvironment {
  registry: KernelRegistry;
  config: BackendConfig;
  tuning: MatmulTuning;
  /** The device's storage-binding limit in bytes (the smaller of maxStorageBufferBindingSize and maxBufferSize). */
  bufferLimit: number;
  /** A software adapter (SwiftShader): smaller workgroups. */
  software: boolean;
  /** Invocations per task of the loss kernel, which the one-workgroup stages use too. */
  lossWorkgroup: number;
}

/** The step's buffers a stage binds; the backend owns them. */
export interface StepBuffers {
  params: GPUBuffer;
  /** S, maxBatch×H. */
  hidden: GPUBuffer;
  /** Y, maxBatch×T. */
  output: GPUBuffer;
  /** G_Y, maxBatch×T: what the stages rescale. */
  gradOutput: GPUBuffer;
  /** One TaskInfo per task. */
  tasks: GPUBuffer;
  /** Σ of the step weights α_t since the last readLoss() (T floats). */
  weightSums: GPUBuffer;
  unusedRead: GPUBuffer;
}

/** What a stage builds its buffers and bind groups with. */
export interface StageContext {
  device: GPUDevice;
  config: BackendConfig;
  layout: ParameterLayout;
  buffers: StepBuffers;
  /** The step's uniform slots: each dispatch pushes its dims. */
  arena: UniformArena;
  maxPerDimension: number;
  /** A bind group for one of the stage's kernels, with the arena's uniform binding. */
  group(kernel: Kernel | MatmulKernel, buffers: Record<string, BindingResource>): GPUBindGroup;
}

/** The data set's buffers, bound anew when setDataset() replaces them. */
export interface DataBuffers {
  X: GPUBuffer;
  Y: GPUBuffer;
  mask: GPUBuffer;
}

/** One step as a stage sees it. */
export interface StageStep {
  rows: number;
  /** First row of the batch in the bound data set. */
  start: number;
  /** Optimizer steps before this one. */
  step: number;
  /** A training step (keep state, add α to weightSums) or a gradients() check (leave them). */
  training: boolean;
  /** The loss kernel's uniform slot (LossDims) for this step. */
  lossOffset: number;
}

/** A (buffer, offset, floats) range to read back. */
export type BufferRange = readonly [GPUBuffer, number, number];

export interface WeightingStage {
  bindData(data: DataBuffers): void;
  /** Records its dispatches at its hook point. */
  encode(rec: PassRecorder, step: StageStep): void;
  /** Per-step state kept with the optimizer state and in checkpoints. */
  readonly state?: { buffer: GPUBuffer; floats: number };
  /** What gradients() reports besides the gradients: the task Gramian and the step's α. */
  readonly reports?: { gramian: BufferRange; taskWeights: BufferRange };
  destroy(): void;
}

export interface WeightingStageType {
  /**
   * Where a step runs it: 'afterLoss', once G_Y and the task losses are written (gls, famo);
   * 'afterOutputGradient', after dA and dc and before G_Y goes back to the hidden layer (the
   * gradient aggregators, which rescale G_Y's columns for W and b only).
   */
  readonly hook: 'afterLoss' | 'afterOutputGradient';
  /** Dispatches it adds to a step (uniform slots, profiling passes). */
  readonly dispatches: number;
  /** Compiles its kernels (and checks its buffers fit); the result builds the stage for a backend. */
  prepare(env: StageEnvironment): Promise<(ctx: StageContext) => WeightingStage>;
}

/**
 * The weightings with kernels of their own. `test/weighting.test.ts` checks that a weighting with a
 * step hook, or whose loss is not the loss kernel's sum, has a stage at the hook it names.
 */
export const WEIGHTING_STAGES: { readonly [K in WeightingKind]?: WeightingStageType } = {
  gls: glsStage,
  famo: famoStage,
  mgda: aggregatorStage,
  pcgrad: aggregatorStage,
  upgrad: aggregatorStage,
};
