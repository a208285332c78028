// Feature and target standardisation, fit on the training split only and stored in the model.
// A constant column gets std 1 (it becomes all zeros), never a division by zero.

export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
}

/** Column means and standard deviations of rows×width values, over entries where mask is 1 (if given). */
export function fitStandardizer(values: Float64Array, rows: number, width: number, mask?: Float64Array): Standardizer {
  const mean = new Float64Array(width);
  const std = new Float64Array(width).fill(1);
  for (let j = 0; j < width; j++) {
    let count = 0;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      if (mask && mask[r * width + j] === 0) continue;
      sum += values[r * width + j]!;
      count++;
    }
    if (count === 0) continue;
    const m = sum / count;
    let squares = 0;
    for (let r = 0; r < rows; r++) {
      if (mask && mask[r * width + j] === 0) continue;
      squares += (values[r * width + j]! - m) ** 2;
    }
    mean[j] = m;
    const s = Math.sqrt(squares / count);
    std[j] = s > 1e-12 * Math.max(1, Math.abs(m)) ? s : 1;
  }
  return { mean, std };
}

export function identityStandardizer(width: number): Standardizer {
  return { mean: new Float64Array(width), std: new Float64Array(width).fill(1) };
}

export function standardize(values: Float64Array, width: number, s: Standardizer): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const j = i % width;
    out[i] = (values[i]! - s.mean[j]!) / s.std[j]!;
  }
  return out;
}
