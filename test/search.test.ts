// The default model search (src/api/search.ts): its plan, its statistics worked by hand, and
// train() with no `hidden` on the float64 CPU backend — reproducible, the chosen model exactly the
// one a fixed-H run of the same candidate trains (nothing is trained twice), progress across the
// whole search, abort, and the cases that keep H = T.
import { expect, test } from 'vitest';
import { train, type ProgressReport } from '../src/index.js';
import { finalistChoice, NOISY_VALIDATION_PATIENCE, pairedZ, rowLossSharesOf, searchCandidates, searchPatience, searchRungs, survivors } from '../src/api/search.js';
import { inMemoryRows } from '../src/train/trainer.js';
import { Random } from '../src/util/random.js';
import type { Dataset } from '../src/core/backend.js';

/** y1 = 2a − b + noise (regression), y2 = [a·b > 0] (binary), a missing y1 every 7th row. */
function toyData(rows: number) {
  const features: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [Math.sin(i), Math.cos(i * 0.7), (i % 13) / 13];
    features.push([a, b, c]);
    targets.push([i % 7 === 0 ? NaN : 2 * a - b + 0.3 * Math.sin(i * i), a * b > 0 ? 1 : 0]);
  }
  return { features, targets, featureNames: ['a', 'b', 'c'], taskNames: ['y_reg', 'y_bin'] };
}

test('the candidates: H ∈ {T, 16, 32, 64, 128} (distinct, ascending) at each learning rate', () => {
  const ten = searchCandidates(2, [0.01, 0.003]);
  expect(ten.map((c) => `${c.hidden}@${c.learningRate}`)).toEqual([
    '2@0.01',
    '2@0.003',
    '16@0.01',
    '16@0.003',
    '32@0.01',
    '32@0.003',
    '64@0.01',
    '64@0.003',
    '128@0.01',
    '128@0.003',
  ]);
  expect(searchCandidates(16, [0.05]).map((c) => c.hidden)).toEqual([16, 32, 64, 128]);
  expect(searchCandidates(200, [0.01]).map((c) => c.hidden)).toEqual([16, 32, 64, 128, 200]);
});

test('the rungs: 3× the epochs for the best third, until two are left or the epochs run out', () => {
  expect(searchRungs(10, 200, 5)).toEqual([
    { epochs: 5, candidates: 10 },
    { epochs: 15, candidates: 4 },
    { epochs: 45, candidates: 2 },
  ]);
  expect(searchRungs(8, 200, 5)).toEqual([
    { epochs: 5, candidates: 8 },
    { epochs: 15, candidates: 3 },
  ]);
  expect(searchRungs(10, 20, 1)).toEqual([
    { epochs: 1, candidates: 10 },
    { epochs: 3, candidates: 4 },
    { epochs: 9, candidates: 2 },
  ]);
  expect(searchRungs(10, 12, 5)).toEqual([{ epochs: 5, candidates: 10 }]); // 15 would pass the last epoch
  expect(searchRungs(10, 2, 5)).toEqual([{ epochs: 2, candidates: 10 }]); // never past the run's epochs
});

test('pairedZ, worked by hand', () => {
  // D = a − b = [1, 2, 3, 4]: mean 2.5, sample sd √(5/3), z = √4·2.5/√(5/3) = √15.
  expect(pairedZ(Float64Array.from([1, 2, 3, 4]), new Float64Array(4))).toBeCloseTo(Math.sqrt(15), 12);
  expect(pairedZ(Float64Array.from([2, 5, 1]), Float64Array.from([2, 5, 1]))).toBe(0);
  expect(pairedZ(Float64Array.from([3, 3]), Float64Array.from([1, 1]))).toBe(Infinity);
  expect(pairedZ(Float64Array.from([-1, 0, 1]), Float64Array.from([0, 1, 2]))).toBe(-Infinity);
});

test("rowLossSharesOf, worked by hand: each row's part of Σ_t w_t·(mean of task t's losses over its labels)", () => {
  // The model's raw outputs on 2 rows of T = 2 tasks, as a backend's predict() gives them: all 1.
  const outputs = new Float64Array(4).fill(1);
  // Task 0 (MSE, weight 1): targets 0 and 3 → ℓ = 1 and 4 over 2 labels. Task 1 (MSE, weight 2): target 1 on row 0 (ℓ = 0), row 1 unlabelled.
  const data = { rows: 2, X: Float32Array.from([5, -7]), Y: Float32Array.from([0, 1, 3, 0]), mask: Float32Array.from([1, 1, 1, 0]) };
  const tasks = [
    { loss: 'mse' as const, weight: 1 },
    { loss: 'mse' as const, weight: 2 },
  ];
  expect(Array.from(rowLossSharesOf(outputs, data, tasks))).toEqual([0.5, 2]);
  // Task 1 as quantile:0.25 with target 3 on row 0: ℓ = 0.25·(3 − 1) = 0.5, weight 2, 1 label → +1.
  const quantile = [
    { loss: 'mse' as const, weight: 1 },
    { loss: 'quantile:0.25' as const, weight: 2 },
  ];
  expect(Array.from(rowLossSharesOf(outputs, { ...data, Y: Float32Array.from([0, 3, 3, 0]) }, quantile))).toEqual([1.5, 2]);
});

test("the search's patience: the one given, else 20 on a validation split under 1,000 rows, else the settings'", () => {
  expect(searchPatience(5, 5, 61)).toEqual({ epochs: 5 });
  expect(searchPatience(10, 10, 61)).toEqual({ epochs: 10 }); // given, even if it is the default
  expect(searchPatience(undefined, 10, 1000)).toEqual({ epochs: 10 });
  expect(searchPatience(undefined, 10, 999)).toEqual({ epochs: 20, reason: expect.stringContaining('only 999 rows') });
  expect(searchPatience(undefined, 0, 61)).toEqual({ epochs: 0 }); // early stopping off stays off
});

test('inMemoryRows: the same random state gives the same rows and leaves the same state; one buffer, reused', async () => {
  const rows = 10;
  const data: Dataset = {
    rows,
    X: Float32Array.from({ length: rows * 2 }, (_, i) => i),
    Y: Float32Array.from({ length: rows }, (_, i) => i),
    mask: new Float32Array(rows).fill(1),
  };
  // Each shard copied as it comes: it holds only until the next is asked for.
  const collect = async (stream: ReturnType<typeof inMemoryRows>, random: Random) => {
    const out: Array<{ rows: number; X: number[]; Y: number[]; buffer: ArrayBufferLike }> = [];
    for await (const shard of stream.shards(random, 4, 8)) out.push({ rows: shard.rows, X: [...shard.X], Y: [...shard.Y], buffer: shard.X.buffer });
    return out;
  };
  const stream = inMemoryRows(data, 2, 1);
  const [a, b] = [new Random(7), new Random(7)];
  const first = await collect(stream, a);
  const again = await collect(stream, b);
  expect(again.map((s) => s.X)).toEqual(first.map((s) => s.X));
  expect(a.state).toBe(b.state);
  expect(first.map((s) => s.rows)).toEqual([8, 2]);
  // Every row once per epoch, each with its own targets, in a shuffled order.
  const order = first.flatMap((s) => s.Y);
  expect([...order].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(order).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  first.forEach((s) => s.Y.forEach((r, i) => expect(s.X.slice(2 * i, 2 * i + 2)).toEqual([2 * r, 2 * r + 1])));
  // The next epoch is another shuffle, in the same buffer.
  const next = await collect(stream, a);
  expect(next.flatMap((s) => s.Y)).not.toEqual(order);
  expect(new Set([...first, ...again, ...next].map((s) => s.buffer)).size).toBe(1);
});

test('survivors: the best of each learning rate in turn, worked by hand; a diverged candidate only to fill up', () => {
  const run = (hidden: number, learningRate: number, loss: number) => ({ candidate: { hidden, learningRate }, loss });
  // Ranked by loss, lr 0.01 holds the first three places: it learns faster in a short rung.
  const ranked = [run(128, 0.01, 6.84), run(64, 0.01, 6.9), run(32, 0.01, 7.1), run(128, 0.003, 7.14), run(64, 0.003, 7.2), run(16, 0.01, 7.3), run(16, 0.003, Infinity)];
  const names = (runs: ReturnType<typeof run>[]) => runs.map((r) => `${r.candidate.hidden}@${r.candidate.learningRate}`);
  expect(names(survivors(ranked, 4))).toEqual(['128@0.01', '64@0.01', '128@0.003', '64@0.003']);
  expect(names(survivors(ranked, 2))).toEqual(['128@0.01', '128@0.003']);
  expect(names(survivors(ranked, 3))).toEqual(['128@0.01', '64@0.01', '128@0.003']); // the better rate's second before the other's
  // One learning rate: the plain best n.
  const one = ranked.filter((r) => r.candidate.learningRate === 0.01);
  expect(names(survivors(one, 2))).toEqual(['128@0.01', '64@0.01']);
  // Every lr 0.003 candidate diverged: the places go to lr 0.01; a diverged one only when none else is left.
  const diverged = ranked.map((r) => (r.candidate.learningRate === 0.003 ? { ...r, loss: Infinity } : r));
  expect(names(survivors(diverged, 4))).toEqual(['128@0.01', '64@0.01', '32@0.01', '16@0.01']);
  expect(survivors(diverged, 6).filter((r) => !Number.isFinite(r.loss))).toHaveLength(2);
});

test('finalistChoice: the larger finalist is kept only when clearly better', () => {
  const small = { candidate: { hidden: 16, learningRate: 0.01 }, loss: 0.31 };
  const large = { candidate: { hidden: 64, learningRate: 0.01 }, loss: 0.3 };
  expect(finalistChoice(large, small, 2.5, 400).chosen).toBe(large.candidate);
  const kept = finalistChoice(large, small, 1.2, 39);
  expect(kept.chosen).toBe(small.candidate);
  expect(kept.reason).toMatch(/not clearly on 39 validation rows \(1\.2 standard errors.*the smaller model is kept/);
  expect(finalistChoice(large, undefined, undefined, 10).chosen).toBe(large.candidate);
});

const common = { ...toyData(300), epochs: 12, batchSize: 32, backend: 'cpu' as const, seed: 4 };

test('train() with no hidden: successive halving, reproducible, and the chosen model is the one its fixed-H run trains', async () => {
  const reports: ProgressReport[] = [];
  const result = await train({ ...common, onProgress: (r) => void reports.push(r) });
  const search = result.search!;
  expect(search.rungs).toEqual([
    { epochs: 1, candidates: 10 },
    { epochs: 3, candidates: 4 },
    { epochs: 9, candidates: 2 },
  ]);
  expect(search.tried).toHaveLength(10);
  expect(search.tried.filter((c) => c.rung === 3)).toHaveLength(2);
  // Both learning rates reach every rung: a short rung is not allowed to drop the slower one.
  for (const rung of [2, 3]) expect(new Set(search.tried.filter((c) => c.rung >= rung).map((c) => c.learningRate))).toEqual(new Set([0.01, 0.003]));
  expect(result.hiddenSearch).toEqual(search.tried);
  const { hidden, learningRate } = search.chosen;
  expect(result.model.shape.hidden).toBe(hidden);
  expect(result.model.hyperparameters.lr).toBe(learningRate);
  // The finalists: the chosen one is the lower loss, or the smaller one with the reason why.
  const [first, second] = search.tried.filter((c) => c.rung === 3).sort((a, b) => a.validationLoss - b.validationLoss);
  if (hidden !== first!.hidden || learningRate !== first!.learningRate) {
    expect([hidden, learningRate]).toEqual([second!.hidden, second!.learningRate]);
    expect(hidden).toBeLessThan(first!.hidden);
    expect(search.reason).toMatch(/not clearly/);
  }
  // One progress bar across it all: the search's step only grows, to its plan's total; the last reports are the chosen model's.
  const steps = reports.map((r) => r.search!.step);
  expect(steps).toEqual([...steps].sort((a, b) => a - b));
  expect(new Set(reports.map((r) => r.search!.totalSteps)).size).toBe(1);
  expect(reports.at(-1)!.search).toMatchObject({ phase: 'final', hidden, learningRate });

  // ~30 validation rows: the search's runs wait 20 epochs before stopping, and say why.
  expect(search.patience).toEqual({
    epochs: NOISY_VALIDATION_PATIENCE,
    reason: expect.stringMatching(/waits 20 epochs instead of 10: a validation loss on only \d\d rows is noisy/),
  });
  // Continuing the chosen candidate from its last rung is training it from the start.
  const fixed = await train({ ...common, hidden, optimizer: { learningRate }, patience: search.patience.epochs });
  expect(fixed.search).toBeUndefined();
  expect(result.model.parameters()).toEqual(fixed.model.parameters());
  const again = await train(common);
  expect(again.search!.chosen).toEqual(search.chosen);
  expect(again.model.parameters()).toEqual(result.model.parameters());
}, 120_000);

test('on the CPU engine too (its backends kept open across the rungs): the chosen model is the one its fixed-H run trains', async () => {
  const options = { ...common, backend: 'wasm' as const };
  const result = await train(options);
  const { hidden, learningRate } = result.search!.chosen;
  const fixed = await train({ ...options, hidden, optimizer: { learningRate }, patience: result.search!.patience.epochs });
  expect(result.model.parameters()).toEqual(fixed.model.parameters());
}, 120_000);

test('a given learning rate is kept; without validation rows, from a checkpoint or with coupling.init, H = T', async () => {
  const rate = await train({ ...common, epochs: 4, optimizer: { learningRate: 0.02 } });
  expect(new Set(rate.search!.tried.map((c) => c.learningRate))).toEqual(new Set([0.02]));
  const none = await train({ ...common, epochs: 2, validationSplit: 0 });
  expect(none.search).toBeUndefined();
  expect(none.model.shape.hidden).toBe(2);
  expect(none.notice).toMatch(/no validation rows, so H = T = 2/);
  expect((await train({ ...common, epochs: 2, coupling: { init: 'identity' } })).model.shape.hidden).toBe(2);
  // A checkpoint of a searched run resumes with its H and learning rate.
  let checkpoint: Uint8Array | undefined;
  const searched = await train({ ...common, checkpoint: { every: 12, write: (b) => void (checkpoint = b) } });
  const resumed = await train({ ...common, epochs: 14, resume: checkpoint });
  expect(resumed.model.shape.hidden).toBe(searched.search!.chosen.hidden);
  expect(resumed.model.hyperparameters.lr).toBe(searched.search!.chosen.learningRate);
}, 120_000);

test('a stop during the search ends it with the best so far, marked aborted', async () => {
  const controller = new AbortController();
  const result = await train({ ...common, signal: controller.signal, onProgress: (r) => r.search!.step > 30 && controller.abort() });
  expect(result.aborted).toBe(true);
  expect(result.search!.reason).toMatch(/stopped during the search/);
}, 60_000);
