// Choosing feature and target columns and turning their cells into numbers. Missing target
// cells become mask 0 (left out of that task's loss and metrics); any bad feature cell is an
// error naming the file, line and column — nothing is trained on silently corrupted data.
import { DataError, type CsvTable } from './csv.js';
import { F32_MAX, parseDecimal } from '../util/numbers.js';

export const MISSING_MARKERS = new Set(['', 'na', 'nan', '?', 'n/a', 'null']);

/** A missing-value marker (every marker is at most 4 characters: most cells skip the lowercasing). */
const isMissing = (cell: string) => cell.length <= 4 && MISSING_MARKERS.has(cell.toLowerCase());

export interface TaskTable {
  featureNames: string[];
  targetNames: string[];
  rows: number;
  /** rows×d, row-major */
  X: Float64Array;
  /** rows×T; 0 where missing */
  Y: Float64Array;
  /** rows×T; 1 observed, 0 missing */
  mask: Float64Array;
  /** Values of an id column kept for predictions, if asked for. */
  ids?: string[];
  /** Where the rows came from, for errors found later: the file and each row's line. */
  source?: { file: string; lines: number[] };
  /** Each row's group (a subject, a site): held-out splits keep a group whole. */
  groups?: string[];
}

/** "file: line N" of row r where the table knows it, else "row r". */
export function rowPlace(table: TaskTable, r: number): string {
  return table.source ? `${table.source.file}: line ${table.source.lines[r]}` : `row ${r}`;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** Column names matching a comma list of names and globs (e.g. "y_*,score"), in file order. */
export function resolveColumns(table: CsvTable, patterns: readonly string[], role: string): string[] {
  const wanted = patterns.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
  const chosen = new Set<string>();
  for (const pattern of wanted) {
    const regex = globToRegExp(pattern);
    const matches = table.columns.filter((c) => regex.test(c));
    if (matches.length === 0) {
      throw new DataError(`${table.file}: no ${role} column matches "${pattern}" (available: ${table.columns.join(', ')})`);
    }
    matches.forEach((m) => chosen.add(m));
  }
  return table.columns.filter((c) => chosen.has(c));
}

export interface ColumnChoice {
  features: string[];
  targets: string[];
  idColumn?: string;
}

/** Features default to every column that is not a target (or the id). */
export function chooseColumns(table: CsvTable, targets: readonly string[], features?: readonly string[], idColumn?: string): ColumnChoice {
  const targetNames = resolveColumns(table, targets, 'target');
  if (targetNames.length === 0) throw new DataError(`${table.file}: no target columns given`);
  if (idColumn !== undefined && !table.columns.includes(idColumn)) {
    throw new DataError(`${table.file}: no id column "${idColumn}" (available: ${table.columns.join(', ')})`);
  }
  const featureNames = features?.length
    ? resolveColumns(table, features, 'feature')
    : table.columns.filter((c) => !targetNames.includes(c) && c !== idColumn);
  const overlap = featureNames.filter((f) => targetNames.includes(f));
  if (overlap.length) throw new DataError(`${table.file}: column(s) ${overlap.join(', ')} chosen as both feature and target`);
  if (featureNames.length === 0) throw new DataError(`${table.file}: no feature columns left`);
  return { features: featureNames, targets: targetNames, idColumn };
}

function columnIndex(table: CsvTable, name: string): number {
  const index = table.columns.indexOf(name);
  if (index < 0) throw new DataError(`${table.file}: no column "${name}" (available: ${table.columns.join(', ')})`);
  return index;
}

/** Reads the chosen columns as numbers. `requireTargets: false` (prediction input) skips them. */
export function toTaskTable(table: CsvTable, choice: ColumnChoice, requireTargets = true): TaskTable {
  const rows = table.rows.length;
  const d = choice.features.length;
  const T = choice.targets.length;
  const featureIdx = choice.features.map((n) => columnIndex(table, n));
  const X = new Float64Array(rows * d);
  const Y = new Float64Array(rows * T);
  const mask = new Float64Array(rows * T);
  const cellError = (r: number, column: string, cell: string, why: string) =>
    new DataError(`${table.file}: line ${table.lines[r]}, column "${column}": ${why} (${JSON.stringify(cell)})`);
  for (let r = 0; r < rows; r++) {
    const row = table.rows[r]!;
    for (let j = 0; j < d; j++) {
      const cell = row[featureIdx[j]!]!.trim();
      if (isMissing(cell)) throw cellError(r, choice.features[j]!, cell, 'missing feature value');
      const value = parseDecimal(cell);
      if (value === undefined || !Number.isFinite(value)) throw cellError(r, choice.features[j]!, cell, 'feature is not a finite number');
      if (Math.abs(value) > F32_MAX) throw cellError(r, choice.features[j]!, cell, 'feature is outside the float32 range (±3.4e38)');
      X[r * d + j] = value;
    }
  }
  if (requireTargets) {
    const targetIdx = choice.targets.map((n) => columnIndex(table, n));
    for (let r = 0; r < rows; r++) {
      const row = table.rows[r]!;
      for (let t = 0; t < T; t++) {
        const cell = row[targetIdx[t]!]!.trim();
        if (isMissing(cell)) continue;
        const value = parseDecimal(cell);
        if (value === undefined || !Number.isFinite(value)) throw cellError(r, choice.targets[t]!, cell, 'target is not a number or a missing marker (empty, NA, NaN, ?)');
        if (Math.abs(value) > F32_MAX) throw cellError(r, choice.targets[t]!, cell, 'target is outside the float32 range (±3.4e38)');
        Y[r * T + t] = value;
        mask[r * T + t] = 1;
      }
    }
  }
  const ids = choice.idColumn !== undefined ? table.rows.map((row) => row[columnIndex(table, choice.idColumn!)]!) : undefined;
  return { featureNames: choice.features, targetNames: choice.targets, rows, X, Y, mask, ids, source: { file: table.file, lines: table.lines } };
}

/** Rows `indices` of a table, in that order. */
export function selectRows(t: TaskTable, indices: ArrayLike<number>): TaskTable {
  const d = t.featureNames.length;
  const T = t.targetNames.length;
  const n = indices.length;
  const X = new Float64Array(n * d);
  const Y = new Float64Array(n * T);
  const mask = new Float64Array(n * T);
  for (let i = 0; i < n; i++) {
    const r = indices[i]!;
    X.set(t.X.subarray(r * d, r * d + d), i * d);
    Y.set(t.Y.subarray(r * T, r * T + T), i * T);
    mask.set(t.mask.subarray(r * T, r * T + T), i * T);
  }
  const ids = t.ids ? Array.from({ length: n }, (_, i) => t.ids![indices[i]!]!) : undefined;
  const pick = <T>(values: readonly T[] | undefined) => values && Array.from({ length: n }, (_, i) => values[indices[i]!]!);
  const source = t.source && { file: t.source.file, lines: pick(t.source.lines)! };
  return { ...t, rows: n, X, Y, mask, ids, source, groups: pick(t.groups) };
}
