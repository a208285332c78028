// `sigmtl eval`: per-task metrics of a saved model on labelled data, and its coupling matrix A.
import { predictRaw } from '../../model/model.js';
import { parameterLayout, view } from '../../core/shape.js';
import { computeMetrics } from '../../train/metrics.js';
import { choice, flag, parse, required } from '../args.js';
import { adapterName, type BackendChoice } from '../backend.js';
import { modelColumns, openModelBackend, readInputTable, readModel } from '../model-input.js';
import { createOutput, formatNumber, metricsTable, table } from '../output.js';

export const evalHelp = `sigmtl eval — metrics of a model on labelled data

Usage: sigmtl eval --model FILE --data <CSV|bundled name> [--show-A] [--backend webgpu|cpu|auto] [--json]

Regression tasks: MSE, RMSE, MAE, R²; binary tasks: accuracy, F1, ROC-AUC; overall Hamming loss
and macro averages. A bundled name evaluates on its test split. --show-A prints the learned
task-coupling matrix A (tasks × hidden units).

Example
  sigmtl eval --model runs/yeast.safetensors --data yeast --show-A
`;

export async function evaluate(argv: string[]): Promise<number> {
  const p = parse(argv, { model: { type: 'string' }, data: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' }, 'show-A': { type: 'boolean' } });
  if (flag(p, 'help')) {
    process.stdout.write(evalHelp);
    return 0;
  }
  const out = createOutput(flag(p, 'json'), false);
  const model = await readModel(required(p, 'model'));
  const data = modelColumns(await readInputTable(required(p, 'data')), model, true);
  const opened = await openModelBackend(model, choice<BackendChoice>(p, 'backend', ['webgpu', 'cpu', 'auto'], 'auto'), data.rows);
  try {
    const predictions = await predictRaw(opened.backend, model, data.X, data.rows);
    const metrics = computeMetrics(predictions, data.Y, data.mask, data.rows, model.targetNames, model.losses);
    const layout = parameterLayout(model.shape);
    const A = view(model.params, layout.A);
    const H = model.shape.hidden;
    const rowsOfA = model.targetNames.map((_, t) => Array.from(A.subarray(t * H, t * H + H)));
    out.info(`${data.rows} rows, backend ${opened.backend.kind} — ${adapterName(opened)}`);
    out.info(metricsTable(metrics));
    if (flag(p, 'show-A')) {
      out.info('\ntask-coupling matrix A (rows: tasks, columns: hidden units):');
      out.info(table(['task', ...Array.from({ length: H }, (_, h) => `h${h + 1}`)], rowsOfA.map((r, t) => [model.targetNames[t]!, ...r.map((v) => formatNumber(v, 3))])));
    }
    out.result({ rows: data.rows, backend: opened.backend.kind, metrics, A: flag(p, 'show-A') ? rowsOfA : undefined });
    return 0;
  } finally {
    opened.close();
  }
}
