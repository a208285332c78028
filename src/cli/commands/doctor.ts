// `sigmtl doctor`: which WebGPU adapter sigmtl gets here and what it offers.
import { doctor as doctorReport } from 'sigmtl/node';
import { flag, parse } from '../args.js';
import { createOutput } from '../output.js';

export const doctorHelp = `sigmtl doctor — report the WebGPU adapter: vendor, architecture, software or not, limits, features

Usage: sigmtl doctor [--json]

Environment: SIGMTL_DAWN_BACKEND (vulkan, metal, d3d12...), SIGMTL_ADAPTER (name substring),
SIGMTL_SOFTWARE=1 (force SwiftShader), SIGMTL_SWIFTSHADER_ICD (path to vk_swiftshader_icd.json).

Examples
  sigmtl doctor
  SIGMTL_SOFTWARE=1 sigmtl doctor --json
`;

export async function doctor(argv: string[]): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    process.stdout.write(doctorHelp);
    return 0;
  }
  const out = createOutput(flag(p, 'json'), false);
  const report = await doctorReport();
  const a = report.adapter;
  out.info(`adapter:      ${report.label}`);
  out.info(`vendor:       ${a.vendor}   architecture: ${a.architecture}   device: ${a.device}`);
  out.info(`software:     ${a.software ? 'yes — a CPU implementation; GPU timings here are CPU timings' : 'no (hardware GPU)'}`);
  out.info(`via:          ${report.origin}`);
  const m = report.matmul;
  const timed = Object.entries(m.timings)
    .map(([k, ms]) => `${k} ${ms.toFixed(2)} ms`)
    .join(', ');
  out.info(
    `matmul:       ${m.tuning.variant} kernel, chosen by ${m.source === 'adapter' ? 'adapter kind (software)' : m.source === 'measured' ? `timing (${timed})` : 'an earlier timing (cached)'}`,
  );
  for (const c of report.crossover ?? []) {
    const rates = c.stepsPerSecond ? `WebGPU ${c.stepsPerSecond.webgpu.toFixed(0)}, CPU engine ${c.stepsPerSecond.wasm.toFixed(0)} steps/s` : 'remembered from an earlier probe';
    out.info(`auto at d=${c.features} T=H=${c.tasks} batch ${c.batch}: ${c.chosen === 'wasm' ? 'the CPU engine' : 'WebGPU'} (${rates})`);
  }
  out.info(`features:     ${report.features.join(', ')}`);
  out.info('limits:');
  for (const [name, value] of Object.entries(report.limits)) out.info(`  ${name.padEnd(36)} ${value}`);
  out.result(report);
  return 0;
}
