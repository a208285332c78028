// `sigmtl check`: every kernel and a whole training step on this device against the reference.
import { check as runChecks } from 'sigmtl/node';
import { flag, parse } from '../args.js';
import { createOutput, table } from '../output.js';

export const checkHelp = `sigmtl check — run every GPU kernel and a full training step against the float64 CPU reference

Usage: sigmtl check [--json]

Prints max abs/rel error per kernel and shape; exits 1 on any mismatch.
Tolerances (f32 vs f64): matmul atol 1e-6 + 2e-7·K, rtol 1e-5; elementwise atol 1e-6, rtol 1e-5;
one training step rtol 1e-4; ten Adam steps atol 1e-4, rtol 1e-3.

Examples
  sigmtl check
  sigmtl check --json | jq '.rows[] | select(.ok | not)'
`;

export async function check(argv: string[]): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    process.stdout.write(checkHelp);
    return 0;
  }
  const out = createOutput(flag(p, 'json'), false);
  const report = await runChecks();
  out.info(`adapter: ${report.adapterLabel}`);
  const rows = report.rows.map((r) => [r.name, r.shape, r.maxAbs.toExponential(2), r.maxRel.toExponential(2), r.ok ? 'ok' : 'FAIL']);
  out.info(table(['check', 'shape', 'max abs', 'max rel', ''], rows));
  const failed = report.rows.filter((r) => !r.ok).length;
  out.info(failed ? `${failed} of ${report.rows.length} checks FAILED` : `all ${report.rows.length} checks passed`);
  out.result(report);
  return report.ok ? 0 : 1;
}
