// `sigmtl export`: a model for other runtimes — ONNX (one graph, the whole predictor).
import { loadModelFile, writeFileAtomic } from 'sigmtl/node';
import { choice, flag, parse, required } from '../args.js';
import { createOutput } from '../output.js';
import { refuseClobber } from '../paths.js';

export const exportHelp = `sigmtl export — write a model for another runtime

Usage: sigmtl export --model FILE --format onnx|torch --out <FILE|-> [--json]

onnx: the whole predictor as one ONNX graph (opset 13): input "features" [rows, d] of raw values;
      output "predictions" [rows, T] — values for regression tasks, probabilities for binary
      tasks, as sigmtl predict gives them. Feature, task and loss names are in the metadata.
torch: a self-contained PyTorch module file (SigmtlModel: parameters W, b, A, c, the same pre-
      and post-processing, sigmtl's loss, from_safetensors(path) for the weights), and beside it
      OUT.golden.json: eight input rows and the predictions sigmtl gives for them.

Examples
  sigmtl export --model runs/enb2012.safetensors --format onnx --out enb2012.onnx
  sigmtl export --model runs/enb2012.safetensors --format torch --out enb2012_model.py
  python3 -c "import onnxruntime as o; s = o.InferenceSession('enb2012.onnx'); print(s.get_inputs()[0].shape)"
`;

export async function exportModel(argv: string[]): Promise<number> {
  const p = parse(argv, { model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    process.stdout.write(exportHelp);
    return 0;
  }
  const modelPath = required(p, 'model');
  const format = choice(p, 'format', ['onnx', 'torch'] as const, 'onnx');
  const out = required(p, 'out');
  const golden = format === 'torch' && out !== '-' ? `${out.replace(/\.py$/, '')}.golden.json` : undefined;
  refuseClobber(
    [
      ['--out', out],
      ['golden file', golden],
    ],
    [['--model', modelPath]],
  );
  const output = createOutput(flag(p, 'json') || out === '-', false);
  const model = await loadModelFile(modelPath);
  const bytes = format === 'onnx' ? model.toOnnx() : new TextEncoder().encode(model.toTorch());
  if (out === '-') process.stdout.write(bytes);
  else await writeFileAtomic(out, bytes);
  if (golden) {
    // Eight rows around the training data's centre (x_mean ± up to 2·x_std), and what sigmtl predicts for them.
    const { features: d } = model.shape;
    const { x_mean, x_std } = model.standardization();
    const features = Array.from({ length: 8 }, (_, r) => Array.from({ length: d }, (_, j) => x_mean[j]! + x_std[j]! * Math.sin(1.7 * r + 0.9 * j) * 2));
    const predictions = Array.from(await model.predict(features));
    await writeFileAtomic(golden, JSON.stringify({ features, predictions, tasks: model.taskNames }) + '\n');
  }
  output.info(
    `${format} model (${bytes.length} bytes, ${model.shape.features} features → ${model.shape.tasks} tasks) written to ${out === '-' ? 'stdout' : out}${golden ? `; golden rows in ${golden}` : ''}`,
  );
  if (out !== '-') output.result({ format, out, golden, bytes: bytes.length, features: model.featureNames, tasks: model.taskNames });
  return 0;
}
