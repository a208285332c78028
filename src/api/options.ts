// The options of train(), checked before any data is read or any GPU work starts: each bad value
// is a RangeError naming the option, its value and what it must be. What comes out (Settings) is
// complete — every default filled in here, the one place that owns them.
import { isLossSpec, LOSS_KINDS, resolveLoss, type LossSpec } from '../core/losses.js';
import { DEFAULT_OPTIMIZER, OPTIMIZER_KINDS, type OptimizerConfig, type OptimizerKind } from '../core/optimizers.js';
import { DEFAULT_SCHEDULE, SCHEDULE_KINDS, type Schedule, type ScheduleKind } from '../train/schedule.js';
import { DWA_TEMPERATURE, WEIGHTING_KINDS, type WeightingKind } from '../core/weighting.js';
import type { ProgressReport } from '../train/trainer.js';
import type { RowSource } from '../data/source.js';

/** Rows of numbers: an array of rows, or one flat row-major typed array (give its width). */
export type Matrix = readonly (readonly number[])[] | Float32Array | Float64Array;

/** A loss for a task ('mse', 'huber:2', 'quantile:0.9', ...), or 'auto': BCE for a 0/1 column, MSE otherwise. */
export type LossChoice = LossSpec | 'auto';
export type BackendChoice = 'webgpu' | 'cpu' | 'wasm' | 'auto';

export interface OptimizerOptions {
  kind?: OptimizerKind;
  learningRate?: number;
  /** Decoupled weight decay λ on W and A (not the biases). */
  weightDecay?: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface ScheduleOptions {
  kind?: ScheduleKind;
  warmupSteps?: number;
  stepEvery?: number;
  gamma?: number;
  minFactor?: number;
}

export interface CouplingOptionsInput {
  /** A's start: 'identity' (needs hidden = tasks; the default then), 'random', or T×H numbers (rows = tasks). */
  init?: 'identity' | 'random' | Matrix;
  /** Keep A as initialised (a coupling fixed from domain knowledge). */
  freeze?: boolean;
  /** λ1 of λ1·Σ|A|: a sparse coupling. */
  l1?: number;
  /** λI of (λI/2)·‖A − I‖²: pull A toward the identity. */
  towardIdentity?: number;
}

/** Where a run stands at the end of an epoch (after validation). */
export interface EpochReport {
  /** 0-based epoch just finished. */
  epoch: number;
  step: number;
  validationLoss?: number;
  validationPerTask?: Float64Array;
  /** A after this epoch, T×H row-major. */
  coupling: Float64Array;
  /** Each task's factor on its loss after this epoch: w_t, or w_t·c_t·e^{−s_t} under uncertainty weighting, or an aggregator's mean α over the epoch's last report. */
  taskWeights: Float64Array;
}

export interface TrainOptions {
  /** rows×d inputs. */
  features: Matrix;
  /** rows×T targets; NaN marks a missing target (left out of that task's loss and metrics). */
  targets: Matrix;
  featureNames?: readonly string[];
  taskNames?: readonly string[];
  /** d, for a flat features array (else taken from featureNames). */
  featureCount?: number;
  /** T, for a flat targets array (else taken from taskNames). */
  taskCount?: number;
  /**
   * Each row's group (a subject, a patient, a site): the test, validation and early-stopping splits
   * keep every group whole, so a model is judged on groups it never saw.
   */
  groups?: readonly (string | number)[];
  /** Where the rows came from (as readCsv gives it), so errors found later name the file and line. */
  source?: { file: string; lines: number[] };
  /** Labelled rows kept out of training; the result reports their metrics. */
  test?: { features: Matrix; targets: Matrix; source?: { file: string; lines: number[] } };
  /** Without `test`: this fraction of the rows is held out as the test set (seeded). Default 0. */
  testSplit?: number;
  /** One loss for every task or one per task; 'auto' picks BCE for 0/1 columns, MSE otherwise. */
  losses?: LossChoice | readonly LossChoice[];
  /** w_t in L = Σ_t w_t·L_t (default all 1). */
  taskWeights?: readonly number[];
  /**
   * How the task losses combine: 'equal' (Σ w_t·L_t, the default) or 'uw', uncertainty weighting
   * (Kendall, Gal & Cipolla 2018), which learns each task's log-variance s_t with the model:
   * Σ w_t·(c_t·e^{−s_t}·L_t + ½·s_t), c_t = ½ for regression and 1 for binary tasks; or 'dwa',
   * dynamic weight average (Liu, Johns & Davison 2019): each epoch's task weights from the ratio of
   * its last two epochs' losses, softmax with `temperature` τ (default 2); or 'gls', the geometric
   * loss strategy (Chennupati et al. 2019): exp(Σ w_t·log L_t / Σ w_t) over the batch's tasks.
   * Or a gradient aggregator, which keeps the loss Σ w_t·L_t and combines the tasks' gradients of the
   * shared W and b as Σ α_t·J_t with α from their Gramian each step: 'mgda' (the min-norm convex
   * combination, Sener & Koltun 2018), 'pcgrad' (conflicting gradients projected off each other in
   * a seeded random order, Yu et al. 2020) or 'upgrad' (each projected onto the dual cone of all,
   * Quinton & Rey 2024); α = 1 for tasks that do not conflict.
   */
  weighting?: WeightingKind | { kind: WeightingKind; temperature?: number };
  /**
   * H, the shared hidden units. Not given (or 'auto'): chosen by validation loss — successive
   * halving over H ∈ {T, 16, 32, 64, 128} and, unless `optimizer.learningRate` is given, the
   * learning rates 0.01 and 0.003 (src/api/search.ts; the result's `search` says what was tried
   * and why). Without validation rows, from a stream, with `coupling.init` given or when resuming,
   * H = T (the checkpoint's H when resuming).
   */
  hidden?: number | 'auto';
  /** The epochs of the search's first rung (default epochs/200, at least 1); each later rung trains 3× as many. */
  autoHiddenEpochs?: number;
  epochs?: number;
  batchSize?: number;
  optimizer?: OptimizerOptions;
  schedule?: ScheduleOptions;
  /** Fraction of the training rows held out for validation and early stopping. Default 0.1. */
  validationSplit?: number;
  /**
   * Epochs without validation improvement before stopping, the best epoch restored (0 = off).
   * Default 10; 20 in the default model search when the validation split has under 1,000 rows.
   */
  patience?: number;
  coupling?: CouplingOptionsInput;
  seed?: number;
  backend?: BackendChoice;
  /** A WebGPU device to train on (yours: it is not destroyed). Otherwise sigmtl asks navigator.gpu, or Dawn once `sigmtl/node` is imported. */
  device?: GPUDevice;
  /** Stops the run between submits; the result keeps the best parameters so far. */
  signal?: AbortSignal;
  onProgress?: (progress: ProgressReport) => void;
  onEpochEnd?: (report: EpochReport) => void | Promise<void>;
  /** Read the loss back every this many steps (default: once per epoch). */
  reportEvery?: number;
  /** Recompute every K-th step's gradients with the float64 reference; stop on disagreement (0 = off). */
  verifyEvery?: number;
  /** Also fit a per-task linear least-squares baseline on the same rows (regression tasks). */
  baseline?: boolean;
  /**
   * Also train one single-task model per task (same H, optimizer, epochs, early stopping, seed and
   * splits) and the no-coupling ablation (H = T, A frozen to I), and report Δm: did sharing help?
   */
  compareSingleTask?: boolean;
  /** Save a checkpoint every `every` epochs through `write` (bytes of a safetensors file). */
  checkpoint?: { every: number; write: (bytes: Uint8Array) => void | Promise<void> };
  /** Continue exactly from a checkpoint's bytes. */
  resume?: Uint8Array;
  /** Extra provenance stored in the model's hyperparameters. */
  provenance?: Record<string, string | number | boolean>;
  /** false: the rows in their given order every epoch (default true: a seeded shuffle each epoch). */
  shuffle?: boolean;
}

/**
 * Training on rows larger than memory: `stream` (openCsvStream / openParquetStream in
 * sigmtl/node, or any RowSource) replaces features and targets; the rows are read window by
 * window, each epoch in a seeded random window order with the rows shuffled within each window.
 */
export type StreamTrainOptions = Omit<TrainOptions, 'features' | 'targets' | 'featureNames' | 'taskNames' | 'featureCount' | 'taskCount' | 'groups' | 'source'> & {
  stream: RowSource;
};

/** Every setting of a run, defaults filled in and checked. */
export interface Settings {
  losses: LossChoice | readonly LossChoice[];
  taskWeights?: readonly number[];
  weighting: WeightingKind;
  /** τ of dynamic weight average. */
  dwaTemperature: number;
  hidden?: number | 'auto';
  autoHiddenEpochs?: number;
  epochs: number;
  /** Internal: `device` is train()'s own, shared by its models (backend 'auto' still probes). */
  sharedDevice?: boolean;
  /** Internal (a search's rung): stop after this epoch, the schedule still spanning `epochs`. */
  untilEpoch?: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: Schedule;
  validationSplit: number;
  testSplit: number;
  patience: number;
  coupling: { init?: 'identity' | 'random' | Matrix; freeze: boolean; l1: number; towardIdentity: number };
  seed: number;
  backend: BackendChoice;
  device?: GPUDevice;
  signal?: AbortSignal;
  reportEvery?: number;
  verifyEvery: number;
  baseline: boolean;
  compareSingleTask: boolean;
  shuffle: boolean;
}

const KNOWN = new Set<string>([
  'features',
  'targets',
  'featureNames',
  'taskNames',
  'featureCount',
  'taskCount',
  'source',
  'groups',
  'test',
  'testSplit',
  'losses',
  'taskWeights',
  'hidden',
  'autoHiddenEpochs',
  'epochs',
  'batchSize',
  'optimizer',
  'schedule',
  'validationSplit',
  'patience',
  'coupling',
  'seed',
  'backend',
  'device',
  'signal',
  'onProgress',
  'onEpochEnd',
  'reportEvery',
  'verifyEvery',
  'baseline',
  'checkpoint',
  'resume',
  'provenance',
  'compareSingleTask',
  'weighting',
  'shuffle',
  'stream',
]);

const HINTS: Record<string, string> = { lr: 'optimizer.learningRate', learningRate: 'optimizer.learningRate', batch: 'batchSize', x: 'features', y: 'targets' };

interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** min itself is not allowed */
  above?: number;
  below?: number;
}

/** A number option: undefined gives the default; anything else must be a finite number in range. */
export function numberOption(name: string, value: unknown, fallback: number, rule: NumberRule = {}): number {
  if (value === undefined) return fallback;
  const bounds = [
    rule.integer ? 'an integer' : 'a finite number',
    rule.min !== undefined ? `≥ ${rule.min}` : '',
    rule.above !== undefined ? `> ${rule.above}` : '',
    rule.max !== undefined ? `≤ ${rule.max}` : '',
    rule.below !== undefined ? `< ${rule.below}` : '',
  ].filter(Boolean);
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max) &&
    (rule.below === undefined || value < rule.below);
  if (!ok) throw new RangeError(`${name} must be ${bounds.join(' ')}, got ${describe(value)}`);
  return value as number;
}

function choiceOption<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function objectOption<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RangeError(`${name} must be an object, got ${describe(value)}`);
  return value as Partial<T>;
}

const describe = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `an array of ${value.length}` : String(value));

export function resolveSettings(options: TrainOptions | StreamTrainOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new RangeError('train() takes an options object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new RangeError(`unknown option "${key}"${HINTS[key] ? ` (did you mean ${HINTS[key]}?)` : ''}`);
  }
  const opt = objectOption<OptimizerOptions>('optimizer', options.optimizer);
  const kind = choiceOption('optimizer.kind', opt.kind, OPTIMIZER_KINDS, DEFAULT_OPTIMIZER.kind);
  const optimizer: OptimizerConfig = {
    kind,
    learningRate: numberOption('optimizer.learningRate', opt.learningRate, DEFAULT_OPTIMIZER.learningRate, { above: 0 }),
    weightDecay: numberOption('optimizer.weightDecay', opt.weightDecay, DEFAULT_OPTIMIZER.weightDecay, { min: 0 }),
    momentum: numberOption('optimizer.momentum', opt.momentum, DEFAULT_OPTIMIZER.momentum, { min: 0, below: 1 }),
    beta1: numberOption('optimizer.beta1', opt.beta1, DEFAULT_OPTIMIZER.beta1, { min: 0, below: 1 }),
    beta2: numberOption('optimizer.beta2', opt.beta2, DEFAULT_OPTIMIZER.beta2, { min: 0, below: 1 }),
    epsilon: numberOption('optimizer.epsilon', opt.epsilon, DEFAULT_OPTIMIZER.epsilon, { above: 0 }),
  };
  const sch = objectOption<ScheduleOptions>('schedule', options.schedule);
  const schedule: Schedule = {
    kind: choiceOption('schedule.kind', sch.kind, SCHEDULE_KINDS, DEFAULT_SCHEDULE.kind),
    warmupSteps: numberOption('schedule.warmupSteps', sch.warmupSteps, DEFAULT_SCHEDULE.warmupSteps, { integer: true, min: 0 }),
    stepEvery: numberOption('schedule.stepEvery', sch.stepEvery, DEFAULT_SCHEDULE.stepEvery, { integer: true, min: 1 }),
    gamma: numberOption('schedule.gamma', sch.gamma, DEFAULT_SCHEDULE.gamma, { above: 0 }),
    minFactor: numberOption('schedule.minFactor', sch.minFactor, DEFAULT_SCHEDULE.minFactor, { min: 0, max: 1 }),
  };
  const cpl = objectOption<CouplingOptionsInput>('coupling', options.coupling);
  if (cpl.init !== undefined && cpl.init !== 'identity' && cpl.init !== 'random' && !isMatrixLike(cpl.init)) {
    throw new RangeError(`coupling.init must be 'identity', 'random' or a T×H matrix, got ${describe(cpl.init)}`);
  }
  const losses = options.losses ?? 'auto';
  for (const [i, loss] of (typeof losses === 'string' ? [losses] : Array.isArray(losses) ? losses : [losses]).entries()) {
    const where = `losses${typeof losses === 'string' ? '' : `[${i}]`}`;
    if (loss === 'auto' || isLossSpec(loss)) continue;
    const known = ['auto', ...LOSS_KINDS].map((a) => `'${a}'`).join(', ');
    if (typeof loss === 'string' && (LOSS_KINDS as readonly string[]).includes(loss.split(':')[0]!)) {
      try {
        resolveLoss(loss);
      } catch (error) {
        throw new RangeError(`${where}: ${(error as Error).message}`); // names the parameter's range
      }
    }
    throw new RangeError(`${where} must be one of ${known} (with a parameter: 'huber:2', 'quantile:0.9'), got ${describe(loss)}`);
  }
  if (options.taskWeights !== undefined) {
    if (!Array.isArray(options.taskWeights)) throw new RangeError(`taskWeights must be an array of numbers, got ${describe(options.taskWeights)}`);
    options.taskWeights.forEach((w, t) => numberOption(`taskWeights[${t}]`, w, 0, { min: 0 }));
  }
  if (options.device !== undefined && typeof (options.device as { createBuffer?: unknown })?.createBuffer !== 'function') {
    throw new RangeError(`device must be a GPUDevice, got ${describe(options.device)}`);
  }
  if (options.signal !== undefined && typeof options.signal?.aborted !== 'boolean') throw new RangeError(`signal must be an AbortSignal, got ${describe(options.signal)}`);
  for (const name of ['onProgress', 'onEpochEnd'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new RangeError(`${name} must be a function, got ${describe(options[name])}`);
  }
  if (options.checkpoint !== undefined) {
    numberOption('checkpoint.every', options.checkpoint.every, 0, { integer: true, min: 1 });
    if (typeof options.checkpoint.write !== 'function') throw new RangeError('checkpoint.write must be a function');
  }
  if (options.resume !== undefined && !(options.resume instanceof Uint8Array))
    throw new RangeError(`resume must be a Uint8Array (a checkpoint's bytes), got ${describe(options.resume)}`);
  const weighting = typeof options.weighting === 'object' && options.weighting !== null ? options.weighting.kind : options.weighting;
  return {
    losses,
    taskWeights: options.taskWeights,
    weighting: choiceOption(typeof options.weighting === 'object' ? 'weighting.kind' : 'weighting', weighting, WEIGHTING_KINDS, 'equal'),
    dwaTemperature: numberOption('weighting.temperature', typeof options.weighting === 'object' ? options.weighting?.temperature : undefined, DWA_TEMPERATURE, { above: 0 }),
    hidden: options.hidden === undefined || options.hidden === 'auto' ? options.hidden : numberOption('hidden', options.hidden, 0, { integer: true, min: 1 }),
    autoHiddenEpochs: options.autoHiddenEpochs === undefined ? undefined : numberOption('autoHiddenEpochs', options.autoHiddenEpochs, 1, { integer: true, min: 1 }),
    epochs: numberOption('epochs', options.epochs, 200, { integer: true, min: 1 }),
    batchSize: numberOption('batchSize', options.batchSize, 64, { integer: true, min: 1 }),
    optimizer,
    schedule,
    validationSplit: numberOption('validationSplit', options.validationSplit, 0.1, { min: 0, max: 0.9 }),
    testSplit: numberOption('testSplit', options.testSplit, 0, { min: 0, max: 0.9 }),
    patience: numberOption('patience', options.patience, 10, { integer: true, min: 0 }),
    coupling: {
      init: cpl.init,
      freeze: cpl.freeze === true,
      l1: numberOption('coupling.l1', cpl.l1, 0, { min: 0 }),
      towardIdentity: numberOption('coupling.towardIdentity', cpl.towardIdentity, 0, { min: 0 }),
    },
    seed: numberOption('seed', options.seed, 1, { integer: true, min: 0, max: 0xffffffff }),
    backend: choiceOption('backend', options.backend, ['webgpu', 'cpu', 'wasm', 'auto'] as const, 'auto'),
    device: options.device,
    signal: options.signal,
    reportEvery: options.reportEvery === undefined ? undefined : numberOption('reportEvery', options.reportEvery, 0, { integer: true, min: 1 }),
    verifyEvery: numberOption('verifyEvery', options.verifyEvery, 0, { integer: true, min: 0 }),
    baseline: options.baseline === true,
    compareSingleTask: options.compareSingleTask === true,
    shuffle: options.shuffle !== false,
  };
}

export function isMatrixLike(value: unknown): value is Matrix {
  return value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value);
}
