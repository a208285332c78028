// Teacher–student data: targets made by a known model y = A·σ(W·x + b) + c (plus noise), so a
// trained student can be compared with the teacher's predictions and its coupling matrix A.
import { forward } from '../cpu/reference.js';
import { initParameters } from '../core/init.js';
import { parameterLayout, type ModelShape } from '../core/shape.js';
import { Random } from '../util/random.js';
import type { Dataset } from '../core/backend.js';
import type { TaskTable } from './table.js';

export interface SyntheticOptions {
  shape: ModelShape;
  rows: number;
  seed: number;
  /** Standard deviation of Gaussian noise added to the targets. */
  noise?: number;
  /** Scale of the teacher's W (larger: more non-linear). */
  weightScale?: number;
}

export interface SyntheticData extends Dataset {
  /** The teacher's flat parameters (layout of src/core/shape.ts). */
  teacher: Float64Array;
}

export function teacherStudentData(options: SyntheticOptions): SyntheticData {
  const { shape, rows, seed } = options;
  const layout = parameterLayout(shape);
  const random = new Random(seed ^ 0x5eed);
  const teacher = initParameters(shape, seed + 1, 'random');
  const scale = options.weightScale ?? 2;
  for (let i = layout.W.offset; i < layout.W.offset + layout.W.size; i++) teacher[i]! *= scale;
  for (let i = 0; i < layout.b.size; i++) teacher[layout.b.offset + i] = 0.5 * random.normal();
  for (let i = 0; i < layout.c.size; i++) teacher[layout.c.offset + i] = 0.5 * random.normal();
  const X = new Float32Array(rows * shape.features);
  for (let i = 0; i < X.length; i++) X[i] = random.normal();
  const { Y } = forward(teacher, layout, X, rows);
  const noise = options.noise ?? 0;
  const targets = Float32Array.from(Y, (y) => y + noise * random.normal());
  return { rows, X, Y: targets, mask: new Float32Array(rows * shape.tasks).fill(1), teacher };
}

/** Teacher–student data as a table with columns x1..xd and targets y1..yT (for the CLI and the demo). */
export function syntheticTable(options: SyntheticOptions): TaskTable & { teacher: Float64Array } {
  const data = teacherStudentData(options);
  const { features: d, tasks: T } = options.shape;
  return {
    featureNames: Array.from({ length: d }, (_, j) => `x${j + 1}`),
    targetNames: Array.from({ length: T }, (_, t) => `y${t + 1}`),
    rows: data.rows,
    X: Float64Array.from(data.X),
    Y: Float64Array.from(data.Y),
    mask: Float64Array.from(data.mask),
    teacher: data.teacher,
  };
}
