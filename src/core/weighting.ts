// How the task losses combine into the one loss a step minimises. A table like the losses and
// optimizers: each entry's code is what shaders/loss.wgsl switches on; its float64 twin is in
// src/cpu/reference.ts (taskLoss).
//   equal: L = Σ_t w_t·L_t                                    (w_t: the task weights)
//   uw:    L = Σ_t w_t·(c_t·e^{−s_t}·L_t + ½·s_t)            uncertainty weighting (Kendall, Gal &
//          Cipolla 2018): s_t = log σ_t² is learned with the model; c_t = ½ for regression, 1 for
//          classification (LOSSES[kind].uncertaintyScale), so ∂L/∂s_t = w_t·(½ − c_t·e^{−s_t}·L_t).
//   dwa:   L = Σ_t w_t·λ_t·L_t, dynamic weight average (Liu, Johns & Davison 2019): each epoch
//          λ_t = T·exp(r_t/τ) / Σ_k exp(r_k/τ), r_t = L_t(e−1)/L_t(e−2), the ratio of the task's
//          mean training loss over the last two epochs; λ = 1 for the first two epochs.
//   gls:   L = exp(Σ_{t∈P} w_t·log L_t / Σ_{t∈P} w_t), the geometric loss strategy (Chennupati et
//          al. 2019), P the tasks observed in the batch with L_t > 0: ∂L/∂L_t = L·w_t/(W_P·L_t),
//          so a task's gradient is scaled by the inverse of its own loss.
import { wgslEnum } from './wgsl.js';

export const WEIGHTING_KINDS = ['equal', 'uw', 'dwa', 'gls'] as const;
export type WeightingKind = (typeof WEIGHTING_KINDS)[number];

export const WEIGHTINGS: { readonly [K in WeightingKind]: { readonly code: number; readonly summary: string } } = {
  equal: { code: 0, summary: 'Σ w_t·L_t with fixed task weights' },
  uw: { code: 1, summary: 'uncertainty weighting: learned log-variances s_t, Σ w_t·(c_t·e^{−s_t}·L_t + ½·s_t)' },
  // Within a step, dwa is a fixed weighting: its λ_t change between epochs (setTaskWeights).
  dwa: { code: 0, summary: 'dynamic weight average: λ_t from the last two epochs\' loss ratios, temperature τ' },
  gls: { code: 2, summary: 'geometric loss strategy: the weighted geometric mean of the task losses' },
};

/** The default temperature τ of dynamic weight average (the paper's). */
export const DWA_TEMPERATURE = 2;

/** λ of dynamic weight average from the mean task losses of the last two epochs (each T long). */
export function dwaWeights(last: ArrayLike<number>, beforeLast: ArrayLike<number>, temperature = DWA_TEMPERATURE): Float64Array {
  const T = last.length;
  const ratios = Float64Array.from({ length: T }, (_, t) => (beforeLast[t]! > 0 ? last[t]! / beforeLast[t]! : 1));
  const top = Math.max(...ratios);
  const e = ratios.map((r) => Math.exp((r - top) / temperature)); // shifted: the same ratios, no overflow
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (T * v) / sum);
}

export const WEIGHTING_WGSL = wgslEnum('WEIGHTING', Object.fromEntries(WEIGHTING_KINDS.map((k) => [k, WEIGHTINGS[k].code])));
