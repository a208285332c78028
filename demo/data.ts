// Data for the page: the bundled sets (served from data/ by Vite), a dropped CSV, or synthetic
// teacher–student data — turned into a training problem exactly as the CLI does.
import { parseCsv, type CsvTable } from '../src/data/csv.js';
import { isBundledName, loadBundled } from '../src/data/bundled.js';
import { syntheticTable } from '../src/data/synthetic.js';
import { chooseColumns, toTaskTable, type TaskTable } from '../src/data/table.js';
import { prepareProblem, splitRows, type Problem } from '../src/train/prepare.js';

const readBundled = async (path: string) => {
  const response = await fetch(`${import.meta.env.BASE_URL}${path}`);
  if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
  return response.text();
};

export async function readCsvFile(file: File): Promise<CsvTable> {
  return parseCsv(await file.text(), file.name);
}

export interface ProblemRequest {
  dataset: string;
  csv?: CsvTable;
  targets?: string[];
  loss: 'auto' | 'mse' | 'bce';
  seed: number;
}

export async function loadProblem(request: ProblemRequest): Promise<{ name: string; problem: Problem }> {
  let train: TaskTable;
  let test: TaskTable | undefined;
  if (request.dataset === 'synthetic') {
    train = syntheticTable({ shape: { features: 10, hidden: 5, tasks: 5 }, rows: 2500, seed: request.seed, noise: 0.05 });
  } else if (isBundledName(request.dataset)) {
    const loaded = await loadBundled(request.dataset, readBundled);
    const choice = chooseColumns(loaded.train, loaded.meta.target_columns, loaded.meta.feature_columns);
    train = toTaskTable(loaded.train, choice);
    test = loaded.test && toTaskTable(loaded.test, choice);
  } else {
    if (!request.csv) throw new Error('choose a CSV file first');
    if (!request.targets?.length) throw new Error('choose at least one target column');
    train = toTaskTable(request.csv, chooseColumns(request.csv, request.targets));
  }
  if (!test) [train, test] = splitRows(train, 0.2, request.seed ^ 0x7e57, 'test');
  const problem = prepareProblem(train, test, { loss: request.loss, validationSplit: 0.1, seed: request.seed });
  return { name: request.csv?.file ?? request.dataset, problem };
}
