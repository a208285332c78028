// One contestant of the training comparison, alone in its own process (bench/compare.ts starts it):
// full-batch Adam steps of y = A·σ(W·x + b) + c with MSE on teacher–student data, on one sigmtl
// backend. Prints one JSON line: steps/s of each timed run, and what ran.
//   node dist-bench/contestant.js --impl wasm|cpu|webgpu --threads N --d D --T T --N ROWS --steps S --runs R
//     [--simd auto|relaxed|simd128] (wasm: which build; auto = relaxed where the runtime has it)
//     [--native auto|off|BUILD] (wasm: the products natively where native/ is built, on WebAssembly, or on one native build)
// With --profile (wasm only): where one step's time goes instead (WasmBackend.profileSteps).
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { CpuBackend } from '../src/backends/cpu.js';
import { WasmBackend } from '../src/backends/wasm.js';
import { initParameters } from '../src/core/init.js';
import { DEFAULT_OPTIMIZER } from '../src/core/optimizers.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import '../src/node.js'; // the CPU engine's worker pool
import { requestNodeGpu } from '../src/gpu/node.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    threads: { type: 'string', default: '1' },
    d: { type: 'string' },
    T: { type: 'string' },
    N: { type: 'string' },
    steps: { type: 'string' },
    runs: { type: 'string', default: '5' },
    profile: { type: 'boolean' },
    simd: { type: 'string', default: 'auto' },
    native: { type: 'string', default: 'auto' },
  },
});
const int = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const [d, T, N, steps, runs, threads] = [
  int('d', values.d),
  int('T', values.T),
  int('N', values.N),
  int('steps', values.steps),
  int('runs', values.runs),
  int('threads', values.threads),
];
const impl = values.impl;
if (!['wasm', 'cpu', 'webgpu'].includes(impl ?? '')) throw new Error(`--impl must be wasm, cpu or webgpu, got ${impl}`);

const LEARNING_RATE = 0.01;
const shape = { features: d, hidden: T, tasks: T };
const data = teacherStudentData({ shape, rows: N, seed: 5, noise: 0.1 });
const config: BackendConfig = {
  shape,
  tasks: Array.from({ length: T }, () => ({ loss: 'mse' as const, weight: 1 })),
  optimizer: { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: LEARNING_RATE },
  maxBatch: N,
};

let backend: TrainingBackend;
let destroyDevice = () => {};
if (impl === 'wasm') {
  if (!['auto', 'relaxed', 'simd128'].includes(values.simd!)) throw new Error(`--simd must be auto, relaxed or simd128, got ${values.simd}`);
  const native = values.native === 'auto' ? undefined : values.native === 'off' ? false : values.native;
  backend = await WasmBackend.create(config, { threads, relaxedSimd: values.simd === 'auto' ? undefined : values.simd === 'relaxed', native });
} else if (impl === 'cpu') {
  backend = new CpuBackend(config);
} else {
  const ctx = await requestNodeGpu();
  destroyDevice = () => ctx.destroy();
  backend = await WebGpuBackend.create(ctx, config, { stepsPerSubmit: 16 });
}
backend.setParameters(initParameters(shape, 6, 'random'));
backend.setDataset(data);
const step = { start: 0, rows: N, learningRate: LEARNING_RATE };

if (values.profile) {
  if (!(backend instanceof WasmBackend)) throw new Error('--profile is for --impl wasm');
  await backend.profileSteps(step, Math.max(2, Math.ceil(steps / 4))); // warm-up
  const phases = await backend.profileSteps(step, steps * runs);
  process.stdout.write(JSON.stringify({ description: backend.description, phases: Object.fromEntries(phases) }) + '\n');
} else {
  const run = async () => {
    await backend.trainSteps(Array.from({ length: steps }, () => step));
    await backend.readLoss(); // the last step has finished (WebGPU: read back)
  };
  await run(); // warm-up: compiles, fills caches
  const stepsPerSecond: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    stepsPerSecond.push(steps / ((performance.now() - started) / 1000));
  }
  const description = 'description' in backend ? String((backend as { description: string }).description) : impl;
  process.stdout.write(
    JSON.stringify({
      description,
      threads: impl === 'wasm' ? threads : impl === 'cpu' ? 1 : availableParallelism(),
      node: process.versions.node,
      v8: process.versions.v8,
      stepsPerSecond,
    }) + '\n',
  );
}
backend.destroy();
destroyDevice();
process.exit(0);
