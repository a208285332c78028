// Is sharing helping? The multi-task model against one single-task model per task — the same
// architecture with one output (T = 1, the same H, optimizer, epochs, early stopping, seed and
// splits) — scored by Δm as LibMTL defines it, and the no-coupling ablation (H = T, A frozen to
// the identity: each task keeps only its own unit), which is a capacity-starved model, not a baseline.
//
//   Δm = (1/T) Σ_t (1/M_t) Σ_m (−1)^{w_{t,m}} (B_{t,m} − N_{t,m}) / B_{t,m} × 100 %
//   B: the single-task score, N: the multi-task one, w = 1 where higher is better.
// Positive Δm: the multi-task model is better on average. Metrics: RMSE and MAE for regression
// tasks (lower is better), accuracy, F1 and ROC-AUC for binary tasks (higher is better); a metric
// that is undefined (NaN) or zero in the single-task model is left out of its task's mean.
import type { Problem } from '../train/prepare.js';
import type { MetricsReport, TaskMetrics } from '../train/metrics.js';
import type { Settings } from './options.js';
import type { TrainResult } from './train.js';

export interface SingleTaskComparison {
  /** Each task's metrics from its own single-task model, on the same rows as the multi-task metrics. */
  singleTask: Record<string, TaskMetrics>;
  /** Δm (%) of the multi-task model against the single-task models; positive means sharing helped. */
  deltaM: number;
  /** Each task's term of Δm (%). */
  deltaMPerTask: Record<string, number>;
  /** The no-coupling ablation (H = T, A = I frozen): its metrics and its Δm against the single-task models. */
  noCoupling: { metrics: MetricsReport; deltaM: number };
  /** Time the extra models took, s. */
  seconds: number;
}

/** Each metric kind's scores and whether higher is better (w_{t,m} = 1). */
const SCORED: Record<TaskMetrics['kind'], ReadonlyArray<readonly [string, boolean]>> = {
  regression: [
    ['rmse', false],
    ['mae', false],
  ],
  binary: [
    ['accuracy', true],
    ['f1', true],
    ['auc', true],
  ],
};

/** One task's Δm term (%): the mean relative improvement of N over B across its metrics; NaN when none is defined. */
export function taskDeltaM(single: TaskMetrics, multi: TaskMetrics): number {
  const terms: number[] = [];
  for (const [name, higherIsBetter] of SCORED[single.kind]) {
    const b = (single as unknown as Record<string, number>)[name]!;
    const n = (multi as unknown as Record<string, number>)[name]!;
    if (!Number.isFinite(b) || !Number.isFinite(n) || b === 0) continue;
    terms.push(((higherIsBetter ? -1 : 1) * (b - n)) / b);
  }
  return terms.length ? (100 * terms.reduce((a, c) => a + c, 0)) / terms.length : NaN;
}

/** Δm over the tasks (the mean of the defined task terms), and each task's term. */
export function deltaM(single: Record<string, TaskMetrics>, multi: MetricsReport): { deltaM: number; perTask: Record<string, number> } {
  const perTask: Record<string, number> = {};
  for (const [name, b] of Object.entries(single)) perTask[name] = taskDeltaM(b, multi.tasks[name]!);
  const defined = Object.values(perTask).filter(Number.isFinite);
  return { deltaM: defined.length ? defined.reduce((a, c) => a + c, 0) / defined.length : NaN, perTask };
}

/** The problem restricted to task t (its column of targets, mask and target scaling). */
export function taskProblem(problem: Problem, t: number): Problem {
  const T = problem.targetNames.length;
  const column = (values: ArrayLike<number>, rows: number) => Float64Array.from({ length: rows }, (_, r) => values[r * T + t]!);
  const column32 = (values: Float32Array, rows: number) => Float32Array.from({ length: rows }, (_, r) => values[r * T + t]!);
  const split = (s: Problem['train'] | undefined): Problem['train'] | undefined =>
    s && {
      table: { ...s.table, targetNames: [s.table.targetNames[t]!], Y: column(s.table.Y, s.table.rows), mask: column(s.table.mask, s.table.rows) },
      data: { rows: s.data.rows, X: s.data.X, Y: column32(s.data.Y, s.data.rows), mask: column32(s.data.mask, s.data.rows) },
    };
  return {
    ...problem,
    targetNames: [problem.targetNames[t]!],
    losses: [problem.losses[t]!],
    y: { mean: Float64Array.of(problem.y.mean[t]!), std: Float64Array.of(problem.y.std[t]!) },
    train: split(problem.train)!,
    validation: split(problem.validation),
    test: split(problem.test),
  };
}

type Fit = (problem: Problem, settings: Settings) => Promise<TrainResult>;

export async function compareWithSingleTask(problem: Problem, settings: Settings, multi: TrainResult, fit: Fit): Promise<SingleTaskComparison> {
  const started = performance.now();
  const T = problem.targetNames.length;
  const H = multi.model.shape.hidden;
  const quiet: Settings = { ...settings, compareSingleTask: false, baseline: false, verifyEvery: 0, reportEvery: undefined };
  const singleTask: Record<string, TaskMetrics> = {};
  for (let t = 0; t < T; t++) {
    const name = problem.targetNames[t]!;
    const weight = settings.taskWeights?.[t] ?? 1;
    const run = await fit(taskProblem(problem, t), { ...quiet, hidden: H, taskWeights: [weight > 0 ? weight : 1], coupling: { ...quiet.coupling, init: 'random', freeze: false } });
    singleTask[name] = run.metrics.tasks[name]!;
  }
  const ablation = await fit(problem, { ...quiet, hidden: T, coupling: { init: 'identity', freeze: true, l1: 0, towardIdentity: 0 } });
  const main = deltaM(singleTask, multi.metrics);
  return {
    singleTask,
    deltaM: main.deltaM,
    deltaMPerTask: main.perTask,
    noCoupling: { metrics: ablation.metrics, deltaM: deltaM(singleTask, ablation.metrics).deltaM },
    seconds: (performance.now() - started) / 1000,
  };
}
