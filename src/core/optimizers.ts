// The optimizers and the update rules, as tables the GPU kernel, its float64 twin, the public
// options, the CLI and the DDP job all read. Adding an optimizer: an entry here (with its
// PyTorch), its case in shaders/optimizer.wgsl, its twin in src/cpu/optimizer.ts (a table over
// the kinds, so a missing twin does not compile), and its tests (docs/contributing.md).
import type { ParameterLayout } from './shape.js';
import { wgslEnum } from './wgsl.js';

export const OPTIMIZER_KINDS = ['sgd', 'momentum', 'adam'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

export interface OptimizerEntry {
  /** The code shaders/optimizer.wgsl switches on (OPTIMIZER_SGD, ...). */
  readonly code: number;
  /** One line for help texts. */
  readonly summary: string;
  /**
   * Its update in a PyTorch DDP job (src/io/ddp-script.ts): the body of
   * update(p, g, first, second, lr, config, c1, c2), which changes p (and its state tensors
   * `first`, `second`) in place after weight decay; `config` is job.json's optimizer, c1 and c2
   * Adam's bias corrections for this step. The same operations as its WGSL and float64 twin.
   */
  readonly torch: readonly string[];
}

export const OPTIMIZERS: { readonly [K in OptimizerKind]: OptimizerEntry } = {
  sgd: { code: 0, summary: 'p ← p − lr·g', torch: ['p.sub_(lr * g)'] },
  momentum: {
    code: 1,
    summary: 'v ← μ·v + g; p ← p − lr·v',
    torch: ['v = first.mul_(config["momentum"]).add_(g)', 'p.sub_(lr * v)'],
  },
  adam: {
    code: 2,
    summary: 'bias-corrected first and second moments (β1, β2, ε)',
    torch: [
      'm = first.mul_(config["beta1"]).add_((1 - config["beta1"]) * g)',
      'v = second.mul_(config["beta2"]).add_((1 - config["beta2"]) * g * g)',
      'p.sub_(lr * (m * c1) / (torch.sqrt(v * c2) + config["epsilon"]))',
    ],
  },
};

export const OPTIMIZER_WGSL = wgslEnum('OPTIMIZER', Object.fromEntries(OPTIMIZER_KINDS.map((k) => [k, OPTIMIZERS[k].code])));

export interface OptimizerConfig {
  kind: OptimizerKind;
  learningRate: number;
  /** Decoupled weight decay λ on W and A (not the biases). */
  weightDecay: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  kind: 'adam',
  learningRate: 0.01,
  weightDecay: 0,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};

/** Optimizer state in the flat parameter layout; enough to resume exactly. */
export interface OptimizerState {
  /** Steps taken so far (Adam's t before this step). */
  step: number;
  /** Velocity (momentum) or first moment m (Adam). */
  state1: Float64Array;
  /** Second moment v (Adam). */
  state2: Float64Array;
  /** A stateful weighting's own state (FAMO: ξ, its Adam's m and v, the last task losses; 4T). */
  weighting?: Float64Array;
}

export function newOptimizerState(count: number): OptimizerState {
  return { step: 0, state1: new Float64Array(count), state2: new Float64Array(count) };
}

/** The task-coupling matrix A: frozen, or regularised. */
export interface CouplingOptions {
  /** Keep A as initialised. */
  freezeA?: boolean;
  /** λ1 of λ1·Σ|A|. */
  l1A?: number;
  /** λI of (λI/2)·‖A − I‖². */
  identityA?: number;
}

/** Which parameters get what: weight decay, freezing, the coupling regulariser. */
export interface UpdateRules {
  /** Elements below this get weight decay (W and A). */
  decayCount: number;
  /** [start, end) left unchanged. */
  frozen: readonly [number, number];
  /** The coupling matrix A's range and columns, and λ1 (L1) and λI (toward the identity). */
  coupling: { start: number; end: number; cols: number; l1: number; toIdentity: number };
}

export function updateRules(layout: ParameterLayout, options: CouplingOptions = {}): UpdateRules {
  const A = layout.A;
  return {
    decayCount: layout.decayCount,
    frozen: options.freezeA ? [A.offset, A.offset + A.size] : [0, 0],
    coupling: { start: A.offset, end: A.offset + A.size, cols: layout.shape.hidden, l1: options.l1A ?? 0, toIdentity: options.identityA ?? 0 },
  };
}

/** Adam's bias corrections c1 = 1/(1 − β1^t), c2 = 1/(1 − β2^t) for 1-based step t. */
export function biasCorrections(config: OptimizerConfig, step: number): [number, number] {
  return [1 / (1 - config.beta1 ** step), 1 / (1 - config.beta2 ** step)];
}
