// One WebGPU device per test file (Dawn in Node; SwiftShader where there is no GPU), destroyed
// afterwards so the process can exit.
import { afterAll } from 'vitest';
import type { GpuContext } from '../src/gpu/context.js';
import { requestNodeGpu } from '../src/gpu/node.js';

let context: Promise<GpuContext> | undefined;

export function gpu(): Promise<GpuContext> {
  context ??= requestNodeGpu();
  return context;
}

afterAll(async () => {
  if (context) (await context).destroy();
  context = undefined;
});
