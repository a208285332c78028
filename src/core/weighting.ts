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
//   famo:   fast adaptive multitask optimisation (Liu et al. 2023): task logits ξ, z = softmax(ξ);
//          the step follows Σ_t z_t·log L_t / c, c = Σ_t z_t/L_t, i.e. G_Y[:,t] ·= α_t =
//          |P|·z_t/(c·L_t) over the tasks P observed in the batch (L_t + ε for L_t). Before the
//          weights, ξ takes one Adam step (lr 0.025, L2 decay 0.001, as the paper) on
//          d_k = z_k·(δ_k − Σ_t z_t·δ_t), δ_t = log L_t(previous step) − log L_t(this step): the
//          change of each log-loss across the last update, measured on consecutive batches (the
//          paper re-evaluates the same batch after the update, one more forward pass per step).
//          O(T) per step, one single-workgroup dispatch (shaders/famo.wgsl); its state (ξ, Adam's
//          m and v, the last losses) is kept with the optimizer state and in checkpoints.
// The gradient aggregators leave the loss as under 'equal' and change how the tasks' gradients of
// the shared parameters (W, b) combine: with J_t = ∂(w_t·L_t)/∂(W, b) and the T×T Gramian
// G_st = ⟨J_s, J_t⟩, the step's shared gradient is Σ_t α_t·J_t with weights α from G (A's row t
// and c_t belong to task t alone and keep their plain gradient). The weights are scaled so that
// tasks whose gradients do not conflict get α = 1, the step of 'equal':
//   mgda:   α = |P|·argmin_{a ∈ simplex} aᵀGa, the min-norm point of the gradients' convex hull
//           (Sener & Koltun 2018), over the tasks P with a nonzero gradient.
//   pcgrad: each J_i projected off every J_j it conflicts with (⟨J_i', J_j⟩ < 0), in a seeded
//           random order, then summed (Yu et al. 2020); α = Σ_i c_i, J_i' = Σ_j c_ij·J_j.
//   upgrad: each J_i projected onto the dual cone {g : ⟨g, J_j⟩ ≥ 0 ∀j}, then summed (Quinton &
//           Rey 2024, with the sum in place of the mean): α = Σ_i v_i, v_i = argmin_{v ≥ e_i} vᵀGv.
// Solvers: src/cpu/aggregators.ts (float64) and shaders/aggregate.wgsl.
import { wgslEnum } from './wgsl.js';

export const WEIGHTING_KINDS = ['equal', 'uw', 'dwa', 'gls', 'famo', 'mgda', 'pcgrad', 'upgrad'] as const;
export type WeightingKind = (typeof WEIGHTING_KINDS)[number];

export const AGGREGATOR_KINDS = ['mgda', 'pcgrad', 'upgrad'] as const;
export type AggregatorKind = (typeof AGGREGATOR_KINDS)[number];

/** The aggregators' codes in shaders/aggregate.wgsl. */
export const AGGREGATOR_CODES: { readonly [K in AggregatorKind]: number } = { mgda: 0, pcgrad: 1, upgrad: 2 };

/** The aggregators' iteration caps and stopping tolerance, for shaders/aggregate.wgsl and its twin src/cpu/aggregators.ts. */
export const AGGREGATOR_LIMITS = {
  /** MGDA: pairwise (SMO) steps at most. */
  mgdaSteps: 1024,
  /** UPGrad: coordinate-descent sweeps at most, per projection. */
  upgradSweeps: 256,
  /** Stop when the optimality gap (MGDA, relative to max G_tt) or the largest change (UPGrad) is below this. */
  tolerance: 1e-6,
} as const;

/** FAMO's constants (the paper's): its Adam on the logits ξ, and ε added to each L_t. */
export const FAMO = { learningRate: 0.025, decay: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, lossEpsilon: 1e-8 } as const;

/** FAMO's state: ξ, Adam's m and v, and the last step's L_t (0: not observed), T each. */
export const famoStateSize = (tasks: number) => 4 * tasks;

/**
 * Where a weighting acts in a step, besides the loss kernel's `code`:
 *   'none':      the loss alone (equal, uw, dwa, gls);
 *   'scaleTasks': after the task losses, its own per-step state gives α_t, and G_Y[:,t] ·= α_t (famo);
 *   'aggregate': after G_Y, the task Gramian of the shared parameters' gradients gives α_t, which
 *                scale the tasks' parts of dW and db (mgda, pcgrad, upgrad).
 * The float64 strategies (src/cpu/weightings.ts) implement the hook an entry names; on the GPU its
 * stage (src/kernels/weighting-stages.ts) records the kernels for it.
 */
export type StepHook = 'none' | 'scaleTasks' | 'aggregate';

/** One weighting: what every consumer (backends, trainer, CLI, demo, DDP job) reads about it. */
export interface WeightingEntry {
  /** What shaders/loss.wgsl does (the aggregators' and FAMO's loss is the equal weighting's). */
  readonly code: number;
  readonly summary: string;
  readonly stepHook: StepHook;
  /** Floats of per-step state kept with the optimizer state and in checkpoints (0: none). */
  readonly stateSize: (tasks: number) => number;
  /** Learns a log-variance s_t per task with the model (parameters `s`). */
  readonly learnsLogVariances?: boolean;
  /** New task weights between epochs from the mean task losses of the last two (dwa): λ_t. */
  readonly epochWeights?: (last: ArrayLike<number>, beforeLast: ArrayLike<number>, temperature?: number) => Float64Array;
  /** Why a PyTorch DDP job cannot run it (undefined: it can, with `torch`). */
  readonly ddpRefusal?: string;
  /**
   * Its part of a PyTorch DDP job (src/io/ddp-script.ts), as lines of Python: `loss`, the body of
   * weighted_loss(share, per_task, w, c, s, world) — this rank's loss from its part of each L_t
   * (`share`), the global L_t (`per_task`), the task weights now, uncertainty's c_t, the learned
   * log-variances (or None) and the ranks; `epochWeights`, the body of
   * epoch_weights(last, before_last, temperature) — new λ_t between epochs (the twin of
   * `epochWeights`). Every weighting has this or a ddpRefusal (tested).
   */
  readonly torch?: { readonly loss: readonly string[]; readonly epochWeights?: readonly string[] };
  /** What the task weights a run reports are under this weighting (undefined: the fixed w_t). */
  readonly reportedWeights?: string;
  /** How the demo charts its task weights over epochs: not at all (they do not move), or on a linear or log scale. */
  readonly chart: 'none' | 'linear' | 'log';
}

const stateless = () => 0;
const aggregated = (name: string) => `α of ${name}, mean over the last report's steps`;
const AGGREGATOR_DDP_REFUSAL = "it combines the tasks' gradients through their Gramian, and the Gramian of gradients summed over ranks is not the sum of the ranks' Gramians";

/** The weighted sum in a DDP job: Σ_t w_t·(this rank's part of L_t). */
const TORCH_WEIGHTED_SUM = ['return (w * share).sum()'];

export const WEIGHTINGS: { readonly [K in WeightingKind]: WeightingEntry } = {
  equal: { code: 0, summary: 'Σ w_t·L_t with fixed task weights', stepHook: 'none', stateSize: stateless, chart: 'none', torch: { loss: TORCH_WEIGHTED_SUM } },
  uw: {
    code: 1,
    summary: 'uncertainty weighting: learned log-variances s_t, Σ w_t·(c_t·e^{−s_t}·L_t + ½·s_t)',
    stepHook: 'none',
    stateSize: stateless,
    learnsLogVariances: true,
    reportedWeights: 'learned by uncertainty weighting (w_t·c_t·e^{−s_t})',
    chart: 'log',
    // ½·w_t·s_t once over the ranks: each rank's loss is scaled by the ranks before DDP's mean.
    torch: { loss: ['return (w * c * torch.exp(-s) * share).sum() + (0.5 * w * s).sum() / world'] },
  },
  // Within a step, dwa is a fixed weighting: its λ_t change between epochs (setTaskWeights).
  dwa: {
    code: 0,
    summary: "dynamic weight average: λ_t from the last two epochs' loss ratios, temperature τ",
    stepHook: 'none',
    stateSize: stateless,
    epochWeights: (last, beforeLast, temperature) => dwaWeights(last, beforeLast, temperature),
    reportedWeights: 'of dynamic weight average in the last epoch (w_t·λ_t)',
    chart: 'log',
    torch: {
      loss: TORCH_WEIGHTED_SUM,
      epochWeights: [
        'ratios = [l / b if b > 0 else 1.0 for l, b in zip(last, before_last)]',
        'top = max(ratios)',
        'e = [math.exp((r - top) / temperature) for r in ratios]',
        'return [len(e) * v / sum(e) for v in e]',
      ],
    },
  },
  gls: {
    code: 2,
    summary: 'geometric loss strategy: the weighted geometric mean of the task losses',
    stepHook: 'none',
    stateSize: stateless,
    chart: 'none',
    // The gradient of (Π L_t^{w_t})^{1/Σw} through each L_t: factor_t = G·w_t/(Σw·L_t), from the global L_t.
    torch: {
      loss: [
        'observed = per_task > 0',
        'weight_sum = (w * observed).sum()',
        'if weight_sum <= 0:',
        '    return (torch.zeros_like(per_task) * share).sum()',
        'safe = torch.where(observed, per_task, torch.ones_like(per_task))',
        'geometric = torch.exp((w * torch.log(safe)).sum() / weight_sum)',
        'factor = torch.where(observed, geometric * w / (weight_sum * safe), torch.zeros_like(per_task))',
        'return (factor * share).sum()',
      ],
    },
  },
  famo: {
    code: 0,
    summary: 'FAMO: task logits moved by the change of the log-losses, weights ∝ softmax/L_t',
    stepHook: 'scaleTasks',
    stateSize: famoStateSize,
    ddpRefusal: 'its per-step state and the re-measured log-losses are not carried across ranks',
    reportedWeights: "α of FAMO, mean over the last report's steps",
    chart: 'linear',
  },
  mgda: {
    code: 0,
    summary: "MGDA: the min-norm convex combination of the tasks' shared-parameter gradients",
    stepHook: 'aggregate',
    stateSize: stateless,
    ddpRefusal: AGGREGATOR_DDP_REFUSAL,
    reportedWeights: aggregated('MGDA'),
    chart: 'linear',
  },
  pcgrad: {
    code: 0,
    summary: "PCGrad: each task's gradient projected off the ones it conflicts with, in random order",
    stepHook: 'aggregate',
    stateSize: stateless,
    ddpRefusal: AGGREGATOR_DDP_REFUSAL,
    reportedWeights: aggregated('PCGrad'),
    chart: 'linear',
  },
  upgrad: {
    code: 0,
    summary: "UPGrad: each task's gradient projected onto the dual cone of all of them",
    stepHook: 'aggregate',
    stateSize: stateless,
    ddpRefusal: AGGREGATOR_DDP_REFUSAL,
    reportedWeights: aggregated('UPGrad'),
    chart: 'linear',
  },
};

/** Weightings whose weights change every step (reported as their mean over the steps since the last read). */
export const hasStepWeights = (kind: WeightingKind | undefined) => WEIGHTINGS[kind ?? 'equal'].stepHook !== 'none';

export const isAggregator = (kind: WeightingKind | undefined): kind is AggregatorKind => WEIGHTINGS[kind ?? 'equal'].stepHook === 'aggregate';

/** Floats of the weighting's per-step state for `tasks` tasks (0: none). */
export const weightingStateSize = (kind: WeightingKind | undefined, tasks: number) => WEIGHTINGS[kind ?? 'equal'].stateSize(tasks);

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

export const AGGREGATOR_WGSL = wgslEnum('AGGREGATOR', AGGREGATOR_CODES);

export const WEIGHTING_WGSL = wgslEnum('WEIGHTING', Object.fromEntries(WEIGHTING_KINDS.filter((k) => !isAggregator(k)).map((k) => [k, WEIGHTINGS[k].code])));
