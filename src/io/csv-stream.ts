// A CSV file larger than memory as a RowSource. One scan over its bytes finds where every window
// of rows begins (a record ends at a newline outside quotes, so quoted newlines are kept) and the
// line it begins on; a window is then read by its byte range and parsed alone: by the byte-level
// numeric reader (src/io/numeric-csv.ts) where every cell is a plain number, else by the checked
// path with the header put in front, so errors still name the file's own line numbers.
import { createReadStream, promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DataError, headerColumns, parseCsv, parseCsvRecord, type CsvTable } from '../data/csv.js';
import type { RowSource, RowWindow } from '../data/source.js';
import { chooseColumns, toTaskTable, type ColumnChoice } from '../data/table.js';
import { type NumericLayout } from './numeric-csv.js';
import { parsePool, sharedBytes, type ParsePool } from './parse-workers.js';

export interface StreamOptions {
  /** Target columns: names or globs (required). */
  targets: readonly string[];
  /** Feature columns (default: every other column). */
  features?: readonly string[];
  /** Bytes one window may take while it is parsed (default 256 MiB); sets the rows per window. */
  memoryBudget?: number;
  /** Rows per window, overriding the budget's choice. */
  windowRows?: number;
  /** Threads that parse each window's numbers (default: one per core but one, up to 8, on machines of more than 2 cores; else 1: the calling thread). */
  parseThreads?: number;
}

export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;

/** Rows per window within a budget: a parsed row costs about its text three times over and 64 bytes a cell. */
export function windowRowsFor(budget: number, bytesPerRow: number, cells: number): number {
  return Math.max(1, Math.min(1 << 20, Math.floor(budget / (3 * bytesPerRow + 64 * cells))));
}

const NEWLINE = 10;
const QUOTE = 34;

interface Layout {
  header: string;
  /** Byte offset and 1-based line of each window's first record; then the file's end. */
  starts: { offset: number; line: number }[];
  rows: number;
  /** Data rows per window (the last may hold fewer). */
  every: number;
}

/** Scans the bytes once: the header record, and where every `windowRows`-th data record begins. */
async function scan(path: string, windowRows: () => number, onHeader: (header: string, line: number, bytesPerRow: (n: number) => void) => void): Promise<Layout> {
  let inQuotes = false;
  let offset = 0;
  let line = 1;
  let recordStart = 0;
  let recordLine = 1;
  let blank = true;
  let header: { text: string; line: number } | undefined;
  let rows = 0;
  let every = 0;
  const starts: Layout['starts'] = [];
  const headerBytes: Buffer[] = [];
  const endRecord = (end: number) => {
    if (!blank) {
      if (!header) {
        header = { text: Buffer.concat(headerBytes).subarray(recordStart, end).toString('utf8'), line: recordLine };
        onHeader(header.text, header.line, (n) => (every = n));
        every ||= windowRows();
      } else {
        if (rows % every === 0) starts.push({ offset: recordStart, line: recordLine });
        rows++;
      }
    }
    blank = true;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    if (!header) headerBytes.push(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === QUOTE) inQuotes = !inQuotes;
      if (byte === NEWLINE) {
        if (!inQuotes) {
          endRecord(offset + i);
          recordStart = offset + i + 1;
          recordLine = line + 1;
        }
        line++;
      } else if (byte !== 13 && byte !== 32 && byte !== 9) {
        blank = false;
      }
    }
    offset += chunk.length;
  }
  endRecord(offset);
  if (!header) throw new DataError(`${path}: the file is empty`);
  if (rows === 0) throw new DataError(`${path}: no data rows after the header`);
  return { header: header.text, starts: [...starts, { offset, line }], rows, every };
}

/** One window's bytes as read, before parsing. */
export interface WindowBytes {
  index: number;
  bytes: Uint8Array;
  /** The file's line of the window's first record. */
  line: number;
  /** The records the scan found in it. */
  rows: number;
}

/** A CSV file's windows as parsed text tables (rows of string cells), from one scan. */
export interface CsvWindows {
  path: string;
  columns: string[];
  /** Whether the header is plain comma-separated names (no quotes): the numeric reader's condition. */
  commaSeparated: boolean;
  rows: number;
  /** Data rows per window (the last may hold fewer). */
  windowRows: number;
  windows: number;
  /** Window `index`'s bytes. */
  readBytes(index: number): Promise<WindowBytes>;
  /** Window `index`'s bytes parsed by the checked path: its rows, with the file's own line numbers. */
  tableOf(window: WindowBytes): CsvTable;
  /** readBytes then tableOf. */
  readTable(index: number): Promise<CsvTable>;
}

/** Scans a CSV file once (`onColumns` sees the header first, to check the columns before the scan goes on). */
export async function openCsvWindows(
  path: string,
  options: { memoryBudget?: number; windowRows?: number; sharedMemory?: boolean } = {},
  onColumns?: (columns: string[]) => void,
): Promise<CsvWindows> {
  const stat = await fs.stat(path).catch(() => undefined);
  if (!stat) throw new DataError(`${path}: no such file`);
  if (!stat.isFile()) throw new DataError(`${path}: not a regular file (streaming reads a file twice or more: a pipe or device cannot be streamed; read it whole instead)`);
  let columns: string[] = [];
  const budget = options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  // The rows per window come from the header's width and the first rows' size.
  const firstBytes = await readRange(path, 0, Math.min(stat.size, 1 << 20));
  const firstLines = firstBytes.toString('utf8').split('\n').length;
  const bytesPerRow = Math.max(16, firstBytes.length / Math.max(1, firstLines - 1));
  const layout = await scan(
    path,
    () => options.windowRows ?? windowRowsFor(budget, bytesPerRow, columns.length),
    (text, line, setEvery) => {
      columns = headerColumns(parseCsvRecord(text), path, line);
      onColumns?.(columns);
      if (options.windowRows !== undefined) setEvery(options.windowRows);
    },
  );
  const windowRows = layout.every;
  const windows = layout.starts.length - 1;
  const commaSeparated = !layout.header.includes('"') && layout.header.split(',').length === columns.length;
  const csv: CsvWindows = {
    path,
    columns,
    commaSeparated,
    rows: layout.rows,
    windowRows,
    windows,
    async readBytes(index: number): Promise<WindowBytes> {
      if (!Number.isInteger(index) || index < 0 || index >= windows) throw new RangeError(`window ${index} of ${windows}`);
      const start = layout.starts[index]!;
      const bytes = await readRange(path, start.offset, layout.starts[index + 1]!.offset, options.sharedMemory);
      return { index, bytes, line: start.line, rows: Math.min(windowRows, layout.rows - index * windowRows) };
    },
    tableOf(window: WindowBytes): CsvTable {
      const table = parseCsv(`${layout.header}\n${Buffer.from(window.bytes.buffer, window.bytes.byteOffset, window.bytes.byteLength).toString('utf8')}`, path);
      if (table.rows.length !== window.rows) {
        throw new DataError(`${path}: line ${window.line}: read ${table.rows.length} rows where the scan found ${window.rows}; did the file change while training?`);
      }
      // parseCsv counted from the header at line 1: move the lines to where the window starts.
      return { ...table, lines: table.lines.map((l) => window.line + l - 2) };
    },
    async readTable(index: number): Promise<CsvTable> {
      return csv.tableOf(await csv.readBytes(index));
    },
  };
  return csv;
}

/**
 * Parse threads by default: on 2 cores, workers gained nothing over the calling thread (measured:
 * docs/scaling.md), and the calling thread is also the one that feeds the trainer.
 */
export function defaultParseThreads(): number {
  const cores = availableParallelism();
  return cores > 2 ? Math.min(cores - 1, 8) : 1;
}

/** Opens a CSV file for streaming: one scan now, each window parsed when asked for. */
export async function openCsvStream(path: string, options: StreamOptions): Promise<RowSource> {
  if (!options.targets?.length) throw new DataError(`${path}: name the target columns to stream it`);
  let choice: ColumnChoice | undefined;
  const threads = options.parseThreads ?? defaultParseThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`parseThreads must be an integer ≥ 1, got ${threads}`);
  const csv = await openCsvWindows(path, { ...options, sharedMemory: threads > 1 }, (columns) => {
    choice = chooseColumns({ file: path, columns, rows: [], lines: [] }, options.targets, options.features);
  });
  const chosen = choice!;
  let pool: ParsePool | undefined;
  const numeric: NumericLayout | undefined = csv.commaSeparated
    ? {
        columns: csv.columns.length,
        features: Int32Array.from(chosen.features, (name) => csv.columns.indexOf(name)),
        targets: Int32Array.from(chosen.targets, (name) => csv.columns.indexOf(name)),
      }
    : undefined;
  return {
    name: path,
    featureNames: chosen.features,
    taskNames: chosen.targets,
    rows: csv.rows,
    windows: csv.windows,
    async readWindow(index: number): Promise<RowWindow> {
      const window = await csv.readBytes(index);
      const first = index * csv.windowRows;
      const fast = numeric && (await (pool ??= parsePool(threads)).parse(window.bytes, numeric, window.rows));
      if (!fast) return { ...toTaskTable(csv.tableOf(window), chosen), first };
      const lines = Array.from(fast.lineOffsets, (offset) => window.line + offset);
      return { featureNames: chosen.features, targetNames: chosen.targets, rows: fast.rows, X: fast.X, Y: fast.Y, mask: fast.mask, source: { file: path, lines }, first };
    },
  };
}

async function readRange(path: string, start: number, end: number, shared = false): Promise<Buffer> {
  const handle = await fs.open(path, 'r');
  try {
    const buffer = shared ? sharedBytes(end - start) : Buffer.allocUnsafe(end - start); // filled below (and cut to what was read)
    let at = 0;
    while (at < buffer.length) {
      const { bytesRead } = await handle.read(buffer, at, buffer.length - at, start + at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buffer.subarray(0, at);
  } finally {
    await handle.close();
  }
}
