// Host side of shaders/matmul_{regblock,regblock_vec4,tiled}.wgsl: C = epilogue(op(A)·op(B)).
// A MatmulKernel holds the compiled pipelines of one product; with the 'regblock-vec4' variant it
// has both the vec4 and the scalar register-blocked pipeline and picks per dispatch: vec4 where the
// shape fits, scalar otherwise. Both share one bind-group layout, so one bind group serves both.
import { Epilogue, type EpilogueName } from '../core/epilogues.js';
import { wgslEnum, wgslPreamble, wgslStruct } from '../core/wgsl.js';
import { foldWorkgroups } from '../gpu/dispatch.js';
import type { Kernel, KernelConstants, KernelRegistry, KernelSpec } from '../gpu/registry.js';
import { composeWgsl, SHADER_FILES } from './shaders.js';

export type MatmulVariant = 'regblock' | 'regblock-vec4' | 'tiled';

/** The fused epilogues (EPILOGUE_* in WGSL, generated from the table in src/core/epilogues.ts). */
export { Epilogue, type EpilogueName };

export const MatmulDimsStruct = wgslStruct('MatmulDims', [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['offsetA', 'u32'],
  ['offsetB', 'u32'],
  ['offsetAux', 'u32'],
  ['offsetC', 'u32'],
  ['offsetRowSums', 'u32'],
]);

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  epilogue?: EpilogueName;
  /** Also write the row sums of op(A) (bias gradients). */
  rowSums?: boolean;
}

/** Workgroup shape: set from the adapter's limits (src/kernels/tuning.ts), passed as override constants. */
export interface MatmulTuning {
  variant: MatmulVariant;
  /** regblock: invocations per workgroup along x (columns) and y (rows); each does a 4×4 block. */
  workgroupX: number;
  workgroupY: number;
  /** tiled: invocations per workgroup edge (a WG×WG workgroup, 4×4 per invocation: a 4·WG square tile). */
  tile: number;
}

/** Rows and columns of C one invocation computes (fixed by each shader's code). */
export const REGBLOCK_BLOCK = 4;
export const REGBLOCK_VEC4_BLOCK = 8;

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

const common = (kernel: string) => composeWgsl(wgslPreamble(wgslEnum('EPILOGUE', Epilogue), MatmulDimsStruct.wgsl), SHADER_FILES.sigmoidFn, SHADER_FILES.matmulCommon, kernel);

const SOURCES = {
  regblock: common(SHADER_FILES.matmulRegblock),
  regblock_vec4: common(SHADER_FILES.matmulRegblockVec4),
  tiled: common(SHADER_FILES.matmulTiled),
};

const spec = (file: keyof typeof SOURCES): KernelSpec => ({
  name: `matmul_${file}`,
  source: SOURCES[file],
  entryPoint: 'main',
  inputs: ['a', 'b', 'aux'],
  outputs: ['c', 'rowSums'],
  uniform: 'dims',
});

export interface MatmulPipeline {
  readonly kernel: Kernel;
  /** The output tile one workgroup covers, [rows, columns]. */
  readonly tile: [number, number];
}

/** The vec4 kernel compiled for three output aspects, so skinny products keep every invocation busy. */
export interface Vec4Pipelines {
  /** WG 8×8: a 64×64 tile. */
  readonly square: MatmulPipeline;
  /** WG 2×32: a 256×16 tile, for outputs with few columns (X·Wᵀ with H = T small). */
  readonly tall: MatmulPipeline;
  /** WG 32×2: a 16×256 tile, for outputs with few rows (G_Zᵀ·X, G_Yᵀ·S). */
  readonly wide: MatmulPipeline;
}

export interface MatmulKernel {
  readonly options: MatmulOptions;
  /** The pipeline for any shape (scalar loads). */
  readonly general: MatmulPipeline;
  /** The vec4 pipelines, for shapes where matmulVec4Fits. */
  readonly vec4?: Vec4Pipelines;
}

const VEC4_ASPECTS = { square: [8, 8], tall: [2, 32], wide: [32, 2] } as const;

export async function matmulKernel(registry: KernelRegistry, tuning: MatmulTuning, options: MatmulOptions = {}): Promise<MatmulKernel> {
  const constants: KernelConstants = {
    TRANSPOSE_A: options.transposeA ?? false,
    TRANSPOSE_B: options.transposeB ?? false,
    EPILOGUE: Epilogue[options.epilogue ?? 'none'],
    ROW_SUMS: options.rowSums ?? false,
  };
  if (tuning.variant === 'tiled') {
    const kernel = await registry.get(spec('tiled'), { ...constants, WG_X: tuning.tile, WG_Y: tuning.tile });
    const edge = REGBLOCK_BLOCK * tuning.tile;
    return { options, general: { kernel, tile: [edge, edge] } };
  }
  const pipeline = async (file: 'regblock' | 'regblock_vec4', block: number, x: number, y: number): Promise<MatmulPipeline> => ({
    kernel: await registry.get(spec(file), { ...constants, WG_X: x, WG_Y: y }),
    tile: [block * y, block * x],
  });
  const general = pipeline('regblock', REGBLOCK_BLOCK, tuning.workgroupX, tuning.workgroupY);
  if (tuning.variant !== 'regblock-vec4') return { options, general: await general };
  const [square, tall, wide] = await Promise.all(Object.values(VEC4_ASPECTS).map(([x, y]) => pipeline('regblock_vec4', REGBLOCK_VEC4_BLOCK, x, y)));
  return { options, general: await general, vec4: { square: square!, tall: tall!, wide: wide! } };
}

/** Whether the vec4 kernel can run this product: every stored row a whole number of vec4s. */
export function matmulVec4Fits(options: MatmulOptions, d: MatmulDims): boolean {
  const aligned = (n: number | undefined) => (n ?? 0) % 4 === 0;
  return aligned(d.K) && (!options.transposeA || aligned(d.M)) && (options.transposeB || aligned(d.N)) && aligned(d.offsetA) && aligned(d.offsetB);
}

/** The pipeline a dispatch of these dimensions uses. */
export function pickMatmulPipeline(kernel: MatmulKernel, d: MatmulDims): MatmulPipeline {
  if (!kernel.vec4 || !matmulVec4Fits(kernel.options, d)) return kernel.general;
  if (d.N <= 16 && d.M >= 128) return kernel.vec4.tall;
  if (d.M <= 16 && d.N >= 128) return kernel.vec4.wide;
  return kernel.vec4.square;
}

export function writeMatmulDims(view: DataView, d: MatmulDims): void {
  MatmulDimsStruct.write(view, {
    M: d.M,
    N: d.N,
    K: d.K,
    offsetA: d.offsetA ?? 0,
    offsetB: d.offsetB ?? 0,
    offsetAux: d.offsetAux ?? 0,
    offsetC: d.offsetC ?? 0,
    offsetRowSums: d.offsetRowSums ?? 0,
  });
}

export function matmulWorkgroups(pipeline: MatmulPipeline, d: MatmulDims, maxPerDimension: number): [number, number] {
  const [tileRows, tileCols] = pipeline.tile;
  const tiles = Math.ceil(d.M / tileRows) * Math.ceil(d.N / tileCols);
  return foldWorkgroups(tiles, maxPerDimension);
}

export function encodeMatmul(pass: GPUComputePassEncoder, kernel: MatmulKernel, bindGroup: GPUBindGroup, uniformOffset: number, d: MatmulDims, maxPerDimension: number): void {
  if (d.M === 0 || d.N === 0) return;
  const pipeline = pickMatmulPipeline(kernel, d);
  pass.setPipeline(pipeline.kernel.pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(...matmulWorkgroups(pipeline, d, maxPerDimension));
}
