// The options of `sigmtl train`, turned into everything a run needs: the data and the prepared
// problem, the backend configuration, the optimizer and schedule, and where files go.
import { readFile } from 'node:fs/promises';
import { parseCsv, DataError } from '../data/csv.js';
import type { LossKind, TaskSpec } from '../core/losses.js';
import { DEFAULT_OPTIMIZER, type OptimizerConfig, type OptimizerKind } from '../core/optimizers.js';
import type { BackendConfig } from '../core/backend.js';
import type { CouplingInit } from '../core/init.js';
import type { TrainedModel } from '../model/model.js';
import { prepareProblem, splitRows, type LossChoice, type Problem } from '../train/prepare.js';
import { DEFAULT_SCHEDULE, type Schedule, type ScheduleKind } from '../train/schedule.js';
import { choice, flag, list, number, text, UsageError, type OptionSpec, type Parsed } from './args.js';
import type { BackendChoice } from './backend.js';
import { loadTables, type LoadedTables } from './node-data.js';

export const trainHelp = `sigmtl train — train a multi-task model y = A·σ(W·x + b) + c

Usage: sigmtl train --data <yeast|enb2012|sarcos-arm|synthetic|file.csv> [options]

Data
  --data NAME|FILE      bundled data set, "synthetic", or a CSV file with a header row
  --test FILE           test CSV (bundled sets use their own test split when they have one)
  --targets LIST        target columns: names, comma lists, globs ("y_*"); default from meta.json
  --features LIST       feature columns (default: every other column)
  --val-split F         fraction of the training rows held out for validation and early stopping (0.1)
  --test-split F        fraction held out as the test set when there is no test file (0.2)
  --synthetic-features N, --synthetic-tasks N, --synthetic-rows N, --synthetic-noise S
Model
  --hidden H            shared hidden units (default: the number of tasks)
  --loss auto|mse|bce   or a comma list per task (auto: BCE for 0/1 columns)
  --task-weights LIST   per-task loss weights (default 1 each)
  --A-init identity|random|FILE.csv   task-coupling matrix A (T rows × H columns in the CSV)
  --freeze-A            keep A as initialised
  --A-l1 λ              L1 penalty λ·Σ|A| (sparse coupling)
  --A-identity λ        penalty (λ/2)·‖A − I‖² pulling A toward the identity (tasks keep their own unit)
Optimisation
  --optimizer sgd|momentum|adam (adam)   --lr R (0.01)   --momentum M (0.9)   --weight-decay L (0)
  --schedule constant|step|cosine (constant)   --warmup STEPS (0)   --step-every STEPS   --gamma G
  --batch-size B (64)   --epochs E (200)   --patience P (10; 0 = off): early stopping on the
                        validation loss, restoring the best epoch's parameters
  --seed S (1)
Checks and files
  --verify-every K      recompute every K-th step on the CPU reference; stop if they disagree
  --baseline            also fit a linear least-squares baseline per regression task and report it
  --out FILE            model file (default: runs/<data>.safetensors)
  --checkpoint FILE --checkpoint-every E    write a checkpoint every E epochs
  --resume FILE         continue from a checkpoint (same data and options)
Output
  --backend webgpu|cpu|auto (auto)   --json   --quiet

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
  'val-split': { type: 'string' },
  'test-split': { type: 'string' },
  'synthetic-features': { type: 'string' },
  'synthetic-tasks': { type: 'string' },
  'synthetic-rows': { type: 'string' },
  'synthetic-noise': { type: 'string' },
  hidden: { type: 'string' },
  loss: { type: 'string' },
  'task-weights': { type: 'string' },
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
  'report-every': { type: 'string' },
  out: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
};

async function couplingInit(value: string, T: number, H: number): Promise<CouplingInit> {
  if (value === 'identity' || value === 'random') return value;
  const table = parseCsv(await readFile(value, 'utf8').catch(() => Promise.reject(new DataError(`${value}: no such file`))), value);
  // The header row names the hidden units; each following row is one task's row of A.
  const rows = [table.columns, ...table.rows].filter((r) => r.every((c) => c.trim() !== '' && Number.isFinite(Number(c))));
  if (rows.length !== T || rows.some((r) => r.length !== H)) {
    throw new DataError(`${value}: A must be ${T} rows (tasks) × ${H} columns (hidden units) of numbers, got ${rows.length} rows × ${rows[0]?.length ?? 0}`);
  }
  return Float64Array.from(rows.flat().map(Number));
}

export interface TrainJob {
  seed: number;
  tables: LoadedTables;
  problem: Problem;
  config: BackendConfig;
  backendChoice: BackendChoice;
  aInit: CouplingInit;
  schedule: Schedule;
  epochs: number;
  patience: number;
  reportEvery: number;
  verifyEvery: number;
  modelPath: string;
  checkpointPath: string;
  checkpointEvery: number;
  resumePath?: string;
  baseline: boolean;
  hyper: TrainedModel['hyper'];
}

export async function trainJobFromArgs(p: Parsed): Promise<TrainJob> {
  const seed = number(p, 'seed', 1, { integer: true, min: 0 });
  const dataName = text(p, 'data');
  if (!dataName) throw new UsageError('--data is required (yeast, enb2012, sarcos-arm, synthetic, or a CSV file)');
  const tables = await loadTables({
    data: dataName,
    test: text(p, 'test'),
    targets: list(p, 'targets'),
    features: list(p, 'features'),
    seed,
    synthetic: {
      features: number(p, 'synthetic-features', 10, { integer: true, min: 1 }),
      tasks: number(p, 'synthetic-tasks', 5, { integer: true, min: 1 }),
      rows: number(p, 'synthetic-rows', 2000, { integer: true, min: 2 }),
      noise: number(p, 'synthetic-noise', 0.05, { min: 0 }),
    },
  });
  const T = tables.train.targetNames.length;
  const lossArg = list(p, 'loss') ?? ['auto'];
  for (const l of lossArg) if (!['auto', 'mse', 'bce'].includes(l)) throw new UsageError(`--loss: "${l}" is not auto, mse or bce`);
  if (lossArg.length !== 1 && lossArg.length !== T) throw new UsageError(`--loss lists ${lossArg.length} losses for ${T} targets`);
  const validationSplit = number(p, 'val-split', 0.1, { min: 0, max: 0.9 });
  const testSplit = number(p, 'test-split', 0.2, { min: 0, max: 0.9 });
  if (!tables.test && testSplit > 0) [tables.train, tables.test] = splitRows(tables.train, testSplit, seed ^ 0x7e57, 'test');
  const problem = prepareProblem(tables.train, tables.test, {
    loss: lossArg.length === 1 ? (lossArg[0] as LossChoice) : (lossArg as LossChoice[]),
    validationSplit,
    seed,
  });

  const weights = list(p, 'task-weights')?.map(Number) ?? Array<number>(T).fill(1);
  if (weights.length !== T || weights.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new UsageError(`--task-weights needs ${T} non-negative numbers, got "${text(p, 'task-weights')}"`);
  }
  const tasks: TaskSpec[] = problem.losses.map((loss: LossKind, t) => ({ loss, weight: weights[t]! }));
  const hidden = number(p, 'hidden', T, { integer: true, min: 1 });
  const shape = { features: problem.featureNames.length, hidden, tasks: T };
  const optimizer: OptimizerConfig = {
    ...DEFAULT_OPTIMIZER,
    kind: choice<OptimizerKind>(p, 'optimizer', ['sgd', 'momentum', 'adam'], 'adam'),
    learningRate: number(p, 'lr', 0.01, { min: 0 }),
    momentum: number(p, 'momentum', 0.9, { min: 0, max: 1 }),
    weightDecay: number(p, 'weight-decay', 0, { min: 0 }),
  };
  const batchSize = number(p, 'batch-size', 64, { integer: true, min: 1 });
  const epochs = number(p, 'epochs', 200, { integer: true, min: 1 });
  const maxBatch = Math.min(batchSize, problem.train.data.rows);
  const coupling = {
    freezeA: flag(p, 'freeze-A'),
    l1A: number(p, 'A-l1', 0, { min: 0 }),
    identityA: number(p, 'A-identity', 0, { min: 0 }),
  };
  const config: BackendConfig = { shape, tasks, optimizer, maxBatch, coupling };
  const backendChoice = choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto');
  const aInit = await couplingInit(text(p, 'A-init', hidden === T ? 'identity' : 'random')!, T, hidden);
  const schedule = {
    ...DEFAULT_SCHEDULE,
    kind: choice<ScheduleKind>(p, 'schedule', ['constant', 'step', 'cosine'], 'constant'),
    warmupSteps: number(p, 'warmup', 0, { integer: true, min: 0 }),
    stepEvery: number(p, 'step-every', DEFAULT_SCHEDULE.stepEvery, { integer: true, min: 1 }),
    gamma: number(p, 'gamma', DEFAULT_SCHEDULE.gamma, { min: 0 }),
  };
  const patience = problem.validation ? number(p, 'patience', 10, { integer: true, min: 0 }) : 0;
  const modelPath = text(p, 'out', `runs/${tables.name}.safetensors`)!;
  const checkpointPath = text(p, 'checkpoint', modelPath.replace(/\.safetensors$/, '') + '.checkpoint.safetensors')!;
  const checkpointEvery = number(p, 'checkpoint-every', 0, { integer: true, min: 0 });
  const stepsPerEpoch = Math.ceil(problem.train.data.rows / maxBatch);

  const hyper = {
    data: tables.name,
    hidden,
    optimizer: optimizer.kind,
    lr: optimizer.learningRate,
    weightDecay: optimizer.weightDecay,
    batchSize,
    epochs,
    seed,
    schedule: schedule.kind,
    freezeA: coupling.freezeA,
    l1A: coupling.l1A,
    identityA: coupling.identityA,
    taskWeights: weights.join(','),
  };
  return {
    seed,
    tables,
    problem,
    config,
    backendChoice,
    aInit,
    schedule,
    epochs,
    patience,
    reportEvery: number(p, 'report-every', stepsPerEpoch, { integer: true, min: 1 }),
    verifyEvery: number(p, 'verify-every', 0, { integer: true, min: 0 }),
    modelPath,
    checkpointPath,
    checkpointEvery,
    resumePath: text(p, 'resume'),
    baseline: flag(p, 'baseline'),
    hyper,
  };
}
