// `sigmtl check`: every kernel on this device against the float64 reference, plus whole
// training steps against the CPU backend, once per task weighting (which runs the geometric-loss,
// FAMO, task-Jacobian, Gramian and aggregation kernels in their places in a step). Works in Node
// and in the browser (plain WebGPU). The loss and weighting cases come from their tables.
import { adapterLabel, type AdapterSummary, type GpuContext } from '../gpu/context.js';
import { chooseMatmulTuning } from '../kernels/tuning.js';
import { matmulReference, rowSumsReference, taskLoss } from '../cpu/reference.js';
import { LOSS_KINDS, LOSSES, sigmoid } from '../core/losses.js';
import { optimizerStep } from '../cpu/optimizer.js';
import { newOptimizerState } from '../core/optimizers.js';
import { CpuBackend } from '../backends/cpu.js';
import { teacherStudentData } from '../data/synthetic.js';
import type { EpilogueName } from '../kernels/matmul.js';
import type { TaskSpec } from '../core/losses.js';
import { DEFAULT_OPTIMIZER, OPTIMIZER_KINDS, type OptimizerConfig } from '../core/optimizers.js';
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { WEIGHTING_KINDS, type WeightingKind } from '../core/weighting.js';
import { WasmBackend } from '../backends/wasm.js';
import { createWasmMatmul, wasmSimdSupported } from '../cpu/wasm-matmul.js';
import { initParameters } from '../core/init.js';
import { WebGpuBackend } from '../backends/webgpu.js';
import { Random, uniformArray } from '../util/random.js';
import { compareArrays, type Tolerance } from '../util/compare.js';
import { runLoss, runMatmul, runOptimizer, runSigmoidBackward, runSigmoidForward } from './run-kernels.js';
import { CHECK_TOLERANCE, MATMUL_CASES, MATMUL_VARIANTS, TRANSPOSES } from './cases.js';

export interface CheckRow {
  name: string;
  shape: string;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
}

export interface CheckReport {
  ok: boolean;
  adapter: Pick<AdapterSummary, 'vendor' | 'architecture' | 'description' | 'software'>;
  /** One line naming the adapter (never empty). */
  adapterLabel: string;
  rows: CheckRow[];
}

const MATMUL_SHAPES = MATMUL_CASES.filter((c) => c.check).map((c) => c.shape);

/** Adds one compared row to the report. */
type AddRow = (name: string, shape: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance) => void;

/** Every check, phase by phase: the kernels one by one, then whole steps on each backend and weighting. */
export async function runChecks(ctx: GpuContext, onRow?: (row: CheckRow) => void): Promise<CheckReport> {
  const rows: CheckRow[] = [];
  const random = new Random(2024);
  const push = (row: CheckRow) => {
    rows.push(row);
    onRow?.(row);
  };
  const add: AddRow = (name, shape, got, ref, tol) => {
    const c = compareArrays(got, ref, tol);
    push({ name, shape, maxAbs: c.maxAbs, maxRel: c.maxRel, ok: c.ok });
  };
  await checkMatmuls(ctx, random, add);
  await checkSigmoid(ctx, random, add);
  await checkLosses(ctx, random, add);
  await checkOptimizers(ctx, random, add);
  for (const weighting of WEIGHTING_KINDS) {
    const prefix = weighting === 'equal' ? '' : `${weighting} weighting: `;
    for (const row of await checkTrainingSteps(prefix, (config) => WebGpuBackend.create(ctx, config), weighting)) push(row);
  }
  // The CPU engine (float32 WebAssembly SIMD), checked against the same reference.
  if (wasmSimdSupported()) {
    await checkEngineMatmuls(random, add);
    for (const row of await checkTrainingSteps('cpu engine ', (config) => WasmBackend.create(config))) push(row);
  }
  const { vendor, architecture, description, software } = ctx.adapter;
  return { ok: rows.every((r) => r.ok), adapter: { vendor, architecture, description, software }, adapterLabel: adapterLabel(ctx.adapter), rows };
}

const productName = (transposeA: boolean, transposeB: boolean) => `${transposeA ? 'Aᵀ' : 'A'}·${transposeB ? 'Bᵀ' : 'B'}`;

/** Each matmul kernel variant: every transpose at the check shapes (with row sums), then each epilogue. */
async function checkMatmuls(ctx: GpuContext, random: Random, add: AddRow): Promise<void> {
  for (const variant of MATMUL_VARIANTS) {
    const tuning = chooseMatmulTuning(ctx, variant);
    for (const [M, N, K] of MATMUL_SHAPES) {
      for (const [transposeA, transposeB] of TRANSPOSES) {
        const a = uniformArray(random, M * K);
        const b = uniformArray(random, K * N);
        const shape = { M, N, K, transposeA, transposeB };
        const out = await runMatmul(ctx, tuning, { transposeA, transposeB, rowSums: true }, { M, N, K, a, b });
        const op = productName(transposeA, transposeB);
        add(`matmul ${variant} ${op}`, `${M}×${N}×${K}`, out.c, matmulReference(a, b, shape), CHECK_TOLERANCE.matmul(K));
        add(`matmul ${variant} ${op} row sums`, `${M}×${K}`, out.rowSums, rowSumsReference(a, shape), CHECK_TOLERANCE.matmul(K));
      }
    }
    const [M, N, K] = variant === 'regblock-vec4' ? [44, 64, 36] : [45, 65, 37];
    for (const epilogue of ['bias', 'biasSigmoid', 'sigmoidGrad'] as EpilogueName[]) {
      const a = uniformArray(random, M * K);
      const b = uniformArray(random, K * N);
      const aux = epilogue === 'sigmoidGrad' ? uniformArray(random, M * N, 0, 1) : uniformArray(random, N, -2, 2);
      const ref = matmulReference(a, b, { M, N, K }).map((v, i) => {
        if (epilogue === 'bias') return v + aux[i % N]!;
        if (epilogue === 'biasSigmoid') return sigmoid(v + aux[i % N]!);
        return v * aux[i]! * (1 - aux[i]!);
      });
      const out = await runMatmul(ctx, tuning, { epilogue }, { M, N, K, a, b, aux });
      add(`matmul ${variant} +${epilogue}`, `${M}×${N}×${K}`, out.c, ref, CHECK_TOLERANCE.matmul(K));
    }
  }
}

/** σ forward (saturated inputs included) and backward. */
async function checkSigmoid(ctx: GpuContext, random: Random, add: AddRow): Promise<void> {
  const z = uniformArray(random, 4099, -12, 12);
  z.set([400, -400, 0], 0);
  const s = await runSigmoidForward(ctx, z);
  add('sigmoid forward', `${z.length}`, s, Array.from(z, sigmoid), CHECK_TOLERANCE.elementwise);
  const gradS = uniformArray(random, z.length);
  const gradZ = await runSigmoidBackward(ctx, s, gradS);
  const ref = Array.from(s, (v, i) => gradS[i]! * v * (1 - v));
  add('sigmoid backward', `${z.length}`, gradZ, ref, CHECK_TOLERANCE.elementwise);
}

/** The loss kernel: one task per loss in the table, then each loss with a parameter again at another value. */
async function checkLosses(ctx: GpuContext, random: Random, add: AddRow): Promise<void> {
  const withParameter = LOSS_KINDS.filter((kind) => LOSSES[kind].parameter);
  const tasks: TaskSpec[] = [
    ...LOSS_KINDS.map((kind, t): TaskSpec => ({ loss: kind, weight: 1 + t / 2 })),
    ...withParameter.map((kind): TaskSpec => ({ loss: `${kind}:${LOSSES[kind].parameter!.default / 2}`, weight: 1 })),
  ];
  const T = tasks.length;
  const lossRows = 257;
  const y = uniformArray(random, lossRows * T, -4, 4);
  // Targets each loss accepts: any number, or 0/1 where it takes only those (BCE).
  const binary = tasks.map((task) => !LOSSES[task.loss.split(':')[0] as keyof typeof LOSSES].accepts(0.37));
  const targets = Float32Array.from({ length: lossRows * T }, (_, i) => (binary[i % T] ? Number(random.next() < 0.5) : random.normal()));
  const mask = Float32Array.from({ length: lossRows * T }, () => Number(random.next() > 0.2));
  const loss = await runLoss(ctx, { rows: lossRows, y, targets, mask, tasks });
  const lossRef = taskLoss(Float64Array.from(y), targets, mask, tasks, lossRows);
  const names = tasks.map((task) => task.loss).join(', ');
  add(`loss L_t (${names}; masked)`, `${lossRows}×${T}`, loss.perTask, lossRef.perTask, { atol: 1e-5, rtol: 1e-5 });
  add('loss G_Y', `${lossRows}×${T}`, loss.gradY, lossRef.gradY, CHECK_TOLERANCE.elementwise);
}

/** The update kernel for each optimizer in the table: weight decay, a frozen range and the coupling regulariser. */
async function checkOptimizers(ctx: GpuContext, random: Random, add: AddRow): Promise<void> {
  for (const kind of OPTIMIZER_KINDS) {
    const config: OptimizerConfig = { ...DEFAULT_OPTIMIZER, kind, weightDecay: 0.01 };
    const n = 777;
    const params = Float64Array.from(uniformArray(random, n));
    const grads = uniformArray(random, n);
    const state = newOptimizerState(n);
    const rules = { decayCount: 500, frozen: [600, 620] as const, coupling: { start: 300, end: 400, cols: 10, l1: 0.01, toIdentity: 0.1 } };
    const values = { count: n, rules, step: 1, learningRate: config.learningRate };
    const out = await runOptimizer(ctx, config, values, {
      params: Float32Array.from(params),
      grads,
      state1: new Float32Array(n),
      state2: new Float32Array(n),
    });
    optimizerStep(params, grads, state, config, config.learningRate, rules);
    add(`optimizer ${kind}`, `${n}`, out.params, params, CHECK_TOLERANCE.elementwise);
  }
}

/** The CPU engine's products at the check shapes, every transpose, with row sums. */
async function checkEngineMatmuls(random: Random, add: AddRow): Promise<void> {
  const engine = await createWasmMatmul();
  for (const [M, N, K] of MATMUL_SHAPES) {
    for (const [transposeA, transposeB] of TRANSPOSES) {
      const a = uniformArray(random, M * K);
      const b = uniformArray(random, K * N);
      const shape = { M, N, K, transposeA, transposeB };
      const out = engine.matmul(a, b, shape, { rowSums: true });
      const op = productName(transposeA, transposeB);
      add(`cpu engine matmul ${op}`, `${M}×${N}×${K}`, out.c, matmulReference(a, b, shape), CHECK_TOLERANCE.matmul(K));
      add(`cpu engine matmul ${op} row sums`, `${M}×${K}`, out.rowSums!, rowSumsReference(a, shape), CHECK_TOLERANCE.matmul(K));
    }
  }
}

/**
 * The seed's shape (T=5, d=10, N=100): one step's gradients, then parameters after 10 Adam steps,
 * under one task weighting (a gradient aggregator combines the tasks' gradients only in its steps).
 */
async function checkTrainingSteps(prefix: string, create: (config: BackendConfig) => Promise<TrainingBackend>, weighting: WeightingKind = 'equal'): Promise<CheckRow[]> {
  const shape = { features: 10, hidden: 5, tasks: 5 };
  const data = teacherStudentData({ shape, rows: 100, seed: 7, noise: 0.1 });
  const tasks: TaskSpec[] = Array.from({ length: 5 }, (_, t) => ({ loss: 'mse', weight: 1 + t / 4 }));
  const config: BackendConfig = { shape, tasks, optimizer: { ...DEFAULT_OPTIMIZER, kind: 'adam' }, maxBatch: 100, weighting, seed: 3 };
  const cpu = new CpuBackend(config);
  const gpu = await create(config);
  try {
    const init = initParameters(shape, 8);
    for (const backend of [cpu, gpu]) {
      backend.setParameters(init);
      backend.setDataset(data);
    }
    const rows: CheckRow[] = [];
    const add = (name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance) => {
      const c = compareArrays(got, ref, tol);
      rows.push({ name, shape: 'd=10 T=5 N=100', maxAbs: c.maxAbs, maxRel: c.maxRel, ok: c.ok });
    };
    const [want, got] = await Promise.all([cpu.gradients(0, 100), gpu.gradients(0, 100)]);
    add(`${prefix}step: loss`, got.perTask, want.perTask, CHECK_TOLERANCE.step);
    add(`${prefix}step: gradients`, got.grads, want.grads, CHECK_TOLERANCE.step);
    const steps = Array.from({ length: 10 }, () => ({ start: 0, rows: 100, learningRate: 0.01 }));
    await Promise.all([cpu.trainSteps(steps), gpu.trainSteps(steps)]);
    const [p1, p2] = await Promise.all([cpu.getParameters(), gpu.getParameters()]);
    add(`${prefix}10 Adam steps: parameters`, p2, p1, CHECK_TOLERANCE.tenSteps);
    return rows;
  } finally {
    gpu.destroy();
  }
}
