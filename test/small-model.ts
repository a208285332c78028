// A small trained-model value (d = 3, H = 2, one MSE and one BCE task) for the file-format tests.
import { initParameters } from '../src/core/init.js';
import type { TrainedModel } from '../src/model/model.js';

export function smallModel(): TrainedModel {
  const shape = { features: 3, hidden: 2, tasks: 2 };
  return {
    shape,
    featureNames: ['a', 'b', 'c'],
    targetNames: ['y1', 'y2'],
    losses: ['mse', 'bce'],
    params: initParameters(shape, 1),
    x: { mean: Float64Array.from([1, 2, 3]), std: Float64Array.from([1, 0.5, 2]) },
    y: { mean: Float64Array.from([10, 0]), std: Float64Array.from([3, 1]) },
    hyper: { lr: 0.01 },
  };
}
