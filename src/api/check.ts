// check() and doctor(): every kernel and a training step against the float64 reference on this
// device, and what the device is. The same reports `sigmtl check --json` / `doctor --json` print.
import { adapterLabel } from '../gpu/context.js';
import { runChecks, type CheckReport, type CheckRow } from '../verify/check.js';
import { doctorReport, type DoctorReport } from '../verify/doctor.js';
import { defaultTuningStore, openContext } from './device.js';

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
}

export async function doctor(device?: GPUDevice): Promise<DoctorResult> {
  const { ctx, owned } = await openContext(device);
  try {
    return { ...(await doctorReport(ctx, defaultTuningStore())), label: adapterLabel(ctx.adapter) };
  } finally {
    if (owned) ctx.destroy();
  }
}
