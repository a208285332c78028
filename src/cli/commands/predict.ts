// `sigmtl predict`: one output column per target (probabilities for BCE tasks), written atomically.
import Papa from 'papaparse';
import { predictRaw } from '../../model/model.js';
import { writeFileAtomic } from '../../io/files.js';
import { choice, flag, parse, required, text } from '../args.js';
import type { BackendChoice } from '../backend.js';
import { modelColumns, openModelBackend, readInputTable, readModel } from '../model-input.js';
import { createOutput } from '../output.js';

export const predictHelp = `sigmtl predict — predictions of a model for the rows of a CSV

Usage: sigmtl predict --model FILE --data CSV --out FILE [--id COLUMN] [--backend webgpu|cpu|auto] [--json]

Writes one column per target: the predicted value for regression tasks, the probability of 1
for binary (BCE) tasks. --id keeps that input column as the first output column.

Example
  sigmtl predict --model runs/enb2012.safetensors --data new-buildings.csv --out predictions.csv
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
  const output = createOutput(flag(p, 'json'), false);
  const outPath = required(p, 'out');
  const model = await readModel(required(p, 'model'));
  const data = modelColumns(await readInputTable(required(p, 'data')), model, false, text(p, 'id'));
  const opened = await openModelBackend(model, choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto'), data.rows);
  try {
    const predictions = await predictRaw(opened.backend, model, data.X, data.rows);
    const T = model.targetNames.length;
    const idColumn = text(p, 'id');
    const header = [...(idColumn ? [idColumn] : []), ...model.targetNames];
    const rows = Array.from({ length: data.rows }, (_, r) => [
      ...(idColumn ? [data.ids![r]!] : []),
      ...Array.from(predictions.subarray(r * T, r * T + T), (v) => String(v)),
    ]);
    await writeFileAtomic(outPath, Papa.unparse({ fields: header, data: rows }, { newline: '\n' }) + '\n');
    output.info(`${data.rows} predictions for ${T} targets written to ${outPath}`);
    output.result({ rows: data.rows, targets: model.targetNames, out: outPath, backend: opened.backend.kind });
    return 0;
  } finally {
    opened.close();
  }
}
