// The demo page: settings (deep-linkable in the URL), training, verification, GPU vs CPU.
import { browserHasWebGpu, requestBrowserGpu } from '../src/gpu/browser.js';
import type { GpuContext } from '../src/gpu/context.js';
import { runChecks } from '../src/verify/check.js';
import type { CsvTable } from '../src/data/csv.js';
import type { OptimizerKind } from '../src/core/optimizers.js';
import { LineChart } from './charts.js';
import { runComparison } from './compare.js';
import { loadProblem, readCsvFile } from './data.js';
import { runSession, type SessionResult } from './session.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string) => form.elements.namedItem(name) as T;
const status = (text: string) => ($('status').textContent = text);

let ctx: GpuContext | undefined;
let csv: CsvTable | undefined;
let stopRequested = false;

const SETTINGS = ['dataset', 'hidden', 'loss', 'optimizer', 'lr', 'batch', 'epochs', 'backend'] as const;

function applyUrlSettings(params: URLSearchParams): void {
  for (const name of SETTINGS) {
    const value = params.get(name);
    if (value !== null) field(name).value = value;
  }
  $('csv-input').hidden = field('dataset').value !== 'csv';
}

function saveUrlSettings(): void {
  const params = new URLSearchParams();
  for (const name of SETTINGS) if (field(name).value) params.set(name, field(name).value);
  history.replaceState(null, '', `?${params}`);
}

async function initAdapter(): Promise<void> {
  const badge = $('adapter');
  if (!browserHasWebGpu()) {
    badge.textContent = 'No WebGPU in this browser — training on the CPU backend';
    badge.className = 'badge none';
    field('backend').value = 'cpu';
    return;
  }
  try {
    ctx = await requestBrowserGpu();
    const a = ctx.adapter;
    badge.textContent = `WebGPU: ${a.description || a.architecture || 'adapter'} (${a.vendor})${a.software ? ' — a software adapter: GPU timings are CPU timings' : ''}`;
    badge.className = a.software ? 'badge software' : 'badge';
  } catch (error) {
    badge.textContent = `WebGPU unavailable: ${(error as Error).message} — training on the CPU backend`;
    badge.className = 'badge none';
    field('backend').value = 'cpu';
  }
}

async function train(): Promise<SessionResult | undefined> {
  saveUrlSettings();
  stopRequested = false;
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  try {
    status('loading data…');
    const targets = Array.from(field<HTMLSelectElement>('targets').selectedOptions, (o) => o.value);
    const { name, problem } = await loadProblem({
      dataset: field('dataset').value,
      csv,
      targets,
      loss: field('loss').value as 'auto',
      seed: 1,
    });
    status(`training on ${problem.train.data.rows} rows, ${problem.targetNames.length} tasks…`);
    const hidden = Number(field('hidden').value);
    const result = await runSession(
      ctx,
      name,
      problem,
      {
        hidden: hidden > 0 ? hidden : undefined,
        optimizer: field('optimizer').value as OptimizerKind,
        lr: Number(field('lr').value),
        batch: Number(field('batch').value),
        epochs: Number(field('epochs').value),
        backend: field('backend').value as 'webgpu' | 'cpu',
        seed: 1,
      },
      { lossChart: $('loss-chart'), taskChart: $('task-chart'), validationTaskChart: $('validation-task-chart'), heatmap: $('heatmap'), metrics: $('metrics'), stats: $('stats') },
      () => stopRequested,
    );
    status(
      `done: ${result.steps} steps in ${result.seconds.toFixed(1)} s (${result.stepsPerSecond.toFixed(0)} steps/s); ` +
        `loss ${result.lossFirst.toFixed(4)} → ${result.lossLast.toFixed(4)}; predictions vs float64 CPU: max |diff| ${result.maxAbsDiffVsCpu.toExponential(2)}`,
    );
    return result;
  } catch (error) {
    status(`error: ${(error as Error).message}`);
    throw error;
  } finally {
    $<HTMLButtonElement>('start').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

async function verify(): Promise<void> {
  const out = $('verify-result');
  if (!ctx) {
    out.textContent = 'No WebGPU adapter: nothing to verify.';
    return;
  }
  out.textContent = 'running…';
  const report = await runChecks(ctx);
  const rows = report.rows.map(
    (r) => `<tr><td>${r.name}</td><td>${r.shape}</td><td>${r.maxAbs.toExponential(2)}</td><td>${r.maxRel.toExponential(2)}</td><td class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'ok' : 'FAIL'}</td></tr>`,
  );
  const failed = report.rows.filter((r) => !r.ok).length;
  out.innerHTML =
    `<p><b>${failed ? `${failed} of ${report.rows.length} checks failed` : `all ${report.rows.length} checks passed`}</b> on ${report.adapter.description} (${report.adapter.vendor})</p>` +
    `<table><tr><th>check</th><th>shape</th><th>max abs</th><th>max rel</th><th></th></tr>${rows.join('')}</table>`;
  out.dataset.ok = String(report.ok);
}

async function compare(): Promise<void> {
  const table = $('compare-table');
  if (!ctx) {
    table.textContent = 'No WebGPU adapter: the comparison needs one.';
    return;
  }
  const max = Number($<HTMLSelectElement>('compare-max').value);
  const sizes = [16, 32, 64, 128, 256, 512, 1024].filter((n) => n <= max);
  const chart = new LineChart($('compare-chart'), 'n', 'GFLOP/s', ['sigmtl WebGPU', 'sigmtl CPU (worker)', 'gpu.js'], { logX: true, logY: true, width: 460 });
  table.textContent = 'running…';
  const perN = new Map<number, Array<number | null>>();
  const report = await runComparison(ctx, sizes, (row) => {
    if (row.op !== 'matmul') return;
    const entry = perN.get(row.n) ?? [null, null, null];
    entry[row.impl.startsWith('sigmtl WebGPU') ? 0 : row.impl.startsWith('sigmtl CPU') ? 1 : 2] = row.gflops;
    perN.set(row.n, entry);
    if (entry.every((v) => v !== null)) chart.append(row.n, entry);
  });
  const body = report.rows
    .map((r) => `<tr><td>${r.op}</td><td>${r.n}</td><td>${r.impl}</td><td>${r.ms.toFixed(2)}</td><td>${r.gflops === null ? '—' : r.gflops.toFixed(3)}</td><td>${r.maxDiff.toExponential(2)}</td></tr>`)
    .join('');
  table.innerHTML =
    `<p>Adapter: <b>${report.adapter}</b>${report.software ? ' (software: SwiftShader runs on the CPU, so "GPU" here is CPU work)' : ''}; gpu.js mode: <b>${report.gpujsMode}</b>. ` +
    `Crossover: ${report.crossover === null ? 'sigmtl WebGPU did not beat the CPU backend at the sizes tried' : `sigmtl WebGPU beats the CPU backend from n = <b>${report.crossover}</b>`}.</p>` +
    `<table><tr><th>op</th><th>n</th><th>implementation</th><th>ms</th><th>GFLOP/s</th><th>max |diff| vs CPU f64</th></tr>${body}</table>`;
  table.dataset.report = JSON.stringify(report);
}

field('dataset').addEventListener('change', () => ($('csv-input').hidden = field('dataset').value !== 'csv'));
field<HTMLInputElement>('file').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    csv = await readCsvFile(file);
    const select = field<HTMLSelectElement>('targets');
    select.replaceChildren(...csv.columns.map((c) => new Option(c, c, false, /^y[_\d]/i.test(c))));
    status(`${file.name}: ${csv.rows.length} rows, ${csv.columns.length} columns — choose the targets`);
  } catch (error) {
    status(`error: ${(error as Error).message}`);
  }
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  train().catch(() => {});
});
$('stop').addEventListener('click', () => (stopRequested = true));
$('verify').addEventListener('click', () => verify().catch((e) => ($('verify-result').textContent = `error: ${e.message}`)));
$('compare').addEventListener('click', () => compare().catch((e) => ($('compare-table').textContent = `error: ${e.message}`)));

const params = new URLSearchParams(location.search);
applyUrlSettings(params);
await initAdapter();
if (params.get('autorun') === '1') {
  const out = $('result');
  try {
    const r = await train();
    if (r) {
      const { seconds: _s, stepsPerSecond: _r, ...summary } = r;
      out.textContent = JSON.stringify(summary, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
    }
  } catch (error) {
    out.textContent = JSON.stringify({ error: (error as Error).message });
  }
}
