// The training loop on top of any TrainingBackend: per-epoch seeded shuffles (uploaded in shards
// when a data set is larger than one GPU buffer), batches, a
// learning-rate schedule, loss reports every few steps (the only readbacks), validation with
// early stopping that restores the best parameters, divergence detection, and an optional
// step-by-step cross-check against the float64 reference.
import { taskLoss } from '../cpu/reference.js';
import { referenceGradients } from '../cpu/step.js';
import type { TaskSpec } from '../core/losses.js';
import type { Dataset, TrainingBackend, TrainStep } from '../core/backend.js';
import { weightingStateSize } from '../core/weighting.js';
import { compareArrays, describeComparison, type Tolerance } from '../util/compare.js';
import { Random } from '../util/random.js';
import { learningRateAt, type Schedule } from './schedule.js';

export interface TrainerOptions {
  epochs: number;
  /** Stop after this epoch (a search's rung): the schedule still spans `epochs`. */
  untilEpoch?: number;
  /** false: in-memory rows in their given order every epoch (default true). */
  shuffle?: boolean;
  batchSize: number;
  learningRate: number;
  schedule: Schedule;
  seed: number;
  /** Read the loss back every this many steps (progress reports). */
  reportEvery: number;
  /** Early stopping: epochs without validation improvement before stopping (0 = off). */
  patience: number;
  /** Recompute every K-th step's gradients on the CPU reference and stop on disagreement (0 = off). */
  verifyEvery: number;
  onReport?: (report: ProgressReport) => void;
  /** Polled between submits: return true to stop (the browser's Stop button, an AbortSignal). */
  shouldStop?: () => boolean;
  /**
   * With shouldStop: steps per trainSteps() call (one submit's worth), and the event loop gets a
   * turn between calls, so a stop request is seen within one submit.
   */
  stepsPerPoll?: number;
  /** The loss before training (or any reference): a report above GROWTH_LIMIT times it is divergence. Default: the first report's. */
  referenceLoss?: number;
  /**
   * Dynamic task weighting: called at each epoch's end with the mean training loss of each task in
   * the latest epochs (at most two, newest last); returns the task weights for the next epoch, or
   * undefined to keep them.
   */
  reweight?: (epochLosses: readonly Float64Array[]) => ArrayLike<number> | undefined;
  /** Resume from this state (checkpoints). */
  start?: ResumeState;
  onEpochEnd?: (state: EpochState) => Promise<void> | void;
}

export interface ProgressReport {
  epoch: number;
  step: number;
  totalSteps: number;
  /** Weighted training loss Σ_t w_t·L_t, mean over the steps since the last report. */
  loss: number;
  perTask: Float64Array;
  /** Under a gradient aggregator: the mean of its task weights α over the same steps. */
  taskWeights?: Float64Array;
  /** At the end of an epoch, with a validation set: its weighted loss and each task's L_t. */
  validationLoss?: number;
  validationPerTask?: Float64Array;
  stepsPerSecond: number;
  learningRate: number;
  /** With no `hidden` given: where the model search stands (src/api/search.ts). */
  search?: SearchProgress;
}

/** Where the default model search stands, on each report of its runs. */
export interface SearchProgress {
  /** 'search': a candidate's rung; 'final': the chosen model trained on to the last epoch. */
  phase: 'search' | 'final';
  hidden: number;
  learningRate: number;
  /** The rung (1-based) of `rungs`; in the final phase, rungs + 1. */
  rung: number;
  rungs: number;
  /** Steps done and planned across the search and the final run together (the plan assumes no early stop). */
  step: number;
  totalSteps: number;
}

export interface BestEpoch {
  epoch: number;
  loss: number;
  params: Float64Array;
}

/** Where a run stands after an epoch: enough to resume it exactly. */
export interface ResumeState {
  /** The next epoch to run. */
  epoch: number;
  rngState: number;
  best?: BestEpoch;
  /** Each task's mean training loss in the last (up to two) epochs, for dynamic weighting. */
  epochLosses?: number[][];
}

export interface EpochState extends ResumeState {
  step: number;
  /** The parameters after this epoch. */
  params: Float64Array;
  validationLoss?: number;
  validationPerTask?: Float64Array;
}

export interface TrainResult {
  steps: number;
  epochs: number;
  seconds: number;
  stepsPerSecond: number;
  history: ProgressReport[];
  bestEpoch?: number;
  bestValidationLoss?: number;
  stoppedEarly: boolean;
  /** Stopped by shouldStop (not by early stopping or the last epoch). */
  stopped: boolean;
  verifications: number;
}

export class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
  constructor(
    message: string,
    readonly lastGoodParams: Float64Array,
  ) {
    super(message);
  }
}

export class VerificationError extends Error {
  override readonly name = 'VerificationError';
}

/** A training loss this many times the first report's is divergence. */
export const GROWTH_LIMIT = 1000;

/** Tolerance of the GPU-vs-reference gradient check (f32 against f64). */
export const VERIFY_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-3 };

const weightedTotal = (perTask: ArrayLike<number>, tasks: readonly TaskSpec[]) => tasks.reduce((sum, task, t) => sum + task.weight * perTask[t]!, 0);

export interface DatasetLoss {
  /** Σ_t w_t·L_t */
  total: number;
  perTask: Float64Array;
}

/** The model's loss over a whole data set (chunked predictions, float64 loss). */
export async function datasetLoss(backend: TrainingBackend, data: Dataset): Promise<DatasetLoss> {
  const o = await backend.predict(data.X, data.rows);
  const { total, perTask } = taskLoss(o, data.Y, data.mask, backend.config.tasks, data.rows);
  return { total, perTask };
}

/** Features per row from which a row of X is copied with one set() of a subarray (below, an element loop is faster than the view). */
const ROW_COPY_MIN = 24;

/** A data set's rows `order`, in that order, gathered into `into` (views of its first rows). */
function gather(data: Dataset, order: ArrayLike<number>, d: number, T: number, into: Dataset): Dataset {
  const n = order.length;
  const X = into.X.subarray(0, n * d);
  const Y = into.Y.subarray(0, n * T);
  const mask = into.mask.subarray(0, n * T);
  const { X: fromX, Y: fromY, mask: fromMask } = data;
  for (let i = 0; i < n; i++) {
    const r = order[i]!;
    if (d >= ROW_COPY_MIN) X.set(fromX.subarray(r * d, r * d + d), i * d);
    else for (let j = 0, from = r * d, to = i * d; j < d; j++) X[to + j] = fromX[from + j]!;
    for (let t = 0, from = r * T, to = i * T; t < T; t++) {
      Y[to + t] = fromY[from + t]!;
      mask[to + t] = fromMask[from + t]!;
    }
  }
  return { rows: n, X, Y, mask };
}

/** The one place the effective batch (never more than the rows) and the steps per epoch are worked out. */
export function batchPlan(batchSize: number, rows: number): { batch: number; stepsPerEpoch: number } {
  const batch = Math.max(1, Math.min(batchSize, rows));
  return { batch, stepsPerEpoch: Math.ceil(rows / batch) };
}

/**
 * Training rows that arrive shard by shard: in memory (inMemoryRows), or read window by window
 * from a file larger than memory (src/api/stream.ts).
 */
export interface RowStream {
  /** Training rows in one epoch. */
  readonly rows: number;
  /**
   * One epoch's rows in training order, as consecutive shards: each but the last holds whole
   * batches and at most `maxRows` rows, so an epoch has ⌈rows/batch⌉ steps.
   */
  shards(random: Random, batch: number, maxRows: number): AsyncIterable<Dataset>;
}

/**
 * A data set in memory: each epoch a seeded shuffle of all its rows, cut into shards. The shards
 * are gathered into one buffer, reused from shard to shard and epoch to epoch: a shard holds until
 * the next is asked for (its consumer, a backend's setDataset, copies it). A fresh buffer each
 * epoch cost page faults: 3 ms an epoch on yeast (1,350 × 103) on a 2-vCPU VM, against 0.2 ms.
 * Runs that share one (a model search's candidates, one after another) share the buffer.
 */
export function inMemoryRows(data: Dataset, d: number, T: number, shuffle = true): RowStream {
  let order: Uint32Array | undefined;
  let buffer: Dataset | undefined;
  return {
    rows: data.rows,
    async *shards(random, _batch, maxRows) {
      order ??= new Uint32Array(data.rows);
      for (let i = 0; i < data.rows; i++) order[i] = i;
      if (shuffle) random.shuffle(order);
      const most = Math.min(maxRows, data.rows);
      if (!buffer || buffer.rows < most) buffer = { rows: most, X: new Float32Array(most * d), Y: new Float32Array(most * T), mask: new Float32Array(most * T) };
      for (let start = 0; start < data.rows; start += maxRows) yield gather(data, order.subarray(start, Math.min(data.rows, start + maxRows)), d, T, buffer);
    },
  };
}

const isDataset = (rows: Dataset | RowStream): rows is Dataset => 'X' in rows;

export async function trainModel(backend: TrainingBackend, trainRows: Dataset | RowStream, validation: Dataset | undefined, options: TrainerOptions): Promise<TrainResult> {
  const { features: d, tasks: T } = backend.config.shape;
  const train = isDataset(trainRows) ? inMemoryRows(trainRows, d, T, options.shuffle ?? true) : trainRows;
  return new TrainingRun(backend, train, validation, options).run();
}

/**
 * One call of trainModel, in its phases: epochs of shards (trainShard: submits, stop polls,
 * verification, reports), each ended by endEpoch (validation, divergence checks, dynamic
 * weights, early stopping, the epoch hook), then the best epoch restored.
 */
class TrainingRun {
  private readonly tasks: readonly TaskSpec[];
  private readonly batch: number;
  private readonly stepsPerEpoch: number;
  private readonly totalSteps: number;
  private readonly random: Random;
  private readonly history: ProgressReport[] = [];
  private readonly started = performance.now();
  private step: number;
  private lastGood: Float64Array = new Float64Array(0);
  private best: BestEpoch | undefined;
  /** Early stopping or a stop request ended the run; `stopped`: the request. */
  private stoppedEarly = false;
  private stopped = false;
  private verifications = 0;
  private lastReportTime = this.started;
  private stepsSinceReport = 0;
  /** The task specs with the weights in force (dynamic weight average changes them). */
  private tasksNow: readonly TaskSpec[];
  private epochLosses: Float64Array[];
  private readonly epochSum: Float64Array;
  private epochSteps = 0;
  private firstLoss: number | undefined;

  constructor(
    private readonly backend: TrainingBackend,
    private readonly train: RowStream,
    private readonly validation: Dataset | undefined,
    private readonly options: TrainerOptions,
  ) {
    this.tasks = this.tasksNow = backend.config.tasks;
    ({ batch: this.batch, stepsPerEpoch: this.stepsPerEpoch } = batchPlan(Math.min(options.batchSize, backend.config.maxBatch), train.rows));
    this.totalSteps = this.stepsPerEpoch * options.epochs;
    this.random = new Random(options.start?.rngState ?? options.seed);
    this.step = (options.start?.epoch ?? 0) * this.stepsPerEpoch;
    this.best = options.start?.best;
    this.epochLosses = (options.start?.epochLosses ?? []).map((l) => Float64Array.from(l));
    this.epochSum = new Float64Array(this.tasks.length);
    this.firstLoss = options.referenceLoss;
  }

  async run(): Promise<TrainResult> {
    const { backend, options } = this;
    this.lastGood = await backend.getParameters();
    if (options.start) this.reweight(); // the weights the interrupted run had set for this epoch
    // Rows per upload: the whole epoch when it fits one GPU buffer, otherwise shards of whole batches.
    const shardRows = Math.min(this.train.rows, Math.max(this.batch, Math.floor(backend.maxDatasetRows / this.batch) * this.batch));
    const lastEpoch = Math.min(options.epochs, options.untilEpoch ?? Infinity);
    for (let epoch = options.start?.epoch ?? 0; epoch < lastEpoch; epoch++) {
      for await (const shard of this.train.shards(this.random, this.batch, shardRows)) {
        if (this.stoppedEarly) break;
        await this.trainShard(shard, epoch);
      }
      if (this.stoppedEarly) {
        if (this.stepsSinceReport > 0) await this.report(epoch);
        break;
      }
      await this.endEpoch(epoch);
      if (this.stoppedEarly) break;
    }
    if (this.best) backend.setParameters(this.best.params);
    const seconds = (performance.now() - this.started) / 1000;
    const trained = this.step - (options.start?.epoch ?? 0) * this.stepsPerEpoch;
    return {
      steps: this.step,
      epochs: this.history.length ? this.history[this.history.length - 1]!.epoch + 1 : 0,
      seconds,
      stepsPerSecond: trained / Math.max(seconds, 1e-9),
      history: this.history,
      bestEpoch: this.best?.epoch,
      bestValidationLoss: this.best?.loss,
      stoppedEarly: this.stoppedEarly,
      stopped: this.stopped,
      verifications: this.verifications,
    };
  }

  /** One shard's steps, in submits of up to a report's (or a stop poll's, or a verification's) worth. */
  private async trainShard(shard: Dataset, epoch: number): Promise<void> {
    const { backend, options } = this;
    const epochEnd = (epoch + 1) * this.stepsPerEpoch;
    backend.setDataset(shard);
    const steps = batchesOf(shard.rows, this.batch, (i) => learningRateAt(options.learningRate, options.schedule, this.step + i, this.totalSteps));
    for (let i = 0; i < steps.length;) {
      if (options.shouldStop) {
        if (options.stepsPerPoll) await yieldToEventLoop();
        if (options.shouldStop()) {
          this.stoppedEarly = this.stopped = true;
          return;
        }
      }
      let chunk = Math.min(options.reportEvery - this.stepsSinceReport, steps.length - i);
      if (options.shouldStop && options.stepsPerPoll) chunk = Math.min(chunk, options.stepsPerPoll);
      if (options.verifyEvery > 0) {
        const untilVerify = options.verifyEvery - (this.step % options.verifyEvery);
        if (untilVerify === options.verifyEvery) {
          await verifyStep(backend, shard, steps[i]!, this.step, this.tasksNow);
          this.verifications++;
        }
        chunk = Math.min(chunk, untilVerify);
      }
      await backend.trainSteps(steps.slice(i, i + chunk));
      i += chunk;
      this.step += chunk;
      this.stepsSinceReport += chunk;
      // The epoch's last report waits for the validation loss (endEpoch).
      if (this.stepsSinceReport >= options.reportEvery && this.step < epochEnd) await this.report(epoch);
    }
  }

  /** The epoch's end: its last report with the validation loss, the checks, dynamic weights, early stopping and the hook. */
  private async endEpoch(epoch: number): Promise<void> {
    const { backend, options, validation } = this;
    const validationLoss = validation && (await datasetLoss(backend, validation));
    if (this.stepsSinceReport > 0) await this.report(epoch, validationLoss);
    const params = await backend.getParameters();
    // Beyond f32's range is divergence too: the model file (and the GPU) are f32.
    const bad = params.findIndex((v) => !Number.isFinite(Math.fround(v)));
    if (bad >= 0) throw this.diverged(`parameter ${bad} became ${params[bad]} in epoch ${epoch + 1}`);
    if (validationLoss && !Number.isFinite(validationLoss.total)) throw this.diverged(`the validation loss became ${validationLoss.total} in epoch ${epoch + 1}`);
    this.lastGood = params;
    this.epochLosses = [...this.epochLosses, this.epochSum.map((v) => v / Math.max(1, this.epochSteps))].slice(-2);
    this.epochSum.fill(0);
    this.epochSteps = 0;
    this.reweight();
    if (validationLoss) {
      if (!this.best || validationLoss.total < this.best.loss) this.best = { epoch, loss: validationLoss.total, params };
      else if (options.patience > 0 && epoch - this.best.epoch >= options.patience) this.stoppedEarly = true;
    }
    await options.onEpochEnd?.({
      epoch: epoch + 1,
      step: this.step,
      rngState: this.random.state,
      validationLoss: validationLoss?.total,
      validationPerTask: validationLoss?.perTask,
      best: this.best,
      params,
      epochLosses: this.epochLosses.map((l) => Array.from(l)),
    });
  }

  /** Reads the loss back (the only readback), checks it for divergence, and reports it. */
  private async report(epoch: number, validation?: DatasetLoss): Promise<void> {
    const { perTask, steps: lossSteps, taskWeights } = await this.backend.readLoss();
    perTask.forEach((v, t) => (this.epochSum[t]! += v * lossSteps));
    this.epochSteps += lossSteps;
    const loss = weightedTotal(perTask, this.tasks);
    if (!Number.isFinite(loss)) throw this.diverged(`the loss became ${loss} at epoch ${epoch + 1}, step ${this.step}`);
    // Training lowers the loss; one that grew a thousandfold past where it started is running away.
    this.firstLoss ??= loss;
    if (loss > GROWTH_LIMIT * Math.max(this.firstLoss, 1e-6)) {
      throw this.diverged(`the loss grew from ${this.firstLoss.toPrecision(3)} to ${loss.toPrecision(3)} by epoch ${epoch + 1}, step ${this.step}`);
    }
    const now = performance.now();
    const entry: ProgressReport = {
      epoch,
      step: this.step,
      totalSteps: this.totalSteps,
      loss,
      perTask,
      ...(taskWeights && { taskWeights }),
      validationLoss: validation?.total,
      validationPerTask: validation?.perTask,
      stepsPerSecond: this.stepsSinceReport / Math.max(1e-9, (now - this.lastReportTime) / 1000),
      learningRate: learningRateAt(this.options.learningRate, this.options.schedule, Math.max(0, this.step - 1), this.totalSteps),
    };
    this.lastReportTime = now;
    this.stepsSinceReport = 0;
    this.history.push(entry);
    this.options.onReport?.(entry);
  }

  /** Dynamic task weights for the next epoch, from the latest epochs' losses. */
  private reweight(): void {
    const weights = this.options.reweight?.(this.epochLosses);
    if (!weights) return;
    this.backend.setTaskWeights(weights);
    this.tasksNow = this.tasks.map((task, t) => ({ ...task, weight: weights[t]! }));
  }

  private diverged(what: string): DivergenceError {
    return new DivergenceError(
      `training diverged: ${what}. Try a lower learning rate (now ${this.options.learningRate}), a learning-rate warm-up, or the adam optimizer.`,
      this.lastGood,
    );
  }
}

/** The steps of one pass over `rows` in batches (the last may be short); `rate(i)` is step i's learning rate. */
function batchesOf(rows: number, batch: number, rate: (i: number) => number): TrainStep[] {
  const steps: TrainStep[] = [];
  for (let start = 0; start < rows; start += batch) steps.push({ start, rows: Math.min(batch, rows - start), learningRate: rate(steps.length) });
  return steps;
}

/** Lets timers and events (an abort, a click) run: a macrotask turn, not just a microtask. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => void }).setImmediate;
  if (immediate) return new Promise((resolve) => immediate(resolve));
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The backend's gradients for this step against the float64 reference from the same parameters and batch. */
async function verifyStep(backend: TrainingBackend, data: Dataset, at: TrainStep, step: number, tasks: readonly TaskSpec[]): Promise<void> {
  const params = await backend.getParameters();
  const weightingState = weightingStateSize(backend.config.weighting, backend.config.shape.tasks) > 0 ? (await backend.getOptimizerState()).weighting : undefined;
  const got = await backend.gradients(at.start, at.rows);
  const context = { weighting: backend.config.weighting, step, seed: backend.config.seed, ...(weightingState && { weightingState }) };
  const want = referenceGradients(params, backend.layout, data, tasks, at.start, at.rows, context).grads;
  const comparison = compareArrays(got.grads, want, VERIFY_TOLERANCE);
  if (!comparison.ok) {
    throw new VerificationError(
      `step ${step}: the ${backend.kind} gradients disagree with the float64 reference\n` + describeComparison('gradients', comparison, VERIFY_TOLERANCE),
    );
  }
}
