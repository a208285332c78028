// The CPU engine: the training step of the WebGPU backend on the CPU, its five products as
// float32 WebAssembly SIMD matmuls with the same fused epilogues (src/cpu/wasm-matmul.ts) — or, in
// Node where native/ is built, the same products in native code on the same memory — on every
// core where workers can be started (Node, through sigmtl/node), else one thread. Activations and the data set live in the module's memory; the parameters and the
// optimizer state are kept in float64 (as in the reference) and the light per-task work — the
// losses, the weightings, the aggregators' small problems, the update — reuses the reference's
// code, so only the products change precision.
//
//   S = σ(X·Wᵀ + b)   Y = S·Aᵀ + c   G_Y (loss)   dA = G_Yᵀ·S, dc   G_Z = (G_Y·A) ⊙ S(1−S)   dW = G_Zᵀ·X, db
import type { BackendConfig, Dataset } from '../core/backend.js';
import { view } from '../core/shape.js';
import { isAggregator, weightingStateSize } from '../core/weighting.js';
import { HostBackend } from './host.js';
import { resolveLoss } from '../core/losses.js';
import { taskLossScales, type LossScales } from '../cpu/reference.js';
import type { ReferenceGradients } from '../cpu/step.js';
import { WEIGHTING_STRATEGIES } from '../cpu/weightings.js';
import { dimSize, FORWARD_PLAN, GRADIENT_OF, STEP_PLAN, type Operand, type ProductStage } from '../core/step-plan.js';
import { PARALLEL_MIN_WORK, WasmKernels, type WasmKernelOptions, type WasmKernelShape } from '../cpu/wasm-matmul.js';

/** Multiply–adds in X·Wᵀ (maxBatch·d·H) below which the products stay on WebAssembly by default. */
export const NATIVE_MIN_WORK = 1 << 16;

/** Multiply–adds of the step's largest product at the largest batch (with an aggregator's task Jacobian). */
function largestProduct(config: BackendConfig): number {
  const sizes = { rows: config.maxBatch, ...config.shape };
  const products = STEP_PLAN.filter((stage): stage is ProductStage => stage.stage === 'product');
  const largest = Math.max(...products.map((p) => dimSize(p.M, sizes) * dimSize(p.N, sizes) * dimSize(p.K, sizes)));
  const { features: d, hidden: H, tasks: T } = config.shape;
  return isAggregator(config.weighting) ? Math.max(largest, T * H * d * config.maxBatch) : largest;
}

/** The region of the module's memory that holds each operand of the plan but the batch X. */
const REGION_OF = { W: 'W', b: 'b', A: 'A', c: 'c', S: 'S', Y: 'Y', G_Y: 'gradY', G_Z: 'gradZ', dW: 'dW', db: 'db', dA: 'dA', dc: 'dc' } as const satisfies Record<
  Exclude<Operand, 'X'>,
  keyof Regions
>;

interface Regions {
  W: number;
  A: number;
  b: number;
  c: number;
  S: number;
  Y: number;
  gradY: number;
  gradZ: number;
  dW: number;
  dA: number;
  db: number;
  dc: number;
  input: number;
  /** The tasks' loss codes (i32) and parameters (f32), G_Y's per-task factors (f32) and the loss sums and counts (f64). */
  codes: number;
  lossParams: number;
  scales: number;
  lossSums: number;
  /** The aggregators' Δ (batch×T·H), J ((T·H)×d) and its bias part (T·H). */
  deltas?: number;
  jacobian?: number;
  jacobianBias?: number;
}

export class WasmBackend extends HostBackend {
  readonly kind = 'wasm';
  readonly description: string;
  private readonly regions: Regions;
  /** The first byte after the fixed regions: a new data set is placed from here. */
  private readonly fixedTop: number;
  /** The data set in the module's memory: X in column panels (read by X·Wᵀ and G_Zᵀ·X alike), targets, mask. */
  private dataPanels = 0;
  private dataTargets = 0;
  private dataMask = 0;
  private dataRows = 0;
  /** While profiling: milliseconds per phase of the step, and when the last phase ended. */
  private laps: Map<string, number> | undefined;
  private lapStart = 0;
  /** The gradients of the latest step (batchGradients), reused from step to step. */
  private gradients64: Float64Array | undefined;

  private constructor(
    config: BackendConfig,
    private readonly kernels: WasmKernels,
  ) {
    super(config);
    this.nativeUpdate = kernels.nativeUpdate;
    this.description = `CPU engine (float32, ${kernels.productsKind}, ${kernels.threads} thread${kernels.threads > 1 ? 's' : ''})`;
    const stateSize = weightingStateSize(config.weighting, config.shape.tasks);
    if (stateSize > 0) this.state.weighting = new Float64Array(stateSize);
    const { features: d, hidden: H, tasks: T } = config.shape;
    const B = config.maxBatch;
    const k = kernels;
    this.regions = {
      W: k.alloc(H * d),
      A: k.alloc(T * H),
      b: k.alloc(H),
      c: k.alloc(T),
      S: k.alloc(B * H),
      Y: k.alloc(B * T),
      gradY: k.alloc(B * T),
      gradZ: k.alloc(B * H),
      dW: k.alloc(H * d),
      dA: k.alloc(T * H),
      db: k.alloc(H),
      dc: k.alloc(T),
      input: k.alloc(B * d),
      codes: k.alloc(T),
      lossParams: k.alloc(T),
      scales: k.alloc(T),
      lossSums: k.alloc(4 * T),
      ...(isAggregator(config.weighting) && { deltas: k.alloc(B * T * H), jacobian: k.alloc(T * H * d), jacobianBias: k.alloc(T * H) }),
    };
    this.fixedTop = k.mark;
    const losses = config.tasks.map((task) => resolveLoss(task.loss));
    k.i32(this.regions.codes, T).set(losses.map((l) => l.entry.code));
    k.f32(this.regions.lossParams, T).set(losses.map((l) => l.param));
  }

  /**
   * `threads` (default: one where no product of the step is large enough to be shared out, else
   * every core where workers can be started — Node with sigmtl/node — else 1); `native` (default:
   * where loaded, for models of at least NATIVE_MIN_WORK multiply–adds in X·Wᵀ).
   */
  static async create(config: BackendConfig, options: WasmKernelOptions = {}): Promise<WasmBackend> {
    // Tiny models stay on WebAssembly unless asked: a native call costs ~1 µs, more than such a
    // product (d=10 H=5 N=100: 53k steps/s on WebAssembly, 42k native, measured side by side).
    const work = config.maxBatch * config.shape.features * config.shape.hidden;
    const native = options.native ?? (work < NATIVE_MIN_WORK ? false : undefined);
    // A second thread would never be given work: no pool to start (a model search opens one
    // backend per candidate and rung, and a worker takes tens of ms to start).
    const threads = options.threads ?? (largestProduct(config) < PARALLEL_MIN_WORK ? 1 : undefined);
    return new WasmBackend(config, await WasmKernels.create({ ...options, native, threads }));
  }

  override setDataset(data: Dataset): void {
    super.setDataset(data);
    this.kernels.release(this.fixedTop);
    const k = this.kernels;
    this.dataRows = data.rows;
    this.dataPanels = k.columnPanelsOf(data.X, data.rows, this.config.shape.features);
    this.dataTargets = k.alloc(data.Y.length);
    k.f32(this.dataTargets, data.Y.length).set(data.Y);
    this.dataMask = k.alloc(data.mask.length);
    k.f32(this.dataMask, data.mask.length).set(data.mask);
  }

  /** The products read the data set's rows [start, …) from its column panels. */
  private panelsFrom(start: number): { pointer: number; pitch: number } {
    const k = this.kernels;
    return { pointer: this.dataPanels + 4 * k.panelWidth * start, pitch: k.panelPitch(this.dataRows) };
  }

  /** Ends the current phase of the step (when profiling): its time is added under `name`. */
  private lap(name: string): void {
    if (!this.laps) return;
    const now = performance.now();
    this.laps.set(name, (this.laps.get(name) ?? 0) + now - this.lapStart);
    this.lapStart = now;
  }

  /**
   * Where a step's time goes: `steps` training steps on `step`, timed phase by phase (products,
   * the float64 host work, the copies), in milliseconds per step.
   */
  async profileSteps(step: { start: number; rows: number; learningRate: number }, steps: number): Promise<Map<string, number>> {
    this.laps = new Map();
    try {
      for (let i = 0; i < steps; i++) {
        this.lapStart = performance.now();
        await this.trainSteps([step]);
        this.lap('optimizer update (float64)');
      }
      return new Map([...this.laps].map(([name, ms]) => [name, ms / steps]));
    } finally {
      this.laps = undefined;
      await this.readLoss();
    }
  }

  /** The f32 parameters the products read, from the float64 master copy. */
  private uploadParameters(): void {
    const k = this.kernels;
    const r = this.regions;
    for (const name of ['W', 'A', 'b', 'c'] as const) {
      const segment = this.layout[name];
      k.f32(r[name], segment.size).set(view(this.params, segment));
    }
  }

  /**
   * One product of the step plan on the module's regions. X is the batch: in column panels
   * (training: any batch of the data set as it lies) or row-major at a pointer (prediction).
   */
  private async runProduct(p: ProductStage, rows: number, X: { pointer: number; pitch?: number }): Promise<void> {
    const sizes = { rows, ...this.config.shape };
    const at = (o: Operand) => (o === 'X' ? X.pointer : this.regions[REGION_OF[o]]);
    const panels = X.pitch !== undefined;
    const shape: WasmKernelShape = {
      M: dimSize(p.M, sizes),
      N: dimSize(p.N, sizes),
      K: dimSize(p.K, sizes),
      transposeA: p.transposeA,
      transposeB: p.transposeB,
      ...(panels && p.a === 'X' && { aPanelPitch: X.pitch }),
      ...(panels && p.b === 'X' && { bPanelPitch: X.pitch }),
    };
    await this.kernels.product(at(p.a), at(p.b), at(p.out), shape, p.epilogue, p.aux ? at(p.aux) : 0, p.rowSums ? at(p.rowSums) : 0);
  }

  /** Forward, loss and backward for rows [start, start + rows) of the data set: STEP_PLAN, stage by stage. */
  protected async batchGradients(set: Dataset, start: number, rows: number): Promise<ReferenceGradients> {
    const T = this.config.shape.tasks;
    const k = this.kernels;
    const r = this.regions;
    const kind = this.config.weighting ?? 'equal';
    const strategy = WEIGHTING_STRATEGIES[kind];
    const panels = this.panelsFrom(start);
    // One buffer for every step's gradients (the update reads them before the next step): a fresh
    // 120 KB array a step (H = 128, d = 103) cost page faults each time, 0.1–0.2 ms a step.
    const grads = (this.gradients64 ??= new Float64Array(this.layout.count)).fill(0);
    let loss: LossScales | undefined;
    let taskWeights: Float64Array | undefined;
    let weightingState: Float64Array | undefined;
    let gramian: Float64Array | undefined;
    this.uploadParameters();
    this.lap('parameters to f32');
    for (const stage of STEP_PLAN) {
      if (stage.stage === 'product') {
        await this.runProduct(stage, rows, panels);
        for (const operand of [stage.out, stage.rowSums]) {
          const parameter = operand && operand !== 'X' ? GRADIENT_OF[operand] : undefined;
          if (parameter) grads.set(k.f32(r[REGION_OF[operand as Exclude<Operand, 'X'>]], this.layout[parameter].size), this.layout[parameter].offset);
        }
      } else if (stage.stage === 'loss') {
        // Sums and counts in the module (float64 accumulators), the weighting's O(T) factors
        // here, then G_Y = factor·mask·∂ℓ/∂y in the module.
        const targets = this.dataTargets + 4 * start * T;
        const mask = this.dataMask + 4 * start * T;
        k.losses.lossSums(r.Y, targets, mask, rows, T, r.codes, r.lossParams, r.lossSums);
        const sums = k.f64(r.lossSums, 2 * T);
        loss = taskLossScales(sums.subarray(0, T), sums.subarray(T), this.tasks, { kind, logVar: view(this.params, this.layout.s) });
        if (strategy.scaleTasks) {
          const scaled = strategy.scaleTasks(loss.perTask, this.state.weighting!, this.state.step);
          weightingState = scaled.state;
          taskWeights = scaled.weights;
          for (let t = 0; t < T; t++) loss.scales[t]! *= scaled.weights[t]!;
        }
        k.f32(r.scales, T).set(loss.scales);
        k.losses.lossGradient(r.Y, targets, mask, rows, T, r.codes, r.lossParams, r.scales, r.gradY);
        grads.set(loss.gradLogVar, this.layout.s.offset);
      } else if (stage.stage === 'aggregate') {
        // dA and dc (before this) are task-specific: their plain gradients, also under an aggregator.
        if (!strategy.aggregate) continue;
        gramian = await this.taskGramian(start, rows);
        const alpha = strategy.aggregate(gramian, T, this.state.step, this.config.seed ?? 0);
        taskWeights = alpha;
        const scaled = k.f32(r.gradY, rows * T);
        for (let i = 0; i < rows * T; i++) scaled[i]! *= alpha[i % T]!;
      } else {
        continue; // 'update': the host's, after the gradients (HostBackend.trainSteps)
      }
      this.lap(stage.label);
    }
    return { perTask: loss!.perTask, grads, ...(gramian && { gramian }), ...(taskWeights && { taskWeights }), ...(weightingState && { weightingState }) };
  }

  /** The aggregators' task Gramian: Δ_t side by side, J = Δᵀ·X with row sums, G_st = ⟨J_s, J_t⟩. */
  private async taskGramian(start: number, rows: number): Promise<Float64Array> {
    const { features: d, hidden: H, tasks: T } = this.config.shape;
    const k = this.kernels;
    const r = this.regions;
    const deltas = k.f32(r.deltas!, rows * T * H);
    const gradY = k.f32(r.gradY, rows * T);
    const S = k.f32(r.S, rows * H);
    const A = k.f32(r.A, T * H);
    for (let n = 0; n < rows; n++) {
      for (let t = 0; t < T; t++) {
        const g = gradY[n * T + t]!;
        for (let h = 0; h < H; h++) {
          const s = S[n * H + h]!;
          deltas[(n * T + t) * H + h] = g * A[t * H + h]! * s * (1 - s);
        }
      }
    }
    const panels = this.panelsFrom(start);
    await k.product(r.deltas!, panels.pointer, r.jacobian!, { M: T * H, N: d, K: rows, transposeA: true, bPanelPitch: panels.pitch }, 'none', 0, r.jacobianBias!);
    const J = k.f32(r.jacobian!, T * H * d);
    const Jb = k.f32(r.jacobianBias!, T * H);
    const size = H * d;
    const gramian = new Float64Array(T * T);
    for (let s = 0; s < T; s++) {
      for (let t = s; t < T; t++) {
        let dot = 0;
        for (let i = 0; i < size; i++) dot += J[s * size + i]! * J[t * size + i]!;
        for (let i = 0; i < H; i++) dot += Jb[s * H + i]! * Jb[t * H + i]!;
        gramian[s * T + t] = gramian[t * T + s] = dot;
      }
    }
    return gramian;
  }

  async predict(X: Float32Array, rows: number): Promise<Float64Array> {
    const { features: d, tasks: T } = this.config.shape;
    if (X.length !== rows * d) throw new RangeError(`predict: X has ${X.length} values, expected rows×d = ${rows}×${d}`);
    const out = new Float64Array(rows * T);
    const chunk = this.config.maxBatch;
    this.uploadParameters();
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      this.kernels.f32(this.regions.input, n * d).set(X.subarray(start * d, (start + n) * d));
      for (const stage of FORWARD_PLAN) await this.runProduct(stage, n, { pointer: this.regions.input });
      out.set(this.kernels.f32(this.regions.Y, n * T), start * T);
    }
    return out;
  }

  override destroy(): void {
    this.kernels.destroy();
  }
}
