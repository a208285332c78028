// Per-task metrics on the original scale: MSE, RMSE, MAE, R² for regression tasks; accuracy,
// F1 and ROC-AUC for binary tasks (threshold 0.5 on the probability); overall Hamming loss and
// macro averages. Only observed targets (mask 1) count.
import { resolveLoss, type LossSpec } from '../core/losses.js';

export interface RegressionMetrics {
  kind: 'regression';
  count: number;
  mse: number;
  rmse: number;
  mae: number;
  r2: number;
  /** A quantile task's q, the fraction of targets at or below the prediction (q when calibrated), and the mean pinball loss on the original scale. */
  quantile?: { q: number; coverage: number; pinball: number };
}

export interface BinaryMetrics {
  kind: 'binary';
  count: number;
  accuracy: number;
  f1: number;
  auc: number;
}

export interface OverallMetrics {
  hammingLoss?: number;
  macroAccuracy?: number;
  macroF1?: number;
  macroAuc?: number;
  macroRmse?: number;
  macroR2?: number;
}

export type TaskMetrics = RegressionMetrics | BinaryMetrics;
/** Macro averages over the tasks, and each task's metrics by its name (any name, "overall" too). */
export interface MetricsReport {
  overall: OverallMetrics;
  tasks: Record<string, TaskMetrics>;
}

function quantileMetrics(pred: number[], truth: number[], q: number): NonNullable<RegressionMetrics['quantile']> {
  let below = 0;
  let pinball = 0;
  truth.forEach((y, i) => {
    const r = y - pred[i]!;
    if (r <= 0) below++;
    pinball += r >= 0 ? q * r : (q - 1) * r;
  });
  const n = Math.max(truth.length, 1);
  return { q, coverage: truth.length ? below / n : NaN, pinball: truth.length ? pinball / n : NaN };
}

function regression(pred: number[], truth: number[]): RegressionMetrics {
  const n = truth.length;
  const mean = truth.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  let se = 0;
  let ae = 0;
  let tss = 0;
  for (let i = 0; i < n; i++) {
    se += (pred[i]! - truth[i]!) ** 2;
    ae += Math.abs(pred[i]! - truth[i]!);
    tss += (truth[i]! - mean) ** 2;
  }
  const mse = n ? se / n : NaN;
  return { kind: 'regression', count: n, mse, rmse: Math.sqrt(mse), mae: n ? ae / n : NaN, r2: tss > 0 ? 1 - se / tss : NaN };
}

/** ROC-AUC by the rank-sum (Mann–Whitney) formula, ties given half credit. */
export function rocAuc(scores: number[], labels: number[]): number {
  // A non-finite score has no rank (and NaN would never equal itself in the tie loop below).
  if (scores.some((s) => !Number.isFinite(s))) return NaN;
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (order[k]![1] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function binary(prob: number[], truth: number[]): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const predicted = prob[i]! >= 0.5 ? 1 : 0;
    const actual = truth[i]! >= 0.5 ? 1 : 0;
    if (predicted === actual) correct++;
    if (predicted && actual) tp++;
    if (predicted && !actual) fp++;
    if (!predicted && actual) fn++;
  }
  // No positive label and no positive prediction: F1 is undefined (NaN; null in JSON), not perfect.
  const f1 = tp + fp + fn === 0 ? NaN : (2 * tp) / (2 * tp + fp + fn);
  return { kind: 'binary', count: truth.length, accuracy: truth.length ? correct / truth.length : NaN, f1, auc: rocAuc(prob, truth) };
}

const average = (values: number[]) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
};

/** `outputs` on the original scale: values for regression tasks, probabilities for binary tasks. */
export function computeMetrics(
  outputs: ArrayLike<number>,
  targets: ArrayLike<number>,
  mask: ArrayLike<number>,
  rows: number,
  taskNames: readonly string[],
  losses: readonly LossSpec[],
): MetricsReport {
  const T = taskNames.length;
  const report: MetricsReport = { overall: {}, tasks: {} };
  const perTask: TaskMetrics[] = [];
  taskNames.forEach((name, t) => {
    const pred: number[] = [];
    const truth: number[] = [];
    for (let r = 0; r < rows; r++) {
      if (mask[r * T + t] === 0) continue;
      pred.push(outputs[r * T + t]!);
      truth.push(targets[r * T + t]!);
    }
    const { entry, param } = resolveLoss(losses[t]!);
    const m = entry.metrics === 'binary' ? binary(pred, truth) : regression(pred, truth);
    if (entry.metrics === 'quantile' && m.kind === 'regression') m.quantile = quantileMetrics(pred, truth, param);
    perTask.push(m);
    report.tasks[name] = m;
  });
  const binaries = perTask.filter((m): m is BinaryMetrics => m.kind === 'binary');
  const regressions = perTask.filter((m): m is RegressionMetrics => m.kind === 'regression');
  if (binaries.length) {
    let wrong = 0;
    let seen = 0;
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < T; t++) {
        if (resolveLoss(losses[t]!).entry.metrics !== 'binary' || mask[r * T + t] === 0) continue;
        seen++;
        if ((outputs[r * T + t]! >= 0.5 ? 1 : 0) !== (targets[r * T + t]! >= 0.5 ? 1 : 0)) wrong++;
      }
    }
    report.overall.hammingLoss = seen ? wrong / seen : NaN;
    report.overall.macroAccuracy = average(binaries.map((m) => m.accuracy));
    report.overall.macroF1 = average(binaries.map((m) => m.f1));
    report.overall.macroAuc = average(binaries.map((m) => m.auc));
  }
  if (regressions.length) {
    report.overall.macroRmse = average(regressions.map((m) => m.rmse));
    report.overall.macroR2 = average(regressions.map((m) => m.r2));
  }
  return report;
}
