// One step's gradients on the float64 reference: forward, the task losses under the run's
// weighting, backward — and, for the gradient aggregators, the task Gramian of the shared
// parameters and the aggregated gradient; for FAMO, its weights and next state — each the run's
// weighting strategy's hook (src/cpu/weightings.ts). The CPU backend trains with it and the
// trainer's verification checks the WebGPU backend against it.
import type { Dataset } from '../core/backend.js';
import type { TaskSpec } from '../core/losses.js';
import { view, type ParameterLayout } from '../core/shape.js';
import { weightingStateSize, type WeightingKind } from '../core/weighting.js';
import { backward, forward, taskLoss } from './reference.js';
import { WEIGHTING_STRATEGIES } from './weightings.js';

export interface StepContext {
  weighting?: WeightingKind;
  /** The optimizer steps taken so far (PCGrad's random order depends on it). */
  step?: number;
  /** PCGrad's seed. */
  seed?: number;
  /** The weighting's per-step state before this step (FAMO's; zeros when absent). */
  weightingState?: ArrayLike<number>;
}

export interface ReferenceGradients {
  /** L_t of the batch. */
  perTask: Float64Array;
  /** ∂L/∂θ in the flat layout (under an aggregator: W and b hold Σ_t α_t·J_t). */
  grads: Float64Array;
  /** The step's α (weightings with a step hook); the task Gramian it came from (aggregators). */
  taskWeights?: Float64Array;
  gramian?: Float64Array;
  /** The weighting's per-step state after this step (FAMO's). */
  weightingState?: Float64Array;
}

export function referenceGradients(
  params: Float64Array,
  layout: ParameterLayout,
  data: Dataset,
  tasks: readonly TaskSpec[],
  start: number,
  rows: number,
  context: StepContext = {},
): ReferenceGradients {
  const kind = context.weighting ?? 'equal';
  const strategy = WEIGHTING_STRATEGIES[kind];
  const { S, Y } = forward(params, layout, data.X, rows, start);
  const loss = taskLoss(Y, data.Y, data.mask, tasks, rows, start, { kind, logVar: view(params, layout.s) });
  const T = tasks.length;
  if (strategy.scaleTasks) {
    const scaled = strategy.scaleTasks(loss.perTask, context.weightingState ?? new Float64Array(weightingStateSize(kind, T)), context.step ?? 0);
    const gradY = loss.gradY.map((g, i) => g * scaled.weights[i % T]!);
    const grads = backward(params, layout, data.X, S, gradY, rows, start);
    grads.set(loss.gradLogVar, layout.s.offset);
    return { perTask: loss.perTask, grads, taskWeights: scaled.weights, weightingState: scaled.state };
  }
  const grads = backward(params, layout, data.X, S, loss.gradY, rows, start);
  grads.set(loss.gradLogVar, layout.s.offset);
  if (!strategy.aggregate) return { perTask: loss.perTask, grads };

  const gramian = gramianOf(sharedTaskGradients(params, layout, data.X, S, loss.gradY, rows, start));
  const taskWeights = strategy.aggregate(gramian, T, context.step ?? 0, context.seed ?? 0);
  const scaled = loss.gradY.map((g, i) => g * taskWeights[i % T]!);
  const aggregated = backward(params, layout, data.X, S, scaled, rows, start);
  for (const segment of [layout.W, layout.b]) grads.set(view(aggregated, segment), segment.offset);
  return { perTask: loss.perTask, grads, taskWeights, gramian };
}

/**
 * J_t = ((G_Y[:,t]·A[t,:]) ⊙ S ⊙ (1 − S))ᵀ·[X 1] for each task: the gradient of its (weighted)
 * loss with respect to the shared parameters, [dW (H×d), db (H)] — one backward pass per task.
 */
export function sharedTaskGradients(
  params: ArrayLike<number>,
  layout: ParameterLayout,
  X: ArrayLike<number>,
  S: Float64Array,
  gradY: Float64Array,
  rows: number,
  firstRow = 0,
): Float64Array[] {
  const T = layout.shape.tasks;
  return Array.from({ length: T }, (_, t) => {
    const only = gradY.map((g, i) => (i % T === t ? g : 0));
    const grads = backward(params, layout, X, S, only, rows, firstRow);
    return Float64Array.from([...view(grads, layout.W), ...view(grads, layout.b)]);
  });
}

/** G_st = ⟨v_s, v_t⟩, T×T row-major. */
export function gramianOf(vectors: readonly Float64Array[]): Float64Array {
  const T = vectors.length;
  const gramian = new Float64Array(T * T);
  for (let s = 0; s < T; s++) {
    for (let t = s; t < T; t++) {
      let dot = 0;
      for (let i = 0; i < vectors[s]!.length; i++) dot += vectors[s]![i]! * vectors[t]![i]!;
      gramian[s * T + t] = gramian[t * T + s] = dot;
    }
  }
  return gramian;
}
