// --backend for eval, predict, check and doctor: a Dawn device (webgpu), none (cpu), or a device
// when one can be had (auto, with a one-line notice otherwise).
import { deviceLabel, requestNodeDevice } from 'sigmtl/node';

export type BackendChoice = 'webgpu' | 'cpu' | 'auto';

export interface CliDevice {
  device?: GPUDevice;
  /** The adapter, or "CPU (float64 reference)". */
  label: string;
  close(): void;
}

export async function openCliDevice(choice: BackendChoice): Promise<CliDevice> {
  const cpu = { label: 'CPU (float64 reference)', close() {} };
  if (choice === 'cpu') return cpu;
  try {
    const device = await requestNodeDevice();
    return { device, label: deviceLabel(device), close: () => device.destroy() };
  } catch (error) {
    if (choice === 'webgpu') throw error;
    process.stderr.write(`note: no WebGPU adapter (${(error as Error).message.split('.')[0]}); using the CPU backend\n`);
    return cpu;
  }
}
