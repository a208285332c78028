// The CPU backend: the float64 reference behind the TrainingBackend interface. It is the
// yardstick for the WebGPU backend and a fallback where there is no WebGPU at all.
import type { Dataset } from '../core/backend.js';
import { HostBackend } from './host.js';
import { forward } from '../cpu/reference.js';
import { referenceGradients } from '../cpu/step.js';

export class CpuBackend extends HostBackend {
  readonly kind = 'cpu';
  readonly description = 'CPU (float64 reference)';

  protected batchGradients(data: Dataset, start: number, rows: number) {
    const context = { weighting: this.config.weighting, step: this.state.step, seed: this.config.seed, ...(this.state.weighting && { weightingState: this.state.weighting }) };
    return referenceGradients(this.params, this.layout, data, this.tasks, start, rows, context);
  }

  async predict(X: Float32Array, rows: number): Promise<Float64Array> {
    return forward(this.params, this.layout, X, rows).Y;
  }
}
