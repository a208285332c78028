// train(): the one run pipeline the library, the CLI and the demo share.
//   options → checked settings (before anything else) → tables → prepared problem (splits,
//   standardisation) → backend → trainer → model, metrics, and the trained model's predictions
//   checked against the float64 CPU backend.
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { initParameters, type CouplingInit } from '../core/init.js';
import { resolveLoss, type TaskSpec } from '../core/losses.js';
import { WEIGHTINGS } from '../core/weighting.js';
import { parameterLayout, type ModelShape, type ParameterLayout } from '../core/shape.js';
import { CpuBackend } from '../backends/cpu.js';
import type { TaskTable } from '../data/table.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { predictRaw, type TrainedModel } from '../model/model.js';
import { linearBaseline } from '../train/baseline.js';
import { computeMetrics, type MetricsReport } from '../train/metrics.js';
import { prepareProblem, splitRows, splitSeed, type Problem } from '../train/prepare.js';
import { batchPlan, datasetLoss, DivergenceError, trainModel, type ProgressReport, type ResumeState, type RowStream, type TrainerOptions } from '../train/trainer.js';
import { compareArrays } from '../util/compare.js';
import { readMatrix, toTable } from './data.js';
import { openBackend, openContext, type BackendPool } from './device.js';
import { Model } from './model.js';
import { compareWithSingleTask, type SingleTaskComparison } from './compare.js';
import { resolveSettings, type Settings, type StreamTrainOptions, type TrainOptions } from './options.js';
import { prepareStream } from './stream.js';
import { SEARCH_RATES, searchAndFit, type SearchEntry, type SearchReport } from './search.js';
import { decodeModel } from '../io/model-format.js';

export interface TrainResult {
  model: Model;
  /** Each task's factor on its loss at the end: w_t, or w_t·c_t·e^{−s_t} learned by uncertainty weighting. */
  taskWeights: Record<string, number>;
  backend: 'webgpu' | 'cpu' | 'wasm';
  /** The adapter, e.g. "SwiftShader driver 5.0.0 (google, software)", or "CPU (float64 reference)". */
  adapter: string;
  /** Why backend 'auto' trained on the CPU, when it did. */
  notice?: string;
  /** One entry per loss report (by default one per epoch). */
  history: ProgressReport[];
  steps: number;
  epochs: number;
  /** Training time and speed of this run's steps; after a model search, of the chosen model's steps after it (`search.seconds`: the search's). */
  seconds: number;
  stepsPerSecond: number;
  trainingRows: number;
  validationRows: number;
  /** The epoch whose parameters the model has (early stopping restores it), 0-based. */
  bestEpoch?: number;
  bestValidationLoss?: number;
  /** Early stopping ended the run before the last epoch. */
  stoppedEarly: boolean;
  /** The signal stopped the run; the model has the best parameters so far. */
  aborted: boolean;
  /** Steps whose gradients were recomputed with the float64 reference (verifyEvery). */
  verifiedSteps: number;
  /** Weighted training loss (standardised targets) before and after training. */
  lossFirst: number;
  lossLast: number;
  /** Which rows `metrics` are computed on: the test rows, else the validation rows, else the training rows. */
  evaluatedOn: 'test' | 'validation' | 'train';
  evaluatedRows: number;
  metrics: MetricsReport;
  /** The per-task linear least-squares baseline on the same rows (with `baseline: true`). */
  baseline?: MetricsReport;
  /** This backend's predictions on the evaluated rows against the float64 CPU backend's. */
  agreement: { maxAbsDiff: number; ok: boolean };
  /** With `compareSingleTask`: single-task models, Δm, and the no-coupling ablation. */
  comparison?: SingleTaskComparison;
  /** With no `hidden` given: the model search — what was tried, what was chosen and why, its time. */
  search?: SearchReport;
  /** The search's candidates (`search.tried`): H, learning rate, best validation loss, epochs trained, last rung. */
  hiddenSearch?: SearchEntry[];
}

/** Divergence: the loss became NaN or infinite. `lastGoodModel` has the parameters of the last finished epoch. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';
  constructor(
    message: string,
    readonly lastGoodModel: Model,
  ) {
    super(message);
  }
}

/** Agreement of the trained model's predictions with the float64 CPU backend (f32 vs f64). */
const AGREEMENT = { atol: 1e-4, rtol: 1e-3 };

export async function train(options: TrainOptions | StreamTrainOptions): Promise<TrainResult> {
  let settings = resolveSettings(options);
  const problem = 'stream' in options ? await prepareStreamed(options, settings) : prepareRows(options, settings);
  if (settings.hidden === 'auto' && !problem.validation) throw new RangeError("hidden 'auto' picks H by validation loss: it needs a validationSplit above 0");
  const choice = modelChoice(options, settings, problem);
  settings = choice.settings;
  planBackend(problem, choice.search ? { ...settings, hidden: undefined } : settings); // checks the plan before any GPU work
  options.signal?.throwIfAborted();
  const withNotice = (result: TrainResult) => (choice.notice ? { ...result, notice: [result.notice, choice.notice].filter(Boolean).join('; ') } : result);
  if (!settings.compareSingleTask && !choice.search) return withNotice(await fit(problem, settings, options));
  // Several models: one device for all, so each kernel compiles once.
  const shared = settings.backend !== 'cpu' && !settings.device ? await openContext().catch(() => undefined) : undefined;
  let onDevice = shared ? { ...settings, device: shared.ctx.device, sharedDevice: true } : settings;
  try {
    let result: TrainResult;
    if (choice.search) {
      result = await searchAndFit(problem, onDevice, choice.search.rates, options, fit);
      result.hiddenSearch = result.search!.tried;
      const { hidden, learningRate } = result.search!.chosen;
      onDevice = { ...onDevice, hidden, optimizer: { ...onDevice.optimizer, learningRate }, patience: result.search!.patience.epochs };
    } else {
      result = await fit(problem, onDevice, options);
    }
    if (!result.aborted && settings.compareSingleTask) result.comparison = await compareWithSingleTask(problem, onDevice, result, (p, s) => fit(p, s, {}));
    return withNotice(result);
  } finally {
    if (shared?.owned) shared.ctx.destroy();
  }
}

/**
 * With no `hidden` given, or 'auto': a search over H (and the learning rate, unless one is given)
 * where the rows allow one; otherwise H = T — or, resuming, the checkpoint's H and learning rate.
 */
function modelChoice(
  options: TrainOptions | StreamTrainOptions,
  settings: Settings,
  problem: Problem,
): { settings: Settings; search?: { rates: readonly number[] }; notice?: string } {
  if (typeof settings.hidden === 'number') return { settings };
  const rateGiven = options.optimizer?.learningRate !== undefined;
  if (options.resume) {
    const hyper = decodeModel(options.resume, 'resume').model.hyper;
    const hidden = Number(hyper.hidden);
    const learningRate = rateGiven ? settings.optimizer.learningRate : Number(hyper.lr);
    return { settings: { ...settings, hidden, optimizer: { ...settings.optimizer, learningRate } } };
  }
  if (settings.hidden === undefined) {
    const T = problem.targetNames.length;
    if (problem.stream) return { settings, notice: `training from a stream, so H = T = ${T} (the default model search needs the rows in memory; give hidden to choose)` };
    if (settings.coupling.init !== undefined) return { settings };
    if (!problem.validation) return { settings, notice: `no validation rows, so H = T = ${T} (the default model search needs a validationSplit above 0)` };
  }
  return { settings, search: { rates: rateGiven ? [settings.optimizer.learningRate] : SEARCH_RATES } };
}

/** What a fit takes from the options besides the settings: callbacks, checkpoints, provenance. */
export type FitHooks = Pick<TrainOptions, 'onProgress' | 'onEpochEnd' | 'checkpoint' | 'provenance'> & {
  /** A checkpoint's bytes (--resume), or one a model search's rung kept in memory. */
  resume?: Uint8Array | Checkpoint;
  /** A model search's rung: its state every `every` epochs, kept in memory (nothing encoded). */
  keep?: { every: number; state: (checkpoint: Checkpoint) => void };
  /** A search's final run, which resumes its candidate: lossFirst is that of the initial parameters. */
  lossFromStart?: boolean;
  /** The training rows as a model search's runs share them (one gather buffer), instead of the problem's. */
  rows?: RowStream;
  /** Where a model search's runs get their backends: one per candidate, kept open across its rungs. */
  backends?: BackendPool;
  /** A search's rung: the model's raw outputs on the validation rows at the end (the returned model's). */
  validationOutputs?: (Y: Float64Array) => void;
};

/** One training run on a prepared problem: the backend, the trainer, the model and its checks. */
async function fit(problem: Problem, settings: Settings, options: FitHooks): Promise<TrainResult> {
  const plan = planBackend(problem, settings);
  const opened = await (options.backends ?? { open: openBackend }).open(settings.backend, plan.config, settings.device, settings.sharedDevice);
  const { backend } = opened;
  try {
    const modelOf = (params: Float64Array) => trainedModelOf(problem, plan, params, options.provenance);
    // A search's rung is judged by its validation loss alone: no metrics, float64 check or
    // training loss before its steps (unless it is stopped: then it is the result).
    const rung = settings.untilEpoch !== undefined;
    const initialLoss = async () => {
      startFrom(backend, plan, settings, undefined, modelOf);
      return (await datasetLoss(backend, problem.train.data)).total;
    };
    let lossFirst = options.lossFromStart ? await initialLoss() : Number.NaN;
    const start = startFrom(backend, plan, settings, options.resume, modelOf);
    if (!rung && !options.lossFromStart) lossFirst = (await datasetLoss(backend, problem.train.data)).total;
    const weights = taskWeightsOf(plan, settings, parameterLayout(plan.shape));
    let run;
    try {
      const trainer = trainerOptions(problem, settings, plan, { backend, weights, hooks: options, modelOf });
      run = await trainModel(backend, options.rows ?? problem.stream ?? problem.train.data, problem.validation?.data, {
        ...trainer,
        referenceLoss: Number.isNaN(lossFirst) ? undefined : lossFirst,
        start,
      });
    } catch (error) {
      if (error instanceof DivergenceError) throw new TrainingDivergedError(error.message, new Model(modelOf(error.lastGoodParams)));
      throw error;
    }
    const params = await backend.getParameters();
    if (Number.isNaN(lossFirst) && run.stopped) {
      lossFirst = await initialLoss();
      backend.setParameters(params);
    }
    if (options.validationOutputs && problem.validation) {
      const { X, rows } = problem.validation.data;
      options.validationOutputs(await backend.predict(X, rows));
    }
    const model = modelOf(params);
    const judged = !rung || run.stopped ? await evaluateFit(backend, plan, problem, model) : unevaluated(problem);
    return {
      model: new Model(model),
      taskWeights: Object.fromEntries(Array.from(weights.factors(params), (w, t) => [problem.targetNames[t]!, w])),
      backend: backend.kind,
      adapter: opened.adapter,
      notice: opened.notice,
      history: run.history,
      steps: run.steps,
      epochs: run.epochs,
      seconds: run.seconds,
      stepsPerSecond: run.stepsPerSecond,
      trainingRows: problem.stream?.rows ?? problem.train.data.rows,
      validationRows: problem.validation?.data.rows ?? 0,
      bestEpoch: run.bestEpoch,
      bestValidationLoss: run.bestValidationLoss,
      stoppedEarly: run.stoppedEarly && !run.stopped,
      aborted: run.stopped,
      verifiedSteps: run.verifications,
      lossFirst,
      ...judged,
      baseline: settings.baseline ? linearBaseline(problem) : undefined,
    };
  } finally {
    opened.close();
  }
}

type TaskWeights = ReturnType<typeof taskWeightsOf>;

/**
 * A fit's trainer options from its settings and plan, and its callbacks: progress (with the task
 * weights seen), the stop signal, and at each epoch's end the user's hook, checkpoints to write and
 * a search rung's state to keep.
 */
function trainerOptions(
  problem: Problem,
  settings: Settings,
  plan: BackendPlan,
  { backend, weights, hooks, modelOf }: { backend: TrainingBackend; weights: TaskWeights; hooks: FitHooks; modelOf: (params: Float64Array) => TrainedModel },
): Omit<TrainerOptions, 'referenceLoss' | 'start'> {
  const layout = parameterLayout(plan.shape);
  const { checkpoint, keep } = hooks;
  const signal = settings.signal;
  return {
    shuffle: settings.shuffle,
    epochs: settings.epochs,
    untilEpoch: settings.untilEpoch,
    batchSize: plan.batch,
    learningRate: settings.optimizer.learningRate,
    schedule: settings.schedule,
    seed: settings.seed,
    reportEvery: settings.reportEvery ?? plan.stepsPerEpoch,
    patience: problem.validation ? settings.patience : 0,
    verifyEvery: settings.verifyEvery,
    reweight: weights.reweight,
    onReport: (report) => {
      weights.seen(report);
      hooks.onProgress?.(report);
    },
    shouldStop: signal && (() => signal.aborted),
    stepsPerPoll: 16,
    onEpochEnd: async (state) => {
      await hooks.onEpochEnd?.({
        epoch: state.epoch - 1,
        step: state.step,
        validationLoss: state.validationLoss,
        validationPerTask: state.validationPerTask,
        coupling: state.params.slice(layout.A.offset, layout.A.offset + layout.A.size),
        taskWeights: weights.factors(state.params),
      });
      if (checkpoint && state.epoch % checkpoint.every === 0) {
        const optimizer = await backend.getOptimizerState();
        await checkpoint.write(encodeCheckpoint(modelOf(state.params), optimizer, state));
      }
      if (keep && state.epoch % keep.every === 0) {
        const { epoch, rngState, epochLosses, best, params } = state;
        keep.state({ model: modelOf(params), params, optimizer: await backend.getOptimizerState(), resume: { epoch, rngState, epochLosses, best } });
      }
    },
  };
}

/** The model of a plan with these parameters: names, losses, standardisation and hyperparameters (and the provenance). */
export function trainedModelOf(problem: Problem, plan: BackendPlan, params: Float64Array, provenance?: TrainOptions['provenance']): TrainedModel {
  return {
    shape: plan.shape,
    featureNames: problem.featureNames,
    targetNames: problem.targetNames,
    losses: problem.losses,
    params,
    x: problem.x,
    y: problem.y,
    hyper: { ...plan.hyper, ...provenance },
  };
}

/** The backend's starting point: the initial parameters, or a checkpoint's state (checked to belong to this run). */
function startFrom(
  backend: TrainingBackend,
  plan: BackendPlan,
  settings: Settings,
  resume: Uint8Array | Checkpoint | undefined,
  modelOf: (params: Float64Array) => TrainedModel,
): ResumeState | undefined {
  if (!resume) {
    backend.setParameters(initParameters(plan.shape, settings.seed, plan.aInit));
    return undefined;
  }
  // Bytes are checked to belong to this run; a state kept in memory (a search's rung) came from it.
  let checkpoint: Checkpoint;
  if (resume instanceof Uint8Array) {
    checkpoint = decodeCheckpoint(resume, 'resume', parameterLayout(plan.shape));
    checkResumable(checkpoint.model, modelOf(checkpoint.params));
  } else {
    checkpoint = resume;
  }
  backend.setParameters(checkpoint.params);
  backend.setOptimizerState(checkpoint.optimizer);
  return checkpoint.resume;
}

/**
 * The task weights a run reports: dynamic weight average's λ-scaled weights (set each epoch from
 * the last two epochs' losses), the aggregators' and FAMO's mean α (seen in the reports), or the
 * fixed w_t (w_t·c_t·e^{−s_t} under uncertainty weighting).
 */
function taskWeightsOf(plan: BackendPlan, settings: Settings, layout: ParameterLayout) {
  const fixed = plan.config.tasks.map((task) => task.weight);
  let dynamic: Float64Array | undefined;
  let aggregated: Float64Array | undefined;
  const { epochWeights } = WEIGHTINGS[settings.weighting];
  const reweight = epochWeights
    ? (losses: readonly Float64Array[]) => {
        if (losses.length < 2) return undefined;
        dynamic = epochWeights(losses[1]!, losses[0]!, settings.dwaTemperature).map((lambda, t) => fixed[t]! * lambda);
        return dynamic;
      }
    : undefined;
  return {
    reweight,
    seen: (report: ProgressReport) => {
      if (report.taskWeights) aggregated = report.taskWeights;
    },
    factors: (params: Float64Array) => (aggregated ?? dynamic)?.slice() ?? taskFactors(plan, layout, params),
  };
}

type Judgement = Pick<TrainResult, 'lossLast' | 'evaluatedOn' | 'evaluatedRows' | 'metrics' | 'agreement'>;

/** The trained model judged: its training loss, metrics on the held-out rows, and this backend's predictions against the float64 CPU backend's. */
async function evaluateFit(backend: TrainingBackend, plan: BackendPlan, problem: Problem, model: TrainedModel): Promise<Judgement> {
  const lossLast = (await datasetLoss(backend, problem.train.data)).total;
  const rows = (problem.test ?? problem.validation ?? problem.train).table;
  const predictions = await predictRaw(backend, model, rows.X, rows.rows);
  const metrics = computeMetrics(predictions, rows.Y, rows.mask, rows.rows, problem.targetNames, problem.losses);
  const reference = new CpuBackend(plan.config);
  reference.setParameters(model.params);
  const agreement = compareArrays(predictions, await predictRaw(reference, model, rows.X, rows.rows), AGREEMENT);
  return { lossLast, evaluatedOn: evaluatedOn(problem), evaluatedRows: rows.rows, metrics, agreement: { maxAbsDiff: agreement.maxAbs, ok: agreement.ok } };
}

/** A search's rung, not judged (its validation loss is what counts). */
function unevaluated(problem: Problem): Judgement {
  const rows = (problem.test ?? problem.validation ?? problem.train).table;
  return {
    lossLast: Number.NaN,
    evaluatedOn: evaluatedOn(problem),
    evaluatedRows: rows.rows,
    metrics: { overall: {}, tasks: {} },
    agreement: { maxAbsDiff: Number.NaN, ok: true },
  };
}

const evaluatedOn = (problem: Problem): TrainResult['evaluatedOn'] => (problem.test ? 'test' : problem.validation ? 'validation' : 'train');

/**
 * A checkpoint continues only the run that wrote it: the same columns, losses, shape, data
 * (its standardisation) and hyperparameters (more epochs are fine). Says what differs.
 */
function checkResumable(saved: TrainedModel, now: TrainedModel): void {
  const differences: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const compare = (what: string, a: unknown, b: unknown) => {
    if (!same(a, b)) differences.push(`${what}: checkpoint ${JSON.stringify(a)}, this run ${JSON.stringify(b)}`);
  };
  compare('features', saved.featureNames, now.featureNames);
  compare('tasks', saved.targetNames, now.targetNames);
  compare('losses', saved.losses, now.losses);
  compare('shape', saved.shape, now.shape);
  for (const key of new Set([...Object.keys(saved.hyper), ...Object.keys(now.hyper)])) {
    if (key !== 'epochs') compare(key, saved.hyper[key], now.hyper[key]);
  }
  const f32 = (v: ArrayLike<number>) => Array.from(v, Math.fround);
  const scaling = (m: TrainedModel) => [m.x.mean, m.x.std, m.y.mean, m.y.std].map(f32);
  if (same(saved.shape, now.shape) && !same(scaling(saved), scaling(now))) {
    differences.push("data: the training rows differ (their means and deviations do not match the checkpoint's)");
  }
  if (differences.length) throw new RangeError(`resume: this checkpoint belongs to a different run:\n  ${differences.join('\n  ')}`);
}

/** Each task's factor on its loss: w_t, or w_t·c_t·e^{−s_t} under uncertainty weighting. */
function taskFactors(plan: BackendPlan, layout: ParameterLayout, params: Float64Array): Float64Array {
  return Float64Array.from(plan.config.tasks, (task, t) =>
    WEIGHTINGS[plan.config.weighting ?? 'equal'].learnsLogVariances
      ? task.weight * resolveLoss(task.loss).entry.uncertaintyScale * Math.exp(-params[layout.s.offset + t]!)
      : task.weight,
  );
}

/** A RowSource → the prepared problem: one pass for statistics and held-out rows, then epochs stream it. */
async function prepareStreamed(options: StreamTrainOptions, settings: Settings): Promise<Problem> {
  const source = options.stream;
  if (typeof source !== 'object' || source === null || typeof source.readWindow !== 'function' || !Number.isInteger(source.windows) || !Array.isArray(source.featureNames)) {
    throw new RangeError('stream must be a RowSource (openCsvStream or openParquetStream from sigmtl/node)');
  }
  const refused = [
    ['compareSingleTask', settings.compareSingleTask],
    ["hidden: 'auto'", settings.hidden === 'auto'],
    ['testSplit (give test rows instead)', settings.testSplit > 0],
  ] as const;
  for (const [what, on] of refused) if (on) throw new RangeError(`stream: ${what} is not available when training from a stream`);
  const T = source.taskNames.length;
  if (settings.taskWeights && settings.taskWeights.length !== T) throw new RangeError(`taskWeights lists ${settings.taskWeights.length} weights for ${T} tasks`);
  const test = options.test && toTable(options.test, { featureNames: source.featureNames, taskNames: source.taskNames }, 'test.');
  return prepareStream(source, { loss: settings.losses, validationSplit: settings.validationSplit, seed: settings.seed, shuffle: settings.shuffle, test }, settings.signal);
}

/** Options' rows → the prepared problem: test rows (given, or a seeded split), validation split, standardisation. */
export function prepareRows(options: TrainOptions, settings: Settings): Problem {
  const names = { featureNames: options.featureNames, taskNames: options.taskNames, featureCount: options.featureCount, taskCount: options.taskCount };
  let trainTable: TaskTable = toTable(options, names);
  let test: TaskTable | undefined;
  if (options.test) {
    test = toTable(options.test, { featureNames: trainTable.featureNames, taskNames: trainTable.targetNames }, 'test.');
  } else if (settings.testSplit > 0) {
    [trainTable, test] = splitRows(trainTable, settings.testSplit, splitSeed(settings.seed, 'test'), 'test');
  }
  const T = trainTable.targetNames.length;
  if (typeof settings.losses !== 'string' && settings.losses.length !== T) {
    throw new RangeError(`losses lists ${settings.losses.length} losses for ${T} tasks`);
  }
  if (settings.taskWeights && settings.taskWeights.length !== T) {
    throw new RangeError(`taskWeights lists ${settings.taskWeights.length} weights for ${T} tasks`);
  }
  if (settings.taskWeights?.every((w) => w === 0)) throw new RangeError('taskWeights are all zero: nothing would be learned');
  return prepareProblem(trainTable, test, { loss: settings.losses, validationSplit: settings.validationSplit, seed: settings.seed });
}

export interface BackendPlan {
  shape: ModelShape;
  config: BackendConfig;
  batch: number;
  stepsPerEpoch: number;
  aInit: CouplingInit;
  hyper: TrainedModel['hyper'];
}

export function planBackend(problem: Problem, settings: Settings): BackendPlan {
  const T = problem.targetNames.length;
  const hidden = typeof settings.hidden === 'number' ? settings.hidden : T;
  const shape = { features: problem.featureNames.length, hidden, tasks: T };
  const weights = settings.taskWeights ?? Array<number>(T).fill(1);
  const tasks: TaskSpec[] = problem.losses.map((loss, t) => ({ loss, weight: weights[t]! }));
  const { batch, stepsPerEpoch } = batchPlan(settings.batchSize, problem.stream?.rows ?? problem.train.data.rows);
  const c = settings.coupling;
  const init = c.init ?? (hidden === T ? 'identity' : 'random');
  if (init === 'identity' && hidden !== T) throw new RangeError(`coupling.init 'identity' needs hidden = tasks (${T}), got hidden ${hidden}`);
  const aInit = typeof init === 'string' ? init : readMatrix('coupling.init', init, hidden, 'hidden').values;
  if (typeof aInit !== 'string' && aInit.length !== T * hidden) {
    throw new RangeError(`coupling.init has ${aInit.length / hidden} rows, expected one per task (${T}) of hidden (${hidden}) values`);
  }
  if (typeof aInit !== 'string' && aInit.some((v) => !Number.isFinite(v))) throw new RangeError('coupling.init holds a non-finite value');
  const totalSteps = settings.epochs * stepsPerEpoch;
  if (settings.schedule.warmupSteps > totalSteps) {
    throw new RangeError(
      `schedule.warmupSteps (${settings.schedule.warmupSteps}) is longer than the whole run (${totalSteps} steps): the learning rate would never reach ${settings.optimizer.learningRate}`,
    );
  }
  const config: BackendConfig = {
    shape,
    tasks,
    optimizer: settings.optimizer,
    maxBatch: batch,
    coupling: { freezeA: c.freeze, l1A: c.l1, identityA: c.towardIdentity },
    weighting: settings.weighting,
    seed: settings.seed,
  };
  const hyper = {
    hidden,
    optimizer: settings.optimizer.kind,
    lr: settings.optimizer.learningRate,
    weightDecay: settings.optimizer.weightDecay,
    batchSize: settings.batchSize,
    epochs: settings.epochs,
    seed: settings.seed,
    schedule: settings.schedule.kind,
    freezeA: c.freeze,
    l1A: c.l1,
    identityA: c.towardIdentity,
    taskWeights: weights.join(','),
    weighting: settings.weighting,
    ...(WEIGHTINGS[settings.weighting].epochWeights && { dwaTemperature: settings.dwaTemperature }),
  };
  return { shape, config, batch, stepsPerEpoch, aInit, hyper };
}
