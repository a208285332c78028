// The public API (src/index.ts, src/node.ts) as a user's program calls it: train on in-memory
// data, predict, save and load, abort, progress, and every bad option refused before GPU work.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { check, loadModel, train, TrainingDivergedError, type ProgressReport, type TrainOptions } from '../src/index.js';
import { loadDataset, loadModelFile, readCsv, requestNodeDevice, saveModel } from '../src/node.js';
import { Random } from '../src/util/random.js';

const dir = mkdtempSync(join(tmpdir(), 'sigmtl-api-'));
let device: GPUDevice | undefined;
const gpuDevice = async () => (device ??= await requestNodeDevice());
afterAll(() => device?.destroy());

/** y1 = 2a − b (regression), y2 = [a·b > 0] (binary), with a missing y1 every 7th row. */
function toyData(rows = 240) {
  const features: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [Math.sin(i), Math.cos(i * 0.7), (i % 13) / 13];
    features.push([a, b, c]);
    targets.push([i % 7 === 0 ? NaN : 2 * a - b + 0.1 * c, a * b > 0 ? 1 : 0]);
  }
  return { features, targets, featureNames: ['a', 'b', 'c'], taskNames: ['y_reg', 'y_bin'] };
}

describe.each(['webgpu', 'cpu'] as const)('train → predict → save → load on %s', (backend) => {
  test('trains, predicts, round-trips through safetensors bytes and a file', async () => {
    const data = toyData();
    const progress: ProgressReport[] = [];
    const result = await train({
      ...data,
      epochs: 150,
      hidden: 6,
      optimizer: { learningRate: 0.03 },
      testSplit: 0.2,
      backend,
      device: backend === 'webgpu' ? await gpuDevice() : undefined,
      onProgress: (p) => progress.push(p),
    });
    expect(result.backend).toBe(backend);
    expect(result.lossLast).toBeLessThan(result.lossFirst / 2);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.stepsPerSecond).toBeGreaterThan(0);
    expect(result.evaluatedOn).toBe('test');
    expect(result.agreement.ok).toBe(true);
    const model = result.model;
    expect(model.losses).toEqual(['mse', 'bce']);
    expect(model.taskNames).toEqual(['y_reg', 'y_bin']);
    // The regression task was learned on its original scale, the binary one as probabilities.
    const predictions = await model.predict(data.features.slice(0, 50));
    expect(predictions.length).toBe(100);
    let se = 0;
    for (let r = 0; r < 50; r++) {
      const want = 2 * data.features[r]![0]! - data.features[r]![1]! + 0.1 * data.features[r]![2]!;
      se += (predictions[2 * r]! - want) ** 2;
      expect(predictions[2 * r + 1]).toBeGreaterThanOrEqual(0);
      expect(predictions[2 * r + 1]).toBeLessThanOrEqual(1);
    }
    expect(Math.sqrt(se / 50)).toBeLessThan(0.3);
    const reloaded = loadModel(model.toSafetensors());
    expect(await reloaded.predict(data.features.slice(0, 50))).toEqual(predictions);
    const path = join(dir, `${backend}.safetensors`);
    await saveModel(path, model);
    expect(await (await loadModelFile(path)).predict(data.features.slice(0, 50))).toEqual(predictions);
    // The GPU forward agrees with the float64 one.
    const onGpu = await model.predict(data.features.slice(0, 50), { device: await gpuDevice() });
    for (let i = 0; i < 100; i++) expect(Math.abs(onGpu[i]! - predictions[i]!)).toBeLessThan(1e-4);
    const metrics = await model.evaluate(data.features, data.targets);
    expect(metrics.overall.macroR2).toBeGreaterThan(0.9);
    expect(model.coupling.at('y_reg', 'h1')).toBe(model.coupling.values[0]);
  }, 120_000);
});

test('flat Float32Array features with names; a test set; losses per task', async () => {
  const data = toyData(120);
  const flat = Float32Array.from(data.features.flat());
  const result = await train({
    features: flat,
    targets: Float64Array.from(data.targets.flat()),
    featureNames: data.featureNames,
    taskNames: data.taskNames,
    test: { features: data.features.slice(0, 20), targets: data.targets.slice(0, 20) },
    losses: ['mse', 'bce'],
    epochs: 3,
    backend: 'cpu',
  });
  expect(result.evaluatedRows).toBe(20);
  expect(Object.keys(result.metrics.tasks)).toEqual(['y_reg', 'y_bin']);
});

test("losses with parameters: 'quantile:0.9' learns the upper tail (coverage near q), its spec kept in the model file", async () => {
  // y = x + noise, the same column as two tasks: its 0.1 and 0.9 quantiles.
  const random = new Random(11);
  const features = Array.from({ length: 600 }, () => [random.uniform(-1, 1)]);
  const targets = features.map(([x]) => {
    const y = x! + random.uniform(-0.5, 0.5);
    return [y, y];
  });
  const result = await train({ features, targets, losses: ['quantile:0.1', 'quantile:0.9'], hidden: 4, epochs: 40, backend: 'cpu', seed: 3 });
  expect(result.model.losses).toEqual(['quantile:0.1', 'quantile:0.9']);
  const [low, high] = Object.values(result.metrics.tasks).map((m) => (m.kind === 'regression' ? m.quantile : undefined));
  expect(low?.q).toBe(0.1);
  expect(low!.coverage).toBeGreaterThan(0.02);
  expect(low!.coverage).toBeLessThan(0.2);
  expect(high!.coverage).toBeGreaterThan(0.8);
  expect(high!.coverage).toBeLessThan(0.98);
  const reloaded = loadModel(result.model.toSafetensors());
  expect(reloaded.losses).toEqual(['quantile:0.1', 'quantile:0.9']);
  expect(Array.from(await reloaded.predict([[0.5]]))).toEqual(Array.from(await result.model.predict([[0.5]])));
});

test('an AbortSignal stops the run within one submit and keeps the best parameters', async () => {
  const data = toyData(2000);
  const controller = new AbortController();
  let stepsAtAbort = -1;
  const result = await train({
    ...data,
    hidden: 2,
    epochs: 200,
    batchSize: 16,
    reportEvery: 20,
    backend: 'webgpu',
    device: await gpuDevice(),
    signal: controller.signal,
    onProgress: (p) => {
      if (p.step >= 200 && stepsAtAbort < 0) {
        stepsAtAbort = p.step;
        controller.abort();
      }
    },
  });
  expect(result.aborted).toBe(true);
  expect(result.stoppedEarly).toBe(false);
  expect(result.steps).toBeGreaterThanOrEqual(stepsAtAbort);
  expect(result.steps).toBeLessThanOrEqual(stepsAtAbort + 16);
  expect(result.lossLast).toBeLessThan(result.lossFirst);
  // Aborted after an epoch had finished: the model holds the best epoch's parameters.
  expect(result.bestEpoch).toBeDefined();
}, 120_000);

test('an already aborted signal trains nothing', async () => {
  await expect(train({ ...toyData(20), backend: 'cpu', signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
});

describe('bad options throw a RangeError naming the option, before any GPU work', () => {
  const data = toyData(30);
  const cases: Array<[string, Partial<TrainOptions> & Record<string, unknown>, RegExp]> = [
    ['batch 0', { batchSize: 0 }, /^batchSize must be an integer ≥ 1, got 0$/],
    ['lr NaN', { optimizer: { learningRate: NaN } }, /^optimizer.learningRate must be a finite number > 0, got NaN$/],
    ['hidden 0', { hidden: 0 }, /^hidden must be an integer ≥ 1, got 0$/],
    ['epochs 1.5', { epochs: 1.5 }, /^epochs must be an integer/],
    ['unknown optimizer', { optimizer: { kind: 'rmsprop' as 'adam' } }, /^optimizer.kind must be one of 'sgd', 'momentum', 'adam', got "rmsprop"$/],
    ['unknown option', { lr: 0.1 }, /^unknown option "lr" \(did you mean optimizer.learningRate\?\)$/],
    ['mismatched rows', { targets: data.targets.slice(1) }, /^features has 30 rows but targets has 29$/],
    [
      'ragged rows',
      {
        features: [
          [1, 2, 3],
          [1, 2],
        ] as number[][],
        targets: [
          [1, 0],
          [1, 1],
        ],
      },
      /^features\[1\] has 2 values, row 0 has 3$/,
    ],
    [
      'non-finite feature',
      { features: data.features.map((r, i) => (i === 4 ? [r[0]!, Infinity, r[2]!] : r)) },
      /^features row 4, column 1 \("b"\) is not a finite number \(Infinity\)$/,
    ],
    [
      'a feature beyond float32',
      { features: data.features.map((r, i) => (i === 2 ? [1e39, r[1]!, r[2]!] : r)) },
      /^features row 2, column 0 \("a"\) is outside the float32 range \(±3.4e38\) \(1e\+39\)$/,
    ],
    ['a target beyond float32', { targets: data.targets.map((r, i) => (i === 3 ? [1e300, r[1]!] : r)) }, /^targets row 3, column 0 \("y_reg"\) is outside the float32 range/],
    ['flat array without width', { features: new Float32Array(90), featureNames: undefined }, /^features is a flat Float32Array: give featureCount/],
    ['weights for the wrong task count', { taskWeights: [1] }, /^taskWeights lists 1 weights for 2 tasks$/],
    ['a warm-up longer than the run', { schedule: { warmupSteps: 1e9 } }, /^schedule.warmupSteps \(1000000000\) is longer than the whole run \(1 steps\)/],
    ['all-zero task weights', { taskWeights: [0, 0] }, /^taskWeights are all zero: nothing would be learned$/],
    ['backend', { backend: 'gpu' as 'webgpu' }, /^backend must be one of 'webgpu', 'cpu', 'wasm', 'auto', got "gpu"$/],
    ['validation split', { validationSplit: 1 }, /^validationSplit must be a finite number ≥ 0 ≤ 0.9, got 1$/],
    [
      'an unknown loss',
      { losses: ['mse', 'pinball' as 'mse'] },
      /^losses\[1\] must be one of 'auto', 'mse', 'bce', 'huber', 'quantile' \(with a parameter: 'huber:2', 'quantile:0.9'\), got "pinball"$/,
    ],
    ['a quantile outside (0, 1)', { losses: ['mse', 'quantile:1'] }, /^losses\[1\]: loss "quantile:1": quantile's q must be between 0 and 1 \(exclusive\), got 1$/],
    ['a parameter for a loss without one', { losses: 'mse:2' as 'mse' }, /^losses: loss "mse:2": mse takes no parameter$/],
  ];
  test.each(cases)('%s', async (_name, patch, message) => {
    // A device that fails on first use: nothing may touch it.
    const untouchable = new Proxy({ createBuffer() {} } as unknown as GPUDevice, {
      get(target, key) {
        if (key === 'createBuffer') return () => {};
        throw new Error(`GPU work started (device.${String(key)})`);
      },
    });
    const run = train({ ...data, epochs: 1, backend: 'webgpu', device: untouchable, ...patch } as TrainOptions);
    await expect(run).rejects.toBeInstanceOf(RangeError);
    await expect(run).rejects.toThrow(message);
  });
});

test('divergence: TrainingDivergedError with the last good model', async () => {
  const data = toyData(200);
  const run = train({ ...data, losses: 'mse', epochs: 20, optimizer: { kind: 'sgd', learningRate: 1e6 }, backend: 'cpu' });
  await expect(run).rejects.toBeInstanceOf(TrainingDivergedError);
  const error = (await run.catch((e: unknown) => e)) as TrainingDivergedError;
  expect(error.message).toMatch(/diverged/);
  expect(error.lastGoodModel.toSafetensors().length).toBeGreaterThan(100);
});

test('sigmtl/node: a bundled data set, a CSV, and check() on the Dawn device', async () => {
  const enb = await loadDataset('enb2012');
  expect(enb.train.taskNames.length).toBe(2);
  const rows = enb.train.features.length / enb.train.featureNames.length;
  expect(rows).toBe(768);
  const csv = await readCsv('data/enb2012/enb2012.csv', { targets: ['y_*'] });
  expect(csv.taskNames).toEqual(enb.train.taskNames);
  const report = await check({ device: await gpuDevice() });
  expect(report.ok).toBe(true);
  expect(report.adapterLabel).not.toBe('');
}, 120_000);

test('a device lost mid-run: a clear error, the last checkpoint kept, and resuming from it ends exactly like an uninterrupted run', async () => {
  const data = toyData(400);
  const common = { ...data, hidden: 2, epochs: 6, patience: 0, backend: 'webgpu' as const, seed: 3 };
  const whole = await train({ ...common, device: await gpuDevice() });
  const doomed = await requestNodeDevice();
  let saved: Uint8Array | undefined;
  let savedAfter = 0;
  const run = train({
    ...common,
    device: doomed,
    checkpoint: {
      every: 1,
      write: (bytes) => {
        saved = bytes;
        savedAfter++;
      },
    },
    onEpochEnd: (e) => {
      if (e.epoch === 2) doomed.destroy(); // the third epoch's end: simulated device loss
    },
  });
  await expect(run).rejects.toThrow(/the WebGPU device was lost/);
  expect(savedAfter).toBe(2);
  const resumed = await train({ ...common, device: await gpuDevice(), resume: saved });
  expect(resumed.model.parameters()).toEqual(whole.model.parameters());
}, 120_000);

test('uncertainty weighting: WebGPU and the CPU agree after 100 steps, and the learned weights are reported', async () => {
  const data = toyData(640);
  const common = { ...data, epochs: 10, batchSize: 64, validationSplit: 0, weighting: 'uw' as const, seed: 2 };
  const gpu = await train({ ...common, backend: 'webgpu', device: await gpuDevice() });
  const cpu = await train({ ...common, backend: 'cpu' });
  expect(gpu.steps).toBe(100);
  const [g, c] = [gpu.model.parameters(), cpu.model.parameters()];
  for (const name of ['W', 'b', 'A', 'c'] as const) {
    g[name].forEach((v, i) => expect(Math.abs(v - c[name][i]!), `${name}[${i}]`).toBeLessThan(2e-3 + 1e-2 * Math.abs(c[name][i]!)));
  }
  expect(Object.keys(gpu.taskWeights)).toEqual(['y_reg', 'y_bin']);
  for (const name of ['y_reg', 'y_bin']) expect(Math.abs(gpu.taskWeights[name]! - cpu.taskWeights[name]!)).toBeLessThan(1e-3);
  // Equal weighting reports the fixed weights; uncertainty weighting moved them away from c_t.
  expect((await train({ ...common, epochs: 1, backend: 'cpu', weighting: 'equal' })).taskWeights).toEqual({ y_reg: 1, y_bin: 1 });
  expect(cpu.taskWeights.y_reg).not.toBeCloseTo(0.5, 3);
}, 120_000);

describe('dynamic weight average', () => {
  test('WebGPU and the CPU agree; the weights move after two epochs; a resumed run is exact', async () => {
    const data = toyData(320);
    const common = { ...data, epochs: 6, batchSize: 32, validationSplit: 0, weighting: { kind: 'dwa' as const, temperature: 0.5 }, seed: 4 };
    const seen: Float64Array[] = [];
    const cpu = await train({ ...common, backend: 'cpu', onEpochEnd: (e) => void seen.push(e.taskWeights) });
    expect(Array.from(seen[0]!)).toEqual([1, 1]);
    expect(seen[2]![0]).not.toBe(1);
    expect(seen[2]![0]! + seen[2]![1]!).toBeCloseTo(2, 10); // λ sums to T
    const gpu = await train({ ...common, backend: 'webgpu', device: await gpuDevice() });
    for (const name of ['y_reg', 'y_bin']) expect(Math.abs(gpu.taskWeights[name]! - cpu.taskWeights[name]!)).toBeLessThan(1e-3);
    let checkpoint: Uint8Array | undefined;
    await train({ ...common, epochs: 3, backend: 'cpu', checkpoint: { every: 3, write: (b) => void (checkpoint = b) } });
    const resumed = await train({ ...common, backend: 'cpu', resume: checkpoint });
    expect(resumed.model.parameters()).toEqual(cpu.model.parameters());
  }, 120_000);
});

test("hidden: 'auto' is the default model search, and needs validation rows", async () => {
  const result = await train({ ...toyData(300), hidden: 'auto', epochs: 4, backend: 'cpu' });
  expect(result.search!.tried.map((h) => h.hidden)).toEqual([2, 2, 16, 16, 32, 32, 64, 64, 128, 128]);
  expect(result.model.shape.hidden).toBe(result.search!.chosen.hidden);
  await expect(train({ ...toyData(50), hidden: 'auto', validationSplit: 0, backend: 'cpu' })).rejects.toThrow("hidden 'auto' picks H by validation loss");
}, 120_000);

test('the geometric loss strategy: WebGPU and the CPU agree after 100 steps', async () => {
  const common = { ...toyData(640), epochs: 10, batchSize: 64, validationSplit: 0, weighting: 'gls' as const, seed: 5 };
  const gpu = await train({ ...common, backend: 'webgpu', device: await gpuDevice() });
  const cpu = await train({ ...common, backend: 'cpu' });
  expect(gpu.steps).toBe(100);
  expect(cpu.lossLast).toBeLessThan(cpu.lossFirst);
  const [g, c] = [gpu.model.parameters(), cpu.model.parameters()];
  for (const name of ['W', 'b', 'A', 'c'] as const) {
    g[name].forEach((v, i) => expect(Math.abs(v - c[name][i]!), `${name}[${i}]`).toBeLessThan(2e-3 + 1e-2 * Math.abs(c[name][i]!)));
  }
}, 120_000);
