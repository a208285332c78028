// `sigmtl predict`: one output column per target (probabilities for BCE tasks), written atomically
// (or to stdout with --out -).
import Papa from 'papaparse';
import { stat } from 'node:fs/promises';
import { DEFAULT_MEMORY_BUDGET, loadDataset, loadModelFile, predictCsvStream, readCsv, writeFileAtomic } from 'sigmtl/node';
import { byteSize, choice, flag, parse, required, text, UsageError } from '../args.js';
import { refuseClobber } from '../paths.js';
import { openCliDevice, type BackendChoice } from '../backend.js';
import { createOutput } from '../output.js';

export const predictHelp = `sigmtl predict — predictions of a model for the rows of a CSV

Usage: sigmtl predict --model FILE --data <CSV|-> --out <FILE|-> [--id COLUMN] [--stream] [--memory-budget SIZE]
                      [--backend webgpu|cpu|auto] [--json]

Writes one column per target: the predicted value for regression tasks, the probability of 1
for binary (BCE) tasks. --id keeps that input column as the first output column. - reads the
input from stdin; --out - writes the predictions to stdout. A file larger than --memory-budget
(default 256M), or any file with --stream, is read and predicted window by window, the output
written as it goes.

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
    stream: { type: 'boolean' },
    'memory-budget': { type: 'string' },
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
  refuseClobber(
    [['--out', outPath]],
    [
      ['--data', text(p, 'data')],
      ['--model', text(p, 'model')],
    ],
  );
  const output = createOutput(flag(p, 'json') || toStdout, false);
  const model = await loadModelFile(required(p, 'model'));
  const dataName = required(p, 'data');
  const idColumn = text(p, 'id');
  if (idColumn !== undefined && model.taskNames.includes(idColumn)) {
    throw new UsageError(`--id ${idColumn} is also a task of the model; its output column would appear twice`);
  }
  const bundled = ['yeast', 'enb2012', 'sarcos-arm'].includes(dataName);
  const memoryBudget = byteSize(p, 'memory-budget', DEFAULT_MEMORY_BUDGET);
  const size = bundled || dataName === '-' ? 0 : ((await stat(dataName).catch(() => undefined))?.size ?? 0);
  if (flag(p, 'stream') && (bundled || dataName === '-')) throw new UsageError('--stream is for data files (stdin and the bundled sets are read whole)');
  if (flag(p, 'stream') || size > memoryBudget) {
    const backend = await openCliDevice(choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto'));
    try {
      let rows = 0;
      const csv = predictCsvStream(model, dataName, { idColumn, device: backend.device, memoryBudget, onRows: (n) => (rows = n) });
      if (toStdout) for await (const chunk of csv) await new Promise<void>((done, fail) => process.stdout.write(chunk, (e) => (e ? fail(e) : done())));
      else await writeFileAtomic(outPath, csv);
      const T = model.taskNames.length;
      output.info(`${rows} predictions for ${T} targets written to ${toStdout ? 'stdout' : outPath} (streamed window by window)`);
      if (!toStdout) output.result({ rows, targets: model.taskNames, out: outPath, backend: backend.device ? 'webgpu' : 'cpu', streamed: true });
      return 0;
    } finally {
      backend.close();
    }
  }
  const data = bundled ? await loadDataset(dataName).then((s) => s.test ?? s.train) : await readCsv(dataName, { features: model.featureNames, idColumn });
  const ids = 'ids' in data ? (data.ids as string[] | undefined) : undefined;
  const rows = data.features.length / model.shape.features;
  const backend = await openCliDevice(choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto'));
  try {
    const predictions = await model.predict(data.features, { device: backend.device });
    const T = model.taskNames.length;
    const header = [...(idColumn ? [idColumn] : []), ...model.taskNames];
    const lines = Array.from({ length: rows }, (_, r) => [...(idColumn ? [ids?.[r] ?? ''] : []), ...Array.from(predictions.subarray(r * T, r * T + T), (v) => String(v))]);
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
