// The weightings in float64: one strategy object per kind, registered in one table. The float64
// reference (src/cpu/step.ts) and the CPU engine (src/backends/wasm.ts) ask the run's strategy
// at the step's hook points — combine the task losses, scale the tasks (stepHook 'scaleTasks'),
// aggregate the shared gradients ('aggregate') — instead of switching on its name.
// src/core/weighting.ts says what each weighting is and which hook it uses; its WGSL is in
// shaders/ (loss.wgsl, famo.wgsl, aggregate.wgsl).
import { resolveLoss, type TaskSpec } from '../core/losses.js';
import type { WeightingKind } from '../core/weighting.js';
import { mgdaWeights, pcgradWeights, upgradWeights } from './aggregators.js';
import { famoStep } from './famo.js';

/** The step's task losses as a weighting combines them. */
export interface TaskLosses {
  /** L_t = sum_t / count_t (0 for a task with no observed rows). */
  perTask: Float64Array;
  /** Each task's observed (mask-weighted) count in the batch. */
  counts: ArrayLike<number>;
  tasks: readonly TaskSpec[];
  /** s_t, the learned log-variances (the parameters' `s`; read by uncertainty weighting). */
  logVar?: ArrayLike<number>;
}

export interface Combined {
  /** L, the loss the step minimises. */
  total: number;
  /** s_t with ∂L/∂Y[n,t] = s_t·m[n,t]·∂ℓ_t/∂y: the factor on L_t over the task's count. */
  scales: Float64Array;
  /** ∂L/∂s_t (zeros unless the weighting learns log-variances). */
  gradLogVar: Float64Array;
}

export interface WeightingStrategy {
  /** At the loss: L and each task's factor on G_Y. */
  combine(losses: TaskLosses): Combined;
  /** stepHook 'scaleTasks': α_t (G_Y[:,t] ·= α_t) and the weighting's state after this step. */
  scaleTasks?(perTask: ArrayLike<number>, state: ArrayLike<number>, step: number): { weights: Float64Array; state: Float64Array };
  /** stepHook 'aggregate': α_t from the T×T Gramian of the tasks' shared-parameter gradients. */
  aggregate?(gramian: ArrayLike<number>, tasks: number, step: number, seed: number): Float64Array;
}

/** L = Σ_t w_t·L_t over the observed tasks. */
function weightedSum({ perTask, counts, tasks }: TaskLosses): Combined {
  const T = tasks.length;
  const scales = new Float64Array(T);
  let total = 0;
  tasks.forEach((task, t) => {
    if (counts[t]! === 0) return;
    total += task.weight * perTask[t]!;
    scales[t] = task.weight / counts[t]!;
  });
  return { total, scales, gradLogVar: new Float64Array(T) };
}

/** L = Σ_t w_t·(c_t·e^{−s_t}·L_t + ½·s_t); ∂L/∂s_t = w_t·(½ − c_t·e^{−s_t}·L_t). */
function uncertainty({ perTask, counts, tasks, logVar }: TaskLosses): Combined {
  const T = tasks.length;
  const scales = new Float64Array(T);
  const gradLogVar = new Float64Array(T);
  let total = 0;
  tasks.forEach((task, t) => {
    const s = logVar![t]!;
    const factor = task.weight * resolveLoss(task.loss).entry.uncertaintyScale * Math.exp(-s);
    total += task.weight * 0.5 * s;
    gradLogVar[t] = task.weight * 0.5 - factor * perTask[t]!;
    if (counts[t]! === 0) return;
    total += factor * perTask[t]!;
    scales[t] = factor / counts[t]!;
  });
  return { total, scales, gradLogVar };
}

/**
 * The geometric loss strategy: L = exp(Σ_{t∈P} w_t·log L_t / W_P) over the tasks with L_t > 0;
 * each task's factor is ∂L/∂L_t = L·w_t/(W_P·L_t) over its count.
 */
function geometric({ perTask, counts, tasks }: TaskLosses): Combined {
  const T = tasks.length;
  let logSum = 0;
  let weightSum = 0;
  tasks.forEach((task, t) => {
    if (perTask[t]! > 0) {
      logSum += task.weight * Math.log(perTask[t]!);
      weightSum += task.weight;
    }
  });
  const total = weightSum > 0 ? Math.exp(logSum / weightSum) : 0;
  const scales = Float64Array.from(tasks, (task, t) => (counts[t]! > 0 && perTask[t]! > 0 && weightSum > 0 ? (total * task.weight) / (weightSum * perTask[t]! * counts[t]!) : 0));
  return { total, scales, gradLogVar: new Float64Array(T) };
}

/** Every weighting's float64 strategy (a missing kind does not compile; a test checks each hook against src/core/weighting.ts). */
export const WEIGHTING_STRATEGIES: { readonly [K in WeightingKind]: WeightingStrategy } = {
  equal: { combine: weightedSum },
  uw: { combine: uncertainty },
  // dwa's λ_t reach the step as task weights, set between epochs (WEIGHTINGS.dwa.epochWeights).
  dwa: { combine: weightedSum },
  gls: { combine: geometric },
  famo: { combine: weightedSum, scaleTasks: (perTask, state, step) => famoStep(perTask, state, step) },
  mgda: { combine: weightedSum, aggregate: (G, T) => mgdaWeights(G, T) },
  pcgrad: { combine: weightedSum, aggregate: (G, T, step, seed) => pcgradWeights(G, T, step, seed) },
  upgrad: { combine: weightedSum, aggregate: (G, T) => upgradWeights(G, T) },
};
