// The ONNX export, run by an independent runtime (onnxruntime-node): on every bundled data set's
// test rows it matches sigmtl's own predictions, and its structure is what the README says.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { train, type Model } from '../src/index.js';
import { loadDataset } from '../src/node.js';

async function runOnnx(model: Model, features: Float64Array, rows: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model.toOnnx());
  const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from(features), [rows, model.shape.features]) });
  return out.predictions!.data as Float32Array;
}

function maxRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return max;
}

describe.each(['yeast', 'enb2012', 'sarcos-arm'])('%s: onnxruntime runs the export like sigmtl predict', (name) => {
  test('within 1e-5 relative on the test rows', async () => {
    const data = await loadDataset(name);
    const { model } = await train({ ...data.train, test: data.test, testSplit: data.test ? 0 : 0.2, epochs: 3, backend: 'cpu' });
    const rows = data.test ?? data.train;
    const n = rows.features.length / model.shape.features;
    const got = await runOnnx(model, rows.features, n);
    const want = await model.predict(rows.features);
    expect(got.length).toBe(want.length);
    expect(maxRelative(got, want)).toBeLessThan(1e-5);
  }, 120_000);
});

/** A protobuf message's fields (number → values: varints as bigint, length-delimited as bytes). */
function fields(bytes: Uint8Array): Map<number, Array<bigint | Uint8Array>> {
  const out = new Map<number, Array<bigint | Uint8Array>>();
  let at = 0;
  const varint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const [field, wire] = [key >> 3, key & 7];
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = Number(varint());
      value = bytes.subarray(at, at + length);
      at += length;
    } else if (wire === 5) {
      value = bytes.subarray(at, at + 4);
      at += 4;
    } else throw new Error(`wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}
const text = (v: bigint | Uint8Array | undefined) => new TextDecoder().decode(v as Uint8Array);

test('the graph: IR 8, opset 13, the documented nodes, named input and output, names in the metadata', async () => {
  const features = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i)]);
  const { model } = await train({
    features,
    targets: features.map(([a]) => [a! > 0 ? 1 : 0, 3 * a!]),
    taskNames: ['up', 'size'],
    featureNames: ['a', 'b'],
    epochs: 2,
    backend: 'cpu',
  });
  const top = fields(model.toOnnx());
  expect(top.get(1)).toEqual([8n]);
  const opset = fields(top.get(8)![0] as Uint8Array);
  expect(opset.get(2)).toEqual([13n]);
  const graph = fields(top.get(7)![0] as Uint8Array);
  const ops = graph.get(1)!.map((node) => text(fields(node as Uint8Array).get(4)![0]));
  expect(ops).toEqual(['Sub', 'Div', 'Gemm', 'Sigmoid', 'Gemm', 'Mul', 'Add', 'Sigmoid', 'Where']);
  expect(text(fields(graph.get(11)![0] as Uint8Array).get(1)![0])).toBe('features');
  expect(text(fields(graph.get(12)![0] as Uint8Array).get(1)![0])).toBe('predictions');
  const metadata = Object.fromEntries(top.get(14)!.map((entry) => [text(fields(entry as Uint8Array).get(1)![0]), text(fields(entry as Uint8Array).get(2)![0])]));
  expect(JSON.parse(metadata.tasks!)).toEqual(['up', 'size']);
  expect(JSON.parse(metadata.losses!)).toEqual(['bce', 'mse']);
  expect(JSON.parse(metadata.features!)).toEqual(['a', 'b']);
});

test('sigmtl export --format onnx on the command line reproduces sigmtl predict', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigmtl-onnx-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['scripts/run-cli.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });
  const model = join(dir, 'enb.safetensors');
  expect(cli('train', '--data', 'enb2012', '--epochs', '5', '--out', model).status).toBe(0);
  const onnx = join(dir, 'enb.onnx');
  const exported = cli('export', '--model', model, '--format', 'onnx', '--out', onnx);
  expect(exported.status, exported.stderr).toBe(0);
  const predicted = cli('predict', '--model', model, '--data', 'data/enb2012/enb2012.csv', '--out', '-', '--backend', 'cpu');
  const want = predicted.stdout
    .trim()
    .split('\n')
    .slice(1)
    .flatMap((line) => line.split(',').map(Number));
  const csv = readFileSync('data/enb2012/enb2012.csv', 'utf8').trim().split('\n');
  const header = csv[0]!.split(',');
  const featureColumns = header
    .map((h, i) => [h, i] as const)
    .filter(([h]) => !h.startsWith('y_'))
    .map(([, i]) => i);
  const features = Float32Array.from(csv.slice(1).flatMap((line) => featureColumns.map((i) => Number(line.split(',')[i]))));
  const session = await ort.InferenceSession.create(readFileSync(onnx));
  const got = (await session.run({ features: new ort.Tensor('float32', features, [csv.length - 1, featureColumns.length]) })).predictions!.data as Float32Array;
  expect(maxRelative(got, want)).toBeLessThan(1e-5);
}, 120_000);
