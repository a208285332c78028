// Single kernels on host arrays, for people who want one product or one sigmoid on the GPU (and
// for side-by-side comparisons, like the demo's): fresh buffers per call, so not for training.
import { contextFromDevice } from '../gpu/context.js';
import { chooseMatmulTuning } from '../kernels/tuning.js';
import { runMatmul, runSigmoidForward } from '../verify/run-kernels.js';

export interface MatmulDims {
  /** Rows of op(A) and C. */
  M: number;
  /** Columns of op(B) and C. */
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
}

/** C = op(A)·op(B) on this device's matmul kernel (row-major f32). */
export async function gpuMatmul(device: GPUDevice, a: Float32Array, b: Float32Array, dims: MatmulDims): Promise<Float32Array> {
  const { M, N, K } = dims;
  for (const [name, v] of Object.entries({ M, N, K })) if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  if (a.length !== M * K) throw new RangeError(`a has ${a.length} values, M×K = ${M * K}`);
  if (b.length !== K * N) throw new RangeError(`b has ${b.length} values, K×N = ${K * N}`);
  const ctx = contextFromDevice(device);
  const out = await runMatmul(ctx, chooseMatmulTuning(ctx), { transposeA: dims.transposeA, transposeB: dims.transposeB }, { M, N, K, a, b });
  return out.c;
}

/** σ(z) elementwise on the GPU. */
export function gpuSigmoid(device: GPUDevice, z: Float32Array): Promise<Float32Array> {
  return runSigmoidForward(contextFromDevice(device), z);
}
