// Getting a WebGPU device in a browser (navigator.gpu); the code above this is the same as in Node.
import { openDevice, type GpuContext } from './context.js';

export function browserHasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu;
}

export async function requestBrowserGpu(powerPreference: GPUPowerPreference = 'high-performance'): Promise<GpuContext> {
  if (!browserHasWebGpu()) {
    throw new Error('This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge, or the CPU backend.');
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new Error('WebGPU is present but no adapter is available (GPU blocklisted or disabled).');
  return openDevice(navigator.gpu, adapter, 'navigator.gpu', () => {});
}

/** A WebGPU device from navigator.gpu with the limits and features sigmtl uses (the adapter's real limits). */
export async function requestBrowserDevice(powerPreference: GPUPowerPreference = 'high-performance'): Promise<GPUDevice> {
  return (await requestBrowserGpu(powerPreference)).device;
}
