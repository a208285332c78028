// One row of the benchmark report (the --json schema) and the markdown tables.
import type { Timed } from './timing.js';

export interface BenchRow {
  bench: 'matmul' | 'train' | 'weighting';
  impl: string;
  size: string;
  readback: boolean;
  medianMs: number;
  minMs: number;
  maxMs: number;
  gflops: number | null;
  stepsPerSecond: number | null;
  dispatchesPerStep: number | null;
  submitsPerStep: number | null;
  mapAsyncPerStep: number | null;
}

export function timedRow(base: Pick<BenchRow, 'bench' | 'impl' | 'size' | 'readback'>, t: Timed): BenchRow {
  return {
    ...base,
    medianMs: t.medianMs,
    minMs: t.minMs,
    maxMs: t.maxMs,
    gflops: null,
    stepsPerSecond: null,
    dispatchesPerStep: null,
    submitsPerStep: null,
    mapAsyncPerStep: null,
  };
}

const num = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));

function ratio(row: BenchRow, rows: BenchRow[], key: 'gflops' | 'stepsPerSecond'): string {
  const peer = rows.find((r) => r.bench === row.bench && r.size === row.size && r.readback === row.readback && r.impl === 'tfjs-webgpu');
  if (!peer || row[key] === null || !peer[key]) return '—';
  return `${(row[key]! / peer[key]!).toFixed(2)}×`;
}

export function markdownTables(rows: BenchRow[]): string {
  const out: string[] = [];
  const matmul = rows.filter((r) => r.bench === 'matmul');
  if (matmul.length) {
    out.push('| matmul | implementation | readback | median ms (min–max) | GFLOP/s | vs tfjs-webgpu |', '|---|---|---|---|---|---|');
    for (const r of matmul) {
      out.push(
        `| ${r.size} | ${r.impl} | ${r.readback ? 'yes' : 'no'} | ${r.medianMs.toFixed(1)} (${r.minMs.toFixed(1)}–${r.maxMs.toFixed(1)}) | ${num(r.gflops, 3)} | ${ratio(r, rows, 'gflops')} |`,
      );
    }
  }
  const train = rows.filter((r) => r.bench === 'train');
  if (train.length) {
    out.push('', '| training step | implementation | steps/s | vs tfjs-webgpu | dispatches/step | submits/step | mapAsync/step |', '|---|---|---|---|---|---|---|');
    for (const r of train) {
      out.push(
        `| ${r.size} | ${r.impl} | ${num(r.stepsPerSecond, 2)} | ${ratio(r, rows, 'stepsPerSecond')} | ${num(r.dispatchesPerStep, 2)} | ${num(r.submitsPerStep, 3)} | ${num(r.mapAsyncPerStep, 3)} |`,
      );
    }
  }
  const weighting = rows.filter((r) => r.bench === 'weighting');
  if (weighting.length) {
    out.push('', '| weighting cost | implementation | steps/s (min–max) | vs equal | dispatches/step |', '|---|---|---|---|---|');
    for (const r of weighting) {
      const equal = weighting.find((e) => e.size === r.size && e.impl.endsWith('=equal'));
      const steps = (r.stepsPerSecond! * r.medianMs) / 1000; // per timed run
      const range = `${num(r.stepsPerSecond, 2)} (${((1000 * steps) / r.maxMs).toFixed(2)}–${((1000 * steps) / r.minMs).toFixed(2)})`;
      out.push(`| ${r.size} | ${r.impl} | ${range} | ${equal ? `${(r.stepsPerSecond! / equal.stepsPerSecond!).toFixed(2)}×` : '—'} | ${num(r.dispatchesPerStep, 0)} |`);
    }
  }
  return out.join('\n');
}
