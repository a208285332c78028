// `npm run bench [-- --quick] [-- --json]`: sigmtl against TensorFlow.js, gpu.js and its own CPU
// backend on this machine's WebGPU adapter (Dawn; SwiftShader where there is no GPU). Prints
// markdown tables (progress on stderr), or with --json one object on stdout.
import { parseArgs } from 'node:util';
import { requestNodeGpu } from '../src/gpu/node.js';
import { layerShapes, matmulBench, square } from './matmul.js';
import { installCounters, loadPeers } from './peers.js';
import { markdownTables } from './rows.js';
import { trainBench, type TrainSize } from './train.js';
import { parseBench, streamBench } from './stream.js';
import { methodsBench, methodsTable, weightingCostBench, type MethodRow } from './weighting.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    only: { type: 'string' },
    stream: { type: 'boolean' },
    'stream-gb': { type: 'string' },
    'stream-parse': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`npm run bench -- [--quick] [--json] [--only matmul|train|weighting|methods]

Matmul GFLOP/s (square 256–2048 and the model's layer shapes) and training steps/s (d=256 T=16
N=4096, d=1024 T=64 N=8192, d=10 T=5 N=100) for sigmtl, tfjs-webgpu/wasm/cpu, gpu.js and sigmtl's
CPU backend; dispatches, submits and mapAsync per step; per-kernel GPU time (timestamp queries).
Each task weighting and gradient aggregator's steps/s at the same sizes (vs equal, dispatches/step).
--only methods (not run by default: minutes): every weighting on every bundled data set at H = 64 —
test metrics, Δm against single-task models, steps/s against equal.
--stream [--stream-gb N]: only the streaming benchmark: a synthetic CSV of N GB (default 2; 200
features, 8 tasks) trained window by window for one epoch: rows/s, parse time, GPU steps/s against
the same batch from memory, peak RSS. With --stream-parse: only the parse speed on one thread
(200 MB, 5 rounds; --quick: 50 MB, 3): the byte-level reader of openCsvStream and the checked path against a minimal
byte-level reader.
--quick: smaller sizes and budgets (under 2 minutes on a 2-core machine).
`);
  process.exit(0);
}
const quick = values.quick ?? false;
const log = (line: string) => process.stderr.write(line + '\n');

if (values['stream-parse']) {
  process.stdout.write((await parseBench(quick ? 50 : 200, quick ? 3 : 5, log)) + '\n');
  process.exit(0);
}
const ctx = await requestNodeGpu();
if (values.stream) {
  const table = await streamBench(ctx.device, Number(values['stream-gb'] ?? 2), log);
  process.stdout.write(table + '\n');
  ctx.destroy();
  process.exit(0);
}
const counts = installCounters(); // after the device: Dawn's classes exist from then on
const peers = await loadPeers(ctx);
const adapter = ctx.adapter;
log(`adapter: ${adapter.description} (${adapter.vendor}/${adapter.architecture}${adapter.software ? ', software: timings are CPU timings' : ''})`);
log(`tfjs backends: ${peers.tfBackends.join(', ')}; gpu.js mode: ${peers.gpujs?.mode ?? 'unavailable'}`);

const squares = (quick ? [256, 512, 1024] : [256, 512, 1024, 2048]).map(square);
const shapes = [...squares, ...layerShapes(256, 16, 4096), ...(quick ? [] : layerShapes(1024, 64, 8192))];
const sizes: TrainSize[] = [
  { d: 10, T: 5, N: 100, steps: quick ? 50 : 200 },
  { d: 256, T: 16, N: 4096, steps: quick ? 2 : 5 },
  ...(quick ? [] : [{ d: 1024, T: 64, N: 8192, steps: 1 }]),
];
const budgetMs = quick ? 1500 : 6000;

const rows = [];
let kernelTimes: Awaited<ReturnType<typeof trainBench>>['kernelTimes'] = [];
let methods: MethodRow[] = [];
const only = values.only;
if (only !== undefined && !['matmul', 'train', 'weighting', 'methods'].includes(only)) throw new Error(`--only ${only}: expected matmul, train, weighting or methods`);
if (only === undefined || only === 'matmul') rows.push(...(await matmulBench(ctx, peers, shapes, budgetMs, log)));
if (only === undefined || only === 'train') {
  const train = await trainBench(ctx, peers, sizes, budgetMs, counts, log);
  rows.push(...train.rows);
  kernelTimes = train.kernelTimes;
}
if (only === undefined || only === 'weighting') rows.push(...(await weightingCostBench(ctx, sizes, budgetMs, counts, log)));
if (only === 'methods') methods = await methodsBench(ctx.device, quick, log);

const report = {
  adapter: { ...adapter, origin: ctx.origin },
  versions: peers.versions,
  quick,
  rows,
  kernelTimes,
  methods,
};
if (values.json) {
  process.stdout.write(JSON.stringify(report) + '\n');
} else {
  process.stdout.write(
    `Adapter: ${adapter.description} (${adapter.vendor}/${adapter.architecture})${adapter.software ? ' — software (SwiftShader): GPU timings are CPU timings' : ''}\n`,
  );
  process.stdout.write(
    `Versions: ${Object.entries(peers.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n\n`,
  );
  process.stdout.write(markdownTables(rows) + '\n');
  if (methods.length) process.stdout.write('\n' + methodsTable(methods) + '\n');
  for (const { size, kernels } of kernelTimes) {
    process.stdout.write(`\nsigmtl kernel GPU time per step (timestamp queries), ${size}:\n\n| kernel | ms |\n|---|---|\n`);
    for (const k of kernels) process.stdout.write(`| ${k.kernel} | ${k.ms.toFixed(3)} |\n`);
  }
}
ctx.destroy();
process.exit(0);
