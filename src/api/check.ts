// check() and doctor(): every kernel and a training step against the float64 reference on this
// device, and what the device is (and where backend 'auto' turns from the CPU engine to it). The same reports `sigmtl check --json` / `doctor --json` print.
import { adapterLabel } from '../gpu/context.js';
import { runChecks, type CheckReport, type CheckRow } from '../verify/check.js';
import { doctorReport, type DoctorReport } from '../verify/doctor.js';
import { defaultTuningStore, openContext } from './device.js';
import { probeBackends, probeKey, rememberedBackend } from './backend-choice.js';
import { DEFAULT_OPTIMIZER } from '../core/optimizers.js';
import { WasmBackend } from '../backends/wasm.js';
import { wasmSimdSupported } from '../cpu/wasm-matmul.js';
import { WebGpuBackend } from '../backends/webgpu.js';

export interface CheckOptions {
  /** The device to check (default: as train() finds one). */
  device?: GPUDevice;
  /** Called with each row as it is measured. */
  onRow?: (row: CheckRow) => void;
}

export async function check(options: CheckOptions = {}): Promise<CheckReport> {
  const { ctx, owned } = await openContext(options.device);
  try {
    return await runChecks(ctx, options.onRow);
  } finally {
    if (owned) ctx.destroy();
  }
}

export interface DoctorResult extends DoctorReport {
  /** One line naming the adapter. */
  label: string;
  /**
   * What backend 'auto' picks on this adapter at a few model sizes (full-batch steps, Adam): the
   * probe's steps/s of WebGPU and the CPU engine, or the remembered choice. Absent where
   * WebAssembly SIMD is missing.
   */
  crossover?: Array<{ features: number; tasks: number; batch: number; chosen: 'webgpu' | 'wasm'; stepsPerSecond?: { webgpu: number; wasm: number }; cached: boolean }>;
}

/** The sizes doctor probes: H = T, growing from the seed's shape. */
const CROSSOVER_SIZES = [
  { features: 10, tasks: 5, batch: 100 },
  { features: 128, tasks: 8, batch: 1024 },
  { features: 512, tasks: 32, batch: 2048 },
] as const;

export async function doctor(device?: GPUDevice): Promise<DoctorResult> {
  const { ctx, owned } = await openContext(device);
  try {
    const store = defaultTuningStore();
    const report = { ...(await doctorReport(ctx, store)), label: adapterLabel(ctx.adapter) };
    if (!wasmSimdSupported()) return report;
    const crossover: NonNullable<DoctorResult['crossover']> = [];
    for (const size of CROSSOVER_SIZES) {
      const shape = { features: size.features, hidden: size.tasks, tasks: size.tasks };
      const config = { shape, tasks: Array.from({ length: size.tasks }, () => ({ loss: 'mse' as const, weight: 1 })), optimizer: DEFAULT_OPTIMIZER, maxBatch: size.batch };
      const key = probeKey(report.label, config);
      const remembered = rememberedBackend(key, store);
      if (remembered) {
        crossover.push({ ...size, chosen: remembered, cached: true });
        continue;
      }
      const [webgpu, wasm] = await Promise.all([WebGpuBackend.create(ctx, config, { tuningStore: store }), WasmBackend.create(config)]);
      try {
        crossover.push({ ...size, ...(await probeBackends(webgpu, wasm, key, store)), cached: false });
      } finally {
        webgpu.destroy();
        wasm.destroy();
      }
    }
    return { ...report, crossover };
  } finally {
    if (owned) ctx.destroy();
  }
}
