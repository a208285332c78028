// Data as the public API hands it out: flat row-major arrays with their column names, ready to
// spread into train({ ...data }). The bundled data sets (read through a function, so the browser
// fetches and Node reads files) and synthetic teacher–student data.
import { loadBundled, BUNDLED_NAMES, type BundledName, type DatasetMeta, type ReadText } from '../data/bundled.js';
import { syntheticTable } from '../data/synthetic.js';
import { chooseColumns, resolveColumns, selectRows, toTaskTable, type ColumnChoice, type TaskTable } from '../data/table.js';
import { DataError, parseCsv, type CsvTable } from '../data/csv.js';
import { forward } from '../cpu/reference.js';
import { parameterLayout } from '../core/shape.js';

export interface LabelledData {
  /** rows×d, row-major. */
  features: Float64Array;
  /** rows×T, row-major; NaN = missing. */
  targets: Float64Array;
  featureNames: string[];
  taskNames: string[];
  /** Where the rows came from (a CSV file and each row's line), so later errors can name them. */
  source?: { file: string; lines: number[] };
  /** Each row's group, when a group column was named (see train's `groups`). */
  groups?: string[];
}

export interface DatasetSplits {
  name: string;
  train: LabelledData;
  /** The data set's own test rows, where it has them. */
  test?: LabelledData;
  /** Synthetic data: the teacher's noise-free outputs on the test rows (rows×T). */
  teacherOutputs?: Float64Array;
  meta?: DatasetMeta;
  /** A meta.json that named the CSV's columns (read only when no targets were given). */
  metaFile?: string;
}

export { BUNDLED_NAMES as BUNDLED_DATASETS, type BundledName, type DatasetMeta };

/** A TaskTable (mask) → LabelledData (NaN for missing targets). */
export function labelled(table: TaskTable): LabelledData {
  const targets = Float64Array.from(table.Y, (v, i) => (table.mask[i] ? v : NaN));
  return { features: table.X, targets, featureNames: [...table.featureNames], taskNames: [...table.targetNames], ...(table.source && { source: table.source }) };
}

/** A bundled data set by name, its files read by `read` (a path below data/, e.g. "yeast/meta.json"). */
export async function readBundledDataset(name: string, read: ReadText): Promise<DatasetSplits> {
  const loaded = await loadBundled(name, read);
  const choice = chooseColumns(loaded.train, loaded.meta.target_columns, loaded.meta.feature_columns);
  return {
    name: loaded.meta.name ?? name,
    train: labelled(toTaskTable(loaded.train, choice)),
    test: loaded.test && labelled(toTaskTable(loaded.test, choice)),
    meta: loaded.meta,
  };
}

export interface SyntheticOptions {
  /** d (default 10). */
  features?: number;
  /** T (default 5); the teacher has H = T. */
  tasks?: number;
  /** Training rows (default 2000); a quarter more are made as test rows. */
  rows?: number;
  /** Gaussian noise on the targets (default 0.05). */
  noise?: number;
  seed?: number;
}

/** Teacher–student data: targets from a random model y = A·σ(W·x + b) + c plus noise. */
export function syntheticData(options: SyntheticOptions = {}): DatasetSplits {
  const d = options.features ?? 10;
  const T = options.tasks ?? 5;
  const rows = options.rows ?? 2000;
  for (const [name, value, min] of [
    ['features', d, 1],
    ['tasks', T, 1],
    ['rows', rows, 2],
  ] as const) {
    if (!Number.isInteger(value) || value < min) throw new RangeError(`synthetic ${name} must be an integer ≥ ${min}, got ${value}`);
  }
  const noise = options.noise ?? 0.05;
  if (!(noise >= 0 && Number.isFinite(noise))) throw new RangeError(`synthetic noise must be a finite number ≥ 0, got ${noise}`);
  const shape = { features: d, hidden: T, tasks: T };
  const all = syntheticTable({ shape, rows: rows + Math.ceil(rows / 4), seed: options.seed ?? 1, noise });
  const range = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  const test = selectRows(all, range(rows, all.rows));
  const teacherOutputs = forward(all.teacher, parameterLayout(shape), test.X, test.rows).Y;
  return { name: 'synthetic', train: labelled(selectRows(all, range(0, rows))), test: labelled(test), teacherOutputs };
}

export interface ReadCsvOptions {
  /** Target columns: names or globs ("y_*"); omit for prediction input. */
  targets?: readonly string[];
  /** Feature columns (default: every column that is not a target or the id). */
  features?: readonly string[];
  /** A column kept as `ids` (prediction output). */
  idColumn?: string;
}

/** The header of a CSV text: its column names. */
export function csvColumns(text: string, name = 'CSV'): string[] {
  return parseCsv(text, name).columns;
}

/**
 * The chosen columns of a CSV text. With targets: labelled rows (empty, NA, NaN or ? cells are
 * missing targets). Without: prediction input, which needs `features`. A bad cell is a DataError
 * naming `name` (the file), the line and the column.
 */
export function readCsvText(text: string, options: ReadCsvOptions & { name?: string } = {}): LabelledData & { ids?: string[] } {
  return csvRows(parseCsv(text, options.name ?? 'CSV'), options);
}

/** @internal */
export function csvRows(table: CsvTable, options: ReadCsvOptions): LabelledData & { ids?: string[] } {
  let choice: ColumnChoice;
  if (options.targets?.length) {
    choice = chooseColumns(table, options.targets, options.features, options.idColumn);
  } else {
    if (!options.features?.length) throw new DataError(`${table.file}: say which columns are targets (targets: [...]) or, for prediction input, features`);
    if (options.idColumn !== undefined && !table.columns.includes(options.idColumn)) {
      throw new DataError(`${table.file}: no id column "${options.idColumn}" (available: ${table.columns.join(', ')})`);
    }
    choice = { features: resolveColumns(table, options.features, 'feature'), targets: [], idColumn: options.idColumn };
  }
  const rows = toTaskTable(table, choice, choice.targets.length > 0);
  const data = labelled(rows);
  return rows.ids ? { ...data, ids: rows.ids } : data;
}
