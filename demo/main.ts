// The demo page: settings (deep-linkable in the URL), training, verification, GPU vs CPU — built
// only on the public `sigmtl` API.
import {
  browserHasWebGpu,
  check,
  csvColumns,
  DEFAULT_OPTIMIZER,
  describeDevice,
  LOSS_KINDS,
  LOSSES,
  OPTIMIZER_KINDS,
  requestBrowserDevice,
  type LossSpec,
  type OptimizerKind,
  type WeightingKind,
} from 'sigmtl';
import { LineChart } from './charts.js';
import { CONTESTANTS, runComparison } from './compare.js';
import { loadData, type CsvFile } from './data.js';
import { runSession, type SessionResult } from './session.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string) => form.elements.namedItem(name) as T;
/** The status line; an error stands out (and is announced: the element is aria-live). */
function status(text: string, kind: 'info' | 'error' = 'info'): void {
  const line = $('status');
  line.textContent = text;
  line.classList.toggle('error', kind === 'error');
}

let device: GPUDevice | undefined;
let csv: CsvFile | undefined;
let running: AbortController | undefined;

const SETTINGS = ['dataset', 'hidden', 'loss', 'lossParam', 'weighting', 'optimizer', 'lr', 'batch', 'epochs', 'backend'] as const;

/** URL values the form could not take (a number field given "abc", a choice that is not offered). */
let urlErrors: string[] = [];

// The loss choices come from the loss table (after 'auto', which the page offers first).
for (const kind of LOSS_KINDS) field<HTMLSelectElement>('loss').append(new Option(kind));
/** The parameter field follows the chosen loss: enabled, named and defaulted from its table entry. */
function syncLossParameter(): void {
  const parameter = (LOSSES as Record<string, (typeof LOSSES)[keyof typeof LOSSES] | undefined>)[field('loss').value]?.parameter;
  const input = field<HTMLInputElement>('lossParam');
  input.disabled = !parameter;
  input.placeholder = parameter ? `${parameter.name} = ${parameter.default}` : 'none';
  input.title = parameter ? `${parameter.name}: ${parameter.validText}` : 'this loss has no parameter';
  if (!parameter) input.value = '';
}
field('loss').addEventListener('change', syncLossParameter);
/** The loss as a spec: 'quantile:0.9' where a parameter is given, else the bare name. */
const lossSpec = () => (field('lossParam').value && !field('lossParam').disabled ? `${field('loss').value}:${field('lossParam').value}` : field('loss').value);
// The optimizers too, Adam (the default) first.
for (const kind of [DEFAULT_OPTIMIZER.kind, ...OPTIMIZER_KINDS.filter((k) => k !== DEFAULT_OPTIMIZER.kind)]) field<HTMLSelectElement>('optimizer').append(new Option(kind));

function applyUrlSettings(params: URLSearchParams): void {
  urlErrors = [];
  for (const name of SETTINGS) {
    const value = params.get(name);
    if (value === null) continue;
    const input = field(name);
    input.value = value;
    if (input.value !== value) {
      const allowed = input instanceof HTMLSelectElement ? ` (one of ${Array.from(input.options, (o) => o.value).join(', ')})` : ' (a number)';
      urlErrors.push(`URL setting ${name}=${JSON.stringify(value)} is not valid${allowed}`);
      input.value = (input as HTMLInputElement).defaultValue ?? '';
      if (input instanceof HTMLSelectElement) input.selectedIndex = 0;
    }
  }
  if (params.get('compare') === '1') field<HTMLInputElement>('compare').checked = true;
  $('csv-input').hidden = field('dataset').value !== 'csv';
  const lossParam = field('lossParam').value;
  syncLossParameter();
  if (lossParam && !field('lossParam').disabled) field('lossParam').value = lossParam;
  if (urlErrors.length) status(`error: ${urlErrors.join('; ')}`, 'error');
}

function saveUrlSettings(): void {
  const params = new URLSearchParams();
  for (const name of SETTINGS) if (field(name).value) params.set(name, field(name).value);
  if (field<HTMLInputElement>('compare').checked) params.set('compare', '1');
  history.replaceState(null, '', `?${params}`);
}

async function initAdapter(): Promise<void> {
  const badge = $('adapter');
  if (!browserHasWebGpu()) {
    badge.textContent = 'No WebGPU in this browser — training on the CPU engine';
    badge.className = 'badge none';
    field('backend').value = 'wasm';
    return;
  }
  try {
    device = await requestBrowserDevice();
    const a = describeDevice(device);
    badge.textContent = `WebGPU: ${a.label}${a.software ? ' — a software adapter: GPU timings are CPU timings' : ''}`;
    badge.className = a.software ? 'badge software' : 'badge';
  } catch (error) {
    badge.textContent = `WebGPU unavailable: ${(error as Error).message} — training on the CPU engine`;
    badge.className = 'badge none';
    field('backend').value = 'wasm';
  }
}

/** A number field; an empty field is "not set" (the library's default), never 0. */
function numberField(name: string): number | undefined {
  const raw = field(name).value.trim();
  return raw === '' ? undefined : Number(raw);
}

function clearResults(): void {
  for (const id of ['stats', 'metrics', 'loss-chart', 'task-chart', 'validation-task-chart', 'loss-table', 'weights-chart']) $(id).replaceChildren();
  $('weights-figure').hidden = true;
  $('comparison-figure').hidden = true;
  $('comparison').replaceChildren();
  for (const id of ['heatmap', 'relations']) {
    const canvas = $<HTMLCanvasElement>(id);
    canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
  }
  $('run-info').textContent = 'No run yet.';
}

async function train(): Promise<SessionResult | undefined> {
  saveUrlSettings();
  clearResults();
  running = new AbortController();
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  $('stop').focus(); // Start is disabled now: keep the keyboard on the button that matters
  field<HTMLSelectElement>('dataset').disabled = true;
  try {
    if (urlErrors.length) throw new Error(urlErrors.join('; '));
    for (const [name, label] of [
      ['batch', 'Batch size'],
      ['epochs', 'Epochs'],
    ] as const) {
      if (field(name).value.trim() === '') {
        field(name).focus();
        throw new Error(`${label} is empty: enter a number`);
      }
    }
    status('loading data…');
    const targets = Array.from(field<HTMLSelectElement>('targets').selectedOptions, (o) => o.value);
    const data = await loadData({ dataset: field('dataset').value, csv, targets, seed: 1 });
    const backendName =
      field('backend').value === 'webgpu' && device
        ? `WebGPU on ${describeDevice(device).label}`
        : field('backend').value === 'wasm'
          ? 'the CPU engine (float32, WebAssembly SIMD)'
          : 'the CPU (float64 reference)';
    $('run-info').textContent =
      `${data.name}: ${data.train.taskNames.length} tasks, ${data.train.featureNames.length} features · ${field('weighting').value} weighting · ${field('optimizer').value}, ` +
      `learning rate ${field('lr').value || 'default'}, batch ${field('batch').value || 'default'}, ${field('epochs').value || 'default'} epochs · ${backendName}`;
    // A Stop pressed while the data loaded keeps its "stopping…" line (the session then stops at once).
    if (!running.signal.aborted) status(field('backend').value === 'webgpu' && device ? 'preparing the GPU kernels (the first run compiles them)…' : 'training…');
    const result = await runSession(
      device,
      data,
      {
        hidden: numberField('hidden'),
        loss: lossSpec() as LossSpec,
        weighting: field('weighting').value as WeightingKind,
        compareSingleTask: field<HTMLInputElement>('compare').checked,
        optimizer: field('optimizer').value as OptimizerKind,
        lr: numberField('lr'),
        batch: numberField('batch') as number,
        epochs: numberField('epochs') as number,
        backend: field('backend').value as 'webgpu' | 'wasm' | 'cpu',
        seed: 1,
      },
      {
        lossChart: $('loss-chart'),
        taskChart: $('task-chart'),
        validationTaskChart: $('validation-task-chart'),
        heatmap: $('heatmap'),
        metrics: $('metrics'),
        stats: $('stats'),
        lossTable: $('loss-table'),
        weightsChart: $('weights-chart'),
        relations: $('relations'),
        comparison: $('comparison'),
      },
      running.signal,
      // Training began; a Stop pressed meanwhile keeps its "stopping…" line.
      () => {
        if (!running?.signal.aborted) status('training…');
      },
    );
    if (result.aborted && result.steps === 0) {
      clearResults(); // nothing was trained: no metrics of an untrained model
      status('stopped before training began');
      return result;
    }
    status(
      `${result.aborted ? 'stopped' : 'done'}${result.bestEpoch !== undefined ? ` (best epoch ${result.bestEpoch + 1} restored)` : ''}: ${stepsAndTime(result)}; ` +
        `loss ${result.lossFirst.toFixed(4)} → ${result.lossLast.toFixed(4)}; predictions vs float64 CPU: max |diff| ${result.maxAbsDiffVsCpu.toExponential(2)}`,
    );
    return result;
  } catch (error) {
    clearResults();
    status(`error: ${(error as Error).message}`, 'error');
    throw error;
  } finally {
    running = undefined;
    const stopHadFocus = document.activeElement === $('stop');
    $<HTMLButtonElement>('start').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
    field<HTMLSelectElement>('dataset').disabled = false;
    if (stopHadFocus) $('start').focus();
  }
}

async function verify(): Promise<void> {
  const out = $('verify-result');
  if (!device) {
    out.textContent = 'No WebGPU adapter: nothing to verify.';
    return;
  }
  const button = $<HTMLButtonElement>('verify');
  button.disabled = true;
  out.textContent = 'running every kernel against the float64 reference…';
  try {
    const report = await check({ device });
    const rows = report.rows.map(
      (r) =>
        `<tr><td>${r.name}</td><td>${r.shape}</td><td>${r.maxAbs.toExponential(2)}</td><td>${r.maxRel.toExponential(2)}</td><td class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'ok' : 'FAIL'}</td></tr>`,
    );
    const failed = report.rows.filter((r) => !r.ok);
    const worst = report.rows.reduce((a, b) => (b.maxAbs > a.maxAbs ? b : a));
    const summary = failed.length
      ? `<b class="fail">${failed.length} of ${report.rows.length} checks failed</b> on ${report.adapterLabel}: first ${failed[0]!.name} (${failed[0]!.shape}).`
      : `<b>All ${report.rows.length} checks passed</b> on ${report.adapterLabel}: every kernel and a full training step agree with the float64 reference within tolerance; the largest difference is ${worst.maxAbs.toExponential(1)} (${worst.name}).`;
    out.innerHTML =
      `<p>${summary}</p>` +
      `<details><summary>Every check</summary><table><tr><th>check</th><th>shape</th><th>max abs</th><th>max rel</th><th></th></tr>${rows.join('')}</table></details>`;
    out.dataset.ok = String(report.ok);
  } finally {
    button.disabled = false;
  }
}

/** Steps and time; after a model search, its time and then the chosen model's own steps. */
function stepsAndTime(r: SessionResult): string {
  const rate = `${r.stepsPerSecond.toFixed(0)} steps/s`;
  if (r.searchSeconds === undefined) return `${r.steps} steps in ${r.seconds.toFixed(1)} s (${rate})`;
  const after = Math.round(r.stepsPerSecond * r.seconds);
  return `${r.steps} steps: the model search in ${r.searchSeconds.toFixed(1)} s, then the chosen model's last ${after} in ${r.seconds.toFixed(1)} s (${rate})`;
}

/** Milliseconds to three significant digits (the CPU engine's small products take microseconds). */
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));

async function compare(): Promise<void> {
  const table = $('compare-table');
  if (!device) {
    table.textContent = 'No WebGPU adapter: the comparison needs one.';
    return;
  }
  const max = Number($<HTMLSelectElement>('compare-max').value);
  const sizes = [16, 32, 64, 128, 256, 512, 1024].filter((n) => n <= max);
  const chart = new LineChart($('compare-chart'), 'n', 'GFLOP/s', ['sigmtl WebGPU', 'sigmtl CPU engine', 'sigmtl CPU reference', 'gpu.js'], { logX: true, logY: true, width: 460 });
  table.textContent = 'running…';
  const perN = new Map<number, Array<number | null>>();
  const report = await runComparison(device, sizes, (row) => {
    if (row.op !== 'matmul') return;
    const entry = perN.get(row.n) ?? [null, null, null, null];
    entry[row.impl === CONTESTANTS.gpu ? 0 : row.impl === CONTESTANTS.engine ? 1 : row.impl === CONTESTANTS.cpu ? 2 : 3] = row.gflops;
    perN.set(row.n, entry);
    if (entry.every((v) => v !== null)) chart.append(row.n, entry);
  });
  const body = report.rows
    .map(
      (r) =>
        `<tr><td>${r.op}</td><td>${r.n}</td><td>${r.impl}</td><td>${ms(r.ms)} (${ms(r.range[0])}–${ms(r.range[1])})</td><td>${r.gflops === null ? '—' : r.gflops.toFixed(3)}</td><td>${r.maxDiff.toExponential(2)}</td></tr>`,
    )
    .join('');
  table.innerHTML =
    `<p>Adapter: <b>${report.adapter}</b>${report.software ? ' (software: SwiftShader runs on the CPU, so "GPU" here is CPU work)' : ''}; gpu.js mode: <b>${report.gpujsMode}</b>. ` +
    `Crossover: ${report.crossover === null ? 'sigmtl WebGPU was not clearly faster than the CPU engine at the sizes tried' : `sigmtl WebGPU is clearly faster than the CPU engine (its slowest run against the engine's fastest) from n = <b>${report.crossover}</b>`}.</p>` +
    `<table><tr><th>op</th><th>n</th><th>implementation</th><th>ms, median (range of 5)</th><th>GFLOP/s</th><th>max |diff| vs CPU f64</th></tr>${body}</table>`;
  table.dataset.report = JSON.stringify(report);
}

field('dataset').addEventListener('change', () => ($('csv-input').hidden = field('dataset').value !== 'csv'));
/** A chosen or dropped file becomes the CSV to train on; a rejected one leaves none. */
async function takeCsv(file: File | undefined): Promise<void> {
  const select = field<HTMLSelectElement>('targets');
  csv = undefined;
  select.replaceChildren();
  if (!file) return;
  try {
    const text = await file.text();
    const columns = csvColumns(text, file.name);
    csv = { name: file.name, text };
    select.replaceChildren(...columns.map((c) => new Option(c, c, false, /^y[_\d]/i.test(c))));
    const chosen = Array.from(select.selectedOptions, (o) => o.value);
    status(`${file.name}: ${columns.length} columns; targets ${chosen.length ? chosen.join(', ') : 'not chosen yet'} — choose them in the list`);
  } catch (error) {
    status(`error: ${(error as Error).message}`, 'error');
  }
}

field<HTMLInputElement>('file').addEventListener('change', (event) => takeCsv((event.target as HTMLInputElement).files?.[0]));
const dropZone = $('drop-zone');
dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('over');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('over');
  void takeCsv(event.dataTransfer?.files[0]);
});
// Editing the form replaces the URL's values: their errors no longer stand.
form.addEventListener('change', () => (urlErrors = []));
form.addEventListener('submit', (event) => {
  event.preventDefault();
  train().catch(() => {});
});
$('stop').addEventListener('click', () => {
  if (!running) return;
  running.abort();
  status('stopping after the current submit (or once the kernels are compiled)…');
});
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
      const { seconds: _s, stepsPerSecond: _r, searchSeconds: _q, ...summary } = r;
      out.textContent = JSON.stringify(summary, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
    }
  } catch (error) {
    out.textContent = JSON.stringify({ error: (error as Error).message });
  }
}
