// FAMO's step in float64 (src/core/weighting.ts says what it is): the twin of shaders/famo.wgsl.
import { FAMO } from '../core/weighting.js';

export interface FamoStep {
  /** α_t, the factor on each task's gradient this step. */
  weights: Float64Array;
  /** The state after this step (the input is not changed). */
  state: Float64Array;
}

/**
 * One step of FAMO from the batch's task losses L_t (0: not observed), the state (ξ, m, v, last
 * L_t; 4T, zeros at first) and `step`, the optimizer steps taken before this one.
 */
export function famoStep(losses: ArrayLike<number>, state: ArrayLike<number>, step: number): FamoStep {
  const T = losses.length;
  const next = Float64Array.from(state);
  const xi = next.subarray(0, T);
  const m = next.subarray(T, 2 * T);
  const v = next.subarray(2 * T, 3 * T);
  const last = next.subarray(3 * T, 4 * T);
  const logLoss = (l: number) => Math.log(l + FAMO.lossEpsilon);
  if (step >= 1) {
    // The logits' gradient: the softmax's Jacobian applied to δ, plus the L2 decay.
    const z = softmax(xi);
    const delta = Array.from({ length: T }, (_, t) => (losses[t]! > 0 && last[t]! > 0 ? logLoss(last[t]!) - logLoss(losses[t]!) : 0));
    const mean = delta.reduce((sum, d, t) => sum + z[t]! * d, 0);
    const correction1 = 1 - FAMO.beta1 ** step;
    const correction2 = 1 - FAMO.beta2 ** step;
    for (let t = 0; t < T; t++) {
      const g = z[t]! * (delta[t]! - mean) + FAMO.decay * xi[t]!;
      m[t] = FAMO.beta1 * m[t]! + (1 - FAMO.beta1) * g;
      v[t] = FAMO.beta2 * v[t]! + (1 - FAMO.beta2) * g * g;
      xi[t]! -= ((FAMO.learningRate / correction1) * m[t]!) / (Math.sqrt(v[t]!) / Math.sqrt(correction2) + FAMO.epsilon);
    }
  }
  const z = softmax(xi);
  const observed = Array.from({ length: T }, (_, t) => losses[t]! > 0);
  const count = observed.filter(Boolean).length;
  let c = 0;
  for (let t = 0; t < T; t++) if (observed[t]) c += z[t]! / (losses[t]! + FAMO.lossEpsilon);
  const weights = Float64Array.from({ length: T }, (_, t) => (observed[t] ? (count * z[t]!) / (c * (losses[t]! + FAMO.lossEpsilon)) : 0));
  for (let t = 0; t < T; t++) last[t] = losses[t]!;
  return { weights, state: next };
}

function softmax(x: ArrayLike<number>): Float64Array {
  const top = Math.max(...Array.from(x));
  const e = Float64Array.from(x, (v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
