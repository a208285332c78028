// Training on rows larger than memory. One pass over the source's windows fits the
// standardisation (Welford's running moments), picks each task's loss, holds out the validation
// rows (each row by a hash of its index, so the choice needs no memory) and keeps a sample of
// training rows for the before/after loss. Each epoch then reads the windows again in a seeded
// random order, shuffles the rows within each window, and hands the trainer shards of whole
// batches; only one window is in memory at a time.
import type { Dataset } from '../core/backend.js';
import { autoLoss, LOSS_KINDS, LOSSES, resolveLoss, type LossKind, type LossSpec } from '../core/losses.js';
import { DataError } from '../data/csv.js';
import type { RowSource, RowWindow } from '../data/source.js';
import { identityStandardizer, type Standardizer } from '../data/standardize.js';
import type { TaskTable } from '../data/table.js';
import { splitSeed, targetStandardizer, toDataset, type LossChoice, type Problem } from '../train/prepare.js';
import type { RowStream } from '../train/trainer.js';
import { hashUnit, type Random } from '../util/random.js';

/** Validation rows kept in memory at most (the split's fraction is lowered to stay under it). */
export const STREAM_VALIDATION_CAP = 65_536;
/** Training rows kept for the loss before and after training. */
export const STREAM_SAMPLE_ROWS = 8_192;

export interface StreamPlan {
  loss: LossChoice | readonly LossChoice[];
  validationSplit: number;
  seed: number;
  shuffle: boolean;
  test?: TaskTable;
}

export type StreamedProblem = Problem & { stream: RowStream & { windows: number } };

/** Columns' running mean and sum of squared deviations (Welford), over the entries with mask 1. */
class Moments {
  readonly count: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(width: number) {
    this.count = new Float64Array(width);
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
  }
  add(j: number, value: number): void {
    const n = ++this.count[j]!;
    const delta = value - this.mean[j]!;
    this.mean[j]! += delta / n;
    this.m2[j]! += delta * (value - this.mean[j]!);
  }
  /** As fitStandardizer: population deviation; a constant (or empty) column gets std 1. */
  standardizer(): Standardizer {
    const s = identityStandardizer(this.mean.length);
    this.mean.forEach((m, j) => {
      if (this.count[j] === 0) return;
      s.mean[j] = m;
      const std = Math.sqrt(this.m2[j]! / this.count[j]!);
      s.std[j] = std > 1e-12 * Math.max(1, Math.abs(m)) ? std : 1;
    });
    return s;
  }
}

/** Collects rows of windows into one table (validation rows, the sample). */
class RowCollector {
  private X: number[] = [];
  private Y: number[] = [];
  private mask: number[] = [];
  private lines: number[] = [];
  rows = 0;
  constructor(
    private readonly d: number,
    private readonly T: number,
  ) {}
  add(w: RowWindow, r: number): void {
    for (let j = 0; j < this.d; j++) this.X.push(w.X[r * this.d + j]!);
    for (let t = 0; t < this.T; t++) {
      this.Y.push(w.Y[r * this.T + t]!);
      this.mask.push(w.mask[r * this.T + t]!);
    }
    this.lines.push(w.source?.lines[r] ?? w.first + r + 1);
    this.rows++;
  }
  table(source: RowSource): TaskTable {
    return {
      featureNames: source.featureNames,
      targetNames: source.taskNames,
      rows: this.rows,
      X: Float64Array.from(this.X),
      Y: Float64Array.from(this.Y),
      mask: Float64Array.from(this.mask),
      source: { file: source.name, lines: this.lines },
    };
  }
}

const place = (w: RowWindow, r: number) => (w.source ? `${w.source.file}: line ${w.source.lines[r]}` : `row ${w.first + r + 1}`);

export async function prepareStream(source: RowSource, plan: StreamPlan, signal?: AbortSignal): Promise<StreamedProblem> {
  const d = source.featureNames.length;
  const T = source.taskNames.length;
  const heldFraction = plan.validationSplit > 0 ? Math.min(plan.validationSplit, STREAM_VALIDATION_CAP / Math.max(1, source.rows)) : 0;
  const validationSeed = splitSeed(plan.seed, 'validation');
  const isHeld = (row: number) => heldFraction > 0 && hashUnit(validationSeed, row) < heldFraction;

  const xMoments = new Moments(d);
  const yMoments = new Moments(T);
  // For each task, the losses an observed value rules out (their `accepts` refuses it), with the
  // first such value and where it is: what 'auto' picks and an explicit choice's error. The
  // readers pass only finite values, so only the losses that take fewer are watched (BCE: 0 or 1).
  const restricted = LOSS_KINDS.filter((kind) => LOSSES[kind].accepts !== Number.isFinite);
  const refused = Array.from({ length: T }, () => new Map<LossKind, { at: string; value: number }>());
  const validation = new RowCollector(d, T);
  const sample = new RowCollector(d, T);
  let trainRows = 0;
  for (let k = 0; k < source.windows; k++) {
    signal?.throwIfAborted();
    const w = await source.readWindow(k);
    for (let r = 0; r < w.rows; r++) {
      if (isHeld(w.first + r)) {
        validation.add(w, r);
        continue;
      }
      trainRows++;
      if (sample.rows < STREAM_SAMPLE_ROWS) sample.add(w, r);
      for (let j = 0; j < d; j++) xMoments.add(j, w.X[r * d + j]!);
      for (let t = 0; t < T; t++) {
        if (w.mask[r * T + t] === 0) continue;
        const v = w.Y[r * T + t]!;
        yMoments.add(t, v);
        for (const kind of restricted) if (!LOSSES[kind].accepts(v) && !refused[t]!.has(kind)) refused[t]!.set(kind, { at: place(w, r), value: v });
      }
    }
  }
  if (trainRows === 0) throw new DataError(`${source.name}: no training rows (${source.rows} rows, all held out for validation)`);

  const choices = typeof plan.loss === 'string' ? Array<LossChoice>(T).fill(plan.loss) : [...plan.loss];
  if (choices.length !== T) throw new RangeError(`losses lists ${choices.length} losses for ${T} tasks`);
  const losses: LossSpec[] = choices.map((choice, t) => {
    if (choice === 'auto') return autoLoss((kind) => !refused[t]!.has(kind));
    const { entry } = resolveLoss(choice);
    const first = refused[t]!.get(entry.kind);
    if (first)
      throw new DataError(`${first.at}, column "${source.taskNames[t]}": ${first.value} is not ${entry.acceptsText}, so the task cannot use the ${entry.kind.toUpperCase()} loss`);
    return choice;
  });
  const x = xMoments.standardizer();
  const y = targetStandardizer(losses, yMoments.standardizer());
  const prepared = (table: TaskTable) => ({ table, data: toDataset(table, x, y) });
  const sampleTable = sample.table(source);
  const validationTable = validation.rows > 0 ? validation.table(source) : undefined;

  const stream = {
    rows: trainRows,
    windows: source.windows,
    async *shards(random: Random, batch: number, maxRows: number): AsyncIterable<Dataset> {
      const order = Uint32Array.from({ length: source.windows }, (_, k) => k);
      if (plan.shuffle) random.shuffle(order);
      let carry: Dataset | undefined; // the rows short of a whole batch at a window's end
      for (const k of order) {
        const w = await source.readWindow(k);
        const kept = Uint32Array.from({ length: w.rows }, (_, r) => r).filter((r) => !isHeld(w.first + r));
        if (plan.shuffle) random.shuffle(kept);
        const data = concat(carry, toDataset(pick(w, kept), x, y));
        const whole = Math.floor(data.rows / batch) * batch;
        const step = Math.max(batch, Math.floor(maxRows / batch) * batch);
        for (let start = 0; start < whole; start += step) yield slice(data, start, Math.min(whole, start + step), d, T);
        carry = whole < data.rows ? slice(data, whole, data.rows, d, T) : undefined;
      }
      if (carry) yield carry;
    },
  };
  return {
    featureNames: source.featureNames,
    targetNames: source.taskNames,
    losses,
    x,
    y,
    train: prepared(sampleTable),
    validation: validationTable && prepared(validationTable),
    test: plan.test && prepared(plan.test),
    stream,
  };
}

function pick(w: RowWindow, rows: Uint32Array): TaskTable {
  const d = w.featureNames.length;
  const T = w.targetNames.length;
  const X = new Float64Array(rows.length * d);
  const Y = new Float64Array(rows.length * T);
  const mask = new Float64Array(rows.length * T);
  rows.forEach((r, i) => {
    X.set(w.X.subarray(r * d, r * d + d), i * d);
    Y.set(w.Y.subarray(r * T, r * T + T), i * T);
    mask.set(w.mask.subarray(r * T, r * T + T), i * T);
  });
  return { featureNames: w.featureNames, targetNames: w.targetNames, rows: rows.length, X, Y, mask };
}

function slice(data: Dataset, start: number, end: number, d: number, T: number): Dataset {
  return { rows: end - start, X: data.X.slice(start * d, end * d), Y: data.Y.slice(start * T, end * T), mask: data.mask.slice(start * T, end * T) };
}

function concat(a: Dataset | undefined, b: Dataset): Dataset {
  if (!a) return b;
  const join = (x: Float32Array, y: Float32Array) => {
    const out = new Float32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { rows: a.rows + b.rows, X: join(a.X, b.X), Y: join(a.Y, b.Y), mask: join(a.mask, b.mask) };
}
