// Loading training data in Node: a bundled data set by name, a CSV path (with an optional
// meta.json beside it naming the columns), or the synthetic teacher–student generator.
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, parseCsv, type CsvTable } from '../data/csv.js';
import { isBundledName, loadBundled, type DatasetMeta } from '../data/bundled.js';
import { syntheticTable } from '../data/synthetic.js';
import { chooseColumns, selectRows, toTaskTable, type ColumnChoice, type TaskTable } from '../data/table.js';

/** data/ of this package, from src/cli (tests, dev) or dist/ (the built CLI). */
export function bundledDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'data', 'yeast', 'meta.json'))) return join(dir, 'data');
    dir = dirname(dir);
  }
  throw new Error('cannot find the bundled data/ folder next to this sigmtl installation');
}

export async function readCsvFile(path: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DataError(`${path}: no such file`);
    throw error;
  }
  return parseCsv(text, path);
}

export interface SyntheticSpec {
  features: number;
  tasks: number;
  rows: number;
  noise: number;
}

export interface LoadedTables {
  name: string;
  train: TaskTable;
  test?: TaskTable;
  choice: ColumnChoice;
  /** For the synthetic data: the teacher's parameters. */
  teacher?: Float64Array;
}

export interface DataRequest {
  data: string;
  test?: string;
  targets?: string[];
  features?: string[];
  idColumn?: string;
  synthetic: SyntheticSpec;
  seed: number;
}

export async function loadTables(request: DataRequest): Promise<LoadedTables> {
  if (request.data === 'synthetic') return synthetic(request);
  let train: CsvTable;
  let test: CsvTable | undefined;
  let meta: Partial<DatasetMeta> = {};
  let name = request.data;
  if (isBundledName(request.data)) {
    const root = bundledDataDir();
    const loaded = await loadBundled(request.data, (path) => fs.readFile(join(root, path), 'utf8'));
    ({ train, test, meta } = loaded);
  } else {
    train = await readCsvFile(request.data);
    const metaPath = join(dirname(resolve(request.data)), 'meta.json');
    if (existsSync(metaPath)) meta = JSON.parse(await fs.readFile(metaPath, 'utf8')) as DatasetMeta;
  }
  if (request.test) test = await readCsvFile(request.test);
  const targets = request.targets?.length ? request.targets : meta.target_columns;
  if (!targets?.length) {
    throw new DataError(`${train.file}: say which columns are targets with --targets (names, comma lists or globs such as "y_*")`);
  }
  const features = request.features?.length ? request.features : request.targets?.length ? undefined : meta.feature_columns;
  const choice = chooseColumns(train, targets, features, request.idColumn);
  const tables: LoadedTables = { name, train: toTaskTable(train, choice), choice };
  if (test) {
    const missing = [...choice.features, ...choice.targets].filter((c) => !test!.columns.includes(c));
    if (missing.length) throw new DataError(`${test.file}: missing column(s) ${missing.join(', ')} that the training data has`);
    tables.test = toTaskTable(test, choice);
  }
  name = meta.name ?? name;
  return { ...tables, name };
}

function synthetic(request: DataRequest): LoadedTables {
  const { features: d, tasks: T, rows, noise } = request.synthetic;
  // A quarter more rows than asked for, held out as the test set.
  const all = syntheticTable({ shape: { features: d, hidden: T, tasks: T }, rows: rows + Math.ceil(rows / 4), seed: request.seed, noise });
  const [train, test] = [selectRows(all, range(0, rows)), selectRows(all, range(rows, all.rows))];
  const choice = { features: all.featureNames, targets: all.targetNames };
  return { name: 'synthetic', train, test, choice, teacher: all.teacher };
}

const range = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
