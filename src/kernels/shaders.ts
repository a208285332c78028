// The WGSL files, imported as text with Vite's `?raw` suffix. Vitest, the browser build, the
// bundled CLI and the published library (built by Vite, the text inlined) all resolve them the
// same way, so this is the one place shaders enter the program. Each kernel module composes its
// source: the declarations generated from TypeScript (src/core/wgsl.ts), then shared pieces,
// then the kernel, never spliced inside a kernel.
import sigmoidFn from '../../shaders/sigmoid_fn.wgsl?raw';
import matmulCommon from '../../shaders/matmul_common.wgsl?raw';
import matmulRegblock from '../../shaders/matmul_regblock.wgsl?raw';
import matmulRegblockVec4 from '../../shaders/matmul_regblock_vec4.wgsl?raw';
import matmulTiled from '../../shaders/matmul_tiled.wgsl?raw';
import sigmoid from '../../shaders/sigmoid.wgsl?raw';
import loss from '../../shaders/loss.wgsl?raw';
import lossFn from '../../shaders/loss_fn.wgsl?raw';
import gls from '../../shaders/gls.wgsl?raw';
import optimizer from '../../shaders/optimizer.wgsl?raw';
import taskJacobian from '../../shaders/task_jacobian.wgsl?raw';
import gramian from '../../shaders/gramian.wgsl?raw';
import aggregate from '../../shaders/aggregate.wgsl?raw';
import famo from '../../shaders/famo.wgsl?raw';
import taskLosses from '../../shaders/task_losses.wgsl?raw';

export const SHADER_FILES = {
  sigmoidFn,
  matmulCommon,
  matmulRegblock,
  matmulRegblockVec4,
  matmulTiled,
  sigmoid,
  loss,
  lossFn,
  gls,
  optimizer,
  taskJacobian,
  gramian,
  aggregate,
  famo,
  taskLosses,
} as const;

/** Invocations per workgroup of the one-element-per-invocation kernels (sigmoid, optimizer). */
export const ELEMENTWISE_WORKGROUP = 256;

export const composeWgsl = (...parts: string[]) => parts.join('\n');
