// `sigmtl train`: the library's train() on a data set from sigmtl/node, then the report, the model
// file and (on divergence) the last good parameters. Human output goes to stdout (or stderr with
// --json), progress to stderr.
import {
  isCheckpoint,
  loadDataset,
  LOSS_KINDS,
  openCsvStream,
  openParquetStream,
  readCsv,
  readFileBytes,
  saveModel,
  train as trainModel,
  TrainingDivergedError,
  WEIGHTING_KINDS,
  WEIGHTINGS,
  writeFileAtomic,
  type MetricsReport,
  type ProgressReport,
  type RowSource,
  type TrainResult,
  type WeightingKind,
} from 'sigmtl/node';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { flag, parse, UsageError } from '../args.js';
import { refuseClobber } from '../paths.js';
import { createOutput, formatNumber, metricsTable, table, type Output } from '../output.js';
import { createProgress } from '../progress.js';
import { checkCouplingFile, trainHelp, trainJobFromArgs, trainOptions, type TrainJob } from '../train-job.js';

export { trainHelp };

export async function train(argv: string[]): Promise<number> {
  const p = parse(argv, trainOptions);
  if (flag(p, 'help')) {
    process.stdout.write(trainHelp);
    return 0;
  }
  const job = await trainJobFromArgs(p);
  const toStdout = job.modelPath === '-';
  if (toStdout && flag(p, 'json')) throw new UsageError('--out - and --json both want stdout: choose one');
  // With the model on stdout, everything else goes to stderr.
  const out = createOutput(flag(p, 'json') || toStdout, flag(p, 'quiet'));
  const isFile = (data: string) => !['yeast', 'enb2012', 'sarcos-arm', 'synthetic'].includes(data);
  const inputs = [
    ['--data', isFile(job.data) ? job.data : undefined],
    ['--test', job.load.test],
    ['--A-init', job.aInitPath],
  ] as const;
  refuseClobber([['--out', job.modelPath]], [...inputs, ['--resume', job.resumePath]]);
  if (job.checkpointEvery > 0) {
    // Checkpointing into the file a run resumes from is how a long run goes on; anything else is refused.
    refuseClobber([['--checkpoint', job.checkpointPath]], [...inputs, ['--out', job.modelPath]]);
    if (existsSync(job.checkpointPath) && !isCheckpoint(await readFileBytes(job.checkpointPath))) {
      throw new Error(`--checkpoint ${job.checkpointPath} exists and is not a sigmtl checkpoint; refusing to overwrite it`);
    }
  }
  const streaming = await streamChoice(job, isFile(job.data));
  if (streaming?.notice) process.stderr.write(`note: ${streaming.notice}\n`);
  const dataset = streaming ? undefined : await loadDataset(job.data, job.load);
  const test = streaming ? (job.load.test ? await readCsv(job.load.test, { targets: job.load.targets, features: job.load.features }) : undefined) : dataset!.test;
  if (dataset?.metaFile) process.stderr.write(`note: columns from ${dataset.metaFile}\n`);
  const source = streaming && (await streaming.open());
  checkCouplingFile(job, source ? source.taskNames.length : dataset!.train.taskNames.length);
  const name = dataset?.name ?? job.data;
  const epochs = job.options.epochs ?? 200;
  const progress = createProgress(!out.quiet, process.stderr, epochs);
  const resume = job.resumePath ? await readFileBytes(job.resumePath) : undefined;
  if (job.resumePath) out.info(`resuming from ${job.resumePath}`);
  let result: TrainResult;
  let wallSeconds = 0;
  try {
    const common = {
      ...job.options,
      test,
      resume,
      provenance: { data: name },
      onProgress: (r: ProgressReport) => progress.update(r),
      checkpoint: job.checkpointEvery > 0 ? { every: job.checkpointEvery, write: (bytes: Uint8Array) => writeFileAtomic(job.checkpointPath, bytes) } : undefined,
    };
    const started = performance.now();
    result = source ? await trainModel({ ...common, stream: source }) : await trainModel({ ...dataset!.train, ...common, testSplit: test ? 0 : job.testSplit });
    wallSeconds = (performance.now() - started) / 1000;
  } catch (error) {
    progress.stop();
    if (error instanceof TrainingDivergedError) {
      const rescue = (toStdout ? 'runs/stdout' : job.modelPath.replace(/\.safetensors$/, '')) + '.last-good.safetensors';
      await saveModel(rescue, error.lastGoodModel);
      throw new Error(`${error.message}\nThe last good parameters (end of the previous epoch) are in ${rescue}.`);
    }
    throw error;
  }
  progress.stop();
  if (result.notice) process.stderr.write(`note: ${result.notice}\n`);
  if (toStdout) process.stdout.write(result.model.toSafetensors());
  else await saveModel(job.modelPath, result.model);

  // Synthetic data: how well the student reproduces the teacher's noise-free outputs.
  let teacher: MetricsReport | undefined;
  if (dataset?.teacherOutputs && test) teacher = await result.model.evaluate(test.features, dataset.teacherOutputs);

  report(out, name, job.modelPath, result, teacher, wallSeconds);
  return result.agreement.ok ? 0 : 3;
}

/** The run's summary: metrics tables and one-line facts (stdout, or stderr under --json), and the JSON result. */
function report(out: Output, name: string, modelPath: string, result: TrainResult, teacher: MetricsReport | undefined, wallSeconds: number): void {
  const { shape, losses } = result.model;
  const lossKinds = LOSS_KINDS.map((kind) => [losses.filter((l) => l.split(':')[0] === kind).length, kind.toUpperCase()] as const)
    .filter(([n]) => n > 0)
    .map(([n, kind]) => `${n} ${kind}`)
    .join(', ');
  out.info(`sigmtl: ${name}, ${result.trainingRows} training rows, d=${shape.features}, H=${shape.hidden}, T=${shape.tasks} (${lossKinds})`);
  out.info(`backend: ${result.backend} — ${result.adapter}`);
  out.info('');
  out.info(`${result.evaluatedOn} metrics (${result.evaluatedRows} rows):`);
  out.info(metricsTable(result.metrics));
  if (teacher) out.info(`\nagainst the teacher's noise-free outputs: macro R² ${formatNumber(teacher.overall.macroR2)}`);
  if (result.baseline) {
    out.info(`\nlinear least-squares baseline (regression tasks, same ${result.evaluatedOn} rows):`);
    out.info(metricsTable(result.baseline));
  }
  if (result.search) out.info('\n' + searchSummary(result));
  const weighting = result.model.hyperparameters.weighting;
  const how = typeof weighting === 'string' && (WEIGHTING_KINDS as readonly string[]).includes(weighting) ? WEIGHTINGS[weighting as WeightingKind].reportedWeights : undefined;
  if (how) {
    const weights = Object.entries(result.taskWeights).map(([name, w]) => `${name} ${formatNumber(w, 3)}`);
    out.info(`\ntask weights ${how}: ${weights.join(', ')}`);
  }
  if (result.comparison) out.info('\n' + comparisonTable(result));
  out.info('');
  out.info(
    `trained ${trainingTime(result)}; ` +
      `training loss ${formatNumber(result.lossFirst)} → ${formatNumber(result.lossLast)}` +
      (result.bestEpoch !== undefined ? `; best validation loss ${formatNumber(result.bestValidationLoss)} at epoch ${result.bestEpoch + 1}` : ''),
  );
  out.info(
    `check: ${result.backend} predictions vs float64 CPU on ${result.evaluatedRows} rows: max abs diff ${result.agreement.maxAbsDiff.toExponential(2)} ` +
      `${result.agreement.ok ? 'ok' : 'MISMATCH'}` +
      (result.verifiedSteps ? `; ${result.verifiedSteps} training steps verified against the reference` : ''),
  );
  out.info(`model written to ${modelPath === '-' ? 'stdout' : modelPath}`);
  out.result({
    backend: result.backend,
    adapter: result.adapter,
    dataset: name,
    steps: result.steps,
    epochs: result.epochs,
    seconds: result.seconds,
    wallSeconds,
    stepsPerSecond: result.stepsPerSecond,
    lossFirst: result.lossFirst,
    lossLast: result.lossLast,
    model: modelPath,
    split: result.evaluatedOn,
    trainingRows: result.trainingRows,
    validationRows: result.validationRows,
    metrics: result.metrics,
    baseline: result.baseline,
    teacher,
    maxAbsDiffVsCpu: result.agreement.maxAbsDiff,
    verifiedSteps: result.verifiedSteps,
    stoppedEarly: result.stoppedEarly,
    bestEpoch: result.bestEpoch,
    taskWeights: result.taskWeights,
    hiddenSearch: result.hiddenSearch,
    search: result.search,
    deltaM: result.comparison?.deltaM,
    singleTask: result.comparison?.singleTask,
    deltaMPerTask: result.comparison?.deltaMPerTask,
    noCoupling: result.comparison?.noCoupling,
  });
}

/**
 * Steps and time: after a model search, its wall time and then the chosen model's own steps (the
 * result's `seconds` and `stepsPerSecond` are those of the steps after the search).
 */
function trainingTime(result: TrainResult): string {
  const rate = `${result.stepsPerSecond.toFixed(0)} steps/s`;
  const steps = `${result.steps} steps (${result.epochs} epochs)`;
  if (!result.search) return `${steps} in ${result.seconds.toFixed(2)} s, ${rate}`;
  const after = Math.round(result.stepsPerSecond * result.seconds);
  return `${steps}: the model search took ${result.search.seconds.toFixed(2)} s, then the chosen model's last ${after} steps ${result.seconds.toFixed(2)} s, ${rate}`;
}

/** The default model search: each candidate's last rung, epochs and best validation loss; the choice and why. */
function searchSummary(result: TrainResult): string {
  const search = result.search!;
  const { hidden, learningRate } = search.chosen;
  const rows = [...search.tried]
    .sort((a, b) => b.rung - a.rung || a.validationLoss - b.validationLoss)
    .map((c) => [
      String(c.hidden),
      String(c.learningRate),
      `${c.rung}/${search.rungs.length}`,
      String(c.epochs),
      Number.isFinite(c.validationLoss) ? formatNumber(c.validationLoss) : 'diverged',
      c.hidden === hidden && c.learningRate === learningRate ? '← chosen' : '',
    ]);
  const plan = search.rungs.map((r) => `${r.candidates} to epoch ${r.epochs}`).join(', ');
  return [
    `model search (${plan}; ${search.seconds.toFixed(1)} s): H = ${hidden}, lr ${learningRate} — ${search.reason}`,
    ...(search.patience.reason ? [`(${search.patience.reason})`] : []),
    table(['H', 'lr', 'rung', 'epochs', 'best val loss', ''], rows),
    `(a fixed --hidden H skips the search; --hidden ${hidden} --lr ${learningRate}${search.patience.reason ? ` --patience ${search.patience.epochs}` : ''} trains this model from the start)`,
  ].join('\n');
}

/** Multi-task against single-task models and the no-coupling ablation, per task, and Δm. */
function comparisonTable(result: TrainResult): string {
  const c = result.comparison!;
  const signed = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)} %` : '—');
  const rows = Object.entries(c.singleTask).map(([name, single]) => {
    const key = single.kind === 'regression' ? 'rmse' : 'auc';
    const value = (m: unknown) => formatNumber((m as Record<string, number> | undefined)?.[key]);
    return [name, key === 'rmse' ? 'RMSE' : 'AUC', value(result.metrics.tasks[name]), value(single), value(c.noCoupling.metrics.tasks[name]), signed(c.deltaMPerTask[name]!)];
  });
  return [
    `single-task comparison (same H = ${result.model.shape.hidden}, optimizer, epochs, seed and splits; ${result.evaluatedOn} rows):`,
    table(['task', 'metric', 'multi-task', 'single-task', 'no coupling', 'Δm'], rows),
    `Δm, multi-task against single-task: ${signed(c.deltaM)} (positive: sharing helped; LibMTL's definition over RMSE, MAE or accuracy, F1, AUC)`,
    `no-coupling ablation (H = T, A = I frozen — starved of units, not a baseline): Δm ${signed(c.noCoupling.deltaM)}; extra models took ${c.seconds.toFixed(1)} s`,
  ].join('\n');
}

/**
 * Whether to stream the data file rather than read it whole: asked for (--stream), a Parquet file
 * (always read window by window), or a CSV larger than the memory budget (with a notice).
 */
async function streamChoice(job: TrainJob, isFile: boolean): Promise<{ open: () => Promise<RowSource>; notice?: string } | undefined> {
  if (!isFile || job.data === '-') {
    if (job.stream)
      throw new UsageError(job.data === '-' ? '--stream reads the file several times: it cannot stream stdin' : `--stream is for data files, not the bundled set ${job.data}`);
    return undefined;
  }
  const parquet = /\.parquet$/i.test(job.data);
  const size = (await stat(job.data).catch(() => undefined))?.size ?? 0;
  const large = size > job.memoryBudget;
  if (!job.stream && !parquet && !large) return undefined;
  if (!job.load.targets?.length) throw new UsageError('streaming a file needs --targets (the columns to predict)');
  const refused = [
    ['--compare-single-task', job.options.compareSingleTask],
    ['--hidden auto', job.options.hidden === 'auto'],
    ['--group-column', job.load.groupColumn !== undefined],
  ] as const;
  for (const [flagName, on] of refused) if (on) throw new UsageError(`${flagName} needs every row in memory; it is not available when streaming ${job.data}`);
  const options = { targets: job.load.targets, features: job.load.features, memoryBudget: job.memoryBudget };
  const notice =
    large && !job.stream && !parquet
      ? `${job.data} is ${formatBytes(size)}, over the memory budget (${formatBytes(job.memoryBudget)}): streaming it window by window (--memory-budget to change)`
      : undefined;
  return { open: () => (parquet ? openParquetStream(job.data, options) : openCsvStream(job.data, options)), notice };
}

const formatBytes = (n: number) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`);
