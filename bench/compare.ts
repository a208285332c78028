// `npm run bench:train [-- --quick] [-- --json] [-- --rounds N]`: the training comparison, each
// contestant alone in a fresh process (bench/contestant.ts for sigmtl's backends,
// bench/torch_peer.py for PyTorch), one after another, interleaved over rounds (the order rotates
// each round), nothing of ours running meanwhile. Before each run the load average and any other
// busy process are recorded. Reported: the median of each contestant's per-round medians with
// min–max, and the engine's ratio to each PyTorch setting round by round (paired: same round).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    from: { type: 'string' },
    save: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`npm run bench:train -- [--quick] [--json] [--rounds N] [--only SIZE] [--save FILE] [--from FILE]

Training steps/s of the model's full-batch Adam step (MSE, float32) at d=10 T=5 N=100,
d=256 T=16 N=4096 and d=1024 T=64 N=8192 (--only 10|256|1024): sigmtl's CPU engine on one thread
and on every core (its products native where native/ is built, and on WebAssembly with and
without relaxed SIMD), its float64 reference, and PyTorch on
the CPU (python3-torch, where installed) with OpenBLAS's own kernels and, where OpenBLAS picks
older ones than this CPU runs, the CPU's best (OPENBLAS_CORETYPE)
on one thread and on every core, each in a fresh process, interleaved over rounds (default 5;
--quick 3 and shorter runs). Prints the table and where one engine step's time goes.
--save FILE also writes the full report (every sample) as JSON; --from FILE prints a saved one.
`);
  process.exit(0);
}

if (values.from) {
  process.stdout.write(markdownReport(JSON.parse(readFileSync(values.from, 'utf8')) as Report));
  process.exit(0);
}
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const quick = values.quick ?? false;
const rounds = Number(values.rounds ?? (quick ? 3 : 5));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
const cores = availableParallelism();
const log = (line: string) => process.stderr.write(line + '\n');

interface Size {
  d: number;
  T: number;
  N: number;
  /** Steps per timed run inside a contestant's process (a run lasts ~0.2–2 s). */
  steps: number;
}
const SIZES: Size[] = [
  { d: 10, T: 5, N: 100, steps: quick ? 500 : 2000 },
  { d: 256, T: 16, N: 4096, steps: quick ? 40 : 100 },
  { d: 1024, T: 64, N: 8192, steps: quick ? 2 : 5 },
];
const sizes = values.only ? SIZES.filter((s) => String(s.d) === values.only) : SIZES;
if (sizes.length === 0) throw new Error(`--only ${values.only}: expected 10, 256 or 1024`);

interface Contestant {
  name: string;
  /** PyTorch or sigmtl. */
  family: 'sigmtl' | 'pytorch';
  threads: number;
  /** Largest d it runs at (the float64 reference takes minutes a round at d=1024). */
  upTo?: number;
  command(size: Size): { file: string; args: string[]; env: NodeJS.ProcessEnv };
}

const PYTHON = '/usr/bin/python3';
const torchInstalled = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const sigmtl =
  (impl: string, threads: number, simd = 'auto', native = 'auto'): Contestant['command'] =>
  (s) => ({
    file: process.execPath,
    args: [
      join(here, 'contestant.js'),
      '--impl',
      impl,
      '--threads',
      String(threads),
      '--simd',
      simd,
      '--native',
      native,
      '--d',
      String(s.d),
      '--T',
      String(s.T),
      '--N',
      String(s.N),
      '--steps',
      String(s.steps),
      '--runs',
      '3',
    ],
    env: process.env,
  });
// One-thread PyTorch as its docs advise for a fair single-thread figure: OpenMP threads that sleep
// when idle, one OpenBLAS thread. OpenBLAS picks its kernels for this CPU itself (a row without
// OPENBLAS_CORETYPE); where the machine sets OPENBLAS_CORETYPE that is a row too, and where
// OpenBLAS's own pick is older than what the CPU runs (OpenBLAS 0.3.21 takes a 2023 Xeon for a
// Prescott: SSE3 kernels), a row forces the CPU's best (SkylakeX with AVX-512, Haswell with AVX2).
// The PyTorch to beat is the fastest row of each round.
const torch =
  (threads: number, coretype: string | undefined): Contestant['command'] =>
  (s) => {
    const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_NUM_THREADS: '1' };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    if (coretype)
      Object.assign(
        env,
        { OPENBLAS_CORETYPE: coretype },
        process.env.OPENBLAS_CORETYPE === coretype && process.env.OPENBLAS_L2_SIZE ? { OPENBLAS_L2_SIZE: process.env.OPENBLAS_L2_SIZE } : {},
      );
    return { file: PYTHON, args: [join(root, 'bench', 'torch_peer.py'), String(s.d), String(s.T), String(s.N), String(s.steps), String(threads), '3'], env };
  };

/** The OpenBLAS kernels for this CPU's widest vector unit, from /proc/cpuinfo (Linux x86-64). */
function bestOpenblasCore(): string | undefined {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return undefined;
  }
  const has = (flag: string) => flags.split(' ').includes(flag);
  if (has('avx512f') && has('avx512bw') && has('avx512vl') && has('avx512dq')) return 'SkylakeX';
  if (has('avx2') && has('fma')) return 'Haswell';
  return undefined;
}

/** The kernels OpenBLAS picks by itself here (OPENBLAS_CORETYPE unset), as PyTorch loads it. */
function openblasOwnCore(): string | undefined {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  const probe = spawnSync(PYTHON, [join(root, 'bench', 'torch_peer.py'), '4', '2', '8', '2', '1', '1'], { encoding: 'utf8', env, timeout: 120_000 });
  try {
    return (JSON.parse(probe.stdout.trim().split('\n').at(-1)!) as { openblasCore?: string | null }).openblasCore ?? undefined;
  } catch {
    return undefined;
  }
}

const allContestants: Contestant[] = [
  // As a Node user gets it: the products native where native/ is built (npm run build), else WebAssembly.
  { name: 'sigmtl CPU engine, 1 thread', family: 'sigmtl', threads: 1, command: sigmtl('wasm', 1) },
  // The products on WebAssembly (what a browser runs): with fused multiply–adds, and without them.
  { name: 'sigmtl CPU engine, 1 thread, WebAssembly relaxed SIMD', family: 'sigmtl', threads: 1, command: sigmtl('wasm', 1, 'relaxed', 'off') },
  { name: 'sigmtl CPU engine, 1 thread, WebAssembly 128-bit SIMD only', family: 'sigmtl', threads: 1, command: sigmtl('wasm', 1, 'simd128', 'off') },
  ...(cores > 1
    ? [
        { name: `sigmtl CPU engine, ${cores} threads`, family: 'sigmtl' as const, threads: cores, command: sigmtl('wasm', cores) },
        { name: `sigmtl CPU engine, ${cores} threads, WebAssembly relaxed SIMD`, family: 'sigmtl' as const, threads: cores, command: sigmtl('wasm', cores, 'relaxed', 'off') },
      ]
    : []),
  { name: 'sigmtl float64 reference', family: 'sigmtl', threads: 1, command: sigmtl('cpu', 1), upTo: 256 },
];
if (torchInstalled) {
  const own = openblasOwnCore();
  const best = bestOpenblasCore();
  const settings: Array<{ coretype: string | undefined; label: string }> = [{ coretype: undefined, label: `OpenBLAS's own pick${own ? `: ${own}` : ''}` }];
  const set = process.env.OPENBLAS_CORETYPE;
  if (set && set.toLowerCase() !== own?.toLowerCase()) settings.push({ coretype: set, label: `OPENBLAS_CORETYPE=${set}, the machine's` });
  if (best && own && best.toLowerCase() !== own.toLowerCase() && best !== set) settings.push({ coretype: best, label: `OPENBLAS_CORETYPE=${best}, this CPU's` });
  for (const threads of [...new Set([1, cores])]) {
    for (const { coretype, label } of settings) {
      allContestants.push({ name: `PyTorch, ${threads} thread${threads > 1 ? 's' : ''} (${label})`, family: 'pytorch', threads, command: torch(threads, coretype) });
    }
  }
} else {
  log('PyTorch is not installed (/usr/bin/python3 -c "import torch" fails): sigmtl rows only. On Debian: apt-get install python3-torch libopenblas0-pthread');
}

/** Processes (other than this one) that used more than 10 % of a core over the last 0.3 s. */
function busyProcesses(): string[] {
  const ticks = () => {
    const out = new Map<number, { name: string; ticks: number }>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const fields = stat.slice(close + 2).split(' ');
        out.set(Number(entry), { name: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // gone
      }
    }
    return out;
  };
  if (process.platform !== 'linux') return [];
  const before = ticks();
  execFileSync('sleep', ['0.3']);
  const after = ticks();
  const busy: string[] = [];
  for (const [pid, { name, ticks: t }] of after) {
    const used = (t - (before.get(pid)?.ticks ?? t)) / 100 / 0.3;
    if (used > 0.1 && pid !== process.pid) busy.push(`${name} (${pid}) ${(100 * used).toFixed(0)}%`);
  }
  return busy;
}

interface Sample {
  round: number;
  stepsPerSecond: number;
  load1: number;
  busy: string[];
}

function runOne(c: Contestant, size: Size): { rate: number; info: Record<string, unknown> } {
  const { file, args, env } = c.command(size);
  const run = spawnSync(file, args, { encoding: 'utf8', env, timeout: 600_000, cwd: root });
  if (run.status !== 0) throw new Error(`${c.name} failed (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const info = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { stepsPerSecond: number[]; description?: string; threads?: number } & Record<string, unknown>;
  // A row must be what its name says: the engine reports the threads it actually runs on.
  if (c.family === 'sigmtl' && c.name.includes('engine') && !String(info.description).includes(`${c.threads} thread`)) {
    throw new Error(`${c.name}: the contestant ran as "${info.description}"`);
  }
  if (c.name.includes('WebAssembly') && !String(info.description).includes('WebAssembly')) throw new Error(`${c.name}: the contestant ran as "${info.description}"`);
  if (c.family === 'pytorch' && info.threads !== c.threads) throw new Error(`${c.name}: PyTorch ran on ${info.threads} threads`);
  const forced = c.family === 'pytorch' ? /OPENBLAS_CORETYPE=(\w+)/.exec(c.name)?.[1] : undefined;
  if (forced && String(info.openblasCore).toLowerCase() !== forced.toLowerCase()) throw new Error(`${c.name}: OpenBLAS ran ${String(info.openblasCore)} kernels`);
  const rates = [...info.stepsPerSecond].sort((a, b) => a - b);
  return { rate: rates[Math.floor(rates.length / 2)]!, info };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface SizeResult {
  size: Size;
  rows: Array<{ name: string; family: string; threads: number; median: number; min: number; max: number; samples: Sample[]; info: Record<string, unknown> }>;
  ratios: Array<{ engine: string; peer: string; median: number; min: number; max: number; perRound: number[] }>;
  profile?: Record<string, number>;
}

interface Report {
  date: string;
  machine: { cpu: string; cores: number; node: string; v8: string; torch: string | null; blas: string[] | null; openblasEnv: Record<string, string | null> };
  rounds: number;
  results: SizeResult[];
}

const results: SizeResult[] = [];
const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
log(`${cpuModel}, ${cores} cores; ${rounds} rounds; each contestant alone in a fresh process`);
for (const size of sizes) {
  const label = `d=${size.d} T=${size.T} N=${size.N}`;
  const contestants = allContestants.filter((c) => c.upTo === undefined || size.d <= c.upTo);
  const samples = new Map<string, Sample[]>(contestants.map((c) => [c.name, []]));
  const infos = new Map<string, Record<string, unknown>>();
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round, so no contestant always follows the same one.
    const order = contestants.map((_, i) => contestants[(i + round) % contestants.length]!);
    for (const c of order) {
      const busy = busyProcesses();
      const load1 = loadavg()[0]!;
      const { rate, info } = runOne(c, size);
      infos.set(c.name, info);
      samples.get(c.name)!.push({ round, stepsPerSecond: rate, load1, busy });
      log(`  ${label} round ${round + 1}: ${c.name}: ${rate.toFixed(1)} steps/s (load ${load1.toFixed(2)}${busy.length ? `; busy: ${busy.join(', ')}` : ''})`);
    }
  }
  const rows = contestants.map((c) => {
    const s = samples.get(c.name)!;
    const rates = s.map((x) => x.stepsPerSecond);
    return { name: c.name, family: c.family, threads: c.threads, median: median(rates), min: Math.min(...rates), max: Math.max(...rates), samples: s, info: infos.get(c.name)! };
  });
  // The engine against PyTorch round by round: at the same thread count, and against PyTorch's
  // best row of that round (whatever its threads and kernels).
  const ratios: SizeResult['ratios'] = [];
  const rate = (name: string, round: number) => samples.get(name)![round]!.stepsPerSecond;
  const peers = contestants.filter((c) => c.family === 'pytorch');
  for (const engine of contestants.filter((c) => c.family === 'sigmtl' && c.name.includes('engine'))) {
    const versus = (peer: string, perRound: number[]) =>
      ratios.push({ engine: engine.name, peer, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound });
    for (const peer of peers.filter((p) => p.threads === engine.threads))
      versus(
        peer.name,
        samples.get(engine.name)!.map((_, i) => rate(engine.name, i) / rate(peer.name, i)),
      );
    if (peers.length)
      versus(
        "PyTorch's best row of the round",
        samples.get(engine.name)!.map((_, i) => rate(engine.name, i) / Math.max(...peers.map((p) => rate(p.name, i)))),
      );
  }
  // Where one engine step's time goes (one thread), in its own process after the rounds.
  const profileRun = spawnSync(process.execPath, [...sigmtl('wasm', 1)(size).args, '--profile'], { encoding: 'utf8', timeout: 600_000 });
  const profile = profileRun.status === 0 ? (JSON.parse(profileRun.stdout.trim().split('\n').at(-1)!) as { phases: Record<string, number> }).phases : undefined;
  results.push({ size, rows, ratios, ...(profile && { profile }) });
}

const torchInfo = results.flatMap((r) => r.rows).find((r) => r.family === 'pytorch')?.info as { torch?: string; blas?: string[]; env?: Record<string, string> } | undefined;
const report: Report = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpuModel,
    cores,
    node: process.versions.node,
    v8: process.versions.v8,
    torch: torchInfo?.torch ?? null,
    blas: torchInfo?.blas ?? null,
    openblasEnv: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null },
  },
  rounds,
  results,
};
if (values.save) writeFileSync(values.save, JSON.stringify(report, null, 1) + '\n');
if (values.json) {
  process.stdout.write(JSON.stringify(report) + '\n');
} else {
  process.stdout.write(markdownReport(report));
}

/** The report as markdown tables (also for a saved --json report: --from FILE). */
function markdownReport(report: Report): string {
  const out: string[] = [];
  out.push(`Training steps/s, full-batch Adam (MSE, float32), ${report.date.slice(0, 10)} on ${report.machine.cpu} (${report.machine.cores} cores), Node ${report.machine.node}`);
  if (report.machine.torch) out.push(`PyTorch ${report.machine.torch}, BLAS: ${(report.machine.blas ?? []).filter((p) => /libopenblas|libblas/.test(p)).join(', ') || 'unknown'}`);
  if (report.machine.blas && !report.machine.blas.some((p) => /openblas|mkl/i.test(p))) {
    out.push('WARNING: PyTorch ran on the reference BLAS (plain loops, 5–10× slower than OpenBLAS): not a fair peer. On Debian: apt-get install libopenblas0-pthread');
  }
  out.push(`Each contestant alone in a fresh process, ${report.rounds} rounds interleaved; per round the median of 3 timed runs after a warm-up.`, '');
  for (const r of report.results) {
    out.push(`d=${r.size.d} T=${r.size.T} N=${r.size.N} (${r.size.steps} steps a run)`, '', '| contestant | steps/s (median) | min–max | load (1 min) |', '|---|---|---|---|');
    for (const row of r.rows) {
      const loads = row.samples.map((s) => s.load1);
      out.push(
        `| ${row.name} | ${row.median.toFixed(row.median < 100 ? 2 : 0)} | ${row.min.toFixed(row.min < 100 ? 2 : 0)}–${row.max.toFixed(row.max < 100 ? 2 : 0)} | ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} |`,
      );
    }
    const ran = r.rows.filter((row) => row.family === 'sigmtl' && typeof row.info?.description === 'string');
    if (ran.length) out.push('', `What ran: ${ran.map((row) => `${row.name} = ${String(row.info.description)}`).join('; ')}.`);
    const cores = [...new Set(r.rows.filter((row) => row.family === 'pytorch').map((row) => `${row.name}: ${String(row.info?.openblasCore ?? 'unknown')}`))];
    if (cores.length) out.push('', `OpenBLAS kernels: ${cores.join('; ')}.`);
    if (r.ratios.length) {
      out.push('', '| engine / PyTorch (per round) | median | min–max |', '|---|---|---|');
      for (const q of r.ratios) out.push(`| ${q.engine} / ${q.peer} | ${q.median.toFixed(2)}× | ${q.min.toFixed(2)}–${q.max.toFixed(2)}× |`);
    }
    const busy = [...new Set(r.rows.flatMap((row) => row.samples.flatMap((s) => s.busy)).map((b) => b.replace(/ \(\d+\).*/, '')))];
    out.push('', busy.length ? `Other busy processes seen before a run: ${busy.join(', ')}` : 'No other process was busy before any run.');
    if (r.profile) {
      const total = Object.values(r.profile).reduce((a, b) => a + b, 0);
      out.push('', 'One engine step (1 thread), phase by phase:', '', '| phase | ms | share |', '|---|---|---|');
      for (const [phase, ms] of Object.entries(r.profile)) out.push(`| ${phase} | ${ms.toFixed(3)} | ${((100 * ms) / total).toFixed(0)} % |`);
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}
