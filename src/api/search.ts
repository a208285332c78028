// The default model: with no `hidden` given, train() chooses the hidden units H (and the learning
// rate, unless one is given) by validation loss, by successive halving: every candidate trains a
// few epochs; the best third train three times as long (the best of each learning rate in turn,
// see `survivors`); and so on until two are left; the better of those two — the smaller one
// unless the larger is clearly better on the validation rows — trains on to the last epoch from
// where it stands (nothing is trained twice). The schedule of epochs is fixed by the options, so
// the choice is reproducible from the seed.
import { resolveLoss, type TaskSpec } from '../core/losses.js';
import type { Dataset } from '../core/backend.js';
import type { Problem } from '../train/prepare.js';
import { batchPlan, inMemoryRows, type ProgressReport, type RowStream, type SearchProgress } from '../train/trainer.js';
import { BackendPool } from './device.js';
import type { Settings, TrainOptions } from './options.js';
import type { Checkpoint } from '../io/checkpoint.js';
import { TrainingDivergedError, type FitHooks, type TrainResult } from './train.js';

/** Hidden units tried besides T, and learning rates tried when none is given. */
export const SEARCH_HIDDEN = [16, 32, 64, 128] as const;
export const SEARCH_RATES = [0.01, 0.003] as const;
/** Each rung keeps the best 1/ETA of the candidates and trains them ETA times as many epochs. */
const ETA = 3;
/** The larger finalist must beat the smaller by this many standard errors of the paired difference. */
export const CLEARLY_BETTER_Z = 2;
/**
 * Below this many validation rows the validation loss is noisy from epoch to epoch, and the
 * search's runs wait `NOISY_VALIDATION_PATIENCE` epochs before stopping early (unless a patience is
 * given): with patience 10 on enb2012's 61 validation rows, seed 3 stopped H = 64 at epoch 24 and
 * test R² 0.88, where it goes on to 0.986.
 */
export const NOISY_VALIDATION_ROWS = 1000;
export const NOISY_VALIDATION_PATIENCE = 20;

/** Memory the candidates' open backends may hold their training rows in, together. */
const BACKEND_POOL_BYTES = 512 * 2 ** 20;

export interface SearchCandidate {
  hidden: number;
  learningRate: number;
}

export interface SearchEntry extends SearchCandidate {
  /** Its best validation loss (Infinity if it diverged). */
  validationLoss: number;
  /** Epochs it trained. */
  epochs: number;
  /** The last rung it trained in (1-based). */
  rung: number;
}

export interface SearchReport {
  tried: SearchEntry[];
  chosen: SearchCandidate;
  /** Why this candidate, in a sentence. */
  reason: string;
  /** The epochs each rung trains to, and how many candidates it trains. */
  rungs: Array<{ epochs: number; candidates: number }>;
  /** Wall time of the rungs (the final run not included). */
  seconds: number;
  /** The early-stopping patience of the search's runs and the chosen model's, and why when it is not the settings'. */
  patience: { epochs: number; reason?: string };
}

export interface RungPlan {
  epochs: number;
  candidates: number;
}

/** The candidates: H in {T, 16, 32, 64, 128} (distinct, ascending), each at every learning rate (or the one given). */
export function searchCandidates(tasks: number, rates: readonly number[]): SearchCandidate[] {
  const hidden = [...new Set([tasks, ...SEARCH_HIDDEN])].sort((a, b) => a - b);
  return hidden.flatMap((h) => rates.map((learningRate) => ({ hidden: h, learningRate })));
}

/** Successive halving's rungs: the epochs each trains to (first × 3^k) and its candidates (⌈n/3^k⌉), while two or more are left. */
export function searchRungs(candidates: number, epochs: number, firstRung: number): RungPlan[] {
  const rungs: RungPlan[] = [];
  let n = candidates;
  let e = Math.min(firstRung, epochs);
  while (n > 1 && (rungs.length === 0 || e < epochs)) {
    rungs.push({ epochs: e, candidates: n });
    n = Math.ceil(n / ETA);
    e *= ETA;
  }
  return rungs;
}

/**
 * Each validation row's share of the weighted validation loss Σ_t w_t·L_t (L_t a task's mean
 * over its labels), from the model's raw outputs Y on the rows (rows×T, as a backend's predict()
 * gives them): the shares sum to the loss.
 */
export function rowLossSharesOf(Y: ArrayLike<number>, data: Dataset, tasks: readonly TaskSpec[]): Float64Array {
  const T = tasks.length;
  const counts = new Float64Array(T);
  for (let i = 0; i < data.rows * T; i++) counts[i % T]! += data.mask[i]!;
  const shares = new Float64Array(data.rows);
  tasks.forEach((task, t) => {
    if (counts[t] === 0) return;
    const { entry, param } = resolveLoss(task.loss);
    for (let r = 0; r < data.rows; r++) {
      const m = data.mask[r * T + t]!;
      if (m !== 0) shares[r]! += (task.weight * m * entry.value(Y[r * T + t]!, data.Y[r * T + t]!, param)) / counts[t]!;
    }
  });
  return shares;
}

/** z of the paired difference Σ(a − b) of per-row shares: its sum over its standard error (√N·sd). 0 when there is no difference. */
export function pairedZ(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (n === 0) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (a[i]! - b[i]!) / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (a[i]! - b[i]! - mean) ** 2 / Math.max(1, n - 1);
  const sd = Math.sqrt(variance);
  if (sd === 0) return mean === 0 ? 0 : Math.sign(mean) * Infinity;
  return (Math.sqrt(n) * mean) / sd;
}

type Fit = (problem: Problem, settings: Settings, hooks: FitHooks) => Promise<TrainResult>;

interface Run {
  candidate: SearchCandidate;
  /** The state it stopped at (for the next rung), and the one its last rung started from (kept in memory). */
  state?: Checkpoint;
  before?: Checkpoint;
  result?: TrainResult;
  /** Its raw outputs on the validation rows at the end of its last rung (for the finalists' paired comparison). */
  outputs?: Float64Array;
  loss: number;
  epochs: number;
  rung: number;
  /** Early stopping ended it: it would not improve with more epochs. */
  done: boolean;
}

const label = (c: SearchCandidate) => `H = ${c.hidden}, lr ${c.learningRate}`;

type SearchHooks = Pick<TrainOptions, 'onProgress' | 'onEpochEnd' | 'checkpoint' | 'resume' | 'provenance' | 'patience'>;

/**
 * The search and the chosen model's final run. `rates`: the learning rates to try (the given one
 * alone, or SEARCH_RATES). Returns the final run's result with `search` filled in.
 */
export async function searchAndFit(problem: Problem, settings: Settings, rates: readonly number[], hooks: SearchHooks, fit: Fit): Promise<TrainResult> {
  const search = new ModelSearch(problem, settings, rates, hooks, fit);
  try {
    const stopped = await search.runRungs();
    if (stopped) return stopped;
    return await search.fitChosen();
  } finally {
    await search.backends?.closeAll();
  }
}

/** One search: its plan, the candidates' runs rung by rung, the choice and the final run. */
class ModelSearch {
  /**
   * The candidates' backends, kept open across the rungs where their copies of the training rows
   * fit in BACKEND_POOL_BYTES together (each backend holds its own: GPU buffers, or the engine's
   * memory); otherwise each run opens and closes its own, as a single run does.
   */
  readonly backends: BackendPool | undefined;
  private readonly settings: Settings;
  private readonly patience: SearchReport['patience'];
  private readonly candidates: SearchCandidate[];
  private readonly rungs: RungPlan[];
  private readonly stepsPerEpoch: number;
  private readonly totalSteps: number;
  /** The training rows, shuffled from each run's random state: one gather buffer for all the runs. */
  private readonly rows: RowStream;
  private readonly started = performance.now();
  /** Steps of the runs finished so far (one progress count across the search). */
  private stepsBefore = 0;
  private runs: Run[];
  private readonly tried = new Map<Run, SearchEntry>();
  private firstDivergence: TrainingDivergedError | undefined;

  constructor(
    private readonly problem: Problem,
    settings: Settings,
    rates: readonly number[],
    private readonly hooks: SearchHooks,
    private readonly fit: Fit,
  ) {
    this.patience = searchPatience(hooks.patience, settings.patience, problem.validation!.data.rows);
    this.settings = { ...settings, patience: this.patience.epochs };
    const T = problem.targetNames.length;
    this.candidates = searchCandidates(T, rates);
    const firstRung = settings.autoHiddenEpochs ?? Math.max(1, Math.round(settings.epochs / 200));
    const rungs = (this.rungs = searchRungs(this.candidates.length, settings.epochs, firstRung));
    this.stepsPerEpoch = batchPlan(settings.batchSize, problem.train.data.rows).stepsPerEpoch;
    const plannedEpochs = rungs.reduce((sum, rung, k) => sum + rung.candidates * (rung.epochs - (k > 0 ? rungs[k - 1]!.epochs : 0)), 0) + (settings.epochs - rungs.at(-1)!.epochs);
    this.totalSteps = plannedEpochs * this.stepsPerEpoch;
    this.rows = inMemoryRows(problem.train.data, problem.featureNames.length, T, settings.shuffle);
    this.runs = this.candidates.map((candidate) => ({ candidate, loss: Infinity, epochs: 0, rung: 0, done: false }));
    const { data } = problem.train;
    const rowsBytes = 4 * (data.X.length + data.Y.length + data.mask.length);
    this.backends = rowsBytes * this.candidates.length <= BACKEND_POOL_BYTES ? new BackendPool() : undefined;
  }

  private settingsOf(c: SearchCandidate): Settings {
    return { ...this.settings, hidden: c.hidden, optimizer: { ...this.settings.optimizer, learningRate: c.learningRate } };
  }

  private progress(phase: SearchProgress['phase'], c: SearchCandidate, rung: number, runStart: number) {
    return (report: ProgressReport) =>
      this.hooks.onProgress?.({
        ...report,
        search: {
          phase,
          hidden: c.hidden,
          learningRate: c.learningRate,
          rung,
          rungs: this.rungs.length,
          step: this.stepsBefore + report.step - runStart,
          totalSteps: this.totalSteps,
        },
      });
  }

  private report(chosen: SearchCandidate, reason: string): SearchReport {
    return { tried: [...this.tried.values()], chosen, reason, rungs: this.rungs, seconds: (performance.now() - this.started) / 1000, patience: this.patience };
  }

  /** Successive halving: every rung's candidates train on to its epochs; the best go on. A stop ends it with the best so far (returned). */
  async runRungs(): Promise<TrainResult | undefined> {
    for (let k = 0; k < this.rungs.length; k++) {
      for (const run of this.runs) {
        if (run.done) continue;
        const result = await this.trainInRung(run, k);
        if (result?.aborted) return { ...result, search: this.report(run.candidate, 'stopped during the search: the best so far') };
        this.tried.set(run, { ...run.candidate, validationLoss: run.loss, epochs: run.epochs, rung: run.rung });
      }
      // Best first; equal losses to the smaller model (candidates are in ascending H).
      this.runs = [...this.runs].sort((a, b) => a.loss - b.loss || this.candidates.indexOf(a.candidate) - this.candidates.indexOf(b.candidate));
      if (k < this.rungs.length - 1) this.runs = survivors(this.runs, this.rungs[k + 1]!.candidates);
    }
    return undefined;
  }

  /** One candidate from where it stands to rung k's epochs, its state kept in memory; a divergence ends it. */
  private async trainInRung(run: Run, k: number): Promise<TrainResult | undefined> {
    const rung = this.rungs[k]!;
    const runStart = run.epochs * this.stepsPerEpoch;
    let checkpoint: Checkpoint | undefined;
    let outputs: Float64Array | undefined;
    try {
      const result = await this.fit(
        this.problem,
        { ...this.settingsOf(run.candidate), untilEpoch: rung.epochs, compareSingleTask: false, baseline: false, verifyEvery: 0 },
        {
          resume: run.state,
          rows: this.rows,
          backends: this.backends,
          keep: { every: rung.epochs, state: (state) => void (checkpoint = state) },
          validationOutputs: (Y) => void (outputs = Y),
          onProgress: this.progress('search', run.candidate, k + 1, runStart),
          provenance: this.hooks.provenance,
        },
      );
      this.stepsBefore += result.steps - runStart;
      const loss = result.bestValidationLoss ?? Infinity;
      Object.assign(run, { result, outputs, before: run.state, state: checkpoint ?? run.state, loss, epochs: result.epochs, rung: k + 1, done: result.stoppedEarly });
      return result;
    } catch (error) {
      if (!(error instanceof TrainingDivergedError)) throw error;
      this.firstDivergence ??= error;
      Object.assign(run, { loss: Infinity, rung: k + 1, done: true, result: undefined, outputs: undefined });
      return undefined;
    }
  }

  /** The choice between the last rung's two best, and the chosen model's run on to the last epoch. */
  async fitChosen(): Promise<TrainResult> {
    const { problem, settings } = this;
    const [best, second] = this.runs.filter((r) => Number.isFinite(r.loss));
    if (!best) {
      // As a single run would: the error with its remedy, and the smallest candidate's last good model.
      const first = this.firstDivergence!;
      throw new TrainingDivergedError(`${first.message} (every candidate of the model search diverged: ${this.candidates.map(label).join('; ')})`, first.lastGoodModel);
    }
    // Each finalist's validation outputs from its backend at the end of its last rung (its result's parameters).
    const shares = (r: Run) =>
      rowLossSharesOf(
        r.outputs!,
        problem.validation!.data,
        r.result!.model.losses.map((loss, t) => ({ loss, weight: settings.taskWeights?.[t] ?? 1 })),
      );
    // The larger model must be clearly better on these rows, not by the luck of a small validation split.
    const compared = second && second.candidate.hidden < best.candidate.hidden && best.outputs && second.outputs;
    const z = compared ? pairedZ(shares(second), shares(best)) : undefined;
    const { chosen, reason } = finalistChoice(best, second, z, problem.validation!.data.rows);
    const chosenRun = chosen === best.candidate ? best : second!;
    const search = this.report(chosen, reason);
    // The chosen run goes on to the last epoch. One that finished in its rung (early stopping, or the
    // last epoch reached) runs its last rung again, from the checkpoint it started at, to be
    // evaluated: the same epochs and the same stop, since training is deterministic.
    const again = chosenRun.done || chosenRun.epochs >= settings.epochs;
    const from = again ? (chosenRun.rung > 1 ? this.rungs[chosenRun.rung - 2]!.epochs : 0) : chosenRun.epochs;
    const final = await this.fit(problem, this.settingsOf(chosen), {
      ...this.hooks,
      resume: again ? chosenRun.before : chosenRun.state,
      rows: this.rows,
      backends: this.backends,
      lossFromStart: true,
      onProgress: this.progress('final', chosen, this.rungs.length + 1, from * this.stepsPerEpoch),
    });
    return { ...final, search };
  }
}

/**
 * The `n` that go on to the next rung, from `ranked` (best first): the best of each learning rate
 * in turn (the rate with the better best first), then the second best of each, and so on; a
 * candidate that diverged only where no other is left. Ranked by loss across learning rates, a
 * rung of a few epochs keeps only the fastest rate: on yeast the first rung (1 epoch) always
 * dropped lr 0.003, which reaches a lower validation loss than lr 0.01 at H = 64 and at 128 (on 7
 * of 8 seeds each) — a short horizon favours the larger step, not the better model.
 */
export function survivors<R extends { candidate: SearchCandidate; loss: number }>(ranked: readonly R[], n: number): R[] {
  const byRate = new Map<number, R[]>(); // in the order of each rate's best
  for (const run of ranked) {
    if (!Number.isFinite(run.loss)) continue;
    const rate = run.candidate.learningRate;
    if (!byRate.has(rate)) byRate.set(rate, []);
    byRate.get(rate)!.push(run);
  }
  const kept = new Set<R>();
  const deepest = Math.max(0, ...[...byRate.values()].map((runs) => runs.length));
  for (let i = 0; i < deepest; i++) for (const runs of byRate.values()) if (i < runs.length && kept.size < n) kept.add(runs[i]!);
  for (const run of ranked) if (kept.size < n) kept.add(run); // diverged ones, when too few are left
  return ranked.filter((run) => kept.has(run));
}

/**
 * Between the last rung's best and runner-up: the best, unless the runner-up is smaller and the
 * best is not `CLEARLY_BETTER_Z` standard errors better (z: the runner-up's loss minus the best's,
 * paired per validation row, over its standard error).
 */
export function finalistChoice(
  best: { candidate: SearchCandidate; loss: number },
  second: { candidate: SearchCandidate; loss: number } | undefined,
  z: number | undefined,
  validationRows: number,
): { chosen: SearchCandidate; reason: string } {
  const next = second ? `; next ${label(second.candidate)} (${second.loss.toPrecision(4)})` : '';
  if (!second || z === undefined) return { chosen: best.candidate, reason: `the lowest validation loss (${best.loss.toPrecision(4)})${next}` };
  if (z < CLEARLY_BETTER_Z) {
    return {
      chosen: second.candidate,
      reason:
        `${label(best.candidate)} had the lowest validation loss (${best.loss.toPrecision(4)} against ${second.loss.toPrecision(4)}), but not clearly on ` +
        `${validationRows} validation rows (${z.toFixed(1)} standard errors of the paired difference, under ${CLEARLY_BETTER_Z}): the smaller model is kept`,
    };
  }
  return {
    chosen: best.candidate,
    reason: `the lowest validation loss (${best.loss.toPrecision(4)})${next}, ${z.toFixed(1)} standard errors better on ${validationRows} validation rows`,
  };
}

/** The search's patience: the one given; else the settings' (10), or NOISY_VALIDATION_PATIENCE on fewer than NOISY_VALIDATION_ROWS validation rows. */
export function searchPatience(given: number | undefined, resolved: number, validationRows: number): SearchReport['patience'] {
  if (given !== undefined || resolved === 0 || validationRows >= NOISY_VALIDATION_ROWS || resolved >= NOISY_VALIDATION_PATIENCE) return { epochs: resolved };
  const reason = `early stopping waits ${NOISY_VALIDATION_PATIENCE} epochs instead of ${resolved}: a validation loss on only ${validationRows} rows is noisy`;
  return { epochs: NOISY_VALIDATION_PATIENCE, reason };
}
