// `sigmtl predict`: one output column per target (probabilities for BCE tasks), written atomically
// (or to stdout with --out -).
import Papa from 'papaparse';
import { loadDataset, loadModelFile, readCsv, writeFileAtomic } from 'sigmtl/node';
import { choice, flag, parse, required, text, UsageError } from '../args.js';
import { refuseClobber } from '../paths.js';
import { openCliDevice, type BackendChoice } from '../backend.js';
import { createOutput } from '../output.js';

export const predictHelp = `sigmtl predict — predictions of a model for the rows of a CSV

Usage: sigmtl predict --model FILE --data <CSV|-> --out <FILE|-> [--id COLUMN] [--backend webgpu|cpu|auto] [--json]

Writes one column per target: the predicted value for regression tasks, the probability of 1
for binary (BCE) tasks. --id keeps that input column as the first output column. - reads the
input from stdin; --out - writes the predictions to stdout.

Examples
  sigmtl predict --model runs/enb2012.safetensors --data new-buildings.csv --out predictions.csv
  cat new.csv | sigmtl predict --model runs/enb2012.safetensors --data - --out - --id name
`;

export async function predict(argv: string[]): Promise<number> {
  const p = parse(argv, {
    model: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    id: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    process.stdout.write(predictHelp);
    return 0;
  }
  const outPath = required(p, 'out');
  const toStdout = outPath === '-';
  if (toStdout && flag(p, 'json')) throw new UsageError('--out - and --json both want stdout: choose one');
  refuseClobber([['--out', outPath]], [['--data', text(p, 'data')], ['--model', text(p, 'model')]]);
  const output = createOutput(flag(p, 'json') || toStdout, false);
  const model = await loadModelFile(required(p, 'model'));
  const dataName = required(p, 'data');
  const idColumn = text(p, 'id');
  if (idColumn !== undefined && model.taskNames.includes(idColumn)) {
    throw new UsageError(`--id ${idColumn} is also a task of the model; its output column would appear twice`);
  }
  const data = ['yeast', 'enb2012', 'sarcos-arm'].includes(dataName)
    ? await loadDataset(dataName).then((s) => s.test ?? s.train)
    : await readCsv(dataName, { features: model.featureNames, idColumn });
  const ids = 'ids' in data ? (data.ids as string[] | undefined) : undefined;
  const rows = data.features.length / model.shape.features;
  const backend = await openCliDevice(choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto'));
  try {
    const predictions = await model.predict(data.features, { device: backend.device });
    const T = model.taskNames.length;
    const header = [...(idColumn ? [idColumn] : []), ...model.taskNames];
    const lines = Array.from({ length: rows }, (_, r) => [
      ...(idColumn ? [ids?.[r] ?? ''] : []),
      ...Array.from(predictions.subarray(r * T, r * T + T), (v) => String(v)),
    ]);
    const csv = Papa.unparse({ fields: header, data: lines }, { newline: '\n' }) + '\n';
    if (toStdout) process.stdout.write(csv);
    else await writeFileAtomic(outPath, csv);
    output.info(`${rows} predictions for ${T} targets written to ${toStdout ? 'stdout' : outPath}`);
    if (!toStdout) output.result({ rows, targets: model.taskNames, out: outPath, backend: backend.device ? 'webgpu' : 'cpu' });
    return 0;
  } finally {
    backend.close();
  }
}
