// Data for the page: the bundled sets (served from data/ by Vite), a dropped CSV, or synthetic
// teacher–student data — all through the public API, as any page would.
import { readBundledDataset, readCsvText, syntheticData, type DatasetSplits } from 'sigmtl';

const fetchText = async (path: string) => {
  const response = await fetch(`${import.meta.env.BASE_URL}${path}`);
  if (!response.ok) throw new Error(`cannot fetch ${path}: HTTP ${response.status}`);
  return response.text();
};

export interface CsvFile {
  name: string;
  text: string;
}

export interface DataRequest {
  dataset: string;
  csv?: CsvFile;
  targets?: string[];
  seed: number;
}

export async function loadData(request: DataRequest): Promise<DatasetSplits> {
  if (request.dataset === 'synthetic') return syntheticData({ features: 10, tasks: 5, rows: 2000, seed: request.seed });
  if (request.dataset !== 'csv') return readBundledDataset(request.dataset, fetchText);
  if (!request.csv) throw new Error('choose a CSV file first');
  if (!request.targets?.length) throw new Error('choose at least one target column');
  return { name: request.csv.name, train: readCsvText(request.csv.text, { name: request.csv.name, targets: request.targets }) };
}
