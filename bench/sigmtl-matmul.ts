// sigmtl's matmul set up once for timing: buffers and bind group made up front, so a run is
// exactly one dispatch (plus, when asked, a copy to a staging buffer and its readback).
import type { GpuContext } from '../src/gpu/context.js';
import { createStorage } from '../src/gpu/buffers.js';
import { createBindGroup, KernelRegistry } from '../src/gpu/registry.js';
import { UniformArena } from '../src/gpu/uniforms.js';
import { encodeMatmul, matmulKernel, writeMatmulDims, type MatmulOptions, type MatmulTuning } from '../src/kernels/matmul.js';

export interface MatmulRunner {
  run(readback: boolean): Promise<void>;
  destroy(): void;
}

export async function sigmtlMatmul(
  ctx: GpuContext,
  tuning: MatmulTuning,
  options: MatmulOptions,
  dims: { M: number; N: number; K: number },
  a: Float32Array,
  b: Float32Array,
): Promise<MatmulRunner> {
  const device = ctx.device;
  const kernel = await matmulKernel(KernelRegistry.of(device), tuning, options);
  const aBuffer = createStorage(device, 'a', a.length, a);
  const bBuffer = createStorage(device, 'b', b.length, b);
  const aux = createStorage(device, 'aux', Math.max(dims.N, dims.M * dims.N));
  const c = createStorage(device, 'c', dims.M * dims.N);
  const rowSums = createStorage(device, 'rowSums', dims.M);
  const staging = device.createBuffer({ size: dims.M * dims.N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const arena = new UniformArena(device, 1);
  const offset = arena.push((v) => writeMatmulDims(v, dims));
  arena.flush();
  const group = createBindGroup(device, kernel.general.kernel, { a: aBuffer, b: bBuffer, aux, c, rowSums }, arena.binding);
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  return {
    async run(readback) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeMatmul(pass, kernel, group, offset, dims, max);
      pass.end();
      if (readback) encoder.copyBufferToBuffer(c, 0, staging, 0, dims.M * dims.N * 4);
      device.queue.submit([encoder.finish()]);
      if (readback) {
        await staging.mapAsync(GPUMapMode.READ);
        staging.unmap();
      } else {
        await device.queue.onSubmittedWorkDone();
      }
    },
    destroy() {
      for (const buffer of [aBuffer, bBuffer, aux, c, rowSums, staging]) buffer.destroy();
      arena.destroy();
    },
  };
}
