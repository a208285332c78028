// The CLI's streaming paths (src/cli/commands/train.ts, predict.ts): --stream, the switch over
// --memory-budget, Parquet, refused flags, and streamed predictions equal to the whole-file ones.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { streamRows, writeStreamCsv } from './stream-data.js';
import { parquetWriteBuffer } from 'hyparquet-writer';

const dir = mkdtempSync(join(tmpdir(), 'sigmtl-stream-cli-'));

const rows = streamRows;
const writeCsv = (name: string, data: ReturnType<typeof rows>) => writeStreamCsv(dir, name, data);

describe('sigmtl train, streaming', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['scripts/run-cli.mjs', 'train', ...args, '--backend', 'cpu', '--epochs', '2', '--json'], { encoding: 'utf8', timeout: 180_000 });

  test('--stream, a CSV over --memory-budget (with a notice), and a Parquet file', async () => {
    const csv = writeCsv('cli.csv', rows(600));
    const out = join(dir, 'cli.safetensors');
    const streamed = cli('--data', csv, '--targets', 'y1,y2', '--features', 'a,b,c', '--stream', '--out', out);
    expect(streamed.status, streamed.stderr).toBe(0);
    const report = JSON.parse(streamed.stdout);
    expect(report.trainingRows + report.validationRows).toBe(600);
    expect(report.split).toBe('validation');

    const auto = cli('--data', csv, '--targets', 'y1,y2', '--features', 'a,b,c', '--memory-budget', '4K', '--out', out);
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/over the memory budget \(4 KiB\): streaming it window by window/);

    const data = rows(300);
    const parquet = join(dir, 'cli.parquet');
    writeFileSync(
      parquet,
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'a', data: data.map((r) => r.a), type: 'DOUBLE' },
            { name: 'y1', data: data.map((r) => r.y1), type: 'DOUBLE' },
          ],
        }),
      ),
    );
    const fromParquet = cli('--data', parquet, '--targets', 'y1', '--out', out);
    expect(fromParquet.status, fromParquet.stderr).toBe(0);
    expect(JSON.parse(fromParquet.stdout).trainingRows).toBeGreaterThan(200);

    const refused = cli('--data', csv, '--targets', 'y1', '--stream', '--compare-single-task', '--out', out);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--compare-single-task needs every row in memory/);
    const noTargets = cli('--data', parquet, '--out', out);
    expect(noTargets.stderr).toMatch(/streaming a file needs --targets/);

    // predict: a file over the budget is predicted window by window, byte for byte as when read whole
    const predict = (...args: string[]) =>
      spawnSync(process.execPath, ['scripts/run-cli.mjs', 'predict', '--model', out, '--data', csv, '--id', 'note', '--backend', 'cpu', ...args], { encoding: 'utf8' });
    const whole = predict('--out', join(dir, 'whole.csv'));
    const windowed = predict('--out', join(dir, 'windowed.csv'), '--memory-budget', '4K');
    expect(whole.status, whole.stderr).toBe(0);
    expect(windowed.stdout).toMatch(/600 predictions .* \(streamed window by window\)/);
    expect(readFileSync(join(dir, 'windowed.csv'), 'utf8')).toBe(readFileSync(join(dir, 'whole.csv'), 'utf8'));
    const toStdout = predict('--out', '-', '--stream');
    expect(toStdout.stdout).toBe(readFileSync(join(dir, 'whole.csv'), 'utf8'));
  }, 180_000);
});
