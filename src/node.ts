/// <reference types="@webgpu/types" preserve="true" />
// sigmtl/node: everything in `sigmtl`, plus what only Node has — a WebGPU device from Dawn (the
// `webgpu` package; SwiftShader found by itself where there is no GPU), CSV files, model files
// written atomically, and the bundled data sets. Importing it makes Dawn the device train(),
// check() and doctor() use when no `device` is passed, gives the CPU engine worker threads, on
// Node 20 turns on WebAssembly relaxed SIMD (shipped from Node 22) for the engine's fused
// multiply–adds, and runs the engine's products natively where native/ is built.
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setDefaultGpuProvider } from './api/device.js';
import { csvRows, labelled, readBundledDataset, syntheticData, type DatasetSplits, type LabelledData, type ReadCsvOptions } from './api/datasets.js';
import { loadModel, type Model } from './api/model.js';
import { isBundledName, type DatasetMeta } from './data/bundled.js';
import { DataError, parseCsv, type CsvTable } from './data/csv.js';
import { chooseColumns, toTaskTable } from './data/table.js';
import { readFileBytes, writeFileAtomic } from './io/files.js';
import { openCsvWindows } from './io/csv-stream.js';
import { nodeThreadPool, nodeThreads } from './io/wasm-threads.js';
import { setNativeProducts, setWasmThreadPools } from './cpu/wasm-matmul.js';
import { loadNativeProducts } from './io/native-products.js';
import { enableWasmRelaxedSimd } from './io/relaxed-simd.js';
import { fileTuningStore } from './io/tuning-store.js';
import { requestNodeGpu, type NodeGpuOptions } from './gpu/node.js';

export * from './index.js';
export { findSwiftShaderIcd, INSTALL_HINT, MISSING_PEER_HINT, type NodeGpuOptions } from './gpu/node.js';
export { readFileBytes, writeFileAtomic } from './io/files.js';
export { openCsvStream, defaultParseThreads, DEFAULT_MEMORY_BUDGET, type StreamOptions } from './io/csv-stream.js';
export { openParquetStream } from './io/parquet-stream.js';
export { writeDdpJob } from './io/ddp-dir.js';

setDefaultGpuProvider(() => requestNodeGpu(), fileTuningStore());
// The CPU engine uses every core through worker_threads, and fused multiply–adds (relaxed SIMD,
// behind a V8 flag in Node 20) where the runtime can run them.
setWasmThreadPools(nodeThreadPool, nodeThreads());
enableWasmRelaxedSimd();
// Its products on the CPU's own vector width (AVX-512, AVX2) where the native addon is built.
setNativeProducts(loadNativeProducts());

/**
 * A WebGPU device from Dawn. Destroy it when done (`device.destroy()`) so the process can exit;
 * the one Dawn instance behind it is kept for the process. Throws with what to install where
 * there is no adapter.
 */
export async function requestNodeDevice(options: NodeGpuOptions = {}): Promise<GPUDevice> {
  return (await requestNodeGpu(options)).device;
}

/**
 * A CSV file's chosen columns (`-` reads stdin). With targets: labelled rows (empty, NA, NaN or ?
 * cells are missing targets). Without: prediction input, which needs `features`. A bad cell is a
 * DataError naming the file, line and column.
 */
export async function readCsv(path: string, options: ReadCsvOptions = {}): Promise<LabelledData & { ids?: string[] }> {
  return csvRows(await readCsvTable(path), options);
}

/** The largest CSV read whole into memory: about V8's longest string. */
export const MAX_CSV_BYTES = 512 * 1024 * 1024;

async function readCsvTable(path: string): Promise<CsvTable> {
  if (path === '-') return parseCsv(await readStdin(), '(stdin)');
  const bytes = await readFileBytes(path, MAX_CSV_BYTES).catch((error: Error) =>
    Promise.reject(new DataError(/over the limit/.test(error.message) ? `${error.message}: stream it instead (sigmtl train --stream, openCsvStream)` : error.message)),
  );
  return parseCsv(new TextDecoder().decode(bytes), path);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_CSV_BYTES) throw new DataError(`(stdin): more than ${MAX_CSV_BYTES} bytes, the limit for a CSV read whole`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a JSON file, with its name in any error. */
async function readJson<T>(path: string): Promise<T> {
  const text = new TextDecoder().decode(await readFileBytes(path, 1 << 20).catch((error: Error) => Promise.reject(new DataError(error.message))));
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new DataError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Writes a model file atomically (never half a file; a symlink's target is replaced, a device written in place). */
export async function saveModel(path: string, model: Model): Promise<void> {
  await writeFileAtomic(path, model.toSafetensors());
}

export async function loadModelFile(path: string): Promise<Model> {
  return loadModel(await readFileBytes(path), path);
}

/**
 * The data/ folder that holds a bundled data set: beside dist/ or src/. The npm package ships
 * enb2012 only (yeast and sarcos-arm state no licence, so they stay in the repository's data/).
 */
export function bundledDataDir(name = 'enb2012'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'data', name, 'meta.json'))) return join(dir, 'data');
    dir = dirname(dir);
  }
  throw new DataError(
    `the bundled data set "${name}" is not in this installation: the npm package ships enb2012 only ` +
      '(the others state no licence); it is in the data/ folder of a clone of the sigmtl repository',
  );
}

export interface LoadDatasetOptions {
  /** A separate labelled CSV of test rows. */
  test?: string;
  /** Target and feature columns (names or globs); for a CSV, defaults from a meta.json beside it. */
  targets?: readonly string[];
  features?: readonly string[];
  /** A column naming each row's group (a subject, a site): held-out splits keep groups whole. */
  groupColumn?: string;
  /** For 'synthetic'. */
  synthetic?: Parameters<typeof syntheticData>[0];
}

/**
 * A bundled data set ('yeast', 'enb2012', 'sarcos-arm'), 'synthetic' teacher–student data, or a
 * CSV file (its columns named by options or by a meta.json in its folder).
 */
export async function loadDataset(data: string, options: LoadDatasetOptions = {}): Promise<DatasetSplits> {
  if (data === 'synthetic') return syntheticData(options.synthetic);
  let splits: DatasetSplits;
  if (isBundledName(data) && !options.targets?.length && options.groupColumn === undefined) {
    const root = bundledDataDir(data);
    splits = await readBundledDataset(data, (path) => fs.readFile(join(root, path), 'utf8'));
  } else {
    let meta: Partial<DatasetMeta> = {};
    let metaFile: string | undefined;
    let path = data;
    if (isBundledName(data)) {
      const root = bundledDataDir(data);
      meta = await readJson<DatasetMeta>(join(root, data, 'meta.json'));
      path = join(root, data, meta.files?.train ?? meta.files?.all ?? '');
    } else {
      // A meta.json beside the CSV names its columns, but only when the caller named none.
      const metaPath = join(dirname(resolve(data)), 'meta.json');
      if (data !== '-' && !options.targets?.length && existsSync(metaPath)) {
        meta = await readJson<DatasetMeta>(metaPath);
        if (!Array.isArray(meta.target_columns) || meta.target_columns.some((c) => typeof c !== 'string')) {
          throw new DataError(`${metaPath}: target_columns must be a list of column names`);
        }
        metaFile = metaPath;
      }
    }
    const table = await readCsvTable(path);
    const targets = options.targets?.length ? options.targets : meta.target_columns;
    if (!targets?.length) {
      throw new DataError(`${table.file}: say which columns are targets with --targets (names, comma lists or globs such as "y_*")`);
    }
    const features = options.features?.length ? options.features : options.targets?.length ? undefined : meta.feature_columns;
    const choice = chooseColumns(table, targets, features, options.groupColumn);
    const name = typeof meta.name === 'string' ? meta.name : data;
    const rows = toTaskTable(table, choice);
    splits = { name, train: { ...labelled(rows), ...(rows.ids && { groups: rows.ids }) }, meta: meta as DatasetMeta, metaFile };
  }
  if (options.test) {
    const test = await readCsvTable(options.test);
    const wanted = [...splits.train.featureNames, ...splits.train.taskNames];
    const missing = wanted.filter((c) => !test.columns.includes(c));
    if (missing.length) throw new DataError(`${test.file}: missing column(s) ${missing.join(', ')} that the training data has`);
    splits.test = labelled(toTaskTable(test, { features: splits.train.featureNames, targets: splits.train.taskNames }));
  }
  return splits;
}

export interface PredictCsvOptions {
  /** An input column copied to the output's first column. */
  idColumn?: string;
  /** Predict on this device (default: float64 on the CPU). */
  device?: GPUDevice;
  /** Bytes one window may take while it is parsed (default 256 MiB). */
  memoryBudget?: number;
  /** Called after each window with the rows predicted so far. */
  onRows?: (rows: number) => void;
}

/**
 * A model's predictions for a CSV file of any size, as CSV text produced window by window (the
 * header first): one column per task (with `idColumn` first). Write it with writeFileAtomic or to
 * stdout; only one window is in memory at a time.
 */
export async function* predictCsvStream(model: Model, path: string, options: PredictCsvOptions = {}): AsyncIterable<string> {
  const csv = await openCsvWindows(path, { memoryBudget: options.memoryBudget });
  const choice = { features: [...model.featureNames], targets: [], idColumn: options.idColumn };
  if (options.idColumn !== undefined && !csv.columns.includes(options.idColumn)) {
    throw new DataError(`${path}: no id column "${options.idColumn}" (available: ${csv.columns.join(', ')})`);
  }
  const quote = (cell: string) => (/[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  yield [...(options.idColumn !== undefined ? [options.idColumn] : []), ...model.taskNames].map(quote).join(',') + '\n';
  const T = model.taskNames.length;
  let done = 0;
  for (let k = 0; k < csv.windows; k++) {
    const table = toTaskTable(await csv.readTable(k), choice, false);
    const predictions = await model.predict(table.X, { device: options.device });
    const lines: string[] = [];
    for (let r = 0; r < table.rows; r++) {
      const values = Array.from(predictions.subarray(r * T, r * T + T), String);
      lines.push((options.idColumn !== undefined ? [quote(table.ids![r]!), ...values] : values).join(','));
    }
    yield lines.join('\n') + '\n';
    options.onRows?.((done += table.rows));
  }
}
