// A Parquet file as a RowSource, read with hyparquet (a maintained pure-JavaScript reader: no
// native build, no WebAssembly, reads only the row ranges and columns asked for). Windows follow
// the file's row groups, split where a group is larger than the memory budget allows. A null
// target is a missing target (mask 0), exactly as an empty CSV cell; a null or non-numeric
// feature is an error naming the row and column.
import { promises as fs } from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { DataError } from '../data/csv.js';
import type { RowSource, RowWindow } from '../data/source.js';
import { chooseColumns } from '../data/table.js';
import { F32_MAX } from '../util/numbers.js';
import { DEFAULT_MEMORY_BUDGET, type StreamOptions } from './csv-stream.js';

const PARQUET_BYTES_PER_CELL = 24;

export async function openParquetStream(path: string, options: StreamOptions): Promise<RowSource> {
  const stat = await fs.stat(path).catch(() => undefined);
  if (!stat?.isFile()) throw new DataError(`${path}: ${stat ? 'not a regular file' : 'no such file'}`);
  if (!options.targets?.length) throw new DataError(`${path}: name the target columns to stream it`);
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file).catch((error: Error) => Promise.reject(new DataError(`${path}: not a readable Parquet file (${error.message})`)));
  // Top-level columns only: the root's children.
  const columns: string[] = [];
  for (let i = 1; i < metadata.schema.length; i++) {
    const element = metadata.schema[i]!;
    columns.push(element.name);
    if (element.num_children) throw new DataError(`${path}: column "${element.name}" is nested; sigmtl reads flat numeric columns`);
  }
  const choice = chooseColumns({ file: path, columns, rows: [], lines: [] }, options.targets, options.features);
  const d = choice.features.length;
  const T = choice.targets.length;
  // The reader decodes a row group's whole column chunks whatever rows are asked for, so a group
  // cut into several windows is decoded once per window: windows are whole groups unless a group
  // is over the budget. A cell costs about 24 bytes while its window is read (the decoded value,
  // the column chunk's bytes, and the window's float64 arrays).
  const windowRows = options.windowRows ?? Math.max(1, Math.floor((options.memoryBudget ?? DEFAULT_MEMORY_BUDGET) / (PARQUET_BYTES_PER_CELL * (d + T))));
  // [first row, end) of each window: row groups, split to at most windowRows rows.
  const windows: [number, number][] = [];
  let row = 0;
  for (const group of metadata.row_groups) {
    const end = row + Number(group.num_rows);
    for (let start = row; start < end; start += windowRows) windows.push([start, Math.min(end, start + windowRows)]);
    row = end;
  }
  const rows = Number(metadata.num_rows);
  if (rows === 0) throw new DataError(`${path}: no rows`);

  const number = (value: unknown): number | undefined => {
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    if (typeof value === 'boolean') return value ? 1 : 0;
    return undefined;
  };
  const featureIndex = new Map(choice.features.map((name, j) => [name, j]));
  const targetIndex = new Map(choice.targets.map((name, t) => [name, t]));
  return {
    name: path,
    featureNames: choice.features,
    taskNames: choice.targets,
    rows,
    windows: windows.length,
    async readWindow(index: number): Promise<RowWindow> {
      const [first, end] = windows[index] ?? [];
      if (first === undefined || end === undefined) throw new RangeError(`window ${index} of ${windows.length}`);
      const n = end - first;
      const X = new Float64Array(n * d);
      const Y = new Float64Array(n * T);
      const mask = new Float64Array(n * T);
      const cellError = (row: number, column: string, value: unknown, why: string) =>
        new DataError(`${path}: row ${row + 1}, column "${column}": ${why} (${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)})`);
      // Column by column, as the file stores them (rows as objects cost 20× more): each chunk's
      // rows within the window go straight into X, or into Y and the mask.
      const place = (column: string, values: ArrayLike<unknown>, chunkStart: number) => {
        const from = Math.max(first, chunkStart);
        const to = Math.min(end, chunkStart + values.length);
        const j = featureIndex.get(column);
        if (j !== undefined) {
          for (let row = from; row < to; row++) {
            const raw = values[row - chunkStart];
            if (raw === null || raw === undefined) throw cellError(row, column, raw, 'missing feature value');
            const v = number(raw);
            if (v === undefined || !Number.isFinite(v)) throw cellError(row, column, raw, 'feature is not a finite number');
            if (Math.abs(v) > F32_MAX) throw cellError(row, column, raw, 'feature is outside the float32 range (±3.4e38)');
            X[(row - first) * d + j] = v;
          }
          return;
        }
        const t = targetIndex.get(column);
        if (t === undefined) return;
        for (let row = from; row < to; row++) {
          const raw = values[row - chunkStart];
          if (raw === null || raw === undefined) continue; // missing: mask 0
          const v = number(raw);
          if (v === undefined) throw cellError(row, column, raw, 'target is not a number or null');
          if (Number.isNaN(v)) continue;
          if (!Number.isFinite(v) || Math.abs(v) > F32_MAX) throw cellError(row, column, raw, 'target is outside the float32 range (±3.4e38)');
          Y[(row - first) * T + t] = v;
          mask[(row - first) * T + t] = 1;
        }
      };
      // The chunks arrive in callbacks the reader does not await: the first bad cell is kept and thrown after.
      let failure: unknown;
      await parquetRead({
        file,
        metadata,
        columns: [...choice.features, ...choice.targets],
        rowStart: first,
        rowEnd: end,
        onChunk: (chunk) => {
          if (failure !== undefined) return;
          try {
            place(chunk.columnName, chunk.columnData as ArrayLike<unknown>, chunk.rowStart);
          } catch (error) {
            failure = error;
          }
        },
      });
      if (failure !== undefined) throw failure;
      return { featureNames: choice.features, targetNames: choice.targets, rows: n, X, Y, mask, first };
    },
  };
}
