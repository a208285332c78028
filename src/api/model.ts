// A trained model as the library hands it out: predict on raw features, evaluate on labelled
// rows, the coupling matrix with its names, and the safetensors bytes (docs: README "Model files").
import { resolveLoss, type LossSpec } from '../core/losses.js';
import { DEFAULT_OPTIMIZER } from '../core/optimizers.js';
import { parameterLayout, view } from '../core/shape.js';
import { CpuBackend } from '../backends/cpu.js';
import { contextFromDevice } from '../gpu/context.js';
import { decodeModel, encodeModel } from '../io/model-format.js';
import { encodeOnnx } from '../io/onnx.js';
import { encodeTorchModule } from '../io/torch.js';
import { WebGpuBackend } from '../backends/webgpu.js';
import { predictRaw, type TrainedModel } from '../model/model.js';
import { computeMetrics, type MetricsReport } from '../train/metrics.js';
import { toDataset } from '../train/prepare.js';
import { taskRelations } from '../train/relations.js';
import { f32Problem } from '../util/numbers.js';
import { readMatrix, toTable } from './data.js';
import type { Matrix } from './options.js';

export interface CouplingMatrix {
  /** Row names: the tasks. */
  readonly tasks: readonly string[];
  /** Column names: the hidden units (h1..hH). */
  readonly units: readonly string[];
  /** A, tasks×units, row-major. */
  readonly values: Float64Array;
  /** A[task][unit], by index or name. */
  at(task: number | string, unit: number | string): number;
}

export interface ModelParameters {
  /** H×d */
  W: Float64Array;
  b: Float64Array;
  /** T×H */
  A: Float64Array;
  c: Float64Array;
}

export interface PredictOptions {
  /** Predict on this WebGPU device (default: the float64 CPU path, exact and fast for a forward pass). */
  device?: GPUDevice;
}

export class Model {
  readonly featureNames: readonly string[];
  readonly taskNames: readonly string[];
  readonly losses: readonly LossSpec[];
  /** d, H, T. */
  readonly shape: Readonly<TrainedModel['shape']>;
  /** Hyperparameters and provenance, as stored in the file's metadata. */
  readonly hyperparameters: Readonly<TrainedModel['hyper']>;
  readonly #trained: TrainedModel;

  /** @internal Made by train() and loadModel(). */
  constructor(trained: TrainedModel) {
    // Held at the precision of the model file (f32), so a saved and reloaded model predicts identically.
    const f32 = (values: Float64Array) => new Float64Array(new Float32Array(values));
    this.#trained = {
      ...trained,
      params: f32(trained.params),
      x: { mean: f32(trained.x.mean), std: f32(trained.x.std) },
      y: { mean: f32(trained.y.mean), std: f32(trained.y.std) },
    };
    this.featureNames = Object.freeze([...trained.featureNames]);
    this.taskNames = Object.freeze([...trained.targetNames]);
    this.losses = Object.freeze([...trained.losses]);
    this.shape = Object.freeze({ ...trained.shape });
    this.hyperparameters = Object.freeze({ ...trained.hyper });
  }

  /** @internal */
  get trained(): TrainedModel {
    return this.#trained;
  }

  get coupling(): CouplingMatrix {
    const H = this.shape.hidden;
    const values = this.parameters().A;
    const tasks = this.taskNames;
    const units = Array.from({ length: H }, (_, h) => `h${h + 1}`);
    const index = (value: number | string, names: readonly string[], what: string) => {
      const i = typeof value === 'number' ? value : names.indexOf(value);
      if (!Number.isInteger(i) || i < 0 || i >= names.length) throw new RangeError(`no ${what} ${JSON.stringify(value)} (${names.length} ${what}s: ${names.join(', ')})`);
      return i;
    };
    return { tasks, units, values, at: (task, unit) => values[index(task, tasks, 'task') * H + index(unit, units, 'unit')]! };
  }

  /** Copies of the standardisation: features x_mean, x_std and targets y_mean, y_std (0 and 1 for binary tasks). */
  standardization(): { x_mean: Float64Array; x_std: Float64Array; y_mean: Float64Array; y_std: Float64Array } {
    const { x, y } = this.#trained;
    return { x_mean: x.mean.slice(), x_std: x.std.slice(), y_mean: y.mean.slice(), y_std: y.std.slice() };
  }

  /** Copies of W, b, A, c. */
  parameters(): ModelParameters {
    const { params, shape } = this.#trained;
    const l = parameterLayout(shape);
    return { W: view(params, l.W).slice(), b: view(params, l.b).slice(), A: view(params, l.A).slice(), c: view(params, l.c).slice() };
  }

  /**
   * Predictions for rows×d raw features (arrays of rows, or a flat array of d-wide rows):
   * rows×T, regression tasks on their original scale, probabilities for binary tasks.
   */
  async predict(features: Matrix, options: PredictOptions = {}): Promise<Float64Array> {
    const X = readMatrix('features', features, this.shape.features, "the model's feature count");
    for (let i = 0; i < X.values.length; i++) {
      const problem = f32Problem(X.values[i]!);
      if (problem) throw new RangeError(`features row ${Math.floor(i / X.cols)}, column ${i % X.cols} ("${this.featureNames[i % X.cols]}") ${problem} (${X.values[i]})`);
    }
    const config = {
      shape: this.#trained.shape,
      tasks: this.losses.map((loss) => ({ loss, weight: 1 })),
      optimizer: DEFAULT_OPTIMIZER,
      maxBatch: predictChunk(X.rows, this.shape),
    };
    const backend = options.device ? await WebGpuBackend.create(contextFromDevice(options.device), config) : new CpuBackend(config);
    try {
      backend.setParameters(this.#trained.params);
      return await predictRaw(backend, this.#trained, X.values, X.rows);
    } finally {
      backend.destroy();
    }
  }

  /** Per-task metrics on labelled rows (NaN targets are left out), plus macro averages. */
  async evaluate(features: Matrix, targets: Matrix, options: PredictOptions = {}): Promise<MetricsReport> {
    const table = toTable({ features, targets }, { featureNames: this.featureNames, taskNames: this.taskNames });
    const predictions = await this.predict(table.X, options);
    this.losses.forEach((loss, t) => {
      for (let r = 0; r < table.rows; r++) {
        const i = r * this.shape.tasks + t;
        if (table.mask[i] && !resolveLoss(loss).entry.accepts(table.Y[i]!)) {
          throw new RangeError(`targets row ${r}, column ${t} ("${this.taskNames[t]}"): ${table.Y[i]} is not a valid ${loss} target`);
        }
      }
    });
    return computeMetrics(predictions, table.Y, table.mask, table.rows, this.taskNames, this.losses);
  }

  /**
   * How the tasks relate through the shared layer on these labelled rows: the Gramian of the
   * per-task gradients of W and b at this model's parameters, and their cosine similarities
   * (1: the tasks pull the same way; near 0: independent; negative: they conflict). Float64.
   */
  taskRelations(features: Matrix, targets: Matrix): { tasks: readonly string[]; gramian: Float64Array; cosine: Float64Array } {
    const table = toTable({ features, targets }, { featureNames: this.featureNames, taskNames: this.taskNames });
    const tasks = this.losses.map((loss) => ({ loss, weight: 1 }));
    const data = toDataset(table, this.#trained.x, this.#trained.y);
    return { tasks: this.taskNames, ...taskRelations(this.#trained.params, parameterLayout(this.shape), data, tasks) };
  }

  /** The model file (safetensors; see the README's "Model files"). */
  toSafetensors(): Uint8Array {
    return encodeModel(this.#trained);
  }

  /**
   * The whole predictor as one ONNX graph (opset 13): input "features" [rows, d] of raw values,
   * output "predictions" [rows, T] as predict() gives them; names in the metadata.
   */
  toOnnx(): Uint8Array {
    return encodeOnnx(this.#trained, String(import.meta.env?.SIGMTL_VERSION ?? '0.0.0-dev'));
  }

  /**
   * A self-contained PyTorch module file (Python source): SigmtlModel(nn.Module) with the parameters
   * W, b, A, c, the same pre- and post-processing, sigmtl's loss, and from_safetensors(path) to
   * load the weights from this model's file.
   */
  toTorch(): string {
    return encodeTorchModule(this.#trained, String(import.meta.env?.SIGMTL_VERSION ?? '0.0.0-dev'));
  }
}

/** Rows per predict chunk: at most 4096, and no buffer (rows × the widest of d, H, T) over 64 MiB. */
export function predictChunk(rows: number, shape: { features: number; hidden: number; tasks: number }): number {
  const widest = Math.max(shape.features, shape.hidden, shape.tasks);
  return Math.max(1, Math.min(rows, 4096, Math.floor((64 << 20) / (4 * widest))));
}

/** A model from safetensors bytes, checked against the format (tensors, shapes, names, finite values). */
export function loadModel(bytes: Uint8Array | ArrayBuffer, name = 'model'): Model {
  const data = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : undefined;
  if (!data) throw new RangeError(`loadModel takes a Uint8Array or an ArrayBuffer, got ${String(bytes)}`);
  return new Model(decodeModel(data, name).model);
}
