// A trained model as users see it: parameters plus everything needed to use them on raw data
// (column names, per-task loss, standardisation). Prediction:
//   o = A·σ(W·((x − x_mean)/x_std) + b) + c;   then each task's link (src/core/losses.ts) of
//   o·y_std + y_mean: the value itself for regression, σ for BCE (whose y_std, y_mean are 1, 0).
import { resolveLoss, type LossSpec } from '../core/losses.js';
import { standardize, type Standardizer } from '../data/standardize.js';
import type { TrainingBackend } from '../core/backend.js';
import type { ModelShape } from '../core/shape.js';

export interface TrainedModel {
  shape: ModelShape;
  featureNames: string[];
  targetNames: string[];
  /** Each task's loss, with its parameter where it has one ('quantile:0.9'). */
  losses: LossSpec[];
  /** Flat parameters in the layout of src/core/shape.ts. */
  params: Float64Array;
  x: Standardizer;
  /** Target scaling: mean 0 / std 1 for BCE tasks. */
  y: Standardizer;
  /** Hyper-parameters and provenance, stored in the model file's metadata. */
  hyper: Record<string, string | number | boolean>;
}

/** Raw model outputs o (rows×T) → values for regression tasks, probabilities for BCE tasks. */
export function toOriginalScale(o: ArrayLike<number>, rows: number, model: Pick<TrainedModel, 'losses' | 'y'>): Float64Array {
  const T = model.losses.length;
  const out = new Float64Array(rows * T);
  const links = model.losses.map((loss) => resolveLoss(loss).entry.link);
  for (let i = 0; i < rows * T; i++) {
    const t = i % T;
    out[i] = links[t]!(o[i]! * model.y.std[t]! + model.y.mean[t]!);
  }
  return out;
}

/** Predictions on raw features (rows×d) through a backend that holds the model's parameters. */
export async function predictRaw(backend: TrainingBackend, model: TrainedModel, X: Float64Array, rows: number): Promise<Float64Array> {
  const o = await backend.predict(standardize(X, model.shape.features, model.x), rows);
  return toOriginalScale(o, rows, model);
}
