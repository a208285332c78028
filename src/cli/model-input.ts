// Shared by eval and predict: open a model file and read the matching columns of a data set.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isBundledName, loadBundled } from '../data/bundled.js';
import type { CsvTable } from '../data/csv.js';
import { toTaskTable, type TaskTable } from '../data/table.js';
import { decodeModel } from '../io/model-format.js';
import { readFileBytes } from '../io/files.js';
import { DEFAULT_OPTIMIZER } from '../core/optimizers.js';
import type { TrainedModel } from '../model/model.js';
import { openBackend, type BackendChoice, type OpenBackend } from './backend.js';
import { bundledDataDir, readCsvFile } from './node-data.js';

export async function readModel(path: string): Promise<TrainedModel> {
  return decodeModel(await readFileBytes(path), path).model;
}

/** A CSV path, or a bundled data set's test split (its only file when it has no split). */
export async function readInputTable(data: string): Promise<CsvTable> {
  if (isBundledName(data)) {
    const root = bundledDataDir();
    const loaded = await loadBundled(data, (path) => fs.readFile(join(root, path), 'utf8'));
    return loaded.test ?? loaded.train;
  }
  return readCsvFile(data);
}

export function modelColumns(table: CsvTable, model: TrainedModel, withTargets: boolean, idColumn?: string): TaskTable {
  return toTaskTable(table, { features: model.featureNames, targets: model.targetNames, idColumn }, withTargets);
}

export async function openModelBackend(model: TrainedModel, choice: BackendChoice, rows: number): Promise<OpenBackend> {
  const tasks = model.losses.map((loss) => ({ loss, weight: 1 }));
  const maxBatch = Math.max(1, Math.min(rows, 4096));
  const opened = await openBackend(choice, { shape: model.shape, tasks, optimizer: DEFAULT_OPTIMIZER, maxBatch }, (line) =>
    process.stderr.write(line + '\n'),
  );
  opened.backend.setParameters(model.params);
  return opened;
}
