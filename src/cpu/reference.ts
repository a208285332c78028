// The float64 CPU reference: plain loops, written to be obviously right. Every GPU kernel is
// checked against these functions, and these are checked against finite differences.
// Shapes follow docs/ARCHITECTURE: samples are rows; X: N×d, W: H×d, A: T×H.
import { view, type ParameterLayout } from '../core/shape.js';
import { resolveLoss, sigmoid, type TaskSpec } from '../core/losses.js';
import type { WeightingKind } from '../core/weighting.js';
import { WEIGHTING_STRATEGIES } from './weightings.js';

type Numbers = ArrayLike<number>;

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

/** C = op(A)·op(B); op(A) M×K (A stored K×M when transposed), op(B) K×N (B stored N×K when transposed). */
export function matmulReference(a: Numbers, b: Numbers, s: MatmulShape): Float64Array {
  const c = new Float64Array(s.M * s.N);
  for (let m = 0; m < s.M; m++) {
    for (let n = 0; n < s.N; n++) {
      let acc = 0;
      for (let k = 0; k < s.K; k++) {
        const av = s.transposeA ? a[k * s.M + m]! : a[m * s.K + k]!;
        const bv = s.transposeB ? b[n * s.K + k]! : b[k * s.N + n]!;
        acc += av * bv;
      }
      c[m * s.N + n] = acc;
    }
  }
  return c;
}

/** Row sums of op(A) (M values): what the matmul's ROW_SUMS option writes. */
export function rowSumsReference(a: Numbers, s: MatmulShape): Float64Array {
  const out = new Float64Array(s.M);
  for (let m = 0; m < s.M; m++) {
    for (let k = 0; k < s.K; k++) out[m]! += s.transposeA ? a[k * s.M + m]! : a[m * s.K + k]!;
  }
  return out;
}

export { sigmoid };

// --- forward / backward of the model, as one pair -------------------------------------------

export interface ForwardResult {
  /** S = σ(X·Wᵀ + b), N×H */
  S: Float64Array;
  /** Y = S·Aᵀ + c, N×T */
  Y: Float64Array;
}

/** X is rows×d (row-major), starting at row `firstRow`. */
export function forward(params: Numbers, layout: ParameterLayout, X: Numbers, rows: number, firstRow = 0): ForwardResult {
  const { features: d, hidden: H, tasks: T } = layout.shape;
  const [W, b, A, c] = [layout.W.offset, layout.b.offset, layout.A.offset, layout.c.offset];
  const S = new Float64Array(rows * H);
  const Y = new Float64Array(rows * T);
  for (let n = 0; n < rows; n++) {
    const x = (firstRow + n) * d;
    for (let h = 0; h < H; h++) {
      let z = params[b + h]!;
      const w = W + h * d;
      for (let j = 0; j < d; j++) z += X[x + j]! * params[w + j]!;
      S[n * H + h] = sigmoid(z);
    }
    for (let t = 0; t < T; t++) {
      let y = params[c + t]!;
      const a = A + t * H;
      for (let h = 0; h < H; h++) y += S[n * H + h]! * params[a + h]!;
      Y[n * T + t] = y;
    }
  }
  return { S, Y };
}

/**
 * dA = G_Yᵀ·S, dc = Σ_n G_Y, G_Z = (G_Y·A) ⊙ S ⊙ (1 − S), dW = G_Zᵀ·X, db = Σ_n G_Z.
 * Returns a fresh gradient in the flat parameter layout (overwrites nothing).
 */
export function backward(params: Numbers, layout: ParameterLayout, X: Numbers, S: Float64Array, gradY: Float64Array, rows: number, firstRow = 0): Float64Array {
  const { features: d, hidden: H, tasks: T } = layout.shape;
  const grads = new Float64Array(layout.count);
  const dW = view(grads, layout.W);
  const dA = view(grads, layout.A);
  const db = view(grads, layout.b);
  const dc = view(grads, layout.c);
  const gradZ = new Float64Array(H);
  for (let n = 0; n < rows; n++) {
    const x = (firstRow + n) * d;
    for (let t = 0; t < T; t++) {
      const g = gradY[n * T + t]!;
      dc[t]! += g;
      for (let h = 0; h < H; h++) dA[t * H + h]! += g * S[n * H + h]!;
    }
    for (let h = 0; h < H; h++) {
      let gs = 0;
      for (let t = 0; t < T; t++) gs += gradY[n * T + t]! * params[layout.A.offset + t * H + h]!;
      const s = S[n * H + h]!;
      gradZ[h] = gs * s * (1 - s);
      db[h]! += gradZ[h]!;
      for (let j = 0; j < d; j++) dW[h * d + j]! += gradZ[h]! * X[x + j]!;
    }
  }
  return grads;
}

// --- loss, with its gradient right below it -------------------------------------------------

// ℓ and ∂ℓ/∂y of each loss are its entry in the loss table (src/core/losses.ts).
export function lossValue(loss: TaskSpec['loss'], y: number, target: number): number {
  const { entry, param } = resolveLoss(loss);
  return entry.value(y, target, param);
}
export function lossGradient(loss: TaskSpec['loss'], y: number, target: number): number {
  const { entry, param } = resolveLoss(loss);
  return entry.gradient(y, target, param);
}

export interface LossResult {
  /** L_t, the masked mean loss of each task (0 for a task with no observed rows). */
  perTask: Float64Array;
  /** L = Σ_t w_t·L_t, or with uncertainty weighting Σ_t w_t·(c_t·e^{−s_t}·L_t + ½·s_t) */
  total: number;
  /** ∂L/∂Y, rows×T */
  gradY: Float64Array;
  /** ∂L/∂s_t of uncertainty weighting (zeros under equal weighting). */
  gradLogVar: Float64Array;
}

/** How the task losses combine (src/core/weighting.ts); `logVar` is s, needed for 'uw'. */
export interface LossWeighting {
  kind: WeightingKind;
  logVar?: Numbers;
}

/** targets and mask are rows×T starting at row `firstRow`; mask 1 = observed, 0 = missing. */
export function taskLoss(
  Y: Float64Array,
  targets: Numbers,
  mask: Numbers,
  tasks: readonly TaskSpec[],
  rows: number,
  firstRow = 0,
  weighting: LossWeighting = { kind: 'equal' },
): LossResult {
  const T = tasks.length;
  const sums = new Float64Array(T);
  const counts = new Float64Array(T);
  tasks.forEach((task, t) => {
    const { entry, param } = resolveLoss(task.loss);
    for (let n = 0; n < rows; n++) {
      const w = mask[(firstRow + n) * T + t]!;
      if (w !== 0) {
        counts[t]! += w;
        sums[t]! += w * entry.value(Y[n * T + t]!, targets[(firstRow + n) * T + t]!, param);
      }
    }
  });
  const { perTask, total, scales, gradLogVar } = taskLossScales(sums, counts, tasks, weighting);
  const gradY = new Float64Array(rows * T);
  tasks.forEach((task, t) => {
    const { entry, param } = resolveLoss(task.loss);
    if (scales[t] === 0) return;
    for (let n = 0; n < rows; n++) {
      const i = (firstRow + n) * T + t;
      const w = mask[i]!;
      if (w !== 0) gradY[n * T + t] = scales[t]! * w * entry.gradient(Y[n * T + t]!, targets[i]!, param);
    }
  });
  return { perTask, total, gradY, gradLogVar };
}

export interface LossScales {
  /** L_t = sum_t / count_t (0 for a task with no observed rows). */
  perTask: Float64Array;
  /** L, as LossResult.total. */
  total: number;
  /** s_t with ∂L/∂Y[n,t] = s_t·m[n,t]·∂ℓ_t/∂y: the weighting's factor on L_t over the task's count. */
  scales: Float64Array;
  /** ∂L/∂s_t of uncertainty weighting (zeros otherwise). */
  gradLogVar: Float64Array;
}

/**
 * The weighting's part of the loss, O(T): from each task's masked loss sum and observed count,
 * L_t, L and the per-task factors of G_Y (the run's strategy in src/cpu/weightings.ts combines
 * them). Shared by the float64 reference and the CPU engine (which sums the losses in its module
 * and applies the factors there).
 */
export function taskLossScales(sums: Numbers, counts: Numbers, tasks: readonly TaskSpec[], weighting: LossWeighting = { kind: 'equal' }): LossScales {
  const perTask = Float64Array.from(tasks, (_, t) => (counts[t]! === 0 ? 0 : sums[t]! / counts[t]!));
  return { perTask, ...WEIGHTING_STRATEGIES[weighting.kind].combine({ perTask, counts, tasks, ...(weighting.logVar && { logVar: weighting.logVar }) }) };
}
