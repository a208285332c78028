// The optimizers in float64, the twin of shaders/optimizer.wgsl (same formulas, same order).
// The parameter array is cut where the update's rules change (weight decay, the frozen range,
// the coupling regulariser's range), and each piece runs one plain loop of its optimizer: no
// per-element rule checks or calls (this loop is most of the CPU backends' host work a step).
import { biasCorrections, newOptimizerState, type OptimizerConfig, type OptimizerKind, type OptimizerState, type UpdateRules } from '../core/optimizers.js';

export { newOptimizerState, type OptimizerState };

/** A piece of the parameters with one set of rules. */
interface Piece {
  start: number;
  end: number;
  /** The decoupled weight decay's factor lr·λ on W and A, 0 elsewhere. */
  decay: number;
  /** The piece's gradients: g of parameter i is grads[i − gradBase] (the loss's own, or with the coupling regulariser's added). */
  grads: ArrayLike<number>;
  gradBase: number;
}

type PieceUpdate = (params: Float64Array, state: OptimizerState, config: OptimizerConfig, lr: number, c1: number, c2: number, piece: Piece) => void;

/**
 * The gradients of [start, end) with the coupling regulariser's ∂/∂p added: λ1·sign(p) + λI·(p − I)
 * (the loss's own gradient first), computed before the loop so that the loop has no branch on it
 * (V8 runs a loop with one ~2× slower).
 */
function coupled(params: Float64Array, grads: ArrayLike<number>, start: number, end: number, coupling: UpdateRules['coupling']): Float64Array {
  const out = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const p = params[i]!;
    const j = i - coupling.start;
    const identity = Math.floor(j / coupling.cols) === j % coupling.cols ? 1 : 0;
    let g = grads[i]!;
    g += coupling.l1 * Math.sign(p) + coupling.toIdentity * (p - identity);
    out[i - start] = g;
  }
  return out;
}

/** An optimizer's float64 twin: its loop over a piece, and whether native/addon.c has the same loop. */
interface OptimizerTwin {
  update: PieceUpdate;
  /** The addon's `update` takes this kind (a kind without a native loop runs `update` everywhere). */
  native: boolean;
}

/** One twin per optimizer kind (the table in src/core/optimizers.ts); a missing one does not compile. */
const TWINS: { readonly [K in OptimizerKind]: OptimizerTwin } = {
  sgd: {
    native: true,
    update: (params, _state, config, lr, _c1, _c2, piece) => {
      const { grads, gradBase, start, end } = piece;
      const { decay } = piece;
      for (let i = start; i < end; i++) {
        const p = params[i]!;
        params[i] = p - decay * p - lr * grads[i - gradBase]!;
      }
    },
  },
  momentum: {
    native: true,
    update: (params, state, config, lr, _c1, _c2, piece) => {
      const { grads, gradBase, start, end } = piece;
      const velocity = state.state1;
      const { momentum } = config;
      const { decay } = piece;
      for (let i = start; i < end; i++) {
        const p = params[i]!;
        const v = momentum * velocity[i]! + grads[i - gradBase]!;
        velocity[i] = v;
        params[i] = p - decay * p - lr * v;
      }
    },
  },
  adam: {
    native: true,
    update: (params, state, config, lr, c1, c2, piece) => {
      const { grads, gradBase, start, end } = piece;
      const first = state.state1;
      const second = state.state2;
      const { beta1, beta2, epsilon } = config;
      const { decay } = piece;
      for (let i = start; i < end; i++) {
        const p = params[i]!;
        const g = grads[i - gradBase]!;
        const m = beta1 * first[i]! + (1 - beta1) * g;
        const v = beta2 * second[i]! + (1 - beta2) * g * g;
        first[i] = m;
        second[i] = v;
        params[i] = p - decay * p - (lr * (m * c1)) / (Math.sqrt(v * c2) + epsilon);
      }
    },
  },
};

/**
 * The same update in native code (the addon's `update`, native/addon.c): one piece, the same
 * operations in the same order in float64, so the same results bit for bit (tested).
 */
export type NativeUpdate = (
  kind: OptimizerKind,
  params: Float64Array,
  grads: Float64Array,
  first: Float64Array,
  second: Float64Array,
  start: number,
  end: number,
  gradBase: number,
  lr: number,
  decay: number,
  c1: number,
  c2: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  momentum: number,
) => void;

/**
 * One update in place, following `rules` (weight decay, frozen range, coupling regulariser);
 * with `native`, each piece's loop runs there (the CPU engine's, where the addon is loaded).
 */
export function optimizerStep(
  params: Float64Array,
  grads: ArrayLike<number>,
  state: OptimizerState,
  config: OptimizerConfig,
  learningRate: number,
  rules: UpdateRules,
  native?: NativeUpdate,
): void {
  const { decayCount, frozen, coupling } = rules;
  const twin = TWINS[config.kind];
  if (!twin) throw new RangeError(`unknown optimizer "${config.kind}"`);
  const { update } = twin;
  if (!twin.native) native = undefined;
  state.step++;
  const [c1, c2] = biasCorrections(config, state.step);
  const regularised = coupling.l1 !== 0 || coupling.toIdentity !== 0;
  const cuts = [...new Set([0, params.length, decayCount, frozen[0], frozen[1], coupling.start, coupling.end])]
    .filter((at) => at >= 0 && at <= params.length)
    .sort((a, b) => a - b);
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [start, end] = [cuts[k]!, cuts[k + 1]!];
    if (start >= frozen[0] && start < frozen[1]) continue;
    const inCoupling = regularised && start >= coupling.start && start < coupling.end;
    const own = inCoupling ? { grads: coupled(params, grads, start, end, coupling), gradBase: start } : { grads, gradBase: 0 };
    const piece = { start, end, decay: start < decayCount ? learningRate * config.weightDecay : 0, ...own };
    if (native && piece.grads instanceof Float64Array) {
      const { kind, beta1, beta2, epsilon, momentum } = config;
      native(kind, params, piece.grads, state.state1, state.state2, start, end, piece.gradBase, learningRate, piece.decay, c1, c2, beta1, beta2, epsilon, momentum);
    } else {
      update(params, state, config, learningRate, c1, c2, piece);
    }
  }
}
