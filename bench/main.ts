import { requestNodeGpu } from '../src/gpu/node.js';
import { chooseMatmulTuning } from '../src/gpu/tuning.js';
import { Random, uniformArray } from '../src/util/random.js';
import { sigmtlMatmul } from './sigmtl-matmul.js';

const ctx = await requestNodeGpu();
const random = new Random(1);
for (const n of [512, 1024]) {
  const a = uniformArray(random, n * n);
  const b = uniformArray(random, n * n);
  for (const [wx, wy] of [[8, 8], [16, 4], [4, 16], [16, 16], [8, 4], [4, 4], [32, 8]] as const) {
    const variant = `vec4 ${wx}x${wy}`;
    const r = await sigmtlMatmul(ctx, { ...chooseMatmulTuning(ctx, 'regblock-vec4'), workgroupX: wx, workgroupY: wy }, {}, { M: n, N: n, K: n }, a, b);
    await r.run(true);
    const reps = 3;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await r.run(true);
    const ms = (performance.now() - t0) / reps;
    console.log(n, variant, ms.toFixed(1), (2 * n ** 3 / ms / 1e6).toFixed(3));
    r.destroy();
  }
}
ctx.destroy();
