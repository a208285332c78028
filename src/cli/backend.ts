// Choosing the backend: WebGPU (Dawn), the float64 CPU backend, or auto (WebGPU when an adapter
// exists, otherwise the CPU with a one-line notice).
import { CpuBackend } from '../cpu/backend.js';
import type { GpuContext } from '../gpu/context.js';
import { requestNodeGpu } from '../gpu/node.js';
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { WebGpuBackend } from '../model/webgpu-backend.js';
import { fileTuningStore } from './tuning-store.js';

export type BackendChoice = 'webgpu' | 'cpu' | 'auto';

export interface OpenBackend {
  backend: TrainingBackend;
  ctx?: GpuContext;
  close(): void;
}

export async function openGpu(): Promise<GpuContext> {
  return requestNodeGpu();
}

export async function openBackend(choice: BackendChoice, config: BackendConfig, notice: (line: string) => void): Promise<OpenBackend> {
  if (choice === 'cpu') return { backend: new CpuBackend(config), close() {} };
  let ctx: GpuContext;
  try {
    ctx = await openGpu();
  } catch (error) {
    if (choice === 'webgpu') throw error;
    notice(`note: no WebGPU adapter (${(error as Error).message.split('.')[0]}); training on the CPU backend`);
    return { backend: new CpuBackend(config), close() {} };
  }
  try {
    const backend = await WebGpuBackend.create(ctx, config, { tuningStore: fileTuningStore() });
    return {
      backend,
      ctx,
      close() {
        backend.destroy();
        ctx.destroy();
      },
    };
  } catch (error) {
    ctx.destroy();
    throw error;
  }
}

export function adapterName(open: OpenBackend): string {
  if (!open.ctx) return 'cpu';
  const a = open.ctx.adapter;
  return `${a.description || a.architecture} (${a.vendor}${a.software ? ', software' : ''})`;
}
