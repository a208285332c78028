// The interface every trainer feature talks to. The WebGPU backend and the float64 CPU backend
// both implement it, so anything built on it runs on both and can be compared step by step.
import type { TaskSpec } from './losses.js';
import type { CouplingOptions, OptimizerConfig, OptimizerState } from './optimizers.js';
import type { ModelShape, ParameterLayout } from './shape.js';
import type { WeightingKind } from './weighting.js';

/** Training data, row-major f32: X rows×d, Y rows×T targets, mask rows×T (1 observed, 0 missing). */
export interface Dataset {
  rows: number;
  X: Float32Array;
  Y: Float32Array;
  mask: Float32Array;
}

/** One optimizer step on rows [start, start + rows) of the data set. */
export interface TrainStep {
  start: number;
  rows: number;
  learningRate: number;
}

export interface BackendConfig {
  shape: ModelShape;
  tasks: readonly TaskSpec[];
  optimizer: OptimizerConfig;
  /** Most rows in one step (or one predict chunk); buffers are sized for it once. */
  maxBatch: number;
  /** The task-coupling matrix A: frozen, or regularised (L1, toward the identity). */
  coupling?: CouplingOptions;
  /** How the task losses (or, for the aggregators, their gradients) combine (default 'equal': Σ w_t·L_t). */
  weighting?: WeightingKind;
  /** Seeds PCGrad's random projection order (default 0). */
  seed?: number;
}

export interface LossReport {
  /** Mean of each task's batch loss L_t over the steps since the last read. */
  perTask: Float64Array;
  steps: number;
  /** Under a gradient aggregator: the mean of its task weights α over the same steps. */
  taskWeights?: Float64Array;
}

export interface GradientReport {
  /** L_t of the batch. */
  perTask: Float64Array;
  /** ∂L/∂θ in the flat parameter layout. */
  grads: Float64Array;
  /** Under a gradient aggregator: the T×T Gramian of the tasks' gradients of W and b, and α. */
  gramian?: Float64Array;
  taskWeights?: Float64Array;
}

export interface TrainingBackend {
  readonly kind: 'webgpu' | 'cpu' | 'wasm';
  /** Human-readable: adapter name, or "CPU (float64)". */
  readonly description: string;
  readonly layout: ParameterLayout;
  readonly config: BackendConfig;
  /** Most rows setDataset() takes at once (one GPU buffer); the trainer streams larger sets in shards. */
  readonly maxDatasetRows: number;

  setParameters(params: ArrayLike<number>): void;
  getParameters(): Promise<Float64Array>;
  setOptimizerState(state: OptimizerState): void;
  getOptimizerState(): Promise<OptimizerState>;

  /** Replaces each task's fixed weight w_t in the step's loss (dynamic weighting between epochs). */
  setTaskWeights(weights: ArrayLike<number>): void;
  /** Uploads the training rows once; steps then address them by row range. */
  setDataset(data: Dataset): void;
  /** Forward, loss, backward and update for each step, in order. */
  trainSteps(steps: readonly TrainStep[]): Promise<void>;
  /** The loss accumulated since the last read (then cleared). */
  readLoss(): Promise<LossReport>;
  /** Forward, loss and backward on a batch of the data set, without an update. */
  gradients(start: number, rows: number): Promise<GradientReport>;
  /** o = A·σ(W·x + b) + c for each of `rows` inputs (rows×d) → rows×T. */
  predict(X: Float32Array, rows: number): Promise<Float64Array>;
  destroy(): void;
}

export function checkDataset(data: Dataset, shape: ModelShape): void {
  const { rows } = data;
  const expect = (name: string, array: Float32Array, width: number) => {
    if (array.length !== rows * width) {
      throw new RangeError(`data set ${name} has ${array.length} values, expected rows×${width} = ${rows * width}`);
    }
  };
  expect('X', data.X, shape.features);
  expect('Y', data.Y, shape.tasks);
  expect('mask', data.mask, shape.tasks);
}

export function checkStep(step: { start: number; rows: number }, datasetRows: number, maxBatch: number): void {
  if (!Number.isInteger(step.rows) || step.rows < 1 || step.rows > maxBatch) {
    throw new RangeError(`batch of ${step.rows} rows: must be 1..${maxBatch} (the backend's maxBatch)`);
  }
  if (!Number.isInteger(step.start) || step.start < 0 || step.start + step.rows > datasetRows) {
    throw new RangeError(`batch rows ${step.start}..${step.start + step.rows} outside the data set's ${datasetRows} rows`);
  }
}
