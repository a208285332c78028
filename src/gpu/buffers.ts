// Small helpers for storage buffers and readbacks.

import { deviceLostError, deviceLostReason } from './context.js';
export const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** A storage buffer of `floats` f32 (at least 16 bytes, as WebGPU bindings need), optionally filled. */
export function createStorage(device: GPUDevice, label: string, floats: number, data?: ArrayLike<number>): GPUBuffer {
  const size = Math.max(16, Math.ceil((floats * 4) / 4) * 4);
  if (size > device.limits.maxStorageBufferBindingSize) {
    throw new RangeError(`buffer "${label}" needs ${size} bytes, more than this adapter's maxStorageBufferBindingSize (${device.limits.maxStorageBufferBindingSize})`);
  }
  const buffer = device.createBuffer({ label, size, usage: STORAGE() });
  if (data) uploadFloats(device, buffer, data);
  return buffer;
}

export function uploadFloats(device: GPUDevice, buffer: GPUBuffer, data: ArrayLike<number>, offsetFloats = 0): void {
  const array = data instanceof Float32Array ? data : Float32Array.from(data);
  device.queue.writeBuffer(buffer, offsetFloats * 4, array.buffer, array.byteOffset, array.byteLength);
}

/** mapAsync for reading; when the device has been lost (destroyed mid-run, a driver reset) the error says so. */
export async function mapForRead(device: GPUDevice, buffer: GPUBuffer, offset?: number, size?: number): Promise<void> {
  try {
    await buffer.mapAsync(GPUMapMode.READ, offset, size);
  } catch (error) {
    // A lost device rejects maps with a bare AbortError; its `lost` promise says why.
    await Promise.race([device.lost, new Promise((resolve) => setTimeout(resolve, 100))]);
    if (deviceLostReason(device) !== undefined) throw deviceLostError(device, 'reading back from the GPU');
    throw error;
  }
}

/** Copies `floats` f32 from `buffer` (at element `offset`) into a staging buffer and reads them. */
export async function readFloats(device: GPUDevice, buffer: GPUBuffer, floats: number, offset = 0): Promise<Float32Array> {
  const bytes = floats * 4;
  const staging = device.createBuffer({ label: 'readback', size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: 'readback' });
  if (bytes > 0) encoder.copyBufferToBuffer(buffer, offset * 4, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  try {
    await mapForRead(device, staging);
  } catch (error) {
    staging.destroy();
    throw error;
  }
  const result = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
  staging.unmap();
  staging.destroy();
  return result;
}

/** The binding of one segment (offset and size in f32 elements) of a flat buffer. */
export function segmentBinding(buffer: GPUBuffer, segment: { offset: number; size: number }): GPUBufferBinding {
  return { buffer, offset: segment.offset * 4, size: Math.max(4, segment.size * 4) };
}
