// One training run in the page: the same backends and trainer as the CLI, with live charts,
// the coupling heatmap, a metrics table, and at the end the GPU-vs-CPU agreement of the model.
import { CpuBackend } from '../src/cpu/backend.js';
import type { GpuContext } from '../src/gpu/context.js';
import { DEFAULT_OPTIMIZER, type OptimizerKind } from '../src/core/optimizers.js';
import type { TrainingBackend } from '../src/core/backend.js';
import { initParameters } from '../src/core/init.js';
import { parameterLayout, view } from '../src/core/shape.js';
import { predictRaw, type TrainedModel } from '../src/model/model.js';
import { WebGpuBackend } from '../src/model/webgpu-backend.js';
import { computeMetrics, type MetricsReport } from '../src/train/metrics.js';
import type { Problem } from '../src/train/prepare.js';
import { DEFAULT_SCHEDULE } from '../src/train/schedule.js';
import { datasetLoss, trainModel } from '../src/train/trainer.js';
import { LineChart } from './charts.js';
import { drawHeatmap } from './heatmap.js';

export interface SessionSettings {
  hidden?: number;
  optimizer: OptimizerKind;
  lr: number;
  batch: number;
  epochs: number;
  backend: 'webgpu' | 'cpu';
  seed: number;
}

export interface SessionResult {
  backend: string;
  adapter: string;
  dataset: string;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  lossFirst: number;
  lossLast: number;
  maxAbsDiffVsCpu: number;
  metrics: MetricsReport;
}

export interface SessionView {
  lossChart: HTMLElement;
  taskChart: HTMLElement;
  validationTaskChart: HTMLElement;
  heatmap: HTMLCanvasElement;
  metrics: HTMLElement;
  stats: HTMLElement;
}

const fmt = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

export async function runSession(
  ctx: GpuContext | undefined,
  name: string,
  problem: Problem,
  settings: SessionSettings,
  ui: SessionView,
  shouldStop: () => boolean,
): Promise<SessionResult> {
  const T = problem.targetNames.length;
  const hidden = settings.hidden ?? T;
  const shape = { features: problem.featureNames.length, hidden, tasks: T };
  const tasks = problem.losses.map((loss) => ({ loss, weight: 1 }));
  const maxBatch = Math.min(settings.batch, problem.train.data.rows);
  const config = { shape, tasks, optimizer: { ...DEFAULT_OPTIMIZER, kind: settings.optimizer, learningRate: settings.lr }, maxBatch };
  const tuningStore = { get: (key: string) => localStorage.getItem(key), set: (key: string, value: string) => localStorage.setItem(key, value) };
  const backend: TrainingBackend =
    settings.backend === 'webgpu' && ctx ? await WebGpuBackend.create(ctx, config, { tuningStore }) : new CpuBackend(config);
  const adapter = backend.kind === 'webgpu' && ctx ? `${ctx.adapter.description || ctx.adapter.architecture} (${ctx.adapter.vendor})` : 'cpu';
  try {
    backend.setParameters(initParameters(shape, settings.seed, hidden === T ? 'identity' : 'random'));
    const layout = parameterLayout(shape);
    const lossChart = new LineChart(ui.lossChart, 'step', 'loss', ['train', 'validation'], { logY: true });
    const taskChart = new LineChart(ui.taskChart, 'step', 'loss', problem.targetNames, { logY: true });
    const validationTaskChart = new LineChart(ui.validationTaskChart, 'step', 'loss', problem.targetNames, { logY: true });
    const showA = async () => drawHeatmap(ui.heatmap, view(await backend.getParameters(), layout.A), T, hidden, problem.targetNames);
    await showA();
    const lossFirst = (await datasetLoss(backend, problem.train.data)).total;
    const stepsPerEpoch = Math.ceil(problem.train.data.rows / maxBatch);
    const result = await trainModel(backend, problem.train.data, problem.validation?.data, {
      epochs: settings.epochs,
      batchSize: maxBatch,
      learningRate: settings.lr,
      schedule: DEFAULT_SCHEDULE,
      seed: settings.seed,
      reportEvery: stepsPerEpoch,
      patience: 0,
      verifyEvery: 0,
      shouldStop,
      onReport: (r) => {
        lossChart.append(r.step, [r.loss, null]);
        taskChart.append(r.step, Array.from(r.perTask));
        ui.stats.innerHTML =
          `<div>epoch<b>${r.epoch + 1} / ${settings.epochs}</b></div><div>step<b>${r.step}</b></div>` +
          `<div>train loss<b>${fmt(r.loss)}</b></div><div>steps/s<b>${r.stepsPerSecond.toFixed(0)}</b></div><div>backend<b>${backend.kind}</b></div>`;
      },
      onEpochEnd: async (state) => {
        if (state.validationLoss !== undefined) lossChart.append(state.step + 0.5, [null, state.validationLoss]);
        if (state.validationPerTask) validationTaskChart.append(state.step, Array.from(state.validationPerTask));
        await showA();
      },
    });
    const params = await backend.getParameters();
    const model: TrainedModel = { ...problem, shape, params, hyper: {} };
    const test = problem.test ?? problem.train;
    const predictions = await predictRaw(backend, model, test.table.X, test.table.rows);
    const metrics = computeMetrics(predictions, test.table.Y, test.table.mask, test.table.rows, problem.targetNames, problem.losses);
    const reference = new CpuBackend(config);
    reference.setParameters(params);
    const cpuPredictions = await predictRaw(reference, model, test.table.X, test.table.rows);
    let maxAbsDiffVsCpu = 0;
    for (let i = 0; i < predictions.length; i++) maxAbsDiffVsCpu = Math.max(maxAbsDiffVsCpu, Math.abs(predictions[i]! - cpuPredictions[i]!));
    ui.metrics.innerHTML = metricsHtml(metrics);
    return {
      backend: backend.kind,
      adapter,
      dataset: name,
      steps: result.steps,
      seconds: result.seconds,
      stepsPerSecond: result.stepsPerSecond,
      lossFirst,
      lossLast: (await datasetLoss(backend, problem.train.data)).total,
      maxAbsDiffVsCpu,
      metrics,
    };
  } finally {
    backend.destroy();
  }
}

function metricsHtml(metrics: MetricsReport): string {
  const rows = Object.entries(metrics)
    .filter(([name]) => name !== 'overall')
    .map(([name, m]) => {
      if ('accuracy' in m) return `<tr><td>${name}</td><td>${m.count}</td><td>accuracy ${fmt(m.accuracy, 3)}</td><td>F1 ${fmt(m.f1, 3)}</td><td>AUC ${fmt(m.auc, 3)}</td></tr>`;
      if ('rmse' in m) return `<tr><td>${name}</td><td>${m.count}</td><td>RMSE ${fmt(m.rmse, 3)}</td><td>MAE ${fmt(m.mae, 3)}</td><td>R² ${fmt(m.r2, 3)}</td></tr>`;
      return '';
    });
  const overall = Object.entries(metrics.overall)
    .map(([k, v]) => `${k} ${fmt(v as number, 4)}`)
    .join(' · ');
  return `<table><tr><th>task</th><th>n</th><th colspan="3">metrics</th></tr>${rows.join('')}</table><p>${overall}</p>`;
}
