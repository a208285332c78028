// From tables to a training problem: per-task losses, standardisation fit on the training split
// only, a seeded validation split, and f32 arrays ready for a backend.
import { autoLoss, LOSSES, resolveLoss, type LossSpec } from '../core/losses.js';
import type { Dataset } from '../core/backend.js';
import { DataError } from '../data/csv.js';
import { fitStandardizer, identityStandardizer, standardize, type Standardizer } from '../data/standardize.js';
import { rowPlace, selectRows, type TaskTable } from '../data/table.js';
import { Random } from '../util/random.js';
import type { RowStream } from './trainer.js';

/** A loss for a task ('mse', 'huber:2', 'quantile:0.9', ...), or 'auto': BCE for a 0/1 column, MSE otherwise. */
export type LossChoice = LossSpec | 'auto';

export interface PreparedSplit {
  table: TaskTable;
  /** Standardised features and targets for a backend. */
  data: Dataset;
}

export interface Problem {
  featureNames: string[];
  targetNames: string[];
  losses: LossSpec[];
  x: Standardizer;
  y: Standardizer;
  train: PreparedSplit;
  validation?: PreparedSplit;
  test?: PreparedSplit;
  /** Training from a stream: the rows, read window by window; `train` is then a sample of them. */
  stream?: RowStream;
}

export interface PrepareOptions {
  /** One choice for all tasks, or one per task. */
  loss: LossChoice | readonly LossChoice[];
  /** Fraction of the training rows held out for validation (seeded shuffle). */
  validationSplit?: number;
  seed: number;
}

/** The loss 'auto' picks for column t (AUTO_LOSSES: BCE for a column of 0s and 1s, MSE otherwise). */
export function detectLoss(table: TaskTable, t: number): LossSpec {
  const T = table.targetNames.length;
  return autoLoss((kind) => {
    for (let r = 0; r < table.rows; r++) if (table.mask[r * T + t] !== 0 && !LOSSES[kind].accepts(table.Y[r * T + t]!)) return false;
    return true;
  });
}

export function resolveLosses(table: TaskTable, choice: PrepareOptions['loss']): LossSpec[] {
  const T = table.targetNames.length;
  const choices = typeof choice === 'string' ? Array<LossChoice>(T).fill(choice) : [...choice];
  if (choices.length !== T) throw new DataError(`${choices.length} loss choices for ${T} targets`);
  return choices.map((c, t) => {
    const loss = c === 'auto' ? detectLoss(table, t) : c;
    const { entry } = resolveLoss(loss);
    const T = table.targetNames.length;
    for (let r = 0; r < table.rows; r++) {
      const v = table.Y[r * T + t]!;
      if (table.mask[r * T + t] === 0 || entry.accepts(v)) continue;
      throw new DataError(`${rowPlace(table, r)}, column "${table.targetNames[t]}": ${v} is not ${entry.acceptsText}, so the task cannot use the ${entry.kind.toUpperCase()} loss`);
    }
    return loss;
  });
}

/** Regression targets are standardised by their fit; binary targets stay 0/1. */
export function targetStandardizer(losses: readonly LossSpec[], fit: Standardizer): Standardizer {
  const y = identityStandardizer(losses.length);
  losses.forEach((loss, t) => {
    if (resolveLoss(loss).entry.standardizeTargets) {
      y.mean[t] = fit.mean[t]!;
      y.std[t] = fit.std[t]!;
    }
  });
  return y;
}

export function toDataset(table: TaskTable, x: Standardizer, y: Standardizer): Dataset {
  return {
    rows: table.rows,
    X: standardize(table.X, table.featureNames.length, x),
    Y: standardize(table.Y, table.targetNames.length, y).map((v, i) => (table.mask[i] ? v : 0)),
    mask: Float32Array.from(table.mask),
  };
}

export function prepareProblem(train: TaskTable, test: TaskTable | undefined, options: PrepareOptions): Problem {
  const losses = resolveLosses(train, options.loss);
  let fit = train;
  let validation: TaskTable | undefined;
  if ((options.validationSplit ?? 0) > 0) [fit, validation] = splitRows(train, options.validationSplit!, splitSeed(options.seed, 'validation'), 'validation');
  const T = train.targetNames.length;
  const x = fitStandardizer(fit.X, fit.rows, fit.featureNames.length);
  const y = targetStandardizer(losses, fitStandardizer(fit.Y, fit.rows, T, fit.mask));
  const prepared = (table: TaskTable): PreparedSplit => ({ table, data: toDataset(table, x, y) });
  return {
    featureNames: train.featureNames,
    targetNames: train.targetNames,
    losses,
    x,
    y,
    train: prepared(fit),
    validation: validation && prepared(validation),
    test: test && prepared(test),
  };
}

/** The seed of each held-out split, derived from the run's seed: the one owner of these numbers. */
export function splitSeed(seed: number, split: 'test' | 'validation'): number {
  return (seed ^ (split === 'test' ? 0x7e57 : 0x9e3779b9)) >>> 0;
}

/** A seeded random `fraction` of the rows held out: [kept, held], each in file order. */
export function splitRows(table: TaskTable, fraction: number, seed: number, what: string): [TaskTable, TaskTable] {
  if (!(fraction > 0 && fraction < 1)) throw new DataError(`${what} split ${fraction} must be between 0 and 1`);
  if (table.groups) return splitGroups(table, table.groups, fraction, seed, what);
  const order = new Random(seed).shuffle(Uint32Array.from({ length: table.rows }, (_, i) => i));
  const held = Math.max(1, Math.round(table.rows * fraction));
  if (held >= table.rows) throw new DataError(`${what} split ${fraction} leaves no training rows out of ${table.rows}`);
  return [selectRows(table, order.subarray(held).sort()), selectRows(table, order.subarray(0, held).sort())];
}

/**
 * A split that keeps every group whole (like scikit-learn's GroupShuffleSplit): groups in a seeded
 * random order are held out until they hold `fraction` of the rows, so no group is on both sides.
 */
function splitGroups(table: TaskTable, groups: readonly string[], fraction: number, seed: number, what: string): [TaskTable, TaskTable] {
  const rowsOf = new Map<string, number[]>();
  groups.forEach((g, r) => rowsOf.set(g, [...(rowsOf.get(g) ?? []), r]));
  const names = [...rowsOf.keys()];
  if (names.length < 2) throw new DataError(`${what} split by group: only ${names.length} group, so no group is left to hold out and train on`);
  const order = new Random(seed).shuffle(Uint32Array.from({ length: names.length }, (_, i) => i));
  const wanted = Math.max(1, Math.round(table.rows * fraction));
  const held: number[] = [];
  let heldGroups = 0;
  for (const i of order) {
    if (held.length >= wanted || heldGroups === names.length - 1) break;
    held.push(...rowsOf.get(names[i]!)!);
    heldGroups++;
  }
  const isHeld = new Uint8Array(table.rows);
  for (const r of held) isHeld[r] = 1;
  const kept = Uint32Array.from({ length: table.rows }, (_, r) => r).filter((r) => !isHeld[r]);
  return [selectRows(table, kept), selectRows(table, Uint32Array.from(held).sort())];
}
