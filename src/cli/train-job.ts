// The options of `sigmtl train` → a TrainJob: which data to load, the library's TrainOptions
// (checked again, by the library, before any work), and where files go. Syntax errors here are
// UsageErrors naming the flag; everything else is train()'s own validation.
import {
  DataError,
  DEFAULT_MEMORY_BUDGET,
  LOSS_KINDS,
  LOSSES,
  OPTIMIZER_KINDS,
  OPTIMIZERS,
  resolveLoss,
  readCsvText,
  readFileBytes,
  WEIGHTING_KINDS,
  WEIGHTINGS,
  type LoadDatasetOptions,
  type LossChoice,
  type TrainOptions,
} from 'sigmtl/node';
import { byteSize, choice, flag, list, number, text, UsageError, type OptionSpec, type Parsed } from './args.js';

export const trainHelp = `sigmtl train — train a multi-task model y = A·σ(W·x + b) + c

Usage: sigmtl train --data <yeast|enb2012|sarcos-arm|synthetic|file.csv> [options]

Data
  --data NAME|FILE      bundled data set, "synthetic", or a CSV file with a header row
  --test FILE           test CSV (bundled sets use their own test split when they have one)
  --targets LIST        target columns: names, comma lists, globs ("y_*"); default from meta.json
  --features LIST       feature columns (default: every other column)
  --stream              read the data file window by window instead of whole (for files larger than
                        memory; automatic for Parquet and for a CSV over --memory-budget)
  --memory-budget SIZE  memory one window may take while streaming (default 256M)
  --group-column NAME   each row's group (a subject, a site): test and validation splits keep
                        groups whole, so the model is judged on groups it never saw
  --val-split F         fraction of the training rows held out for validation and early stopping (0.1)
  --test-split F        fraction held out as the test set when there is no test file (0.2)
  --synthetic-features N, --synthetic-tasks N, --synthetic-rows N, --synthetic-noise S
Model
  --hidden H            shared hidden units. Default: chosen by validation loss — successive halving
                        over H ∈ {T, 16, 32, 64, 128} × lr ∈ {0.01, 0.003} (only the --lr given, if
                        one is): all train a few epochs, the best third 3× longer (the best of
                        each lr in turn), until two are left; the larger of those must be clearly
                        better (2 standard errors on the validation rows) to be kept; it trains
                        on to --epochs. The output says what was tried and why. Without
                        validation rows (--val-split 0) or streaming: T
  --loss auto|${LOSS_KINDS.map((k) => k + (LOSSES[k].parameter ? `[:${LOSSES[k].parameter.name}]` : '')).join('|')}   or a comma list per task
                        (auto: BCE for 0/1 columns, MSE otherwise; huber:δ: squared error within δ
                        standard deviations, absolute beyond, δ = 1 by default; quantile:q: the
                        q-th quantile, q = 0.5 by default — e.g. --loss quantile:0.05,quantile:0.95)
  --task-weights LIST   per-task loss weights (default 1 each)
  --weighting KIND      how the task losses combine (equal; --dwa-temperature τ for dwa, default 2):
${WEIGHTING_KINDS.map((k) => `                          ${k.padEnd(7)}${WEIGHTINGS[k].summary}`).join('\n')}
  --A-init identity|random|FILE.csv   task-coupling matrix A (T rows × H columns in the CSV)
  --freeze-A            keep A as initialised
  --A-l1 λ              L1 penalty λ·Σ|A| (sparse coupling)
  --A-identity λ        penalty (λ/2)·‖A − I‖² pulling A toward the identity (tasks keep their own unit)
Optimisation
  --optimizer KIND (adam)   --lr R (0.01; searched with --hidden unset)   --momentum M (0.9)   --weight-decay L (0)
${OPTIMIZER_KINDS.map((k) => `                          ${k.padEnd(9)}${OPTIMIZERS[k].summary}`).join('\n')}
  --schedule constant|step|cosine (constant)   --warmup STEPS (0)   --step-every STEPS   --gamma G
  --batch-size B (64)   --epochs E (200)   --patience P (10; 0 = off): early stopping on the
                        validation loss, restoring the best epoch's parameters (the model search, with
                        --hidden unset, waits 20 on a validation split under 1,000 rows)
  --seed S (1)
Checks and files
  --verify-every K      recompute every K-th step on the CPU reference; stop if they disagree
  --baseline            also fit a linear least-squares baseline per regression task and report it
  --compare-single-task also train one single-task model per task (same H, optimizer, epochs, seed,
                        splits) and the no-coupling ablation (H = T, A = I frozen); report Δm
  --out FILE            model file (default: runs/<data>.safetensors)
  --checkpoint FILE --checkpoint-every E    write a checkpoint every E epochs
  --resume FILE         continue from a checkpoint (same data and options)
Output
  --backend webgpu|cpu|wasm|auto (auto; wasm: the float32 WebAssembly SIMD CPU engine)   --json   --quiet

Examples
  sigmtl train --data yeast
  sigmtl train --data enb2012 --epochs 200 --val-split 0.2 --patience 20 --json
  sigmtl train --data my.csv --targets 'y_*' --loss bce --backend cpu
`;

export const trainOptions: OptionSpec = {
  data: { type: 'string' },
  test: { type: 'string' },
  targets: { type: 'string' },
  features: { type: 'string' },
  'group-column': { type: 'string' },
  stream: { type: 'boolean' },
  'memory-budget': { type: 'string' },
  'val-split': { type: 'string' },
  'test-split': { type: 'string' },
  'synthetic-features': { type: 'string' },
  'synthetic-tasks': { type: 'string' },
  'synthetic-rows': { type: 'string' },
  'synthetic-noise': { type: 'string' },
  hidden: { type: 'string' },
  loss: { type: 'string' },
  'task-weights': { type: 'string' },
  weighting: { type: 'string' },
  'dwa-temperature': { type: 'string' },
  'A-init': { type: 'string' },
  'freeze-A': { type: 'boolean' },
  'A-l1': { type: 'string' },
  'A-identity': { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'step-every': { type: 'string' },
  gamma: { type: 'string' },
  'batch-size': { type: 'string' },
  epochs: { type: 'string' },
  patience: { type: 'string' },
  seed: { type: 'string' },
  'verify-every': { type: 'string' },
  baseline: { type: 'boolean' },
  'compare-single-task': { type: 'boolean' },
  'report-every': { type: 'string' },
  out: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
};

/** --A-init FILE: a header row naming the hidden units, then one row of A per task, every cell a number. */
async function couplingFromCsv(path: string): Promise<number[][]> {
  const text = new TextDecoder().decode(await readFileBytes(path, 64 << 20).catch((error: Error) => Promise.reject(new DataError(error.message))));
  return parseCouplingCsv(text, path);
}

/** The rows of A in an --A-init CSV's text: a header naming the hidden units, then one row per task. */
export function parseCouplingCsv(text: string, path: string): number[][] {
  // Read as a table of features: every cell a decimal number within float32, errors naming the line and column.
  const table = readCsvText(text, { name: path, features: ['*'] });
  const H = table.featureNames.length;
  return Array.from({ length: table.features.length / H }, (_, t) => Array.from(table.features.subarray(t * H, t * H + H)));
}

export interface TrainJob {
  data: string;
  load: LoadDatasetOptions;
  options: Omit<TrainOptions, 'features' | 'targets'>;
  /** Test split when the data set has no test rows of its own. */
  testSplit: number;
  modelPath: string;
  checkpointPath: string;
  checkpointEvery: number;
  resumePath?: string;
  /** --A-init FILE, for errors about its shape. */
  aInitPath?: string;
  /** --stream: read the data file window by window (also for Parquet, and a CSV over the budget). */
  stream: boolean;
  /** --memory-budget, bytes. */
  memoryBudget: number;
}

export async function trainJobFromArgs(p: Parsed): Promise<TrainJob> {
  const data = text(p, 'data');
  if (!data) throw new UsageError('--data is required (yeast, enb2012, sarcos-arm, synthetic, or a CSV file)');
  const seed = number(p, 'seed', 1, { integer: true, min: 0 });
  const losses = list(p, 'loss') ?? ['auto'];
  const known = ['auto', ...LOSS_KINDS];
  for (const l of losses) {
    if (l === 'auto') continue;
    if (!known.includes(l.split(':')[0]!)) throw new UsageError(`--loss: "${l}" is not ${known.slice(0, -1).join(', ')} or ${known.at(-1)}`);
    try {
      resolveLoss(l);
    } catch (error) {
      throw new UsageError(`--loss: ${(error as Error).message}`);
    }
  }
  const weights = list(p, 'task-weights')?.map(Number);
  if (weights?.some((w) => !Number.isFinite(w) || w < 0)) throw new UsageError(`--task-weights must be non-negative numbers, got "${text(p, 'task-weights')}"`);
  const aInit = text(p, 'A-init');
  const name = data === '-' ? 'stdin' : data.replace(/^.*\//, '').replace(/\.csv$/i, '');
  const modelPath = text(p, 'out', `runs/${name}.safetensors`)!;
  const options: TrainJob['options'] = {
    losses: losses.length === 1 ? (losses[0] as LossChoice) : (losses as LossChoice[]),
    taskWeights: weights,
    weighting: { kind: choice(p, 'weighting', WEIGHTING_KINDS, 'equal'), temperature: number(p, 'dwa-temperature', 2, { above: 0 }) },
    hidden: p.values.hidden === undefined ? undefined : p.values.hidden === 'auto' ? 'auto' : number(p, 'hidden', 1, { integer: true, min: 1 }),
    epochs: number(p, 'epochs', 200, { integer: true, min: 1 }),
    batchSize: number(p, 'batch-size', 64, { integer: true, min: 1 }),
    optimizer: {
      kind: choice(p, 'optimizer', OPTIMIZER_KINDS, 'adam'),
      // Not given: the default model search tries 0.01 and 0.003 (and a fixed --hidden trains at 0.01).
      learningRate: p.values.lr === undefined ? undefined : number(p, 'lr', 0.01, { above: 0 }),
      momentum: number(p, 'momentum', 0.9, { min: 0, below: 1 }),
      weightDecay: number(p, 'weight-decay', 0, { min: 0 }),
    },
    schedule: {
      kind: choice(p, 'schedule', ['constant', 'step', 'cosine'] as const, 'constant'),
      warmupSteps: number(p, 'warmup', 0, { integer: true, min: 0 }),
      stepEvery: p.values['step-every'] === undefined ? undefined : number(p, 'step-every', 1, { integer: true, min: 1 }),
      gamma: p.values.gamma === undefined ? undefined : number(p, 'gamma', 1, { above: 0 }),
    },
    validationSplit: number(p, 'val-split', 0.1, { min: 0, max: 0.9 }),
    // Left to the library when not given: the default model search may wait longer on a small validation split.
    patience: p.values.patience === undefined ? undefined : number(p, 'patience', 10, { integer: true, min: 0 }),
    coupling: {
      init: aInit === undefined || aInit === 'identity' || aInit === 'random' ? (aInit as 'identity' | 'random' | undefined) : await couplingFromCsv(aInit),
      freeze: flag(p, 'freeze-A'),
      l1: number(p, 'A-l1', 0, { min: 0 }),
      towardIdentity: number(p, 'A-identity', 0, { min: 0 }),
    },
    seed,
    backend: choice(p, 'backend', ['webgpu', 'cpu', 'wasm', 'auto'] as const, 'auto'),
    reportEvery: p.values['report-every'] === undefined ? undefined : number(p, 'report-every', 1, { integer: true, min: 1 }),
    verifyEvery: number(p, 'verify-every', 0, { integer: true, min: 0 }),
    baseline: flag(p, 'baseline'),
    compareSingleTask: flag(p, 'compare-single-task'),
  };
  return {
    data,
    load: {
      test: text(p, 'test'),
      targets: list(p, 'targets'),
      features: list(p, 'features'),
      groupColumn: text(p, 'group-column'),
      synthetic: {
        features: number(p, 'synthetic-features', 10, { integer: true, min: 1 }),
        tasks: number(p, 'synthetic-tasks', 5, { integer: true, min: 1 }),
        rows: number(p, 'synthetic-rows', 2000, { integer: true, min: 2 }),
        noise: number(p, 'synthetic-noise', 0.05, { min: 0 }),
        seed,
      },
    },
    options,
    testSplit: number(p, 'test-split', 0.2, { min: 0, max: 0.9 }),
    modelPath,
    checkpointPath: text(p, 'checkpoint', (modelPath === '-' ? 'runs/stdout' : modelPath.replace(/\.safetensors$/, '')) + '.checkpoint.safetensors')!,
    checkpointEvery: number(p, 'checkpoint-every', 0, { integer: true, min: 0 }),
    stream: flag(p, 'stream'),
    memoryBudget: byteSize(p, 'memory-budget', DEFAULT_MEMORY_BUDGET),
    resumePath: text(p, 'resume'),
    aInitPath: aInit,
  };
}

/** --A-init FILE against the data's task count: T rows of H numbers, or an error naming the file. */
export function checkCouplingFile(job: TrainJob, tasks: number): void {
  const init = job.options.coupling?.init;
  if (!Array.isArray(init)) return;
  const H = job.options.hidden ?? tasks;
  if (init.length !== tasks || init.some((r) => (r as readonly number[]).length !== H)) {
    const cols = (init[0] as readonly number[] | undefined)?.length ?? 0;
    throw new DataError(`${job.aInitPath}: A must be ${tasks} rows (tasks) × ${H} columns (hidden units) of numbers, got ${init.length} rows × ${cols}`);
  }
}
