// How the task losses combine into the one loss a step minimises. A table like the losses and
// optimizers: each entry's code is what shaders/loss.wgsl switches on; its float64 twin is in
// src/cpu/reference.ts (taskLoss).
//   equal: L = Σ_t w_t·L_t                                    (w_t: the task weights)
//   uw:    L = Σ_t w_t·(c_t·e^{−s_t}·L_t + ½·s_t)            uncertainty weighting (Kendall, Gal &
//          Cipolla 2018): s_t = log σ_t² is learned with the model; c_t = ½ for regression, 1 for
//          classification (LOSSES[kind].uncertaintyScale), so ∂L/∂s_t = w_t·(½ − c_t·e^{−s_t}·L_t).
import { wgslEnum } from './wgsl.js';

export const WEIGHTING_KINDS = ['equal', 'uw'] as const;
export type WeightingKind = (typeof WEIGHTING_KINDS)[number];

export const WEIGHTINGS: { readonly [K in WeightingKind]: { readonly code: number; readonly summary: string } } = {
  equal: { code: 0, summary: 'Σ w_t·L_t with fixed task weights' },
  uw: { code: 1, summary: 'uncertainty weighting: learned log-variances s_t, Σ w_t·(c_t·e^{−s_t}·L_t + ½·s_t)' },
};

export const WEIGHTING_WGSL = wgslEnum('WEIGHTING', Object.fromEntries(WEIGHTING_KINDS.map((k) => [k, WEIGHTINGS[k].code])));
