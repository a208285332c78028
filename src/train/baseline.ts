// The linear least-squares baseline for regression tasks: for each task, y ≈ x·β + β0 fit on the
// (standardised) training rows where the target is observed, by the normal equations with a tiny
// ridge for stability, solved by Cholesky in float64. Reported beside the model's test metrics.
import { resolveLoss } from '../core/losses.js';
import type { Problem } from './prepare.js';
import { computeMetrics, type MetricsReport } from './metrics.js';

/** Solves the symmetric positive definite system A·x = b (A n×n, row-major) in place of a copy. */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (sum <= 0) throw new Error('least squares: the normal matrix is not positive definite');
        L[i * n + i] = Math.sqrt(sum);
      } else {
        L[i * n + j] = sum / L[j * n + j]!;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= L[i * n + k]! * y[k]!;
    y[i] = sum / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= L[k * n + i]! * x[k]!;
    x[i] = sum / L[i * n + i]!;
  }
  return x;
}

/** Least-squares coefficients [β (d values), β0] for one column of targets over the masked rows. */
export function leastSquares(X: ArrayLike<number>, y: ArrayLike<number>, mask: ArrayLike<number>, rows: number, d: number, stride: number, t: number): Float64Array {
  const n = d + 1;
  const normal = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const row = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    if (mask[r * stride + t] === 0) continue;
    for (let j = 0; j < d; j++) row[j] = X[r * d + j]!;
    row[d] = 1;
    const target = y[r * stride + t]!;
    for (let i = 0; i < n; i++) {
      rhs[i]! += row[i]! * target;
      for (let j = 0; j <= i; j++) normal[i * n + j]! += row[i]! * row[j]!;
    }
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += normal[i * n + i]!;
  for (let i = 0; i < n; i++) {
    normal[i * n + i]! += 1e-9 * trace + 1e-12;
    for (let j = 0; j < i; j++) normal[j * n + i] = normal[i * n + j]!;
  }
  return choleskySolve(normal, rhs, n);
}

/** Test metrics of the per-task linear baseline on the problem's regression tasks (undefined if none). */
export function linearBaseline(problem: Problem): MetricsReport | undefined {
  // The baseline is a least-squares fit: it judges the regression tasks (the losses whose metrics are regression's).
  const regression = problem.losses.map((l, t) => (resolveLoss(l).entry.metrics === 'regression' ? t : -1)).filter((t) => t >= 0);
  const evaluation = problem.test ?? problem.validation;
  if (regression.length === 0 || !evaluation) return undefined;
  const d = problem.featureNames.length;
  const T = problem.targetNames.length;
  const train = problem.train.data;
  const test = evaluation.data;
  const predictions = new Float64Array(test.rows * regression.length);
  const targets = new Float64Array(test.rows * regression.length);
  const mask = new Float64Array(test.rows * regression.length);
  regression.forEach((t, i) => {
    const beta = leastSquares(train.X, train.Y, train.mask, train.rows, d, T, t);
    for (let r = 0; r < test.rows; r++) {
      let o = beta[d]!;
      for (let j = 0; j < d; j++) o += beta[j]! * test.X[r * d + j]!;
      const at = r * regression.length + i;
      predictions[at] = o * problem.y.std[t]! + problem.y.mean[t]!;
      targets[at] = evaluation.table.Y[r * T + t]!;
      mask[at] = evaluation.table.mask[r * T + t]!;
    }
  });
  return computeMetrics(
    predictions,
    targets,
    mask,
    test.rows,
    regression.map((t) => problem.targetNames[t]!),
    regression.map((t) => problem.losses[t]!),
  );
}
