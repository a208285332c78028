// `sigmtl export`: a model for other runtimes — ONNX (one graph, the whole predictor).
import { loadModelFile, writeFileAtomic } from 'sigmtl/node';
import { choice, flag, parse, required } from '../args.js';
import { createOutput } from '../output.js';
import { refuseClobber } from '../paths.js';

export const exportHelp = `sigmtl export — write a model for another runtime

Usage: sigmtl export --model FILE --format onnx --out <FILE|-> [--json]

onnx: the whole predictor as one ONNX graph (opset 13): input "features" [rows, d] of raw values;
      output "predictions" [rows, T] — values for regression tasks, probabilities for binary
      tasks, as sigmtl predict gives them. Feature, task and loss names are in the metadata.

Examples
  sigmtl export --model runs/enb2012.safetensors --format onnx --out enb2012.onnx
  python3 -c "import onnxruntime as o; s = o.InferenceSession('enb2012.onnx'); print(s.get_inputs()[0].shape)"
`;

export async function exportModel(argv: string[]): Promise<number> {
  const p = parse(argv, { model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    process.stdout.write(exportHelp);
    return 0;
  }
  const modelPath = required(p, 'model');
  const format = choice(p, 'format', ['onnx'] as const, 'onnx');
  const out = required(p, 'out');
  refuseClobber([['--out', out]], [['--model', modelPath]]);
  const output = createOutput(flag(p, 'json') || out === '-', false);
  const model = await loadModelFile(modelPath);
  const bytes = model.toOnnx();
  if (out === '-') process.stdout.write(bytes);
  else await writeFileAtomic(out, bytes);
  output.info(`${format} model (${bytes.length} bytes, ${model.shape.features} features → ${model.shape.tasks} tasks) written to ${out === '-' ? 'stdout' : out}`);
  if (out !== '-') output.result({ format, out, bytes: bytes.length, features: model.featureNames, tasks: model.taskNames });
  return 0;
}
