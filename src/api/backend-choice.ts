// backend: 'auto' between WebGPU and the CPU engine: a short timed probe of both on this model's
// shape and batch size (synthetic rows, a few interleaved rounds, the median), remembered per
// adapter and shape in the tuning store like the matmul autotuner's choice.
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { initParameters } from '../core/init.js';
import { newOptimizerState } from '../core/optimizers.js';
import type { KeyValueStore } from '../util/store.js';
import { Random } from '../util/random.js';

export interface BackendProbe {
  chosen: 'webgpu' | 'wasm';
  /** Steps/s of each in the probe. */
  stepsPerSecond: { webgpu: number; wasm: number };
}

/** The choice an earlier probe stored for this key, if any (check it before creating either backend). */
export function rememberedBackend(key: string, store?: KeyValueStore): 'webgpu' | 'wasm' | undefined {
  const remembered = store?.get(key);
  return remembered === 'webgpu' || remembered === 'wasm' ? remembered : undefined;
}

/** Rounds of the probe; each times `steps` steps of both backends, interleaved. */
const ROUNDS = 3;

export function probeKey(adapter: string, config: BackendConfig): string {
  const { features, hidden, tasks } = config.shape;
  return `backend|${adapter}|d${features}h${hidden}t${tasks}|b${config.maxBatch}|${config.weighting ?? 'equal'}`;
}

/** Times both backends on synthetic rows of this shape and stores the choice; leaves their optimizer state new (the caller sets parameters and data). */
export async function probeBackends(webgpu: TrainingBackend, wasm: TrainingBackend, key: string, store?: KeyValueStore): Promise<BackendProbe> {
  const { shape, maxBatch } = webgpu.config;
  const random = new Random(7);
  const rows = maxBatch;
  const data = {
    rows,
    X: Float32Array.from({ length: rows * shape.features }, () => random.normal()),
    Y: new Float32Array(rows * shape.tasks),
    mask: new Float32Array(rows * shape.tasks).fill(1),
  };
  const params = initParameters(shape, 3, 'random');
  const seconds = { webgpu: [] as number[], wasm: [] as number[] };
  const backends = { webgpu, wasm };
  // Enough steps for a few milliseconds on the faster one, at least 4.
  let steps = 4;
  for (const backend of [webgpu, wasm]) {
    backend.setParameters(params);
    backend.setDataset(data);
    await backend.trainSteps([{ start: 0, rows, learningRate: 1e-6 }]); // warm-up (compiles, faults pages in)
    await backend.readLoss();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['webgpu', 'wasm'] as const) {
      const started = performance.now();
      await backends[name].trainSteps(Array.from({ length: steps }, () => ({ start: 0, rows, learningRate: 1e-6 })));
      await backends[name].readLoss(); // waits for the GPU
      seconds[name].push((performance.now() - started) / 1000 / steps);
    }
    if (round === 0) steps = Math.max(4, Math.min(64, Math.ceil(0.02 / Math.min(seconds.webgpu[0]!, seconds.wasm[0]!))));
  }
  // Leave both as new: no optimizer steps taken, no loss accumulated.
  for (const backend of [webgpu, wasm]) {
    backend.setOptimizerState(newOptimizerState(backend.layout.count));
    await backend.readLoss();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const stepsPerSecond = { webgpu: 1 / median(seconds.webgpu), wasm: 1 / median(seconds.wasm) };
  const chosen = stepsPerSecond.wasm > stepsPerSecond.webgpu ? 'wasm' : 'webgpu';
  store?.set(key, chosen);
  return { chosen, stepsPerSecond };
}
