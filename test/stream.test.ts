// Training from files larger than memory (src/api/stream.ts, src/io/csv-stream.ts,
// src/io/parquet-stream.ts): the windows a scan finds, errors that keep the file's own line
// numbers, Parquet nulls as masks, and — with a tiny memory budget forcing many windows — the
// same model as training on the rows in memory, in the same order.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { streamRows, writeStreamCsv } from './stream-data.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { openCsvStream, openParquetStream, readCsv, train } from '../src/node.js';
import { DataError } from '../src/data/csv.js';

const dir = mkdtempSync(join(tmpdir(), 'sigmtl-stream-'));

const rows = streamRows;
const writeCsv = (name: string, data: ReturnType<typeof rows>) => writeStreamCsv(dir, name, data);

const common = { epochs: 3, batchSize: 16, validationSplit: 0, backend: 'cpu' as const, seed: 3 };

describe('CSV streaming', () => {
  test('windows cover every row once, with their file lines; a bad cell names its real line', async () => {
    const data = rows(130);
    const path = writeCsv('windows.csv', data);
    const source = await openCsvStream(path, { targets: ['y1', 'y2'], features: ['a', 'b', 'c'], windowRows: 32 });
    expect(source.rows).toBe(130);
    expect(source.windows).toBe(5);
    const all = [];
    for (let k = 0; k < source.windows; k++) all.push(await source.readWindow(k));
    expect(all.map((w) => w.first)).toEqual([0, 32, 64, 96, 128]);
    expect(all.reduce((n, w) => n + w.rows, 0)).toBe(130);
    // row 8 (0-based 7) holds a two-line quoted cell, so row 9 starts on line 11 (header line 1)
    expect(all[0]!.source!.lines.slice(6, 10)).toEqual([8, 9, 11, 12]);
    expect(all[4]!.X[0]).toBeCloseTo(data[128]!.a, 12);
    expect(all[0]!.mask[4 * 2]).toBe(0); // y1 missing on row 4
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'a,b,c,y1,y2\n' + Array.from({ length: 40 }, (_, i) => (i === 35 ? '1,oops,2,3,1' : '1,2,3,4,1')).join('\n'));
    const badSource = await openCsvStream(bad, { targets: ['y1', 'y2'], windowRows: 16 });
    await expect(badSource.readWindow(2)).rejects.toThrow(`${bad}: line 37, column "b": feature is not a finite number ("oops")`);
  });

  test('a tiny memory budget (many windows) trains the same model as the rows in memory, in file order', async () => {
    const path = writeCsv('same.csv', rows(300));
    const stream = await openCsvStream(path, { targets: ['y1', 'y2'], features: ['a', 'b', 'c'], memoryBudget: 4096 });
    expect(stream.windows).toBeGreaterThan(10);
    const inMemory = await readCsv(path, { targets: ['y1', 'y2'], features: ['a', 'b', 'c'] });
    const streamed = await train({ stream, ...common, shuffle: false });
    const whole = await train({ ...inMemory, ...common, shuffle: false });
    expect(streamed.steps).toBe(whole.steps);
    expect(streamed.trainingRows).toBe(300);
    const [s, w] = [streamed.model.parameters(), whole.model.parameters()];
    for (const name of ['W', 'b', 'A', 'c'] as const) {
      // the standardisation is fit by running moments instead of two passes: equal to rounding
      s[name].forEach((v, i) => expect(Math.abs(v - w[name][i]!), `${name}[${i}]`).toBeLessThan(1e-6));
    }
    expect(streamed.model.losses).toEqual(['mse', 'bce']);
  }, 60_000);

  test('shuffled windows and a validation split: it learns, holds rows out, and is reproducible', async () => {
    const path = writeCsv('learn.csv', rows(2000));
    const open = () => openCsvStream(path, { targets: ['y1', 'y2'], features: ['a', 'b', 'c'], windowRows: 300 });
    const options = { epochs: 8, batchSize: 32, validationSplit: 0.2, backend: 'cpu' as const, seed: 9 };
    const first = await train({ stream: await open(), ...options });
    const again = await train({ stream: await open(), ...options });
    expect(first.model.parameters()).toEqual(again.model.parameters());
    expect(first.validationRows).toBeGreaterThan(300);
    expect(first.validationRows + first.trainingRows).toBe(2000);
    expect(first.evaluatedOn).toBe('validation');
    expect(first.metrics.tasks.y1!.kind === 'regression' && first.metrics.tasks.y1!.r2).toBeGreaterThan(0.9);
    expect(first.lossLast).toBeLessThan(first.lossFirst);
  }, 60_000);

  test('options that need every row in memory are refused by name', async () => {
    const stream = await openCsvStream(writeCsv('refuse.csv', rows(50)), { targets: ['y1'] });
    await expect(train({ stream, compareSingleTask: true })).rejects.toThrow('stream: compareSingleTask is not available');
    await expect(train({ stream, hidden: 'auto' })).rejects.toThrow("stream: hidden: 'auto' is not available");
    await expect(openCsvStream('/dev/null', { targets: ['y'] })).rejects.toThrow('not a regular file');
    await expect(openCsvStream(join(dir, 'refuse.csv'), { targets: ['nope'] })).rejects.toThrow(DataError);
  });
});

describe('Parquet streaming', () => {
  test('row groups become windows; null targets are masks, as empty CSV cells; a null feature is an error', async () => {
    const data = rows(200);
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'a', data: data.map((r) => r.a), type: 'DOUBLE' },
        { name: 'b', data: data.map((r) => r.b), type: 'DOUBLE' },
        { name: 'c', data: data.map((r) => r.c), type: 'FLOAT' },
        { name: 'y1', data: data.map((r) => r.y1), type: 'DOUBLE' },
        { name: 'y2', data: data.map((r) => BigInt(r.y2)), type: 'INT64' },
      ],
      rowGroupSize: 64,
    });
    const path = join(dir, 'rows.parquet');
    writeFileSync(path, new Uint8Array(buffer));
    const source = await openParquetStream(path, { targets: ['y1', 'y2'] });
    expect(source.rows).toBe(200);
    expect(source.windows).toBe(4);
    expect(source.featureNames).toEqual(['a', 'b', 'c']);
    const w = await source.readWindow(1);
    expect(w.first).toBe(64);
    expect(w.rows).toBe(64);
    const r = 85 - 64; // row 85: 85 % 9 = 4, y1 missing
    expect(w.mask[r * 2]).toBe(0);
    expect(w.mask[r * 2 + 1]).toBe(1);
    expect(w.X[r * 3]).toBeCloseTo(data[85]!.a, 12);
    // The same rows from a CSV (empty cells for the nulls) train the same model.
    const csv = writeCsv('rows.csv', data);
    const viaCsv = await train({ stream: await openCsvStream(csv, { targets: ['y1', 'y2'], features: ['a', 'b', 'c'], windowRows: 64 }), ...common });
    const viaParquet = await train({ stream: source, ...common });
    const [p, c] = [viaParquet.model.parameters(), viaCsv.model.parameters()];
    // c was written as FLOAT (f32) in the Parquet file: equal to that rounding
    p.W.forEach((v, i) => expect(Math.abs(v - c.W[i]!)).toBeLessThan(1e-4));

    const holes = parquetWriteBuffer({
      columnData: [
        { name: 'x', data: [1, null, 3], type: 'DOUBLE' },
        { name: 'y', data: [1, 2, 3], type: 'DOUBLE' },
      ],
    });
    const holesPath = join(dir, 'holes.parquet');
    writeFileSync(holesPath, new Uint8Array(holes));
    const bad = await openParquetStream(holesPath, { targets: ['y'] });
    await expect(bad.readWindow(0)).rejects.toThrow(`${holesPath}: row 2, column "x": missing feature value`);
  }, 60_000);
});
