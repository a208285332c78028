// The two TrainingBackend implementations, for people who schedule steps themselves (advanced).
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { CpuBackend } from './cpu.js';
import { WasmBackend } from './wasm.js';
import type { WasmKernelOptions } from '../cpu/wasm-matmul.js';
import { contextFromDevice } from '../gpu/context.js';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu.js';

/** All buffers for one model shape and batch size, made once; 7 dispatches a step, 16 steps a submit. */
export function createWebGpuBackend(device: GPUDevice, config: BackendConfig, options: WebGpuBackendOptions = {}): Promise<TrainingBackend> {
  return WebGpuBackend.create(contextFromDevice(device), config, options);
}

/** The float64 reference behind the same interface: plain loops, the yardstick of every GPU result. */
export function createCpuBackend(config: BackendConfig): TrainingBackend {
  return new CpuBackend(config);
}

/**
 * The CPU engine: the step's products as float32 matmuls — WebAssembly SIMD, or the native addon
 * in Node where it is loaded — on `threads` (default: every core where workers can run).
 */
export function createWasmBackend(config: BackendConfig, options: WasmKernelOptions = {}): Promise<TrainingBackend> {
  return WasmBackend.create(config, options);
}

export type { WebGpuBackendOptions };
