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
  /** Decoupled weight decay applies (W and A). */
  decay: boolean;
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

/** One twin per optimizer kind (the table in src/core/optimizers.ts); a missing one does not compile. */
const UPDATES: Record<OptimizerKind, PieceUpdate> = {
  sgd: (params, _state, config, lr, _c1, _c2, piece) => {
    const { grads, gradBase } = piece;
    for (let i = piece.start; i < piece.end; i++) {
      let p = params[i]!;
      const g = grads[i - gradBase]!;
      if (piece.decay) p -= lr * config.weightDecay * p;
      params[i] = p - lr * g;
    }
  },
  momentum: (params, state, config, lr, _c1, _c2, piece) => {
    const { grads, gradBase } = piece;
    for (let i = piece.start; i < piece.end; i++) {
      let p = params[i]!;
      const g = grads[i - gradBase]!;
      if (piece.decay) p -= lr * config.weightDecay * p;
      const v = config.momentum * state.state1[i]! + g;
      state.state1[i] = v;
      params[i] = p - lr * v;
    }
  },
  adam: (params, state, config, lr, c1, c2, piece) => {
    const { grads, gradBase } = piece;
    for (let i = piece.start; i < piece.end; i++) {
      let p = params[i]!;
      const g = grads[i - gradBase]!;
      if (piece.decay) p -= lr * config.weightDecay * p;
      const m = config.beta1 * state.state1[i]! + (1 - config.beta1) * g;
      const v = config.beta2 * state.state2[i]! + (1 - config.beta2) * g * g;
      state.state1[i] = m;
      state.state2[i] = v;
      params[i] = p - (lr * (m * c1)) / (Math.sqrt(v * c2) + config.epsilon);
    }
  },
};

/** One update in place, following `rules` (weight decay, frozen range, coupling regulariser). */
export function optimizerStep(params: Float64Array, grads: ArrayLike<number>, state: OptimizerState, config: OptimizerConfig, learningRate: number, rules: UpdateRules): void {
  const { decayCount, frozen, coupling } = rules;
  const update = UPDATES[config.kind];
  if (!update) throw new RangeError(`unknown optimizer "${config.kind}"`);
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
    update(params, state, config, learningRate, c1, c2, { start, end, decay: start < decayCount, ...own });
  }
}
