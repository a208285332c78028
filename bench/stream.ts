// `npm run bench -- --stream [--stream-gb N]`: a synthetic CSV of N GB (teacher–student, 200
// features, 8 tasks) trained window by window for one epoch: rows/s, how the time splits between
// parsing and the GPU, the peak resident memory, and the GPU-side step rate against training the
// same batch size from memory.
import { createWriteStream } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { initParameters } from '../src/core/init.js';
import { parameterLayout } from '../src/core/shape.js';
import { sigmoid } from '../src/core/losses.js';
import { Random } from '../src/util/random.js';
import { defaultParseThreads, openCsvStream, openParquetStream, train, type RowSource } from '../src/node.js';
import { openCsvWindows } from '../src/io/csv-stream.js';
import { chooseColumns, toTaskTable } from '../src/data/table.js';

const D = 200;
const T = 8;
const H = 16;
const BATCH = 1024;

async function writeSynthetic(path: string, bytes: number, log: (s: string) => void): Promise<number> {
  const shape = { features: D, hidden: H, tasks: T };
  const layout = parameterLayout(shape);
  const teacher = initParameters(shape, 11, 'random');
  const random = new Random(5);
  const out = createWriteStream(path, { highWaterMark: 8 << 20 });
  const header = [...Array.from({ length: D }, (_, j) => `x${j}`), ...Array.from({ length: T }, (_, t) => `y${t}`)].join(',') + '\n';
  out.write(header);
  let written = header.length;
  let rows = 0;
  const x = new Float64Array(D);
  const s = new Float64Array(H);
  while (written < bytes) {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      for (let j = 0; j < D; j++) x[j] = random.normal();
      for (let h = 0; h < H; h++) {
        let z = teacher[layout.b.offset + h]!;
        for (let j = 0; j < D; j++) z += teacher[layout.W.offset + h * D + j]! * x[j]!;
        s[h] = sigmoid(z / Math.sqrt(D));
      }
      const cells = Array.from(x, (v) => v.toFixed(4));
      for (let t = 0; t < T; t++) {
        let y = teacher[layout.c.offset + t]!;
        for (let h = 0; h < H; h++) y += teacher[layout.A.offset + t * H + h]! * s[h]!;
        cells.push((y + 0.05 * random.normal()).toFixed(4));
      }
      lines.push(cells.join(','));
    }
    const chunk = lines.join('\n') + '\n';
    written += chunk.length;
    rows += lines.length;
    if (!out.write(chunk)) await once(out, 'drain');
    if (rows % 200_000 === 0) log(`  wrote ${rows} rows, ${(written / 1e9).toFixed(2)} GB`);
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

/**
 * A minimal byte-level reader, the yardstick: every cell's number from the bytes (digits, '.', a
 * sign, a power of ten from a table: this file's cells), summed; no checks, no table, no
 * exponents. Read in 8 MiB chunks.
 */
async function minimalRead(path: string): Promise<number> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  const powers = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
  const buffer = Buffer.alloc(8 << 20);
  let sum = 0;
  let carry = 0; // bytes of an unfinished line kept at the buffer's start
  let header = true;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, carry, buffer.length - carry, null);
      if (bytesRead === 0) break;
      const filled = carry + bytesRead;
      const last = buffer.lastIndexOf(10, filled - 1);
      let i = 0;
      if (header) {
        i = buffer.indexOf(10) + 1;
        header = false;
      }
      while (i <= last) {
        let negative = false;
        let b = buffer[i]!;
        if (b === 45) {
          negative = true;
          b = buffer[++i]!;
        }
        let mantissa = 0;
        let exponent = 0;
        while (b >= 48 && b <= 57) {
          mantissa = mantissa * 10 + (b - 48);
          b = buffer[++i]!;
        }
        if (b === 46) {
          b = buffer[++i]!;
          while (b >= 48 && b <= 57) {
            mantissa = mantissa * 10 + (b - 48);
            exponent++;
            b = buffer[++i]!;
          }
        }
        const value = mantissa / powers[exponent]!;
        sum += negative ? -value : value;
        i++; // the comma or newline
      }
      carry = filled - (last + 1);
      buffer.copy(buffer, 0, last + 1, filled);
    }
  } finally {
    await handle.close();
  }
  return sum;
}

/** The same rows as a Parquet file (DOUBLE columns, as a data frame library writes them), for openParquetStream. */
async function writeParquetCopy(source: RowSource, path: string): Promise<number> {
  const columns = [...source.featureNames, ...source.taskNames].map(() => [] as number[]);
  for (let w = 0; w < source.windows; w++) {
    const window = await source.readWindow(w);
    for (let r = 0; r < window.rows; r++) {
      for (let j = 0; j < D; j++) columns[j]!.push(window.X[r * D + j]!);
      for (let t = 0; t < T; t++) columns[D + t]!.push(window.Y[r * T + t]!);
    }
  }
  const names = [...source.featureNames, ...source.taskNames];
  const bytes = new Uint8Array(parquetWriteBuffer({ columnData: columns.map((data, i) => ({ name: names[i]!, data, type: 'DOUBLE' as const })), rowGroupSize: 8192 }));
  await writeFile(path, bytes);
  return bytes.length;
}

/**
 * Parse speed: the minimal reader (one thread) against openCsvStream's windows (the byte-level
 * numeric reader), the checked path (Papa Parse and toTaskTable), and openParquetStream on the
 * same rows written as Parquet, interleaved.
 */
export async function parseBench(megabytes: number, rounds: number, log: (s: string) => void): Promise<string> {
  const path = join(tmpdir(), `sigmtl-parse-bench-${process.pid}.csv`);
  const parquetPath = path.replace(/\.csv$/, '.parquet');
  try {
    log(`writing ${megabytes} MB of synthetic CSV…`);
    await writeSynthetic(path, megabytes * 1e6, () => {});
    const bytes = (await stat(path)).size;
    const targets = Array.from({ length: T }, (_, t) => `y${t}`);
    log('writing the same rows as Parquet…');
    const parquetBytes = await writeParquetCopy(await openCsvStream(path, { targets, memoryBudget: 64 << 20 }), parquetPath);
    const parquet = await openParquetStream(parquetPath, { targets, memoryBudget: 64 << 20 });
    for (let k = 0; k < 2; k++) for (let w = 0; w < parquet.windows; w++) await parquet.readWindow(w);
    // Each stream is opened (scanned) once, before the clock, and read whole once to warm up (its
    // workers started): the rounds time reading and parsing every window, as each epoch does.
    // Worker threads: the default where it uses workers (more than 2 cores), else every core.
    const many = Math.max(2, defaultParseThreads());
    const streams = await Promise.all([1, many].map((threads) => openCsvStream(path, { targets, memoryBudget: 64 << 20, parseThreads: threads })));
    const readAll = async (source: RowSource) => {
      for (let w = 0; w < source.windows; w++) await source.readWindow(w);
    };
    for (const source of streams) for (let k = 0; k < 2; k++) await readAll(source); // V8 optimises the reader after a few windows
    const csv = await openCsvWindows(path, { memoryBudget: 64 << 20 });
    const choice = chooseColumns({ file: path, columns: csv.columns, rows: [], lines: [] }, targets);
    const contestants: Array<[string, () => Promise<unknown>]> = [
      ['minimal byte-level reader (no checks, no table)', () => minimalRead(path)],
      ...streams.map((source, i): [string, () => Promise<unknown>] => [
        `openCsvStream's windows (byte-level numeric reader, ${i === 0 ? 'one thread' : `${many} worker threads`})`,
        () => readAll(source),
      ]),
      [
        `openParquetStream's windows (the same rows as Parquet, DOUBLE columns, ${(parquetBytes / 1e6).toFixed(0)} MB; MB/s of the CSV's bytes)`,
        async () => {
          for (let w = 0; w < parquet.windows; w++) await parquet.readWindow(w);
        },
      ],
      [
        'the checked path: Papa Parse + toTaskTable, every window',
        async () => {
          for (let w = 0; w < csv.windows; w++) toTaskTable(await csv.readTable(w), choice);
        },
      ],
    ];
    const seconds: number[][] = contestants.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, [name, run]] of contestants.entries()) {
        const started = performance.now();
        await run();
        seconds[i]!.push((performance.now() - started) / 1000);
        log(`  round ${round + 1}: ${name} ${seconds[i]!.at(-1)!.toFixed(2)} s`);
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const base = median(seconds[0]!);
    const lines = [
      `| reader (${(bytes / 1e6).toFixed(0)} MB, d=${D} T=${T}, median of ${rounds}) | s | MB/s | × the minimal reader's speed (one thread) |`,
      '|---|---|---|---|',
      ...contestants.map(([name], i) => {
        const s = median(seconds[i]!);
        return `| ${name} | ${s.toFixed(2)} | ${(bytes / 1e6 / s).toFixed(0)} | ${(base / s).toFixed(2)} |`;
      }),
      '',
      `Every row reads the file's bytes (from the page cache) and parses them; the streams' one scan, done once at opening, is not timed (${streams[0]!.windows} windows).`,
    ];
    return lines.join('\n');
  } finally {
    await rm(path, { force: true });
    await rm(parquetPath, { force: true });
  }
}

/** A RowSource that times its reads: the first `windows` are the statistics pass, the rest the epoch's. */
function timed(source: RowSource): RowSource & { readMs: number[] } {
  const wrapped = {
    ...source,
    readMs: [] as number[],
    async readWindow(index: number) {
      const started = performance.now();
      const window = await source.readWindow(index);
      wrapped.readMs.push(performance.now() - started);
      return window;
    },
  };
  return wrapped;
}

export async function streamBench(device: GPUDevice, gigabytes: number, log: (s: string) => void): Promise<string> {
  const path = join(tmpdir(), `sigmtl-stream-bench-${process.pid}.csv`);
  try {
    log(`writing ${gigabytes} GB of synthetic CSV to ${path}…`);
    const rows = await writeSynthetic(path, gigabytes * 1e9, log);
    const bytes = (await stat(path)).size;
    const targets = Array.from({ length: T }, (_, t) => `y${t}`);
    const opened = performance.now();
    const source = timed(await openCsvStream(path, { targets }));
    const scanSeconds = (performance.now() - opened) / 1000;
    log(`scanned ${rows} rows in ${scanSeconds.toFixed(1)} s: ${source.windows} windows`);
    const common = { epochs: 1, batchSize: BATCH, hidden: H, validationSplit: 0.01, patience: 0, backend: 'webgpu' as const, device };
    const started = performance.now();
    const result = await train({ ...common, stream: source });
    const seconds = (performance.now() - started) / 1000;
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0) / 1000;
    const statsSeconds = sum(source.readMs.slice(0, source.windows));
    const epochParse = sum(source.readMs.slice(source.windows, 2 * source.windows));
    // The GPU runs behind the submits while the next window is parsed, so its busy time is not
    // seen directly: the epoch's steps at the in-memory rate say how long the GPU alone needs,
    // and an epoch close to max(parse, GPU) means the two overlapped.
    // The same batch size from memory: one window's rows, trained from memory for the same steps.
    const window = await source.readWindow(0);
    const inMemory = await train({
      features: window.X,
      targets: window.Y.map((v, i) => (window.mask[i] ? v : NaN)),
      featureCount: D,
      taskCount: T,
      ...common,
      epochs: Math.max(1, Math.ceil(Math.min(result.steps, 400) / Math.ceil(window.rows / BATCH))),
    });
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const gpuSeconds = result.steps / inMemory.stepsPerSecond;
    const rowsPerSecond = result.trainingRows / result.seconds;
    log(`whole run ${seconds.toFixed(1)} s`);
    const lines = [
      `| file | rows | windows | scan s | statistics pass s | epoch s | of it parsing s | steps/s from memory | the epoch's steps at that rate s | epoch ÷ max(parse, GPU) | rows/s (epoch) | peak RSS |`,
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      `| ${(bytes / 1e9).toFixed(2)} GB, d=${D} T=${T} H=${H}, batch ${BATCH} | ${rows} | ${source.windows} | ${scanSeconds.toFixed(1)} | ${statsSeconds.toFixed(1)} | ${result.seconds.toFixed(1)} | ${epochParse.toFixed(1)} | ${inMemory.stepsPerSecond.toFixed(1)} | ${gpuSeconds.toFixed(1)} | ${(result.seconds / Math.max(epochParse, gpuSeconds)).toFixed(2)} | ${rowsPerSecond.toFixed(0)} | ${(peakRss / 2 ** 20).toFixed(0)} MiB |`,
      '',
      `final validation loss ${result.bestValidationLoss?.toFixed(4) ?? '—'}; training loss ${result.lossFirst.toFixed(4)} → ${result.lossLast.toFixed(4)}`,
    ];
    return lines.join('\n');
  } finally {
    await rm(path, { force: true });
  }
}
