// `npm run soak` (not part of `npm test`): 100,000 training steps in one process on WebGPU and on
// the CPU backend, then 200 WebGPU backend create/destroy cycles. Prints the resident memory and
// the live GPU buffers (creations minus destructions, counted on the device) every 10,000 steps,
// and fails when either grows past its bound once warmed up.
//   npm run soak -- [--steps N] [--cycles N]
import { parseArgs } from 'node:util';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { DEFAULT_OPTIMIZER } from '../src/core/optimizers.js';
import { initParameters } from '../src/core/init.js';
import { CpuBackend } from '../src/backends/cpu.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { requestNodeGpu } from '../src/gpu/node.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';

const { values } = parseArgs({ options: { steps: { type: 'string' }, cycles: { type: 'string' } } });
const STEPS = Number(values.steps ?? 100_000);
const CYCLES = Number(values.cycles ?? 200);
const EVERY = 10_000;
/** Resident memory may grow this much between the first report and the last. */
const RSS_BOUND_MB = 64;

const ctx = await requestNodeGpu();
let liveBuffers = 0;
const createBuffer = ctx.device.createBuffer.bind(ctx.device);
ctx.device.createBuffer = (descriptor: GPUBufferDescriptor) => {
  const buffer = createBuffer(descriptor);
  liveBuffers++;
  const destroy = buffer.destroy.bind(buffer);
  let destroyed = false;
  buffer.destroy = () => {
    if (!destroyed) liveBuffers--;
    destroyed = true;
    destroy();
  };
  return buffer;
};

const shape = { features: 16, hidden: 8, tasks: 8 };
const data = teacherStudentData({ shape, rows: 4096, seed: 3, noise: 0.05 });
const config: BackendConfig = {
  shape,
  tasks: Array.from({ length: shape.tasks }, () => ({ loss: 'mse' as const, weight: 1 })),
  optimizer: { ...DEFAULT_OPTIMIZER, learningRate: 0.003 },
  maxBatch: 64,
};
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const failures: string[] = [];

async function soak(name: string, backend: TrainingBackend): Promise<void> {
  backend.setParameters(initParameters(shape, 1, 'identity'));
  backend.setDataset(data);
  const steps = Array.from({ length: 1000 }, (_, i) => ({ start: (i * 64) % (4096 - 64), rows: 64, learningRate: 0.003 }));
  const seen: Array<{ rss: number; buffers: number }> = [];
  const started = performance.now();
  console.log(`${name}: ${STEPS} steps, d=${shape.features} H=${shape.hidden} T=${shape.tasks} batch 64`);
  for (let done = 0; done < STEPS;) {
    await backend.trainSteps(steps);
    done += steps.length;
    const loss = await backend.readLoss();
    if (done % EVERY === 0) {
      seen.push({ rss: rssMb(), buffers: liveBuffers });
      const mean = loss.perTask.reduce((a, b) => a + b, 0) / loss.perTask.length;
      console.log(
        `  ${String(done).padStart(7)} steps  RSS ${rssMb().toFixed(1).padStart(7)} MB  live GPU buffers ${String(liveBuffers).padStart(4)}  loss ${mean.toExponential(3)}  ${((done / (performance.now() - started)) * 1000).toFixed(0)} steps/s`,
      );
    }
  }
  const first = seen[0]!;
  const last = seen.at(-1)!;
  if (last.rss - first.rss > RSS_BOUND_MB) failures.push(`${name}: RSS grew ${(last.rss - first.rss).toFixed(1)} MB from ${EVERY} to ${STEPS} steps (bound ${RSS_BOUND_MB} MB)`);
  if (seen.some((s) => s.buffers !== first.buffers)) failures.push(`${name}: live GPU buffers changed during training (${seen.map((s) => s.buffers).join(' → ')})`);
  backend.destroy();
}

await soak('webgpu', await WebGpuBackend.create(ctx, config));
await soak('cpu (float64)', new CpuBackend(config));

const buffersBefore = liveBuffers;
let rssAfterWarmup = 0;
console.log(`webgpu: ${CYCLES} backend create/destroy cycles (10 steps and a loss read each)`);
for (let cycle = 1; cycle <= CYCLES; cycle++) {
  const backend = await WebGpuBackend.create(ctx, config);
  backend.setParameters(initParameters(shape, cycle, 'identity'));
  backend.setDataset(data);
  await backend.trainSteps(Array.from({ length: 10 }, (_, i) => ({ start: i * 64, rows: 64, learningRate: 0.003 })));
  await backend.readLoss();
  backend.destroy();
  if (cycle === 20) rssAfterWarmup = rssMb();
  if (cycle % 50 === 0) console.log(`  ${String(cycle).padStart(4)} cycles  RSS ${rssMb().toFixed(1).padStart(7)} MB  live GPU buffers ${liveBuffers}`);
}
if (liveBuffers !== buffersBefore) failures.push(`cycles: ${liveBuffers - buffersBefore} GPU buffers left alive after ${CYCLES} cycles`);
if (rssMb() - rssAfterWarmup > RSS_BOUND_MB) failures.push(`cycles: RSS grew ${(rssMb() - rssAfterWarmup).toFixed(1)} MB over ${CYCLES - 20} cycles (bound ${RSS_BOUND_MB} MB)`);
ctx.destroy();

if (failures.length) {
  console.error(`\nSOAK FAILED:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
} else {
  console.log(`\nsoak passed: flat GPU buffers, RSS within ${RSS_BOUND_MB} MB`);
}
