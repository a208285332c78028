// What the two CPU-side backends (the float64 reference and the CPU engine) share: parameters and
// optimizer state in float64 on the host, the task weights as the step sees them, the loss and
// weight sums between reads, and the step loop around the float64 update. A subclass says only
// how one batch's losses and gradients are computed.
import { checkDataset, checkStep, type BackendConfig, type Dataset, type GradientReport, type TrainingBackend, type TrainStep } from '../core/backend.js';
import type { TaskSpec } from '../core/losses.js';
import { newOptimizerState, updateRules, type OptimizerState } from '../core/optimizers.js';
import { parameterLayout, type ParameterLayout } from '../core/shape.js';
import { hasStepWeights, weightingStateSize } from '../core/weighting.js';
import { optimizerStep, type NativeUpdate } from '../cpu/optimizer.js';
import type { ReferenceGradients } from '../cpu/step.js';

export abstract class HostBackend implements TrainingBackend {
  abstract readonly kind: 'cpu' | 'wasm';
  abstract readonly description: string;
  readonly maxDatasetRows = Infinity;
  readonly layout: ParameterLayout;
  protected params: Float64Array;
  protected state: OptimizerState;
  /** The tasks as the step sees them (their weights change under dynamic weighting). */
  protected tasks: TaskSpec[];
  private data: Dataset | undefined;
  private readonly lossSums: Float64Array;
  /** Sums of FAMO's or an aggregator's α since the last readLoss(). */
  private readonly weightSums: Float64Array;
  private lossSteps = 0;
  /** The update's loops in native code (the CPU engine's, where the addon is loaded); else here. */
  protected nativeUpdate: NativeUpdate | undefined;

  constructor(readonly config: BackendConfig) {
    if (config.tasks.length !== config.shape.tasks) throw new RangeError(`${config.tasks.length} task specs for a model with ${config.shape.tasks} tasks`);
    this.layout = parameterLayout(config.shape);
    this.params = new Float64Array(this.layout.count);
    this.state = newOptimizerState(this.layout.count);
    this.lossSums = new Float64Array(config.shape.tasks);
    this.weightSums = new Float64Array(config.shape.tasks);
    this.tasks = config.tasks.map((task) => ({ ...task }));
  }

  /** One batch's losses and gradients from the current parameters and state (FAMO's next state returned, not kept). */
  protected abstract batchGradients(data: Dataset, start: number, rows: number): Promise<ReferenceGradients> | ReferenceGradients;

  setTaskWeights(weights: ArrayLike<number>): void {
    if (weights.length !== this.tasks.length) throw new RangeError(`${weights.length} task weights for ${this.tasks.length} tasks`);
    this.tasks = this.tasks.map((task, t) => ({ ...task, weight: weights[t]! }));
  }

  setParameters(params: ArrayLike<number>): void {
    if (params.length !== this.layout.count) throw new RangeError(`${params.length} parameters, expected ${this.layout.count}`);
    this.params = Float64Array.from(params);
  }

  async getParameters(): Promise<Float64Array> {
    return this.params.slice();
  }

  setOptimizerState(state: OptimizerState): void {
    this.state = { step: state.step, state1: Float64Array.from(state.state1), state2: Float64Array.from(state.state2) };
    const size = weightingStateSize(this.config.weighting, this.config.shape.tasks);
    if (size > 0) this.state.weighting = Float64Array.from(state.weighting ?? new Float64Array(size));
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const { step, state1, state2, weighting } = this.state;
    return { step, state1: state1.slice(), state2: state2.slice(), ...(weighting && { weighting: weighting.slice() }) };
  }

  setDataset(data: Dataset): void {
    checkDataset(data, this.config.shape);
    this.data = data;
  }

  private async lossAndGradients(start: number, rows: number): Promise<ReferenceGradients> {
    if (!this.data) throw new Error('no data set: call setDataset() first');
    checkStep({ start, rows }, this.data.rows, this.config.maxBatch);
    return this.batchGradients(this.data, start, rows);
  }

  async trainSteps(steps: readonly TrainStep[]): Promise<void> {
    const rules = updateRules(this.layout, this.config.coupling);
    for (const step of steps) {
      const { perTask, grads, taskWeights, weightingState } = await this.lossAndGradients(step.start, step.rows);
      if (weightingState) this.state.weighting = weightingState;
      for (let t = 0; t < perTask.length; t++) this.lossSums[t]! += perTask[t]!;
      if (taskWeights) for (let t = 0; t < taskWeights.length; t++) this.weightSums[t]! += taskWeights[t]!;
      this.lossSteps++;
      optimizerStep(this.params, grads, this.state, this.config.optimizer, step.learningRate, rules, this.nativeUpdate);
    }
  }

  async readLoss() {
    const steps = this.lossSteps;
    const mean = (sums: Float64Array) => sums.map((sum) => (steps > 0 ? sum / steps : 0));
    const perTask = mean(this.lossSums);
    const taskWeights = hasStepWeights(this.config.weighting) ? mean(this.weightSums) : undefined;
    this.lossSums.fill(0);
    this.weightSums.fill(0);
    this.lossSteps = 0;
    return { perTask, steps, ...(taskWeights && { taskWeights }) };
  }

  async gradients(start: number, rows: number): Promise<GradientReport> {
    const { perTask, grads, gramian, taskWeights } = await this.lossAndGradients(start, rows);
    return { perTask, grads: grads.slice(), ...(gramian && { gramian }), ...(taskWeights && { taskWeights }) };
  }

  abstract predict(X: Float32Array, rows: number): Promise<Float64Array>;

  destroy(): void {}
}
