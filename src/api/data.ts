// In-memory rows (arrays of rows or flat typed arrays) → the tables the trainer prepares, with
// every shape and value checked: a RangeError names the option, the row and the column.
import type { TaskTable } from '../data/table.js';
import { f32Problem } from '../util/numbers.js';
import { isMatrixLike, type Matrix } from './options.js';

export interface Rows {
  rows: number;
  cols: number;
  /** rows×cols, row-major */
  values: Float64Array;
}

/** Reads a Matrix; `width` is required for flat arrays (from featureCount/taskCount or the names). */
export function readMatrix(name: string, matrix: Matrix | undefined, width: number | undefined, widthOption: string): Rows {
  if (!isMatrixLike(matrix)) throw new RangeError(`${name} must be an array of rows or a Float32Array/Float64Array, got ${String(matrix)}`);
  if (Array.isArray(matrix)) {
    const rows = matrix.length;
    if (rows === 0) throw new RangeError(`${name} has no rows`);
    const first = matrix[0];
    if (!Array.isArray(first) && !ArrayBuffer.isView(first)) throw new RangeError(`${name}[0] must be an array of numbers`);
    const cols = (first as readonly number[]).length;
    if (width !== undefined && cols !== width) throw new RangeError(`${name} rows have ${cols} values, but ${widthOption} says ${width}`);
    const values = new Float64Array(rows * cols);
    (matrix as readonly unknown[]).forEach((item, r) => {
      const row = item as ArrayLike<number> | undefined;
      if ((!Array.isArray(row) && !ArrayBuffer.isView(row)) || row!.length !== cols) {
        throw new RangeError(`${name}[${r}] has ${row?.length ?? 'no'} values, row 0 has ${cols}`);
      }
      for (let c = 0; c < cols; c++) values[r * cols + c] = typeof row![c] === 'number' ? row![c]! : NaN;
    });
    if (cols === 0) throw new RangeError(`${name} rows are empty`);
    return { rows, cols, values };
  }
  const flat = matrix as Float32Array | Float64Array;
  if (width === undefined) throw new RangeError(`${name} is a flat ${flat.constructor.name}: give ${widthOption} (or its names) so its rows can be told apart`);
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`${widthOption} must be a positive integer, got ${width}`);
  if (flat.length === 0 || flat.length % width !== 0) {
    throw new RangeError(`${name} has ${flat.length} values, not a whole number of rows of ${width} (${widthOption})`);
  }
  return { rows: flat.length / width, cols: width, values: Float64Array.from(flat) };
}

export interface LabelledRows {
  features: Matrix;
  targets: Matrix;
  source?: { file: string; lines: number[] };
  groups?: readonly (string | number)[];
}

export interface TableNames {
  featureNames?: readonly string[];
  taskNames?: readonly string[];
  featureCount?: number;
  taskCount?: number;
}

const defaultNames = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

function checkNames(option: string, names: readonly string[] | undefined, count: number): string[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === '')) throw new RangeError(`${option} must be an array of non-empty strings`);
  if (names.length !== count) throw new RangeError(`${option} has ${names.length} names for ${count} columns`);
  if (new Set(names).size !== names.length) throw new RangeError(`${option} has duplicate names`);
  return [...names];
}

/**
 * Features and targets → a TaskTable: features must be finite; a NaN target is missing (mask 0);
 * an infinite target is an error. `prefix` names the option in errors ("test." for test rows).
 */
export function toTable(data: LabelledRows, names: TableNames, prefix = ''): TaskTable {
  const width = names.featureCount ?? names.featureNames?.length;
  const X = readMatrix(`${prefix}features`, data.features, width, 'featureCount');
  const Y = readMatrix(`${prefix}targets`, data.targets, names.taskCount ?? names.taskNames?.length, 'taskCount');
  if (X.rows !== Y.rows) throw new RangeError(`${prefix}features has ${X.rows} rows but ${prefix}targets has ${Y.rows}`);
  const featureNames = checkNames('featureNames', names.featureNames, X.cols) ?? defaultNames('x', X.cols);
  const targetNames = checkNames('taskNames', names.taskNames, Y.cols) ?? defaultNames('y', Y.cols);
  for (let i = 0; i < X.values.length; i++) {
    const problem = f32Problem(X.values[i]!);
    if (problem) {
      throw new RangeError(`${prefix}features row ${Math.floor(i / X.cols)}, column ${i % X.cols} ("${featureNames[i % X.cols]}") ${problem} (${X.values[i]})`);
    }
  }
  const mask = new Float64Array(Y.values.length);
  const targets = new Float64Array(Y.values.length);
  for (let i = 0; i < Y.values.length; i++) {
    const v = Y.values[i]!;
    if (Number.isNaN(v)) continue;
    const problem = f32Problem(v);
    if (problem)
      throw new RangeError(`${prefix}targets row ${Math.floor(i / Y.cols)}, column ${i % Y.cols} ("${targetNames[i % Y.cols]}") ${problem} (${v}); use NaN for a missing target`);
    targets[i] = v;
    mask[i] = 1;
  }
  const source = data.source && Array.isArray(data.source.lines) && data.source.lines.length === X.rows ? { file: String(data.source.file), lines: data.source.lines } : undefined;
  let groups: string[] | undefined;
  if (data.groups !== undefined) {
    if (!Array.isArray(data.groups) || data.groups.length !== X.rows) {
      throw new RangeError(`${prefix}groups must list one group per row (${X.rows}), got ${Array.isArray(data.groups) ? data.groups.length : String(data.groups)}`);
    }
    groups = data.groups.map(String);
  }
  return { featureNames, targetNames, rows: X.rows, X: X.values, Y: targets, mask, source, groups };
}
