// The CPU backend: the float64 reference behind the TrainingBackend interface. It is the
// yardstick for the WebGPU backend and a fallback where there is no WebGPU at all.
import { forward } from './reference.js';
import { referenceGradients } from './step.js';
import { optimizerStep } from './optimizer.js';
import { newOptimizerState, type OptimizerState } from '../core/optimizers.js';
import type { TaskSpec } from '../core/losses.js';
import { checkDataset, checkStep, type BackendConfig, type Dataset, type TrainingBackend, type TrainStep } from '../core/backend.js';
import { parameterLayout } from '../core/shape.js';
import { famoStateSize, hasStepWeights } from '../core/weighting.js';
import { updateRules } from '../core/optimizers.js';

export class CpuBackend implements TrainingBackend {
  readonly kind = 'cpu';
  readonly description = 'CPU (float64 reference)';
  readonly maxDatasetRows = Infinity;
  readonly layout;
  private params: Float64Array;
  private state: OptimizerState;
  private data: Dataset | undefined;
  private lossSums: Float64Array;
  /** Sums of the aggregator's α since the last readLoss(). */
  private weightSums: Float64Array;
  private lossSteps = 0;
  /** The tasks as the step sees them (their weights change under dynamic weighting). */
  private tasks: TaskSpec[];

  constructor(readonly config: BackendConfig) {
    this.layout = parameterLayout(config.shape);
    if (config.tasks.length !== config.shape.tasks) {
      throw new RangeError(`${config.tasks.length} task specs for a model with ${config.shape.tasks} tasks`);
    }
    this.params = new Float64Array(this.layout.count);
    this.state = newOptimizerState(this.layout.count);
    this.lossSums = new Float64Array(config.shape.tasks);
    this.weightSums = new Float64Array(config.shape.tasks);
    this.tasks = config.tasks.map((task) => ({ ...task }));
  }

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
    if (this.config.weighting === 'famo') this.state.weighting = Float64Array.from(state.weighting ?? new Float64Array(famoStateSize(this.config.shape.tasks)));
  }

  async getOptimizerState(): Promise<OptimizerState> {
    const { step, state1, state2, weighting } = this.state;
    return { step, state1: state1.slice(), state2: state2.slice(), ...(weighting && { weighting: weighting.slice() }) };
  }

  setDataset(data: Dataset): void {
    checkDataset(data, this.config.shape);
    this.data = data;
  }

  private dataset(): Dataset {
    if (!this.data) throw new Error('no data set: call setDataset() first');
    return this.data;
  }

  private lossAndGradients(start: number, rows: number) {
    const data = this.dataset();
    checkStep({ start, rows }, data.rows, this.config.maxBatch);
    const context = { weighting: this.config.weighting, step: this.state.step, seed: this.config.seed, famo: this.state.weighting };
    return referenceGradients(this.params, this.layout, data, this.tasks, start, rows, context);
  }

  async trainSteps(steps: readonly TrainStep[]): Promise<void> {
    const rules = updateRules(this.layout, this.config.coupling);
    for (const step of steps) {
      const { perTask, grads, taskWeights, famoState } = this.lossAndGradients(step.start, step.rows);
      if (famoState) this.state.weighting = famoState;
      for (let t = 0; t < perTask.length; t++) this.lossSums[t]! += perTask[t]!;
      if (taskWeights) for (let t = 0; t < taskWeights.length; t++) this.weightSums[t]! += taskWeights[t]!;
      this.lossSteps++;
      optimizerStep(this.params, grads, this.state, this.config.optimizer, step.learningRate, rules);
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

  async gradients(start: number, rows: number) {
    const { perTask, grads, gramian, taskWeights } = this.lossAndGradients(start, rows);
    return { perTask, grads, ...(gramian && { gramian }), ...(taskWeights && { taskWeights }) };
  }

  async predict(X: Float32Array, rows: number): Promise<Float64Array> {
    return forward(this.params, this.layout, X, rows).Y;
  }

  destroy(): void {}
}
