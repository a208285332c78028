// The real data sets shipped in data/ (copied from their public sources; each folder keeps its
// meta.json with source and citation). Reading is injected so Node (files) and the browser
// (fetch) share this code.
import { parseCsv, DataError, type CsvTable } from './csv.js';

export const BUNDLED_NAMES = ['yeast', 'enb2012', 'sarcos-arm'] as const;
export type BundledName = (typeof BUNDLED_NAMES)[number];

export interface DatasetMeta {
  name: string;
  task: string;
  files: { train?: string; test?: string; all?: string };
  feature_columns: string[];
  target_columns: string[];
  citation?: string;
  original_source?: string;
}

/** Reads a file below data/, e.g. "yeast/meta.json". */
export type ReadText = (path: string) => Promise<string>;

export interface LoadedDataset {
  name: string;
  meta: DatasetMeta;
  train: CsvTable;
  /** The predefined test split, where the data set has one. */
  test?: CsvTable;
}

export function isBundledName(name: string): name is BundledName {
  return (BUNDLED_NAMES as readonly string[]).includes(name);
}

export async function loadBundled(name: string, read: ReadText): Promise<LoadedDataset> {
  if (!isBundledName(name)) {
    throw new DataError(`unknown bundled data set "${name}" (bundled: ${BUNDLED_NAMES.join(', ')}, or a CSV path, or "synthetic")`);
  }
  const meta = JSON.parse(await read(`${name}/meta.json`)) as DatasetMeta;
  const load = async (file: string) => parseCsv(await read(`${name}/${file}`), `data/${name}/${file}`);
  const trainFile = meta.files.train ?? meta.files.all;
  if (!trainFile) throw new DataError(`data/${name}/meta.json names no train or all file`);
  const train = await load(trainFile);
  const test = meta.files.test ? await load(meta.files.test) : undefined;
  return { name, meta, train, test };
}
