// The task weightings and gradient aggregators: what each costs per training step at the bench
// sizes (WebGPU, interleaved runs, dispatches per step) and, with `--only methods`, what each
// gives on every bundled data set — test metrics, Δm against single-task models trained once per
// set, and steps/s against equal weighting in the same run.
import type { GpuContext } from '../src/gpu/context.js';
import { teacherStudentData } from '../src/data/synthetic.js';
import { DEFAULT_OPTIMIZER } from '../src/core/optimizers.js';
import type { BackendConfig } from '../src/core/backend.js';
import { initParameters } from '../src/core/init.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
import { WEIGHTING_KINDS, type WeightingKind } from '../src/core/weighting.js';
import { deltaM, loadDataset, train, type TrainResult } from '../src/node.js';
import type { Counts } from './peers.js';
import { timedRow, type BenchRow } from './rows.js';
import { interleaved, type Contender } from './timing.js';
import type { TrainSize } from './train.js';

/** Steps/s of every weighting at each size (16 steps per submit, full batch, Adam). */
export async function weightingCostBench(ctx: GpuContext, sizes: TrainSize[], budgetMs: number, counts: () => Counts, log: (s: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    const { d, T, N } = size;
    const label = `d=${d} T=${T} N=${N}`;
    const shape = { features: d, hidden: T, tasks: T };
    const data = teacherStudentData({ shape, rows: N, seed: 5, noise: 0.1 });
    const init = initParameters(shape, 6, 'random');
    const contenders: Contender[] = [];
    const perStep = new Map<string, number>();
    const backends: WebGpuBackend[] = [];
    for (const weighting of WEIGHTING_KINDS) {
      const config: BackendConfig = {
        shape,
        tasks: Array.from({ length: T }, () => ({ loss: 'mse' as const, weight: 1 })),
        optimizer: { ...DEFAULT_OPTIMIZER, kind: 'adam', learningRate: 0.01 },
        maxBatch: N,
        weighting,
      };
      let backend: WebGpuBackend;
      try {
        backend = await WebGpuBackend.create(ctx, config);
      } catch (error) {
        log(`  weighting ${label} ${weighting}: not run — ${(error as Error).message}`);
        continue;
      }
      backends.push(backend);
      backend.setParameters(init);
      backend.setDataset(data);
      const run = async (n = size.steps) => {
        await backend.trainSteps(Array.from({ length: n }, () => ({ start: 0, rows: N, learningRate: 0.01 })));
        await backend.readLoss();
      };
      await run(1);
      const before = counts();
      await run(4);
      perStep.set(weighting, (counts().dispatches - before.dispatches) / 4);
      contenders.push({ name: weighting, run: () => run() });
    }
    const times = await interleaved(contenders, { budgetMs, maxRounds: 5, oneShotMs: budgetMs * 2 });
    for (const [weighting, t] of times) {
      const row = timedRow({ bench: 'weighting', impl: `sigmtl-webgpu weighting=${weighting}`, size: label, readback: true }, t);
      row.stepsPerSecond = size.steps / (t.medianMs / 1000);
      row.dispatchesPerStep = perStep.get(weighting) ?? null;
      rows.push(row);
      log(`  weighting ${label} ${weighting}: ${row.stepsPerSecond.toFixed(2)} steps/s, ${row.dispatchesPerStep} dispatches/step`);
    }
    for (const backend of backends) backend.destroy();
  }
  return rows;
}

export interface MethodRow {
  dataset: string;
  weighting: WeightingKind;
  /** Macro R² and RMSE (regression sets) or Hamming loss and macro AUC (binary sets). */
  metrics: Record<string, number>;
  deltaM: number;
  stepsPerSecond: number;
  seconds: number;
}

/** Every weighting on every bundled data set at H = 64 (what --hidden auto chose on all three), on this device. */
export async function methodsBench(device: GPUDevice, quick: boolean, log: (s: string) => void): Promise<MethodRow[]> {
  const rows: MethodRow[] = [];
  for (const name of ['enb2012', 'yeast', 'sarcos-arm']) {
    const dataset = await loadDataset(name);
    const epochs = quick ? 20 : name === 'sarcos-arm' ? 40 : 200;
    const common = { ...dataset.train, test: dataset.test, testSplit: dataset.test ? 0 : 0.2, hidden: 64, epochs, device, backend: 'webgpu' as const };
    let baseline: TrainResult['comparison'];
    for (const weighting of WEIGHTING_KINDS) {
      const result = await train({ ...common, weighting, compareSingleTask: baseline === undefined });
      baseline ??= result.comparison!;
      const o = result.metrics.overall;
      const metrics: Record<string, number> =
        o.macroR2 !== undefined ? { 'macro R²': o.macroR2, 'macro RMSE': o.macroRmse! } : { 'Hamming loss': o.hammingLoss!, 'macro AUC': o.macroAuc! };
      const row = { dataset: name, weighting, metrics, deltaM: deltaM(baseline.singleTask, result.metrics).deltaM, stepsPerSecond: result.stepsPerSecond, seconds: result.seconds };
      rows.push(row);
      log(
        `  ${name} ${weighting}: ${Object.entries(metrics)
          .map(([k, v]) => `${k} ${v.toFixed(3)}`)
          .join(', ')}, Δm ${row.deltaM.toFixed(1)} %, ${row.stepsPerSecond.toFixed(0)} steps/s`,
      );
    }
  }
  return rows;
}

export function methodsTable(rows: MethodRow[]): string {
  const out = ['| data set | weighting | test metrics | Δm vs single-task | steps/s | vs equal |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const equal = rows.find((e) => e.dataset === r.dataset && e.weighting === 'equal')!;
    const metrics = Object.entries(r.metrics)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    out.push(
      `| ${r.dataset} | ${r.weighting} | ${metrics} | ${r.deltaM >= 0 ? '+' : ''}${r.deltaM.toFixed(1)} % | ${r.stepsPerSecond.toFixed(0)} | ${(r.stepsPerSecond / equal.stepsPerSecond).toFixed(2)}× |`,
    );
  }
  return out.join('\n');
}
