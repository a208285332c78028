// The optimizers in float64, the twin of shaders/optimizer.wgsl (same formulas, same order).
import type { OptimizerConfig, UpdateRules } from '../kernels/optimizer.js';

export interface OptimizerState {
  /** Steps taken so far (Adam's t before this step). */
  step: number;
  /** Velocity (momentum) or first moment m (Adam). */
  state1: Float64Array;
  /** Second moment v (Adam). */
  state2: Float64Array;
}

export function newOptimizerState(count: number): OptimizerState {
  return { step: 0, state1: new Float64Array(count), state2: new Float64Array(count) };
}

/** One update in place, following `rules` (weight decay, frozen range, coupling regulariser). */
export function optimizerStep(
  params: Float64Array,
  grads: ArrayLike<number>,
  state: OptimizerState,
  config: OptimizerConfig,
  learningRate: number,
  rules: UpdateRules,
): void {
  const { decayCount, frozen, coupling } = rules;
  state.step++;
  const c1 = 1 / (1 - config.beta1 ** state.step);
  const c2 = 1 / (1 - config.beta2 ** state.step);
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
    if (config.kind === 'momentum') {
      const v = config.momentum * state.state1[i]! + g;
      state.state1[i] = v;
      p -= learningRate * v;
    } else if (config.kind === 'adam') {
      const m = config.beta1 * state.state1[i]! + (1 - config.beta1) * g;
      const v = config.beta2 * state.state2[i]! + (1 - config.beta2) * g * g;
      state.state1[i] = m;
      state.state2[i] = v;
      p -= (learningRate * (m * c1)) / (Math.sqrt(v * c2) + config.epsilon);
    } else {
      p -= learningRate * g;
    }
    params[i] = p;
  }
}
