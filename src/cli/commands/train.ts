// `sigmtl train`: load data, train on WebGPU (or the CPU), report per-task test metrics, write
// the model, and cross-check the trained model's predictions against the float64 CPU backend.
import { CpuBackend } from '../../cpu/backend.js';
import { forward } from '../../cpu/reference.js';
import type { LossKind } from '../../core/losses.js';
import { initParameters } from '../../core/init.js';
import { parameterLayout } from '../../core/shape.js';
import { predictRaw, type TrainedModel } from '../../model/model.js';
import { encodeModel } from '../../io/model-format.js';
import { writeFileAtomic } from '../../io/files.js';
import { computeMetrics, type MetricsReport } from '../../train/metrics.js';
import { linearBaseline } from '../../train/baseline.js';
import { datasetLoss, DivergenceError, trainModel, type ResumeState } from '../../train/trainer.js';
import { compareArrays } from '../../util/compare.js';
import { flag, parse } from '../args.js';
import { adapterName, openBackend } from '../backend.js';
import { createOutput, formatNumber, metricsTable } from '../output.js';
import { createProgress } from '../progress.js';
import { encodeCheckpoint, readCheckpoint } from '../checkpoint.js';
import { trainHelp, trainJobFromArgs, trainOptions } from '../train-job.js';

export { trainHelp };

export async function train(argv: string[]): Promise<number> {
  const p = parse(argv, trainOptions);
  if (flag(p, 'help')) {
    process.stdout.write(trainHelp);
    return 0;
  }
  const out = createOutput(flag(p, 'json'), flag(p, 'quiet'));
  const job = await trainJobFromArgs(p);
  const { seed, tables, problem, config, schedule, epochs, modelPath, checkpointPath, checkpointEvery } = job;
  const { shape, optimizer } = config;
  const T = shape.tasks;
  const opened = await openBackend(job.backendChoice, config, (line) => process.stderr.write(line + '\n'));
  const backend = opened.backend;
  try {
    const hyper = job.hyper;
    const modelOf = (params: Float64Array): TrainedModel => ({
      shape,
      featureNames: problem.featureNames,
      targetNames: problem.targetNames,
      losses: problem.losses,
      params,
      x: problem.x,
      y: problem.y,
      hyper,
    });

    let start: ResumeState | undefined;
    const resumePath = job.resumePath;
    if (resumePath) {
      const checkpoint = await readCheckpoint(resumePath, parameterLayout(shape));
      backend.setParameters(checkpoint.params);
      backend.setOptimizerState(checkpoint.optimizer);
      start = checkpoint.resume;
      out.info(`resuming from ${resumePath} at epoch ${start.epoch + 1}`);
    } else {
      backend.setParameters(initParameters(shape, seed, job.aInit));
    }

    out.info(`sigmtl: ${tables.name}, ${problem.train.data.rows} training rows, d=${shape.features}, H=${shape.hidden}, T=${T} (${summarizeLosses(problem.losses)})`);
    out.info(`backend: ${backend.kind} — ${adapterName(opened)}`);
    const lossFirst = (await datasetLoss(backend, problem.train.data)).total;
    const progress = createProgress(!out.quiet, out.json ? process.stderr : process.stdout, epochs);
    let result;
    try {
      result = await trainModel(backend, problem.train.data, problem.validation?.data, {
        epochs,
        batchSize: config.maxBatch,
        learningRate: optimizer.learningRate,
        schedule,
        seed,
        reportEvery: job.reportEvery,
        patience: job.patience,
        verifyEvery: job.verifyEvery,
        onReport: (r) => progress.update(r),
        start,
        onEpochEnd: async (state) => {
          if (checkpointEvery > 0 && state.epoch % checkpointEvery === 0) {
            const [params, opt] = await Promise.all([backend.getParameters(), backend.getOptimizerState()]);
            await writeFileAtomic(checkpointPath, encodeCheckpoint(modelOf(params), opt, state));
          }
        },
      });
    } catch (error) {
      progress.stop();
      if (error instanceof DivergenceError) {
        const rescue = modelPath.replace(/\.safetensors$/, '') + '.last-good.safetensors';
        await writeFileAtomic(rescue, encodeModel(modelOf(error.lastGoodParams)));
        throw new Error(`${error.message}\nThe last good parameters (end of the previous epoch) are in ${rescue}.`);
      }
      throw error;
    }
    progress.stop();
    const params = await backend.getParameters();
    const model = modelOf(params);
    const lossLast = (await datasetLoss(backend, problem.train.data)).total;

    const evaluation = problem.test ?? problem.validation ?? problem.train;
    const split = problem.test ? 'test' : problem.validation ? 'validation' : 'train';
    const predictions = await predictRaw(backend, model, evaluation.table.X, evaluation.table.rows);
    const metrics: MetricsReport = computeMetrics(
      predictions,
      evaluation.table.Y,
      evaluation.table.mask,
      evaluation.table.rows,
      problem.targetNames,
      problem.losses,
    );

    // Synthetic data: how well the student reproduces the teacher's noise-free outputs.
    let teacher: MetricsReport | undefined;
    if (tables.teacher) {
      const teacherShape = { features: shape.features, hidden: T, tasks: T };
      const truth = forward(tables.teacher, parameterLayout(teacherShape), evaluation.table.X, evaluation.table.rows).Y;
      teacher = computeMetrics(predictions, truth, evaluation.table.mask, evaluation.table.rows, problem.targetNames, problem.losses);
    }

    // The trained model's predictions from this backend against the float64 CPU backend.
    const reference = new CpuBackend(config);
    reference.setParameters(params);
    const cpuPredictions = await predictRaw(reference, model, evaluation.table.X, evaluation.table.rows);
    const agreement = compareArrays(predictions, cpuPredictions, { atol: 1e-4, rtol: 1e-3 });

    await writeFileAtomic(modelPath, encodeModel(model));
    const baseline = job.baseline ? linearBaseline(problem) : undefined;

    out.info('');
    out.info(`${split} metrics (${evaluation.table.rows} rows):`);
    out.info(metricsTable(metrics));
    if (teacher) out.info(`\nagainst the teacher's noise-free outputs: macro R² ${formatNumber(teacher.overall.macroR2)}`);
    if (baseline) {
      out.info(`\nlinear least-squares baseline (regression tasks, same ${split} rows):`);
      out.info(metricsTable(baseline));
    }
    out.info('');
    out.info(
      `trained ${result.steps} steps (${result.epochs} epochs) in ${result.seconds.toFixed(2)} s, ${result.stepsPerSecond.toFixed(0)} steps/s; ` +
        `training loss ${formatNumber(lossFirst)} → ${formatNumber(lossLast)}` +
        (result.bestEpoch !== undefined ? `; best validation loss ${formatNumber(result.bestValidationLoss)} at epoch ${result.bestEpoch + 1}` : ''),
    );
    out.info(
      `check: ${backend.kind} predictions vs float64 CPU on ${evaluation.table.rows} rows: max abs diff ${agreement.maxAbs.toExponential(2)} ` +
        `${agreement.ok ? 'ok' : 'MISMATCH'}` +
        (result.verifications ? `; ${result.verifications} training steps verified against the reference` : ''),
    );
    out.info(`model written to ${modelPath}`);
    out.result({
      backend: backend.kind,
      adapter: adapterName(opened),
      dataset: tables.name,
      steps: result.steps,
      epochs: result.epochs,
      seconds: result.seconds,
      stepsPerSecond: result.stepsPerSecond,
      lossFirst,
      lossLast,
      model: modelPath,
      split,
      metrics,
      baseline,
      teacher,
      maxAbsDiffVsCpu: agreement.maxAbs,
      verifiedSteps: result.verifications,
      stoppedEarly: result.stoppedEarly,
      bestEpoch: result.bestEpoch,
    });
    return agreement.ok ? 0 : 3;
  } finally {
    opened.close();
  }
}

function summarizeLosses(losses: readonly LossKind[]): string {
  const bce = losses.filter((l) => l === 'bce').length;
  const mse = losses.length - bce;
  return [mse ? `${mse} MSE` : '', bce ? `${bce} BCE` : ''].filter(Boolean).join(', ');
}
