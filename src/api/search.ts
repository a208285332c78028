// The default model: with no `hidden` given, train() chooses the hidden units H (and the learning
// rate, unless one is given) by validation loss, by successive halving: every candidate trains a
// few epochs; the best third train three times as long; and so on until two are left; the better
// of those two — the smaller one unless the larger is clearly better on the validation rows —
// trains on to the last epoch from where it stands (nothing is trained twice). The schedule of
// epochs is fixed by the options, so the choice is reproducible from the seed.
import { parameterLayout } from '../core/shape.js';
import { resolveLoss, type TaskSpec } from '../core/losses.js';
import type { Dataset } from '../core/backend.js';
import { forward } from '../cpu/reference.js';
import type { Problem } from '../train/prepare.js';
import { batchPlan, inMemoryRows, replayedEpochs, type ProgressReport, type SearchProgress } from '../train/trainer.js';
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

/** Memory the search may keep its shuffled epochs in, to hand every candidate the same gathered rows. */
const EPOCH_REPLAY_BYTES = 256 * 2 ** 20;

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
 * over its labels), from the float64 reference: the shares sum to the loss.
 */
export function rowLossShares(params: Float64Array, hidden: number, data: Dataset, tasks: readonly TaskSpec[]): Float64Array {
  const T = tasks.length;
  const layout = parameterLayout({ features: data.X.length / Math.max(1, data.rows), hidden, tasks: T });
  const { Y } = forward(params, layout, data.X, data.rows);
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
  loss: number;
  epochs: number;
  rung: number;
  /** Early stopping ended it: it would not improve with more epochs. */
  done: boolean;
}

const label = (c: SearchCandidate) => `H = ${c.hidden}, lr ${c.learningRate}`;

/**
 * The search and the chosen model's final run. `rates`: the learning rates to try (the given one
 * alone, or SEARCH_RATES). Returns the final run's result with `search` filled in.
 */
export async function searchAndFit(
  problem: Problem,
  settings: Settings,
  rates: readonly number[],
  hooks: Pick<TrainOptions, 'onProgress' | 'onEpochEnd' | 'checkpoint' | 'resume' | 'provenance' | 'patience'>,
  fit: Fit,
): Promise<TrainResult> {
  const patience = searchPatience(hooks.patience, settings.patience, problem.validation!.data.rows);
  settings = { ...settings, patience: patience.epochs };
  const T = problem.targetNames.length;
  const candidates = searchCandidates(T, rates);
  const firstRung = settings.autoHiddenEpochs ?? Math.max(1, Math.round(settings.epochs / 200));
  const rungs = searchRungs(candidates.length, settings.epochs, firstRung);
  const { stepsPerEpoch } = batchPlan(settings.batchSize, problem.train.data.rows);
  const plannedEpochs = rungs.reduce((sum, rung, k) => sum + rung.candidates * (rung.epochs - (k > 0 ? rungs[k - 1]!.epochs : 0)), 0) + (settings.epochs - rungs.at(-1)!.epochs);
  const totalSteps = plannedEpochs * stepsPerEpoch;
  let stepsBefore = 0; // steps of the runs finished so far
  const started = performance.now();
  const settingsOf = (c: SearchCandidate): Settings => ({ ...settings, hidden: c.hidden, optimizer: { ...settings.optimizer, learningRate: c.learningRate } });
  const progress = (phase: SearchProgress['phase'], c: SearchCandidate, rung: number, runStart: number) => (report: ProgressReport) =>
    hooks.onProgress?.({
      ...report,
      search: { phase, hidden: c.hidden, learningRate: c.learningRate, rung, rungs: rungs.length, step: stepsBefore + report.step - runStart, totalSteps },
    });

  // Every candidate sees the same shuffled epochs: each is gathered once and replayed to the others.
  const rows = replayedEpochs(inMemoryRows(problem.train.data, problem.featureNames.length, T, settings.shuffle), EPOCH_REPLAY_BYTES);
  let runs: Run[] = candidates.map((candidate) => ({ candidate, loss: Infinity, epochs: 0, rung: 0, done: false }));
  const tried = new Map<Run, SearchEntry>();
  let firstDivergence: TrainingDivergedError | undefined;
  for (const [k, rung] of rungs.entries()) {
    for (const run of runs) {
      if (run.done) continue;
      const runStart = run.epochs * stepsPerEpoch;
      let checkpoint: Checkpoint | undefined;
      try {
        const result = await fit(
          problem,
          { ...settingsOf(run.candidate), untilEpoch: rung.epochs, compareSingleTask: false, baseline: false, verifyEvery: 0 },
          {
            resume: run.state,
            rows,
            keep: { every: rung.epochs, state: (state) => void (checkpoint = state) },
            onProgress: progress('search', run.candidate, k + 1, runStart),
            provenance: hooks.provenance,
          },
        );
        stepsBefore += result.steps - runStart;
        Object.assign(run, {
          result,
          before: run.state,
          state: checkpoint ?? run.state,
          loss: result.bestValidationLoss ?? Infinity,
          epochs: result.epochs,
          rung: k + 1,
          done: result.stoppedEarly,
        });
        if (result.aborted) return { ...result, search: report(tried, run.candidate, 'stopped during the search: the best so far', rungs, started, patience) };
      } catch (error) {
        if (!(error instanceof TrainingDivergedError)) throw error;
        firstDivergence ??= error;
        Object.assign(run, { loss: Infinity, rung: k + 1, done: true, result: undefined });
      }
      tried.set(run, { ...run.candidate, validationLoss: run.loss, epochs: run.epochs, rung: run.rung });
    }
    // Best first; equal losses to the smaller model (candidates are in ascending H).
    runs = [...runs].sort((a, b) => a.loss - b.loss || candidates.indexOf(a.candidate) - candidates.indexOf(b.candidate));
    if (k < rungs.length - 1) runs = runs.slice(0, rungs[k + 1]!.candidates);
  }
  const [best, second] = runs.filter((r) => Number.isFinite(r.loss));
  if (!best) {
    // As a single run would: the error with its remedy, and the smallest candidate's last good model.
    throw new TrainingDivergedError(
      `${firstDivergence!.message} (every candidate of the model search diverged: ${candidates.map(label).join('; ')})`,
      firstDivergence!.lastGoodModel,
    );
  }
  const shares = (r: Run) =>
    rowLossShares(
      flatParameters(r.result!),
      r.candidate.hidden,
      problem.validation!.data,
      r.result!.model.losses.map((loss, t) => ({ loss, weight: settings.taskWeights?.[t] ?? 1 })),
    );
  // The larger model must be clearly better on these rows, not by the luck of a small validation split.
  const compared = second && second.candidate.hidden < best.candidate.hidden && best.result && second.result;
  const z = compared ? pairedZ(shares(second), shares(best)) : undefined;
  const { chosen, reason } = finalistChoice(best, second, z, problem.validation!.data.rows);
  const chosenRun = chosen === best.candidate ? best : second!;
  const search = report(tried, chosen, reason, rungs, started, patience);
  // The chosen run goes on to the last epoch. One that finished in its rung (early stopping, or the
  // last epoch reached) runs its last rung again, from the checkpoint it started at, to be
  // evaluated: the same epochs and the same stop, since training is deterministic.
  const again = chosenRun.done || chosenRun.epochs >= settings.epochs;
  const from = again ? (chosenRun.rung > 1 ? rungs[chosenRun.rung - 2]!.epochs : 0) : chosenRun.epochs;
  const final = await fit(problem, settingsOf(chosen), {
    ...hooks,
    resume: again ? chosenRun.before : chosenRun.state,
    ...(again && { rows }),
    lossFromStart: true,
    onProgress: progress('final', chosen, rungs.length + 1, from * stepsPerEpoch),
  });
  return { ...final, search };
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

function report(tried: Map<Run, SearchEntry>, chosen: SearchCandidate, reason: string, rungs: RungPlan[], started: number, patience: SearchReport['patience']): SearchReport {
  return { tried: [...tried.values()], chosen, reason, rungs, seconds: (performance.now() - started) / 1000, patience };
}

/** The search's patience: the one given; else the settings' (10), or NOISY_VALIDATION_PATIENCE on fewer than NOISY_VALIDATION_ROWS validation rows. */
export function searchPatience(given: number | undefined, resolved: number, validationRows: number): SearchReport['patience'] {
  if (given !== undefined || resolved === 0 || validationRows >= NOISY_VALIDATION_ROWS || resolved >= NOISY_VALIDATION_PATIENCE) return { epochs: resolved };
  const reason = `early stopping waits ${NOISY_VALIDATION_PATIENCE} epochs, not ${resolved}: the validation loss on ${validationRows} rows (under ${NOISY_VALIDATION_ROWS}) is noisy`;
  return { epochs: NOISY_VALIDATION_PATIENCE, reason };
}

/** A result's W, A, b, c in the flat layout (s left zero). */
function flatParameters(result: TrainResult): Float64Array {
  const layout = parameterLayout(result.model.shape);
  const p = result.model.parameters();
  const flat = new Float64Array(layout.count);
  flat.set(p.W, layout.W.offset);
  flat.set(p.A, layout.A.offset);
  flat.set(p.b, layout.b.offset);
  flat.set(p.c, layout.c.offset);
  return flat;
}
