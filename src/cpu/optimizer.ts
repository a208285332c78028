// The optimizers in float64, the twin of shaders/optimizer.wgsl (same formulas, same order).
import { biasCorrections, newOptimizerState, type OptimizerConfig, type OptimizerKind, type OptimizerState, type UpdateRules } from '../core/optimizers.js';

export { newOptimizerState, type OptimizerState };

/** One element's update: returns the new p, writing the element's state in place. */
type ElementUpdate = (p: number, g: number, i: number, state: OptimizerState, config: OptimizerConfig, lr: number, c1: number, c2: number) => number;

/** One twin per optimizer kind (the table in src/core/optimizers.ts); a missing one does not compile. */
const UPDATES: Record<OptimizerKind, ElementUpdate> = {
  sgd: (p, g, _i, _state, _config, lr) => p - lr * g,
  momentum: (p, g, i, state, config, lr) => {
    const v = config.momentum * state.state1[i]! + g;
    state.state1[i] = v;
    return p - lr * v;
  },
  adam: (p, g, i, state, config, lr, c1, c2) => {
    const m = config.beta1 * state.state1[i]! + (1 - config.beta1) * g;
    const v = config.beta2 * state.state2[i]! + (1 - config.beta2) * g * g;
    state.state1[i] = m;
    state.state2[i] = v;
    return p - (lr * (m * c1)) / (Math.sqrt(v * c2) + config.epsilon);
  },
};

/** One update in place, following `rules` (weight decay, frozen range, coupling regulariser). */
export function optimizerStep(params: Float64Array, grads: ArrayLike<number>, state: OptimizerState, config: OptimizerConfig, learningRate: number, rules: UpdateRules): void {
  const { decayCount, frozen, coupling } = rules;
  const update = UPDATES[config.kind];
  if (!update) throw new RangeError(`unknown optimizer "${config.kind}"`);
  state.step++;
  const [c1, c2] = biasCorrections(config, state.step);
  for (let i = 0; i < params.length; i++) {
    if (i >= frozen[0] && i < frozen[1]) continue;
    let p = params[i]!;
    let g = grads[i]!;
    if (i >= coupling.start && i < coupling.end) {
      const j = i - coupling.start;
      const identity = Math.floor(j / coupling.cols) === j % coupling.cols ? 1 : 0;
      g += coupling.l1 * Math.sign(p) + coupling.toIdentity * (p - identity);
    }
    if (i < decayCount) p -= learningRate * config.weightDecay * p;
    params[i] = update(p, g, i, state, config, learningRate, c1, c2);
  }
}
