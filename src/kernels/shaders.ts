// The WGSL sources, imported as text with Vite's `?raw` suffix. Vitest, the browser build and the
// bundled CLI (dist/cli.js, built by Vite) all resolve them the same way, so this is the one
// place shaders enter the program. Shared pieces are prepended here, never spliced inside a kernel.
import sigmoidFn from '../../shaders/sigmoid_fn.wgsl?raw';
import matmulCommon from '../../shaders/matmul_common.wgsl?raw';
import matmulRegblock from '../../shaders/matmul_regblock.wgsl?raw';
import matmulRegblockVec4 from '../../shaders/matmul_regblock_vec4.wgsl?raw';
import matmulTiled from '../../shaders/matmul_tiled.wgsl?raw';
import sigmoid from '../../shaders/sigmoid.wgsl?raw';
import loss from '../../shaders/loss.wgsl?raw';
import optimizer from '../../shaders/optimizer.wgsl?raw';

const join = (...parts: string[]) => parts.join('\n');

export const WGSL = {
  matmulRegblock: join(sigmoidFn, matmulCommon, matmulRegblock),
  matmulRegblockVec4: join(sigmoidFn, matmulCommon, matmulRegblockVec4),
  matmulTiled: join(sigmoidFn, matmulCommon, matmulTiled),
  sigmoid: join(sigmoidFn, sigmoid),
  loss: join(sigmoidFn, loss),
  optimizer,
} as const;
