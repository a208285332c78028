// Which tasks pull the shared layer the same way, and which conflict: the Gramian of the per-task
// gradients of the shared parameters (W and b; A's row t and c_t belong to task t alone) and
// their cosine similarities, in float64 on the reference.
//   J_t = ∂(w_t·L_t)/∂(W, b) = ((G_Y[:,t]·A[t,:]) ⊙ S ⊙ (1 − S))ᵀ·[X 1],   G_st = ⟨J_s, J_t⟩,
//   cos_st = G_st / √(G_ss·G_tt)   (NaN where a task's gradient is zero)
import type { Dataset } from '../core/backend.js';
import type { TaskSpec } from '../core/losses.js';
import type { ParameterLayout } from '../core/shape.js';
import { forward, taskLoss } from '../cpu/reference.js';
import { gramianOf, sharedTaskGradients } from '../cpu/step.js';

export interface TaskRelations {
  /** G, T×T row-major: the inner products of the tasks' shared-parameter gradients. */
  gramian: Float64Array;
  /** G_st / √(G_ss·G_tt), T×T row-major. */
  cosine: Float64Array;
}

/** The per-task gradients of the shared parameters over `data` (one batch), and their Gramian and cosines. */
export function taskRelations(params: ArrayLike<number>, layout: ParameterLayout, data: Dataset, tasks: readonly TaskSpec[]): TaskRelations {
  const T = tasks.length;
  const { S, Y } = forward(params, layout, data.X, data.rows);
  const { gradY } = taskLoss(Y, data.Y, data.mask, tasks, data.rows);
  const gramian = gramianOf(sharedTaskGradients(params, layout, data.X, S, gradY, data.rows));
  const cosine = gramian.map((g, i) => {
    const norm = Math.sqrt(gramian[Math.floor(i / T) * (T + 1)]! * gramian[(i % T) * (T + 1)]!);
    return norm > 0 ? g / norm : NaN;
  });
  return { gramian, cosine };
}
