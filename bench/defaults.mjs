// `npm run bench:defaults [-- --rounds N] [-- --sets yeast,enb2012,sarcos-arm]`: the default
// model search against today's fixed choices on each bundled set. Every run is `sigmtl train
// --json` in a fresh process, one at a time; the timed ones (H = T, the old default, and the new
// default with its search) alternate over rounds, after one untimed default run per set (which
// stores backend auto's probes, as a user's first run would). Reports per set: test metrics of
// H = T, of each fixed H ∈ {16, 32, 64, 128} at lr 0.01 (the best of them: "best fixed H"), of
// the default, the per-task linear least-squares baseline; train() wall time (median, min–max)
// and the default's ratio to H = T, paired by round; the load average before each timed run.
// `--seeds N`: instead, test quality over seeds 1…N (each seed its own initialisation, shuffles and
// validation split, and enb2012's test split): every fixed H ∈ {T, 16, 32, 64, 128} at lr 0.01 and
// the default, their mean test metrics, and the default minus the best fixed H (by mean) paired per
// seed, with its standard error — so the comparison is not one seed's luck.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, sets: { type: 'string' }, seeds: { type: 'string' } } });
const rounds = Number(values.rounds ?? 3);
const sets = (values.sets ?? 'yeast,enb2012,sarcos-arm').split(',');
const TASKS = { yeast: 14, enb2012: 2, 'sarcos-arm': 7 };

function run(data, extra) {
  const load = loadavg()[0];
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    ['scripts/run-cli.mjs', 'train', '--data', data, '--out', `/tmp/sigmtl-bench-defaults-${process.pid}.safetensors`, '--json', ...extra],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (child.status !== 0) throw new Error(`sigmtl train --data ${data} ${extra.join(' ')} failed:\n${child.stderr}`);
  const result = JSON.parse(child.stdout);
  return { ...result, processSeconds: (performance.now() - started) / 1000, load };
}

/** The headline metric of a set: macro R² (regression) or macro AUC and Hamming loss (binary). */
const metric = (m) => (m.macroR2 !== undefined ? `R² ${m.macroR2.toFixed(4)}` : `AUC ${m.macroAuc.toFixed(4)}, Hamming ${m.hammingLoss.toFixed(4)}`);
const better = (a, b) => (a.macroR2 !== undefined ? a.macroR2 > b.macroR2 : a.macroAuc > b.macroAuc);
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const span = (v) => `${median(v).toFixed(2)} (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)})`;

/** The metrics compared over seeds, higher better (Hamming loss negated). */
const scores = (m) => (m.macroR2 !== undefined ? { 'R²': m.macroR2 } : { AUC: m.macroAuc, '−Hamming': -m.hammingLoss });

function seedTable(data, seeds) {
  const T = TASKS[data];
  const configs = [...new Set([T, 16, 32, 64, 128])].map((h) => ({ name: `H = ${h}${h === T ? ' = T' : ''}`, extra: ['--hidden', String(h)] }));
  configs.push({ name: 'default', extra: [] });
  const results = configs.map(() => []);
  for (let seed = 1; seed <= seeds; seed++) {
    configs.forEach((c, i) => results[i].push(run(data, [...c.extra, '--seed', String(seed)])));
    process.stderr.write(`${data} seed ${seed} done\n`);
  }
  const keys = Object.keys(scores(results[0][0].metrics.overall));
  const values = results.map((rs) => rs.map((r) => scores(r.metrics.overall)));
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  const sd = (v) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / Math.max(1, v.length - 1));
  const out = [
    `### ${data}: ${seeds} seeds\n`,
    `| model | ${keys.map((k) => `${k}, mean`).join(' | ')} | chosen H @ lr (default) |`,
    `|---|${keys.map(() => '---|').join('')}---|`,
  ];
  configs.forEach((c, i) => {
    const chosen = c.extra.length ? '' : results[i].map((r) => (r.search ? `${r.search.chosen.hidden} @ ${r.search.chosen.learningRate}` : '?')).join(', ');
    out.push(`| ${c.name} | ${keys.map((k) => mean(values[i].map((v) => v[k])).toFixed(4)).join(' | ')} | ${chosen} |`);
  });
  const d = configs.length - 1;
  for (const k of keys) {
    const best = configs.slice(0, d).reduce((a, _, i) => (mean(values[i].map((v) => v[k])) > mean(values[a].map((v) => v[k])) ? i : a), 0);
    const diff = values[d].map((v, s) => v[k] - values[best][s][k]);
    out.push(
      '',
      `${k}: default − best fixed (${configs[best].name}) = ${mean(diff).toFixed(4)} ± ${(sd(diff) / Math.sqrt(seeds)).toFixed(4)} (standard error over seeds; per seed ${diff.map((x) => x.toFixed(4)).join(', ')}).`,
    );
  }
  return `${out.join('\n')}\n`;
}

const lines = [];
if (values.seeds) {
  for (const data of sets) lines.push(seedTable(data, Number(values.seeds)));
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}
for (const data of sets) {
  const T = TASKS[data];
  process.stderr.write(`${data}: untimed first default run (backend auto's probes)\n`);
  const first = run(data, ['--baseline']);
  const fixed = [];
  for (const h of [16, 32, 64, 128]) fixed.push({ h, result: run(data, ['--hidden', String(h)]) });
  const bestFixed = fixed.reduce((a, b) => (better(b.result.metrics.overall, a.result.metrics.overall) ? b : a));
  const before = [];
  const after = [];
  for (let r = 0; r < rounds; r++) {
    before.push(run(data, ['--hidden', String(T)]));
    after.push(run(data, []));
    process.stderr.write(`${data} round ${r + 1}: H = T ${before.at(-1).wallSeconds.toFixed(2)} s, default ${after.at(-1).wallSeconds.toFixed(2)} s\n`);
  }
  const d = after.at(-1);
  const ratios = before.map((b, i) => after[i].wallSeconds / b.wallSeconds);
  const processRatios = before.map((b, i) => after[i].processSeconds / b.processSeconds);
  const loads = [...before, ...after].map((x) => x.load);
  lines.push(
    `### ${data}\n`,
    `| model | test metrics | train() s, median (min–max) |`,
    `|---|---|---|`,
    `| H = T = ${T} (the old default) | ${metric(before[0].metrics.overall)} | ${span(before.map((x) => x.wallSeconds))} |`,
    ...fixed.map(({ h, result }) => `| H = ${h}, lr 0.01${h === bestFixed.h ? ' (best fixed H)' : ''} | ${metric(result.metrics.overall)} | ${result.wallSeconds.toFixed(2)} |`),
    `| **default**: search → H = ${d.search.chosen.hidden}, lr ${d.search.chosen.learningRate} | ${metric(d.metrics.overall)} | ${span(after.map((x) => x.wallSeconds))} (search ${span(after.map((x) => x.search.seconds))}) |`,
    `| linear least squares per task | ${first.baseline ? metric(first.baseline.overall) : '— (binary tasks)'} | |`,
    '',
    `default ÷ H = T, train() wall time per round: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}; whole process (start, data, Dawn): ${processRatios.map((r) => `${r.toFixed(2)}×`).join(', ')}. ` +
      `First run on this machine (with backend auto's probes): ${first.wallSeconds.toFixed(2)} s. The default ${better(d.metrics.overall, bestFixed.result.metrics.overall) || metric(d.metrics.overall) === metric(bestFixed.result.metrics.overall) ? 'matches or beats' : 'is below'} the best fixed H. ` +
      `Why: ${d.search.reason}. Load average before the timed runs ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}.\n`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
