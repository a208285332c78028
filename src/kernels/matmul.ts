// Host side of shaders/matmul_{regblock,tiled}.wgsl: C = epilogue(op(A)·op(B)).
import { foldWorkgroups } from '../gpu/dispatch.js';
import type { Kernel, KernelConstants, KernelRegistry, KernelSpec } from '../gpu/registry.js';
import { writeU32s } from '../gpu/uniforms.js';
import { WGSL } from './shaders.js';

export type MatmulVariant = 'regblock' | 'tiled';

export const Epilogue = { none: 0, bias: 1, biasSigmoid: 2, sigmoidGrad: 3 } as const;
export type EpilogueName = keyof typeof Epilogue;

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  epilogue?: EpilogueName;
  /** Also write the row sums of op(A) (bias gradients). */
  rowSums?: boolean;
}

/** Workgroup shape: set from the adapter's limits (src/gpu/tuning.ts), passed as override constants. */
export interface MatmulTuning {
  variant: MatmulVariant;
  /** regblock: invocations per workgroup along x (columns) and y (rows); each does a 4×4 block. */
  workgroupX: number;
  workgroupY: number;
  /** tiled: the square tile edge (workgroup TILE×TILE). */
  tile: number;
}

/** Rows and columns of C one regblock invocation computes (fixed by the shader's code). */
export const REGBLOCK_BLOCK = 4;

export interface MatmulDims {
  M: number;
  N: number;
  K: number;
  offsetA?: number;
  offsetB?: number;
  offsetAux?: number;
  offsetC?: number;
  offsetRowSums?: number;
}

const spec = (variant: MatmulVariant): KernelSpec => ({
  name: `matmul_${variant}`,
  source: variant === 'regblock' ? WGSL.matmulRegblock : WGSL.matmulTiled,
  entryPoint: 'main',
  inputs: ['a', 'b', 'aux'],
  outputs: ['c', 'rowSums'],
});

export function matmulKernel(registry: KernelRegistry, tuning: MatmulTuning, options: MatmulOptions = {}): Promise<Kernel> {
  const shape: KernelConstants =
    tuning.variant === 'regblock' ? { WG_X: tuning.workgroupX, WG_Y: tuning.workgroupY } : { TILE: tuning.tile };
  return registry.get(spec(tuning.variant), {
    TRANSPOSE_A: options.transposeA ?? false,
    TRANSPOSE_B: options.transposeB ?? false,
    EPILOGUE: Epilogue[options.epilogue ?? 'none'],
    ROW_SUMS: options.rowSums ?? false,
    ...shape,
  });
}

/** The output tile one workgroup covers, [rows, columns]. */
export function matmulTileShape(kernel: Kernel): [number, number] {
  const c = kernel.constants;
  if ('TILE' in c) return [Number(c.TILE), Number(c.TILE)];
  return [REGBLOCK_BLOCK * Number(c.WG_Y), REGBLOCK_BLOCK * Number(c.WG_X)];
}

export function writeMatmulDims(view: DataView, d: MatmulDims): void {
  writeU32s(view, [d.M, d.N, d.K, d.offsetA ?? 0, d.offsetB ?? 0, d.offsetAux ?? 0, d.offsetC ?? 0, d.offsetRowSums ?? 0]);
}

export function matmulWorkgroups(kernel: Kernel, d: MatmulDims, maxPerDimension: number): [number, number] {
  const [tileRows, tileCols] = matmulTileShape(kernel);
  const tiles = Math.ceil(d.M / tileRows) * Math.ceil(d.N / tileCols);
  return foldWorkgroups(tiles, maxPerDimension);
}

export function encodeMatmul(
  pass: GPUComputePassEncoder,
  kernel: Kernel,
  bindGroup: GPUBindGroup,
  uniformOffset: number,
  d: MatmulDims,
  maxPerDimension: number,
): void {
  if (d.M === 0 || d.N === 0) return;
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(...matmulWorkgroups(kernel, d, maxPerDimension));
}
