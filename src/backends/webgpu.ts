// The WebGPU backend: owns every GPU buffer for one model shape and batch size (made once), and
// records whole training steps — forward, loss, backward, update: 7 dispatches (8 under the
// geometric loss strategy or FAMO: a one-workgroup rescaling of G_Y; 11 under a gradient aggregator) —
// into one compute pass, several steps per submit. Nothing is created per step; the loss stays on the
// GPU until readLoss() copies it out through a staging buffer.
//
//   1 matmul  S   = σ(X·Wᵀ + b)                (epilogue: bias + sigmoid)
//   2 matmul  Y   = S·Aᵀ + c                   (epilogue: bias)
//   3 loss    G_Y, lossSums += L_t
//     (the weighting's stage at 'afterLoss': gls and FAMO rescale G_Y, one workgroup)
//   4 matmul  dA  = G_Yᵀ·S,   dc = Σ_n G_Y      (row sums of op(A))
//     (the weighting's stage at 'afterOutputGradient': the aggregators' task Jacobian, Gramian
//      and α scale G_Y's columns for W and b, 4 dispatches)
//   5 matmul  G_Z = (G_Y·A) ⊙ S ⊙ (1 − S)       (epilogue: sigmoid backward)
//   6 matmul  dW  = G_Zᵀ·X,   db = Σ_n G_Z
//   7 update  params, optimizer state
import { adapterLabel, checkErrors, type GpuContext } from '../gpu/context.js';
import { createStorage, mapForRead, readFloats, segmentBinding, uploadFloats } from '../gpu/buffers.js';
import { createBindGroup, KernelRegistry, type BindingResource, type Kernel } from '../gpu/registry.js';
import { chooseLossWorkgroup } from '../kernels/tuning.js';
import { autotuneMatmul, type TuningStore } from '../kernels/autotune.js';
import { UniformArena } from '../gpu/uniforms.js';
import { SinglePass, TimedPasses, type KernelTime, type PassRecorder } from '../gpu/passes.js';
import { encodeLoss, lossKernel, packTaskInfo, taskInfoBytes, writeLossDims } from '../kernels/loss.js';
import { encodeMatmul, matmulKernel, writeMatmulDims, type MatmulDims, type MatmulKernel, type MatmulOptions, type MatmulTuning } from '../kernels/matmul.js';
import { dimSize, STEP_PRODUCTS, type ProductStage } from '../core/step-plan.js';
import { encodeElementwise } from '../kernels/sigmoid.js';
import { optimizerKernel, writeOptimizerStep } from '../kernels/optimizer.js';
import { type UpdateRules } from '../core/optimizers.js';
import type { OptimizerState } from '../core/optimizers.js';
import { checkDataset, checkStep, type BackendConfig, type Dataset, type TrainingBackend, type TrainStep } from '../core/backend.js';
import { updateRules } from '../core/optimizers.js';
import { parameterLayout, type ParameterLayout } from '../core/shape.js';
import { hasStepWeights, WEIGHTINGS } from '../core/weighting.js';
import { WEIGHTING_STAGES, type StageContext, type WeightingStage, type WeightingStageType } from '../kernels/weighting-stages.js';

export interface WebGpuBackendOptions {
  /** The matmul kernel and shape (default: autotuneMatmul's choice for this adapter). */
  tuning?: MatmulTuning;
  /** Where autotuning keeps its choice across runs. */
  tuningStore?: TuningStore;
  /** Steps recorded into one submit (default 16). */
  stepsPerSubmit?: number;
  /** Cap on rows per uploaded data set (default: what one storage buffer holds); tests set it low. */
  maxDatasetRows?: number;
  /** Invocations per task in the loss kernel (default: chooseLossWorkgroup). */
  lossWorkgroup?: number;
}

/** A step's own dispatches, before its weighting stage's. */
const STEP_DISPATCHES = 7;

interface Kernels {
  hidden: MatmulKernel;
  output: MatmulKernel;
  loss: Kernel;
  gradTransposed: MatmulKernel;
  gradHidden: MatmulKernel;
  update: Kernel;
}

/** The weighting's stage, when it has one: its hook point, and how to build it for this backend. */
interface StagePlan {
  type: WeightingStageType;
  build: (ctx: StageContext) => WeightingStage;
}

interface Buffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  state1: GPUBuffer;
  state2: GPUBuffer;
  hidden: GPUBuffer; // S, maxBatch×H
  output: GPUBuffer; // Y, maxBatch×T
  gradOutput: GPUBuffer; // G_Y, maxBatch×T
  gradHidden: GPUBuffer; // G_Z, maxBatch×H
  lossSums: GPUBuffer;
  weightSums: GPUBuffer; // T: Σ α_t of a weighting's stage since readLoss()
  lossScratch: GPUBuffer; // for gradients(), so a check does not touch the training loss
  tasks: GPUBuffer;
  input: GPUBuffer; // predict() chunks, maxBatch×d
  unusedRead: GPUBuffer;
  unusedWrite: GPUBuffer;
}

interface DataBindings {
  rows: number;
  X: GPUBuffer;
  Y: GPUBuffer;
  mask: GPUBuffer;
  hidden: GPUBindGroup;
  loss: GPUBindGroup;
  lossScratch: GPUBindGroup;
  gradW: GPUBindGroup;
}

/** The matmul kernel a plan product needs. */
function kernelVariant(p: ProductStage): MatmulOptions {
  return { transposeA: p.transposeA, transposeB: p.transposeB, epilogue: p.epilogue, rowSums: p.rowSums !== undefined };
}

// One kernel serves dA and dW: the plan must keep them the same variant.
if (JSON.stringify(kernelVariant(STEP_PRODUCTS.gradA)) !== JSON.stringify(kernelVariant(STEP_PRODUCTS.gradW))) {
  throw new Error('step plan: dA and dW need the same matmul variant (the WebGPU backend binds one kernel for both)');
}

export class WebGpuBackend implements TrainingBackend {
  readonly kind = 'webgpu';
  readonly description: string;
  readonly layout: ParameterLayout;
  readonly stepsPerSubmit: number;
  readonly maxDatasetRows: number;
  private readonly device: GPUDevice;
  private readonly arena: UniformArena;
  private readonly maxPerDimension: number;
  private readonly rules: UpdateRules;
  private readonly staticGroups: Record<'hiddenPredict' | 'output' | 'gradA' | 'gradHidden' | 'update', GPUBindGroup>;
  /** The weighting's kernels, buffers and dispatches (src/kernels/weighting-stages.ts); none for equal, uw, dwa. */
  private readonly stage: { type: WeightingStageType; stage: WeightingStage } | undefined;
  private readonly buffers: Buffers;
  private data: DataBindings | undefined;
  private step = 0;
  private lossSteps = 0;
  private readonly stagingPool: GPUBuffer[] = [];
  private readonly weightingCode: number;

  private constructor(
    readonly ctx: GpuContext,
    readonly config: BackendConfig,
    readonly tuning: MatmulTuning,
    private readonly kernels: Kernels,
    stagePlan: StagePlan | undefined,
    stepsPerSubmit: number,
    maxDatasetRows: number | undefined,
  ) {
    this.device = ctx.device;
    this.layout = parameterLayout(config.shape);
    this.description = adapterLabel(ctx.adapter);
    this.stepsPerSubmit = stepsPerSubmit;
    const bufferBytes = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
    const bytesPerRow = 4 * Math.max(config.shape.features, config.shape.tasks);
    this.maxDatasetRows = Math.min(maxDatasetRows ?? Infinity, Math.floor(bufferBytes / bytesPerRow));
    this.maxPerDimension = ctx.limits.maxComputeWorkgroupsPerDimension;
    this.rules = updateRules(this.layout, config.coupling);
    this.weightingCode = WEIGHTINGS[config.weighting ?? 'equal'].code;
    const dispatches = STEP_DISPATCHES + (stagePlan?.type.dispatches ?? 0);
    this.arena = new UniformArena(this.device, dispatches * stepsPerSubmit, 'step uniforms');
    this.buffers = this.createBuffers();
    this.staticGroups = this.createStaticBindGroups();
    this.stage = stagePlan && { type: stagePlan.type, stage: stagePlan.build(this.stageContext()) };
  }

  private stageContext(): StageContext {
    const b = this.buffers;
    return {
      device: this.device,
      config: this.config,
      layout: this.layout,
      buffers: { params: b.params, hidden: b.hidden, output: b.output, gradOutput: b.gradOutput, tasks: b.tasks, weightSums: b.weightSums, unusedRead: b.unusedRead },
      arena: this.arena,
      maxPerDimension: this.maxPerDimension,
      group: (kernel, buffers) => this.group(kernel, buffers),
    };
  }

  static async create(ctx: GpuContext, config: BackendConfig, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    if (config.tasks.length !== config.shape.tasks) {
      throw new RangeError(`${config.tasks.length} task specs for a model with ${config.shape.tasks} tasks`);
    }
    const registry = KernelRegistry.of(ctx.device);
    const tuning = options.tuning ?? (await autotuneMatmul(ctx, { store: options.tuningStore })).tuning;
    // The products' kernel variants from the step plan; dA and dW share one (G_Yᵀ·S and G_Zᵀ·X).
    const [hidden, output, loss, gradTransposed, gradHidden, update] = await Promise.all([
      matmulKernel(registry, tuning, kernelVariant(STEP_PRODUCTS.hidden)),
      matmulKernel(registry, tuning, kernelVariant(STEP_PRODUCTS.output)),
      lossKernel(registry, options.lossWorkgroup ?? chooseLossWorkgroup(ctx)),
      matmulKernel(registry, tuning, kernelVariant(STEP_PRODUCTS.gradA)),
      matmulKernel(registry, tuning, kernelVariant(STEP_PRODUCTS.gradHidden)),
      optimizerKernel(registry),
    ]);
    // The weighting's own kernels, from its stage (none for the weightings the loss kernel does alone).
    const stageType = WEIGHTING_STAGES[config.weighting ?? 'equal'];
    const env = {
      registry,
      config,
      tuning,
      bufferLimit: Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize),
      software: ctx.adapter.software,
      lossWorkgroup: options.lossWorkgroup ?? chooseLossWorkgroup(ctx),
    };
    const stagePlan = stageType && { type: stageType, build: await stageType.prepare(env) };
    const kernels = { hidden, output, loss, gradTransposed, gradHidden, update };
    return new WebGpuBackend(ctx, config, tuning, kernels, stagePlan, options.stepsPerSubmit ?? 16, options.maxDatasetRows);
  }

  private createBuffers(): Buffers {
    const { features: d, hidden: H, tasks: T } = this.config.shape;
    const B = this.config.maxBatch;
    const P = this.layout.count;
    const storage = (label: string, floats: number) => createStorage(this.device, label, floats);
    const tasks = this.device.createBuffer({
      label: 'tasks',
      size: taskInfoBytes(T),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(tasks, 0, packTaskInfo(this.config.tasks));
    return {
      params: storage('params', P),
      grads: storage('grads', P),
      state1: storage('optimizer state 1', P),
      state2: storage('optimizer state 2', P),
      hidden: storage('S', B * H),
      output: storage('Y', B * T),
      gradOutput: storage('G_Y', B * T),
      gradHidden: storage('G_Z', B * H),
      lossSums: storage('loss sums', T),
      weightSums: storage('step weight sums', T),
      lossScratch: storage('loss scratch', T),
      tasks,
      input: storage('predict input', B * d),
      unusedRead: storage('unused (read)', 4),
      unusedWrite: storage('unused (write)', 4),
    };
  }

  private group(kernel: Kernel | MatmulKernel, buffers: Record<string, BindingResource>): GPUBindGroup {
    return createBindGroup(this.device, 'general' in kernel ? kernel.general.kernel : kernel, buffers, this.arena.binding);
  }

  private createStaticBindGroups() {
    const k = this.kernels;
    const b = this.buffers;
    return {
      hiddenPredict: this.group(k.hidden, { a: b.input, b: b.params, aux: b.params, c: b.hidden, rowSums: b.unusedWrite }),
      output: this.group(k.output, { a: b.hidden, b: b.params, aux: b.params, c: b.output, rowSums: b.unusedWrite }),
      gradA: this.group(k.gradTransposed, {
        a: b.gradOutput,
        b: b.hidden,
        aux: b.unusedRead,
        c: segmentBinding(b.grads, this.layout.A),
        rowSums: segmentBinding(b.grads, this.layout.c),
      }),
      gradHidden: this.group(k.gradHidden, { a: b.gradOutput, b: b.params, aux: b.hidden, c: b.gradHidden, rowSums: b.unusedWrite }),
      update: this.group(k.update, { grads: b.grads, params: b.params, state1: b.state1, state2: b.state2 }),
    };
  }

  setTaskWeights(weights: ArrayLike<number>): void {
    if (weights.length !== this.config.tasks.length) throw new RangeError(`${weights.length} task weights for ${this.config.tasks.length} tasks`);
    const tasks = this.config.tasks.map((task, t) => ({ ...task, weight: weights[t]! }));
    this.device.queue.writeBuffer(this.buffers.tasks, 0, packTaskInfo(tasks));
  }

  setDataset(data: Dataset): void {
    checkDataset(data, this.config.shape);
    if (data.rows > this.maxDatasetRows) {
      throw new RangeError(`data set of ${data.rows} rows exceeds one GPU buffer (${this.maxDatasetRows} rows); the trainer streams it in shards`);
    }
    if (this.data?.rows === data.rows) {
      // Same size (a new epoch's shuffle): overwrite in place, keep the bind groups.
      uploadFloats(this.device, this.data.X, data.X);
      uploadFloats(this.device, this.data.Y, data.Y);
      uploadFloats(this.device, this.data.mask, data.mask);
      return;
    }
    if (this.data) for (const buffer of [this.data.X, this.data.Y, this.data.mask]) buffer.destroy();
    const X = createStorage(this.device, 'data X', data.X.length, data.X);
    const Y = createStorage(this.device, 'data Y', data.Y.length, data.Y);
    const mask = createStorage(this.device, 'data mask', data.mask.length, data.mask);
    const k = this.kernels;
    const b = this.buffers;
    this.data = {
      rows: data.rows,
      X,
      Y,
      mask,
      hidden: this.group(k.hidden, { a: X, b: b.params, aux: b.params, c: b.hidden, rowSums: b.unusedWrite }),
      loss: this.group(k.loss, { ...this.lossBindings(Y, mask), lossSums: b.lossSums }),
      lossScratch: this.group(k.loss, { ...this.lossBindings(Y, mask), lossSums: b.lossScratch }),
      gradW: this.group(k.gradTransposed, {
        a: b.gradHidden,
        b: X,
        aux: b.unusedRead,
        c: segmentBinding(b.grads, this.layout.W),
        rowSums: segmentBinding(b.grads, this.layout.b),
      }),
    };
    this.stage?.stage.bindData({ X, Y, mask });
  }

  /** The loss kernel's bindings other than its loss accumulator. */
  private lossBindings(Y: GPUBuffer, mask: GPUBuffer) {
    const b = this.buffers;
    return {
      y: b.output,
      targets: Y,
      mask,
      tasks: b.tasks,
      logVar: segmentBinding(b.params, this.layout.s),
      gradY: b.gradOutput,
      gradLogVar: segmentBinding(b.grads, this.layout.s),
    };
  }

  private dataset(): DataBindings {
    if (!this.data) throw new Error('no data set: call setDataset() first');
    return this.data;
  }

  setParameters(params: ArrayLike<number>): void {
    if (params.length !== this.layout.count) throw new RangeError(`${params.length} parameters, expected ${this.layout.count}`);
    uploadFloats(this.device, this.buffers.params, params);
  }

  async getParameters(): Promise<Float64Array> {
    return this.read(this.buffers.params, this.layout.count);
  }

  setOptimizerState(state: OptimizerState): void {
    this.step = state.step;
    uploadFloats(this.device, this.buffers.state1, state.state1);
    uploadFloats(this.device, this.buffers.state2, state.state2);
    const weighting = this.stage?.stage.state;
    if (weighting) uploadFloats(this.device, weighting.buffer, state.weighting ?? new Float64Array(weighting.floats));
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const stageState = this.stage?.stage.state;
    const [state1, state2, weighting] = await Promise.all([
      this.read(this.buffers.state1, this.layout.count),
      this.read(this.buffers.state2, this.layout.count),
      stageState ? this.read(stageState.buffer, stageState.floats) : undefined,
    ]);
    return { step: this.step, state1, state2, ...(weighting && { weighting }) };
  }

  private async read(buffer: GPUBuffer, floats: number, offset = 0): Promise<Float64Array> {
    const values = Float64Array.from(await readFloats(this.device, buffer, floats, offset));
    checkErrors(this.device, 'webgpu backend');
    return values;
  }

  // --- one step, as dispatches ------------------------------------------------------------

  /** A plan product's M, N, K for a batch of `rows`. */
  private dims(p: ProductStage, rows: number): { M: number; N: number; K: number } {
    const sizes = { rows, ...this.config.shape };
    return { M: dimSize(p.M, sizes), N: dimSize(p.N, sizes), K: dimSize(p.K, sizes) };
  }

  private matmul(rec: PassRecorder, label: string, kernel: MatmulKernel, group: GPUBindGroup, dims: MatmulDims): void {
    const offset = this.arena.push((view) => writeMatmulDims(view, dims));
    encodeMatmul(rec.next(label), kernel, group, offset, dims, this.maxPerDimension);
  }

  /** Dispatches 1–2: S and Y for `rows` inputs starting at element offsetX of the bound X. */
  private encodeForward(rec: PassRecorder, hiddenGroup: GPUBindGroup, rows: number, offsetX: number): void {
    const L = this.layout;
    const { hidden, output } = STEP_PRODUCTS;
    this.matmul(rec, hidden.label, this.kernels.hidden, hiddenGroup, { ...this.dims(hidden, rows), offsetA: offsetX, offsetB: L.W.offset, offsetAux: L.b.offset });
    this.matmul(rec, output.label, this.kernels.output, this.staticGroups.output, { ...this.dims(output, rows), offsetB: L.A.offset, offsetAux: L.c.offset });
  }

  /** Dispatches 1–6: forward, loss and the gradient of every parameter into `grads`. */
  private encodeLossAndGradients(rec: PassRecorder, start: number, rows: number, lossGroup: GPUBindGroup, training: boolean): void {
    const data = this.dataset();
    const { features: d, tasks: T } = this.config.shape;
    const L = this.layout;
    this.encodeForward(rec, data.hidden, rows, start * d);
    const lossOffset = this.arena.push((view) => writeLossDims(view, { rows, tasks: T, offsetRows: start, weighting: this.weightingCode }));
    encodeLoss(rec.next('loss, G_Y'), this.kernels.loss, lossGroup, lossOffset, T);
    const stageStep = { rows, start, step: this.step, training, lossOffset };
    if (this.stage?.type.hook === 'afterLoss') this.stage.stage.encode(rec, stageStep);
    const g = this.staticGroups;
    // dA and dc, dW and db: bound as their own ranges of the gradient buffer (offsets 0).
    const { gradA, gradHidden, gradW } = STEP_PRODUCTS;
    this.matmul(rec, gradA.label, this.kernels.gradTransposed, g.gradA, this.dims(gradA, rows));
    if (this.stage?.type.hook === 'afterOutputGradient') this.stage.stage.encode(rec, stageStep);
    this.matmul(rec, gradHidden.label, this.kernels.gradHidden, g.gradHidden, { ...this.dims(gradHidden, rows), offsetB: L.A.offset });
    this.matmul(rec, gradW.label, this.kernels.gradTransposed, data.gradW, { ...this.dims(gradW, rows), offsetB: start * d });
  }

  private encodeUpdate(rec: PassRecorder, learningRate: number): void {
    this.step++;
    const values = { count: this.layout.count, rules: this.rules, step: this.step, learningRate };
    const offset = this.arena.push((view) => writeOptimizerStep(view, this.config.optimizer, values));
    encodeElementwise(rec.next('optimizer update'), this.kernels.update, this.staticGroups.update, offset, this.layout.count, this.maxPerDimension);
  }

  async trainSteps(steps: readonly TrainStep[]): Promise<void> {
    checkErrors(this.device, 'training step');
    const data = this.dataset();
    for (const step of steps) checkStep(step, data.rows, this.config.maxBatch);
    for (let first = 0; first < steps.length; first += this.stepsPerSubmit) {
      const encoder = this.device.createCommandEncoder({ label: 'train steps' });
      const rec = new SinglePass(encoder, 'train steps');
      for (const step of steps.slice(first, first + this.stepsPerSubmit)) {
        this.encodeLossAndGradients(rec, step.start, step.rows, data.loss, true);
        this.encodeUpdate(rec, step.learningRate);
        this.lossSteps++;
      }
      rec.end();
      this.arena.flush();
      this.device.queue.submit([encoder.finish()]);
    }
    checkErrors(this.device, 'training step');
  }

  private takeStaging(bytes: number): GPUBuffer {
    const index = this.stagingPool.findIndex((b) => b.size >= bytes);
    if (index >= 0) return this.stagingPool.splice(index, 1)[0]!;
    return this.device.createBuffer({ label: 'staging', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /**
   * Copies each (buffer, offset, floats) into one pooled staging buffer, then clears `clearAfter`
   * in the same submit (so nothing accumulated in between is lost), maps and returns the values.
   * Only this copy is waited for; the queue keeps running.
   */
  private async submitAndRead(
    encoder: GPUCommandEncoder,
    copies: ReadonlyArray<readonly [GPUBuffer, number, number]>,
    clearAfter: readonly GPUBuffer[] = [],
  ): Promise<Float64Array[]> {
    const total = copies.reduce((sum, [, , floats]) => sum + floats, 0);
    const bytes = Math.max(16, total * 4);
    const staging = this.takeStaging(bytes);
    let at = 0;
    for (const [source, offset, floats] of copies) {
      encoder.copyBufferToBuffer(source, offset * 4, staging, at * 4, floats * 4);
      at += floats;
    }
    for (const buffer of clearAfter) encoder.clearBuffer(buffer);
    this.device.queue.submit([encoder.finish()]);
    await mapForRead(this.device, staging, 0, bytes);
    const all = new Float32Array(staging.getMappedRange(0, total * 4).slice(0));
    staging.unmap();
    this.stagingPool.push(staging);
    checkErrors(this.device, 'webgpu backend');
    at = 0;
    return copies.map(([, , floats]) => {
      const part = Float64Array.from(all.subarray(at, at + floats));
      at += floats;
      return part;
    });
  }

  async readLoss() {
    const T = this.config.shape.tasks;
    const steps = this.lossSteps;
    this.lossSteps = 0;
    const encoder = this.device.createCommandEncoder({ label: 'read loss' });
    const b = this.buffers;
    const [sums, weightSums] = await this.submitAndRead(
      encoder,
      [
        [b.lossSums, 0, T],
        [b.weightSums, 0, T],
      ],
      [b.lossSums, b.weightSums],
    );
    const mean = (values: Float64Array) => values.map((sum) => (steps > 0 ? sum / steps : 0));
    const taskWeights = hasStepWeights(this.config.weighting) ? mean(weightSums!) : undefined;
    return { perTask: mean(sums!), steps, ...(taskWeights && { taskWeights }) };
  }

  async gradients(start: number, rows: number) {
    const data = this.dataset();
    checkStep({ start, rows }, data.rows, this.config.maxBatch);
    const encoder = this.device.createCommandEncoder({ label: 'gradients' });
    encoder.clearBuffer(this.buffers.lossScratch);
    const rec = new SinglePass(encoder, 'gradients');
    this.encodeLossAndGradients(rec, start, rows, data.lossScratch, false);
    rec.end();
    this.arena.flush();
    const T = this.config.shape.tasks;
    const b = this.buffers;
    const reports = this.stage?.stage.reports;
    const [perTask, grads, gramian, taskWeights] = await this.submitAndRead(encoder, [
      [b.lossScratch, 0, T],
      [b.grads, 0, this.layout.count],
      ...(reports ? [reports.gramian, reports.taskWeights] : []),
    ]);
    if (!gramian) return { perTask: perTask!, grads: grads! };
    return { perTask: perTask!, grads: grads!, gramian, taskWeights };
  }

  async predict(X: Float32Array, rows: number): Promise<Float64Array> {
    const { features: d, tasks: T } = this.config.shape;
    if (X.length !== rows * d) throw new RangeError(`predict: X has ${X.length} values, expected rows×d = ${rows}×${d}`);
    const out = new Float64Array(rows * T);
    const chunk = this.config.maxBatch;
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      uploadFloats(this.device, this.buffers.input, X.subarray(start * d, (start + n) * d));
      const encoder = this.device.createCommandEncoder({ label: 'predict' });
      const rec = new SinglePass(encoder, 'predict');
      this.encodeForward(rec, this.staticGroups.hiddenPredict, n, 0);
      rec.end();
      this.arena.flush();
      const [y] = await this.submitAndRead(encoder, [[this.buffers.output, 0, n * T]]);
      out.set(y!, start * T);
    }
    return out;
  }

  /**
   * One training step with each dispatch in its own timed pass: the GPU time of every kernel
   * (needs the 'timestamp-query' feature). The step is real: parameters are updated.
   */
  async profileStep(step: TrainStep): Promise<KernelTime[]> {
    const data = this.dataset();
    checkStep(step, data.rows, this.config.maxBatch);
    const encoder = this.device.createCommandEncoder({ label: 'profiled step' });
    const rec = new TimedPasses(this.device, encoder, STEP_DISPATCHES + (this.stage?.type.dispatches ?? 0));
    this.encodeLossAndGradients(rec, step.start, step.rows, data.loss, true);
    this.encodeUpdate(rec, step.learningRate);
    this.lossSteps++;
    rec.end();
    const read = rec.resolve();
    this.arena.flush();
    this.device.queue.submit([encoder.finish()]);
    const times = await read();
    checkErrors(this.device, 'profiled step');
    return times;
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
    if (this.data) for (const buffer of [this.data.X, this.data.Y, this.data.mask]) buffer.destroy();
    for (const buffer of this.stagingPool) buffer.destroy();
    this.stage?.stage.destroy();
    this.arena.destroy();
  }
}
