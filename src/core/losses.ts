// The task losses, as one table. An entry holds everything a loss means to sigmtl: its code in
// the WGSL contract (shaders/loss.wgsl switches on it), its float64 twin (value and gradient,
// the reference the GPU is checked against), the link from a raw output to a prediction,
// whether targets are standardised, which metrics judge it, and which targets it accepts.
// Adding a loss: an entry here, its case in loss.wgsl, and its tests.
import { wgslEnum } from './wgsl.js';

export const LOSS_KINDS = ['mse', 'bce', 'huber'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];

/** One task of the model: its loss and its weight w_t in L = Σ_t w_t·L_t. */
export interface TaskSpec {
  loss: LossKind;
  weight: number;
}

export interface LossEntry {
  readonly kind: LossKind;
  /** The code shaders/loss.wgsl sees (LOSS_MSE, LOSS_BCE, ...). */
  readonly code: number;
  /** ℓ(y, target) for a raw model output y. */
  value(y: number, target: number): number;
  /** ∂ℓ/∂y. */
  gradient(y: number, target: number): number;
  /** Raw output → what predict() returns: a value (regression) or a probability. */
  link(y: number): number;
  /** The link by name, for the exports (ONNX, PyTorch) that write it as an operator. */
  readonly linkName: 'identity' | 'sigmoid';
  /** ℓ elementwise as a PyTorch expression of the tensors `o` (raw outputs) and `target` (the PyTorch export). */
  readonly torch: string;
  /** Regression targets are standardised for training (and the scaling undone at prediction). */
  readonly standardizeTargets: boolean;
  readonly metrics: 'regression' | 'binary';
  /** c_t of uncertainty weighting (src/core/weighting.ts): ½ for a regression loss, 1 for a classification one. */
  readonly uncertaintyScale: number;
  /** Whether an observed target value is valid for this loss. */
  accepts(target: number): boolean;
  /** What `accepts` takes, for error messages ("is not 0 or 1"). */
  readonly acceptsText: string;
}

/** Huber's δ, on the standardised scale of the targets (one standard deviation); as PyTorch's huber_loss(delta=1). */
export const HUBER_DELTA = 1;

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
    torch: '(o - target) ** 2',
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
    torch: 'nn.functional.binary_cross_entropy_with_logits(o, target, reduction="none")',
    standardizeTargets: false,
    metrics: 'binary',
    uncertaintyScale: 1,
    accepts: (target) => target === 0 || target === 1,
    acceptsText: '0 or 1',
  },
  // Huber: ℓ = ½e² for |e| ≤ δ, δ·(|e| − ½δ) beyond (e = y − ŷ): squared error near the target,
  // absolute error far from it, so outliers pull with a bounded force; ∂ℓ/∂y = e clipped to ±δ.
  huber: {
    kind: 'huber',
    code: 2,
    value: (y, target) => {
      const e = Math.abs(y - target);
      return e <= HUBER_DELTA ? 0.5 * e * e : HUBER_DELTA * (e - 0.5 * HUBER_DELTA);
    },
    gradient: (y, target) => Math.max(-HUBER_DELTA, Math.min(HUBER_DELTA, y - target)),
    link: (y) => y,
    linkName: 'identity',
    torch: `nn.functional.huber_loss(o, target, reduction="none", delta=${HUBER_DELTA.toFixed(1)})`,
    standardizeTargets: true,
    metrics: 'regression',
    uncertaintyScale: 0.5,
    accepts: Number.isFinite,
    acceptsText: 'a finite number',
  },
};

/** The table entry of a loss; an unknown name is an error, never a silent default. */
export function lossEntry(kind: string): LossEntry {
  const entry = (LOSSES as Record<string, LossEntry | undefined>)[kind];
  if (!entry || !Object.hasOwn(LOSSES, kind)) throw new RangeError(`unknown loss "${kind}" (known: ${LOSS_KINDS.join(', ')})`);
  return entry;
}

/** `const LOSS_MSE: u32 = 0u; ...` and Huber's δ for the shaders. */
export const LOSS_WGSL =
  wgslEnum('LOSS', Object.fromEntries(LOSS_KINDS.map((k) => [k, LOSSES[k].code]))) + `\nconst HUBER_DELTA: f32 = ${HUBER_DELTA.toFixed(1)};`;
