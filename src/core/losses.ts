// The task losses, as one table. An entry holds everything a loss means to sigmtl: its code in
// the WGSL contract (shaders/loss.wgsl switches on it), its float64 twin (value and gradient,
// the reference the GPU is checked against), the link from a raw output to a prediction,
// whether targets are standardised, which metrics judge it, and which targets it accepts.
// A loss with a parameter (Huber's δ, the quantile's q) is named with it: 'huber:2',
// 'quantile:0.9' (a LossSpec); the bare name takes the default.
// Adding a loss: docs/contributing.md.
import { wgslEnum } from './wgsl.js';

export const LOSS_KINDS = ['mse', 'bce', 'huber', 'quantile'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];
/** A loss by name, with its parameter where it has one: 'mse', 'huber', 'huber:2', 'quantile:0.9'. */
export type LossSpec = LossKind | `${LossKind}:${number}`;

/** One task of the model: its loss and its weight w_t in L = Σ_t w_t·L_t. */
export interface TaskSpec {
  loss: LossSpec;
  weight: number;
}

/** A loss's one parameter: its name, default and valid range. */
export interface LossParameter {
  readonly name: string;
  readonly default: number;
  valid(p: number): boolean;
  /** What `valid` takes, for error messages. */
  readonly validText: string;
}

export interface LossEntry {
  readonly kind: LossKind;
  /** The code shaders/loss.wgsl sees (LOSS_MSE, LOSS_BCE, ...). */
  readonly code: number;
  /** Its parameter (Huber's δ, the quantile's q), if it has one; `p` below is its value (else 0). */
  readonly parameter?: LossParameter;
  /** ℓ(y, target) for a raw model output y. */
  value(y: number, target: number, p: number): number;
  /** ∂ℓ/∂y. */
  gradient(y: number, target: number, p: number): number;
  /** Raw output → what predict() returns: a value (regression) or a probability. */
  link(y: number): number;
  /** The link by name, for the exports (ONNX, PyTorch) that write it as an operator. */
  readonly linkName: 'identity' | 'sigmoid';
  /** ℓ elementwise as a PyTorch expression of the tensors `o` (raw outputs) and `target` (the PyTorch export), given p. */
  torch(p: number): string;
  /** Regression targets are standardised for training (and the scaling undone at prediction). */
  readonly standardizeTargets: boolean;
  /** Which metrics judge it (src/train/metrics.ts); 'quantile' adds coverage and the pinball loss to regression's. */
  readonly metrics: 'regression' | 'binary' | 'quantile';
  /** c_t of uncertainty weighting (src/core/weighting.ts): ½ for a Gaussian likelihood, 1 for a Bernoulli or Laplace one. */
  readonly uncertaintyScale: number;
  /** Whether an observed target value is valid for this loss. */
  accepts(target: number): boolean;
  /** What `accepts` takes, for error messages ("is not 0 or 1"). */
  readonly acceptsText: string;
}

/** A float written so Python and WGSL read it as a float literal (1 → "1.0"). */
const floatText = (p: number) => (Number.isInteger(p) ? p.toFixed(1) : String(p));

/** σ(x) without overflow: exp of a non-positive number only. */
export function sigmoid(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

export const LOSSES: { readonly [K in LossKind]: LossEntry } = {
  // ℓ = (y − ŷ)²
  mse: {
    kind: 'mse',
    code: 0,
    value: (y, target) => (y - target) ** 2,
    gradient: (y, target) => 2 * (y - target),
    link: (y) => y,
    linkName: 'identity',
    torch: () => '(o - target) ** 2',
    standardizeTargets: true,
    metrics: 'regression',
    uncertaintyScale: 0.5,
    accepts: Number.isFinite,
    acceptsText: 'a finite number',
  },
  // Binary cross-entropy with logits: ℓ = max(y, 0) − y·ŷ + log(1 + e^(−|y|)), ∂ℓ/∂y = σ(y) − ŷ
  bce: {
    kind: 'bce',
    code: 1,
    value: (y, target) => Math.max(y, 0) - y * target + Math.log1p(Math.exp(-Math.abs(y))),
    gradient: (y, target) => sigmoid(y) - target,
    link: sigmoid,
    linkName: 'sigmoid',
    torch: () => 'nn.functional.binary_cross_entropy_with_logits(o, target, reduction="none")',
    standardizeTargets: false,
    metrics: 'binary',
    uncertaintyScale: 1,
    accepts: (target) => target === 0 || target === 1,
    acceptsText: '0 or 1',
  },
  // Huber: ℓ = ½e² for |e| ≤ δ, δ·(|e| − ½δ) beyond (e = y − ŷ): squared error near the target,
  // absolute error far from it, so outliers pull with a bounded force; ∂ℓ/∂y = e clipped to ±δ.
  // δ is on the standardised scale of the targets (1: one standard deviation), as PyTorch's huber_loss.
  huber: {
    kind: 'huber',
    code: 2,
    parameter: { name: 'delta', default: 1, valid: (p) => Number.isFinite(p) && p > 0, validText: 'a positive number' },
    value: (y, target, delta) => {
      const e = Math.abs(y - target);
      return e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
    },
    gradient: (y, target, delta) => Math.max(-delta, Math.min(delta, y - target)),
    link: (y) => y,
    linkName: 'identity',
    torch: (delta) => `nn.functional.huber_loss(o, target, reduction="none", delta=${floatText(delta)})`,
    standardizeTargets: true,
    metrics: 'regression',
    uncertaintyScale: 0.5,
    accepts: Number.isFinite,
    acceptsText: 'a finite number',
  },
  // Quantile (pinball): ℓ = q·r for r = ŷ − y ≥ 0, (q − 1)·r below; its minimiser is the q-th
  // quantile of the target given x, so two tasks with q = 0.05 and 0.95 give a 90 % interval.
  // ∂ℓ/∂y = −q below the target, 1 − q above (and at it: a subgradient).
  quantile: {
    kind: 'quantile',
    code: 3,
    parameter: { name: 'q', default: 0.5, valid: (p) => p > 0 && p < 1, validText: 'between 0 and 1 (exclusive)' },
    value: (y, target, q) => {
      const r = target - y;
      return r >= 0 ? q * r : (q - 1) * r;
    },
    gradient: (y, target, q) => (y < target ? -q : 1 - q),
    link: (y) => y,
    linkName: 'identity',
    torch: (q) => `torch.maximum(${floatText(q)} * (target - o), ${floatText(q - 1)} * (target - o))`,
    standardizeTargets: true, // quantiles commute with a positive affine scaling
    metrics: 'quantile',
    uncertaintyScale: 1, // an asymmetric Laplace likelihood, as the absolute error's
    accepts: Number.isFinite,
    acceptsText: 'a finite number',
  },
};

/** A loss spec parsed: its table entry and its parameter (the default where the spec names none; 0 for a loss without one). */
export interface ResolvedLoss {
  readonly entry: LossEntry;
  readonly param: number;
}

/** 'quantile:0.9' → the quantile entry and q = 0.9; errors name the spec and what is allowed. */
export function resolveLoss(spec: string): ResolvedLoss {
  const colon = spec.indexOf(':');
  const entry = lossEntry(colon < 0 ? spec : spec.slice(0, colon));
  if (colon < 0) return { entry, param: entry.parameter?.default ?? 0 };
  const text = spec.slice(colon + 1);
  if (!entry.parameter) throw new RangeError(`loss "${spec}": ${entry.kind} takes no parameter`);
  const p = text.trim() === '' ? NaN : Number(text);
  if (!entry.parameter.valid(p)) throw new RangeError(`loss "${spec}": ${entry.kind}'s ${entry.parameter.name} must be ${entry.parameter.validText}, got ${text}`);
  return { entry, param: p };
}

/** The canonical spec: the bare name at the default parameter ('huber'), else 'kind:p'. */
export function lossSpec(entry: LossEntry, param: number): LossSpec {
  return (entry.parameter && param !== entry.parameter.default ? `${entry.kind}:${param}` : entry.kind) as LossSpec;
}

/** Whether a string is a valid loss spec. */
export function isLossSpec(spec: unknown): spec is LossSpec {
  if (typeof spec !== 'string') return false;
  try {
    resolveLoss(spec);
    return true;
  } catch {
    return false;
  }
}

/** The table entry of a loss; an unknown name is an error, never a silent default. */
export function lossEntry(kind: string): LossEntry {
  const entry = (LOSSES as Record<string, LossEntry | undefined>)[kind];
  if (!entry || !Object.hasOwn(LOSSES, kind)) throw new RangeError(`unknown loss "${kind}" (known: ${LOSS_KINDS.join(', ')})`);
  return entry;
}

/**
 * What 'auto' picks for a column, in order: the first of these whose `accepts` takes every observed
 * value (BCE for a 0/1 column, MSE otherwise). The last takes any finite number, so one always fits.
 */
export const AUTO_LOSSES: readonly LossKind[] = ['bce', 'mse'];

/** The loss 'auto' picks, given which losses accept every observed value of the column. */
export function autoLoss(acceptsColumn: (kind: LossKind) => boolean): LossKind {
  return AUTO_LOSSES.find(acceptsColumn) ?? AUTO_LOSSES.at(-1)!;
}

/** `const LOSS_MSE: u32 = 0u; ...` for the shaders (each task's parameter is in its TaskInfo). */
export const LOSS_WGSL = wgslEnum('LOSS', Object.fromEntries(LOSS_KINDS.map((k) => [k, LOSSES[k].code])));
