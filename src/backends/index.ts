// The two TrainingBackend implementations, for people who schedule steps themselves (advanced).
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { CpuBackend } from './cpu.js';
import { WasmBackend } from './wasm.js';
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

/** The CPU engine: the step's products as float32 WebAssembly SIMD matmuls, one thread. */
export function createWasmBackend(config: BackendConfig): Promise<TrainingBackend> {
  return WasmBackend.create(config);
}

export type { WebGpuBackendOptions };
