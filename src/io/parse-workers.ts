// The numeric CSV reader on worker threads: a window's bytes (in shared memory, so nothing is
// copied to the workers) are cut at newlines into one piece per worker; each worker parses its
// piece with the same reader (its source text, src/io/numeric-csv.ts) and hands back the numbers;
// the pieces are joined in order. Any piece the reader will not take sends the whole window to
// the checked path. Workers keep the process alive only while they have work.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { F32_MAX } from '../util/numbers.js';
import { numericReader, parseNumericWindow, type NumericLayout, type NumericWindow } from './numeric-csv.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const parse = (${numericReader.toString()})(${F32_MAX});
parentPort.on('message', ({ shared, start, end, layout }) => {
  const result = parse(new Uint8Array(shared, start, end - start), layout);
  if (!result) parentPort.postMessage(undefined);
  else parentPort.postMessage(result, [result.X.buffer, result.Y.buffer, result.mask.buffer, result.lineOffsets.buffer]);
});
`;

/** Below this many bytes a window is parsed on the calling thread (a hand-off costs more). */
export const PARALLEL_MIN_BYTES = 1 << 20;

export interface ParsePool {
  readonly workers: number;
  /** The window's numbers (as parseNumericWindow), parsed across the workers. */
  parse(bytes: Uint8Array, layout: NumericLayout, expectedRows: number): Promise<NumericWindow | undefined>;
  close(): void;
}

/** Bytes for a window in shared memory, so the workers read them where they are. */
export function sharedBytes(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(Math.max(1, length)), 0, length);
}

export function parsePool(workers = availableParallelism()): ParsePool {
  const pool: Worker[] = [];
  const worker = (k: number) => {
    if (!pool[k]) {
      pool[k] = new Worker(WORKER_SOURCE, { eval: true });
      pool[k].unref();
    }
    return pool[k];
  };
  const run = (k: number, message: object) =>
    new Promise<NumericWindow | undefined>((resolve, reject) => {
      const w = worker(k);
      const done = (result: NumericWindow | undefined) => {
        w.off('error', failed);
        w.unref();
        resolve(result);
      };
      const failed = (error: Error) => {
        w.off('message', done);
        w.unref();
        reject(new Error(`CSV parse worker ${k}: ${error.message}`));
      };
      w.once('message', done);
      w.once('error', failed);
      w.ref();
      w.postMessage(message);
    });
  return {
    workers,
    async parse(bytes, layout, expectedRows) {
      if (workers < 2 || bytes.length < PARALLEL_MIN_BYTES || !(bytes.buffer instanceof SharedArrayBuffer)) return parseNumericWindow(bytes, layout, expectedRows);
      // Cut at the first newline after each even share of the bytes.
      const cuts = [0];
      for (let k = 1; k < workers; k++) {
        const at = bytes.indexOf(10, Math.max(cuts[k - 1]!, Math.floor((bytes.length * k) / workers)));
        cuts.push(at < 0 ? bytes.length : at + 1);
      }
      cuts.push(bytes.length);
      const pieces = await Promise.all(
        cuts.slice(0, -1).map((start, k) => run(k, { shared: bytes.buffer, start: bytes.byteOffset + start, end: bytes.byteOffset + cuts[k + 1]!, layout })),
      );
      if (pieces.some((p) => p === undefined)) return undefined;
      return joinPieces(pieces as NumericWindow[], layout, expectedRows);
    },
    close() {
      for (const w of pool) void w?.terminate();
    },
  };
}

/** The pieces in order as one window; undefined when their rows are not the scan's count. */
function joinPieces(pieces: NumericWindow[], layout: NumericLayout, expectedRows: number): NumericWindow | undefined {
  const rows = pieces.reduce((sum, p) => sum + p.rows, 0);
  if (rows !== expectedRows) return undefined;
  const d = layout.features.length;
  const T = layout.targets.length;
  const out: NumericWindow = { rows, X: new Float64Array(rows * d), Y: new Float64Array(rows * T), mask: new Float64Array(rows * T), lineOffsets: new Int32Array(rows), lines: 0 };
  let row = 0;
  for (const p of pieces) {
    out.X.set(p.X, row * d);
    out.Y.set(p.Y, row * T);
    out.mask.set(p.mask, row * T);
    for (let r = 0; r < p.rows; r++) out.lineOffsets[row + r] = out.lines + p.lineOffsets[r]!;
    row += p.rows;
    out.lines += p.lines;
  }
  return out;
}
