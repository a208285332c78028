// One training run in the page through the public train(): live charts, the coupling heatmap, a
// metrics table, and at the end the GPU-vs-CPU agreement of the trained model.
import { train, type DatasetSplits, type LossSpec, type MetricsReport, type OptimizerKind, type TrainResult, type WeightingKind, WEIGHTINGS } from 'sigmtl';
import { LineChart } from './charts.js';
import { drawHeatmap } from './heatmap.js';

export interface SessionSettings {
  hidden?: number;
  loss: 'auto' | LossSpec;
  weighting: WeightingKind;
  compareSingleTask: boolean;
  optimizer: OptimizerKind;
  /** Not given: searched with H when H is not given either (0.01 otherwise). */
  lr?: number;
  batch: number;
  epochs: number;
  backend: 'webgpu' | 'wasm' | 'cpu';
  seed: number;
}

export interface SessionResult {
  backend: string;
  adapter: string;
  dataset: string;
  steps: number;
  /** The run's training time; after a model search, that of the chosen model's steps after it. */
  seconds: number;
  stepsPerSecond: number;
  /** The model search's wall time, when it ran. */
  searchSeconds?: number;
  lossFirst: number;
  lossLast: number;
  maxAbsDiffVsCpu: number;
  metrics: MetricsReport;
  aborted: boolean;
  /** The epoch whose parameters the model has (early stopping restores it), 0-based. */
  bestEpoch?: number;
  deltaM?: number;
}

export interface SessionView {
  lossChart: HTMLElement;
  taskChart: HTMLElement;
  validationTaskChart: HTMLElement;
  heatmap: HTMLCanvasElement;
  metrics: HTMLElement;
  stats: HTMLElement;
  lossTable: HTMLElement;
  weightsChart: HTMLElement;
  relations: HTMLCanvasElement;
  comparison: HTMLElement;
}

const fmt = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

export async function runSession(
  device: GPUDevice | undefined,
  data: DatasetSplits,
  settings: SessionSettings,
  ui: SessionView,
  signal: AbortSignal,
  onTrainingStarted: () => void,
): Promise<SessionResult> {
  let started = false;
  const tasks = data.train.taskNames;
  const lossChart = new LineChart(ui.lossChart, 'step', 'loss', ['train', 'validation', 'best epoch (restored)'], { logY: true, markers: [2] });
  const epochs: Array<{ step: number; validationLoss?: number; validationPerTask?: Float64Array }> = [];
  let lastTrain: Float64Array | undefined;
  // The task weights over epochs, when a weighting moves them.
  // (The per-step weightings report each epoch's mean; the weighting's entry says how to chart them.)
  const chart = WEIGHTINGS[settings.weighting].chart;
  const weightsChart = chart !== 'none' ? new LineChart(ui.weightsChart, 'epoch', 'weight', tasks, { logY: chart === 'log' }) : undefined;
  if (weightsChart) ui.weightsChart.parentElement!.hidden = false;
  const taskChart = new LineChart(ui.taskChart, 'step', 'loss', tasks, { logY: true });
  const validationTaskChart = new LineChart(ui.validationTaskChart, 'step', 'loss', tasks, { logY: true });
  const result: TrainResult = await train({
    ...data.train,
    test: data.test,
    testSplit: data.test ? 0 : 0.2,
    validationSplit: 0.1,
    patience: 0,
    losses: settings.loss,
    weighting: settings.weighting,
    compareSingleTask: settings.compareSingleTask,
    hidden: settings.hidden,
    optimizer: { kind: settings.optimizer, learningRate: settings.lr },
    batchSize: settings.batch,
    epochs: settings.epochs,
    seed: settings.seed,
    backend: settings.backend,
    device: settings.backend === 'webgpu' ? device : undefined,
    signal,
    onProgress: (r) => {
      if (!started) onTrainingStarted();
      started = true;
      if (r.search?.phase === 'search') {
        // The model search: its candidates are not charted, only where it stands.
        const s = r.search;
        ui.stats.innerHTML =
          `<div>model search<b>rung ${s.rung} / ${s.rungs}</b></div><div>candidate<b>H ${s.hidden}, lr ${s.learningRate}</b></div>` +
          `<div>step<b>${s.step} / ${s.totalSteps}</b></div><div>val loss<b>${fmt(r.validationLoss)}</b></div><div>backend<b>${settings.backend}</b></div>`;
        return;
      }
      lossChart.append(r.step, [r.loss, null, null]);
      lastTrain = r.perTask;
      taskChart.append(r.step, Array.from(r.perTask));
      ui.stats.innerHTML =
        `<div>epoch<b>${r.epoch + 1} / ${settings.epochs}</b></div><div>step<b>${r.step}</b></div>${r.search ? `<div>chosen<b>H ${r.search.hidden}, lr ${r.search.learningRate}</b></div>` : ''}` +
        `<div>train loss<b>${fmt(r.loss)}</b></div><div>steps/s<b>${r.stepsPerSecond.toFixed(0)}</b></div><div>backend<b>${settings.backend}</b></div>`;
    },
    onEpochEnd: (e) => {
      epochs[e.epoch] = { step: e.step, validationLoss: e.validationLoss, validationPerTask: e.validationPerTask };
      if (e.validationLoss !== undefined) lossChart.append(e.step + 0.5, [null, e.validationLoss, null]);
      if (e.validationPerTask) validationTaskChart.append(e.step, Array.from(e.validationPerTask));
      drawHeatmap(ui.heatmap, e.coupling, tasks.length, e.coupling.length / tasks.length, tasks);
      weightsChart?.append(e.epoch + 1, Array.from(e.taskWeights));
    },
  });
  const best = result.bestEpoch !== undefined ? epochs[result.bestEpoch] : undefined;
  if (best?.validationLoss !== undefined) lossChart.append(best.step + 0.5, [null, null, best.validationLoss]);
  // The charts' text alternative: each task's last training loss and its validation loss at the kept epoch.
  const kept = best ?? epochs.at(-1);
  ui.lossTable.innerHTML =
    `<tr><th>task</th><th>last training loss</th><th>validation loss${best ? ' (restored epoch)' : ''}</th></tr>` +
    tasks.map((name, t) => `<tr><td>${name}</td><td>${fmt(lastTrain?.[t])}</td><td>${fmt(kept?.validationPerTask?.[t])}</td></tr>`).join('');
  const A = result.model.coupling;
  drawHeatmap(ui.heatmap, A.values, A.tasks.length, A.units.length, [...A.tasks]);
  ui.metrics.innerHTML = metricsHtml(result.metrics) + (result.search ? searchHtml(result) : '');
  const relations = result.model.taskRelations(data.train.features, data.train.targets);
  drawHeatmap(ui.relations, relations.cosine, tasks.length, tasks.length, [...tasks], [...tasks], 'Task relations (gradient cosines)');
  if (result.comparison) {
    ui.comparison.innerHTML = comparisonHtml(result);
    ui.comparison.parentElement!.hidden = false;
  }
  return {
    backend: result.backend,
    adapter: result.adapter,
    dataset: data.name,
    steps: result.steps,
    seconds: result.seconds,
    stepsPerSecond: result.stepsPerSecond,
    searchSeconds: result.search?.seconds,
    lossFirst: result.lossFirst,
    lossLast: result.lossLast,
    maxAbsDiffVsCpu: result.agreement.maxAbsDiff,
    metrics: result.metrics,
    aborted: result.aborted,
    bestEpoch: result.bestEpoch,
    deltaM: result.comparison?.deltaM,
  };
}

/** What the model search tried and why it chose what it did. */
function searchHtml(result: TrainResult): string {
  const s = result.search!;
  const tried = [...s.tried]
    .sort((a, b) => b.rung - a.rung || a.validationLoss - b.validationLoss)
    .map((c) => `H ${c.hidden}, lr ${c.learningRate}: ${fmt(c.validationLoss)} (${c.epochs} epochs)`);
  return `<p><b>Model: H = ${s.chosen.hidden}, learning rate ${s.chosen.learningRate}</b>, chosen by validation loss in ${s.seconds.toFixed(1)} s — ${s.reason}${s.patience.reason ? `; ${s.patience.reason}` : ''}.</p><details><summary>Candidates tried</summary><p>${tried.join('<br>')}</p></details>`;
}

function comparisonHtml(result: TrainResult): string {
  const c = result.comparison!;
  const signed = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)} %` : '—');
  const rows = Object.entries(c.singleTask).map(([name, single]) => {
    const key = single.kind === 'regression' ? 'rmse' : 'auc';
    const value = (m: unknown) => fmt((m as Record<string, number> | undefined)?.[key], 3);
    return `<tr><td>${name}</td><td>${key === 'rmse' ? 'RMSE' : 'AUC'}</td><td>${value(result.metrics.tasks[name])}</td><td>${value(single)}</td><td>${value(c.noCoupling.metrics.tasks[name])}</td><td>${signed(c.deltaMPerTask[name])}</td></tr>`;
  });
  return (
    `<p><b>Δm ${signed(c.deltaM)}</b>: the multi-task model against one single-task model per task (same H, settings and rows); positive means sharing helped. ` +
    `No coupling (H = T, A = I frozen; starved of units): Δm ${signed(c.noCoupling.deltaM)}.</p>` +
    `<table><tr><th>task</th><th>metric</th><th>multi-task</th><th>single-task</th><th>no coupling</th><th>Δm</th></tr>${rows.join('')}</table>`
  );
}

function metricsHtml(metrics: MetricsReport): string {
  const rows = Object.entries(metrics.tasks).map(([name, m]) => {
    if ('accuracy' in m) return `<tr><td>${name}</td><td>${m.count}</td><td>accuracy ${fmt(m.accuracy, 3)}</td><td>F1 ${fmt(m.f1, 3)}</td><td>AUC ${fmt(m.auc, 3)}</td></tr>`;
    if ('rmse' in m) return `<tr><td>${name}</td><td>${m.count}</td><td>RMSE ${fmt(m.rmse, 3)}</td><td>MAE ${fmt(m.mae, 3)}</td><td>R² ${fmt(m.r2, 3)}</td></tr>`;
    return '';
  });
  const overall = Object.entries(metrics.overall)
    .map(([k, v]) => `${k} ${fmt(v as number, 4)}`)
    .join(' · ');
  return `<table><tr><th>task</th><th>n</th><th colspan="3">metrics</th></tr>${rows.join('')}</table><p>${overall}</p>`;
}
