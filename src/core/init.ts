// Initial parameters: W ~ N(0, 1/d), b = 0, c = 0, and A as asked: the identity (each task starts
// on its own hidden unit; needs H = T), small random values, or a matrix the user supplies.
import { Random } from '../util/random.js';
import { parameterLayout, type ModelShape } from './shape.js';

export type CouplingInit = 'identity' | 'random' | Float64Array | Float32Array;

export function initParameters(shape: ModelShape, seed: number, coupling: CouplingInit = 'identity'): Float64Array {
  const layout = parameterLayout(shape);
  const { features: d, hidden: H, tasks: T } = shape;
  const random = new Random(seed);
  const params = new Float64Array(layout.count);
  const wScale = 1 / Math.sqrt(d);
  for (let i = 0; i < layout.W.size; i++) params[layout.W.offset + i] = wScale * random.normal();
  if (coupling === 'identity') {
    if (H !== T) throw new RangeError(`A = identity needs hidden = tasks, got hidden ${H}, tasks ${T}`);
    for (let t = 0; t < T; t++) params[layout.A.offset + t * H + t] = 1;
  } else if (coupling === 'random') {
    const aScale = 1 / Math.sqrt(H);
    for (let i = 0; i < layout.A.size; i++) params[layout.A.offset + i] = aScale * random.normal();
  } else {
    if (coupling.length !== layout.A.size) {
      throw new RangeError(`A has ${coupling.length} values, expected tasks×hidden = ${T}×${H} = ${layout.A.size}`);
    }
    params.set(coupling, layout.A.offset);
  }
  return params;
}
