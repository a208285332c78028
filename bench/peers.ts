// The peers, loaded in Node on the same Dawn adapter as sigmtl: TensorFlow.js (webgpu, cpu, wasm
// backends) and gpu.js (WebGPU mode through navigator.gpu, or its best mode otherwise). Also the
// counters that wrap the device's methods to count dispatches, submits and mapAsync calls.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GpuContext } from '../src/gpu/context.js';

export type Tf = typeof import('@tensorflow/tfjs-core');

export interface Peers {
  tf: Tf;
  tfBackends: string[];
  gpujs: { GPU: typeof import('gpu.js').GPU; Input: typeof import('gpu.js').Input; mode: string } | undefined;
  versions: Record<string, string>;
}

const require = createRequire(import.meta.url);

function version(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export async function loadPeers(ctx: GpuContext): Promise<Peers> {
  // tfjs-backend-webgpu and gpu.js look for navigator.gpu; give them Dawn's GPU object.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: ctx.instance }, configurable: true, writable: true });
  // dawn.node 0.6.2 crashes in createComputePipelineAsync; tfjs uses it, so route it to the sync call.
  const proto = (globalThis as unknown as { GPUDevice: { prototype: GPUDevice } }).GPUDevice.prototype;
  proto.createComputePipelineAsync = function (this: GPUDevice, descriptor: GPUComputePipelineDescriptor) {
    return Promise.resolve(this.createComputePipeline(descriptor));
  };
  // The full @tensorflow/tfjs package: the same core, plus the gradients of every op registered.
  const tf = (await import('@tensorflow/tfjs')) as unknown as Tf;
  await import('@tensorflow/tfjs-backend-cpu');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  await import('@tensorflow/tfjs-backend-webgpu');
  tf.env().set('PROD', true);
  const tfBackends: string[] = [];
  for (const name of ['webgpu', 'wasm', 'cpu']) {
    try {
      if (await tf.setBackend(name)) tfBackends.push(name);
    } catch {
      // not available here
    }
  }
  let gpujs: Peers['gpujs'];
  try {
    const { GPU, Input } = await import('gpu.js');
    const mode = GPU.isWebGPUSupported && (await GPU.isWebGPUAvailable()) ? 'webgpu' : 'cpu';
    gpujs = { GPU, Input, mode };
  } catch {
    gpujs = undefined;
  }
  return {
    tf,
    tfBackends,
    gpujs,
    versions: {
      node: process.versions.node,
      sigmtl: (require('../package.json') as { version: string }).version,
      webgpu: version('webgpu'),
      '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-backend-webgpu': version('@tensorflow/tfjs-backend-webgpu'),
      '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
      'gpu.js': version('gpu.js'),
    },
  };
}

export interface Counts {
  dispatches: number;
  submits: number;
  maps: number;
}

/** Counts every dispatch, submit and mapAsync in the process (all devices) from now on. */
export function installCounters(): () => Counts {
  const counts: Counts = { dispatches: 0, submits: 0, maps: 0 };
  const g = globalThis as unknown as Record<string, { prototype: Record<string, (...args: unknown[]) => unknown> }>;
  const wrap = (cls: string, method: string, key: keyof Counts) => {
    const proto = g[cls]!.prototype;
    const original = proto[method]!;
    proto[method] = function (this: unknown, ...args: unknown[]) {
      counts[key]++;
      return original.apply(this, args);
    };
  };
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches');
  wrap('GPUQueue', 'submit', 'submits');
  wrap('GPUBuffer', 'mapAsync', 'maps');
  return () => ({ ...counts });
}
