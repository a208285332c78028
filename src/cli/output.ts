// What the CLI prints. Human output and progress go to stderr when --json is on, so stdout then
// holds exactly one JSON object.
import type { MetricsReport, OverallMetrics, TaskMetrics } from 'sigmtl';

export interface Output {
  json: boolean;
  quiet: boolean;
  /** Human-readable lines (stdout, or stderr under --json). */
  info(line: string): void;
  result(value: unknown): void;
}

export function createOutput(json: boolean, quiet: boolean): Output {
  return {
    json,
    quiet,
    info(line) {
      if (quiet) return;
      (json ? process.stderr : process.stdout).write(line + '\n');
    },
    result(value) {
      if (json) process.stdout.write(JSON.stringify(value, jsonNumbers) + '\n');
    },
  };
}

/** NaN and ±Infinity become null in JSON output (instead of a silent null from JSON itself). */
function jsonNumbers(_key: string, value: unknown) {
  if (value instanceof Float64Array || value instanceof Float32Array) return Array.from(value);
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function formatNumber(v: number | undefined, digits = 4): string {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function metricsTable(metrics: MetricsReport): string {
  const tasks = Object.entries(metrics.tasks);
  const lines: string[] = [];
  const regression = tasks.filter(([, m]) => m.kind === 'regression');
  const binary = tasks.filter(([, m]) => m.kind === 'binary');
  if (regression.length) {
    lines.push(
      table(
        ['task', 'n', 'MSE', 'RMSE', 'MAE', 'R²'],
        regression.map(([name, m]) => {
          const r = m as Extract<TaskMetrics, { kind: 'regression' }>;
          return [name, String(r.count), formatNumber(r.mse), formatNumber(r.rmse), formatNumber(r.mae), formatNumber(r.r2)];
        }),
      ),
    );
  }
  const quantiles = regression.flatMap(([name, m]) => {
    const q = (m as Extract<TaskMetrics, { kind: 'regression' }>).quantile;
    return q ? [[name, formatNumber(q.q), formatNumber(q.coverage), formatNumber(q.pinball)]] : [];
  });
  if (quantiles.length) lines.push(table(['quantile task', 'q', 'coverage (share ≤ prediction)', 'pinball loss'], quantiles));
  if (binary.length) {
    lines.push(
      table(
        ['task', 'n', 'accuracy', 'F1', 'AUC'],
        binary.map(([name, m]) => {
          const b = m as Extract<TaskMetrics, { kind: 'binary' }>;
          return [name, String(b.count), formatNumber(b.accuracy), formatNumber(b.f1), formatNumber(b.auc)];
        }),
      ),
    );
  }
  const o: OverallMetrics = metrics.overall;
  const overall = Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${formatNumber(v as number)}`);
  if (overall.length) lines.push(`overall: ${overall.join(', ')}`);
  return lines.join('\n\n');
}
