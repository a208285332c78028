// `sigmtl eval`: per-task metrics of a saved model on labelled data, and its coupling matrix A.
import { loadDataset, loadModelFile, readCsv, type LabelledData, type Model } from 'sigmtl/node';
import { choice, flag, parse, required } from '../args.js';
import { openCliDevice, type BackendChoice } from '../backend.js';
import { createOutput, formatNumber, metricsTable, table } from '../output.js';

export const evalHelp = `sigmtl eval — metrics of a model on labelled data

Usage: sigmtl eval --model FILE --data <CSV|bundled name|-> [--show-A] [--relations] [--backend webgpu|cpu|auto] [--json]

Regression tasks: MSE, RMSE, MAE, R²; binary tasks: accuracy, F1, ROC-AUC; overall Hamming loss
and macro averages. A bundled name evaluates on its test split; - reads the CSV from stdin.
--show-A prints the learned task-coupling matrix A (tasks × hidden units). --relations prints how
the tasks relate through the shared layer on these rows: the cosine similarity of their gradients
with respect to W and b (1: they pull the same way, 0: independent, negative: they conflict).

Examples
  sigmtl eval --model runs/yeast.safetensors --data yeast --show-A --relations
  sigmtl eval --model runs/enb2012.safetensors --data new.csv --json
`;

/** The model's columns of a CSV, or of a bundled set's test split (its only file when it has none). */
export async function labelledRows(data: string, model: Model): Promise<LabelledData> {
  if (['yeast', 'enb2012', 'sarcos-arm'].includes(data)) {
    const splits = await loadDataset(data);
    return splits.test ?? splits.train;
  }
  return readCsv(data, { targets: model.taskNames, features: model.featureNames });
}

export async function evaluate(argv: string[]): Promise<number> {
  const p = parse(argv, {
    model: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    'show-A': { type: 'boolean' },
    relations: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    process.stdout.write(evalHelp);
    return 0;
  }
  const out = createOutput(flag(p, 'json'), false);
  const model = await loadModelFile(required(p, 'model'));
  const data = await labelledRows(required(p, 'data'), model);
  const rows = data.features.length / model.shape.features;
  const backend = await openCliDevice(choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto'));
  try {
    const metrics = await model.evaluate(data.features, data.targets, { device: backend.device });
    const A = model.coupling;
    const H = model.shape.hidden;
    const rowsOfA = model.taskNames.map((_, t) => Array.from(A.values.subarray(t * H, t * H + H)));
    out.info(`${rows} rows, backend ${backend.device ? 'webgpu' : 'cpu'} — ${backend.label}`);
    out.info(metricsTable(metrics));
    if (flag(p, 'show-A')) {
      out.info('\ntask-coupling matrix A (rows: tasks, columns: hidden units):');
      out.info(
        table(
          ['task', ...A.units],
          rowsOfA.map((r, t) => [model.taskNames[t]!, ...r.map((v) => formatNumber(v, 3))]),
        ),
      );
    }
    let relations: { tasks: readonly string[]; cosine: number[][] } | undefined;
    if (flag(p, 'relations')) {
      const r = model.taskRelations(data.features, data.targets);
      const T = r.tasks.length;
      const cosine = r.tasks.map((_, s) => Array.from(r.cosine.subarray(s * T, s * T + T)));
      relations = { tasks: r.tasks, cosine };
      out.info("\ntask relations: cosine of the tasks' gradients of the shared layer (W, b) on these rows:");
      out.info(
        table(
          ['task', ...r.tasks],
          cosine.map((row, s) => [r.tasks[s]!, ...row.map((v) => formatNumber(v, 2))]),
        ),
      );
    }
    out.result({ rows, backend: backend.device ? 'webgpu' : 'cpu', metrics, A: flag(p, 'show-A') ? rowsOfA : undefined, relations });
    return 0;
  } finally {
    backend.close();
  }
}
