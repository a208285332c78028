// The whole predictor as one ONNX graph (opset 13), written with a small protobuf encoder:
//
//   features [rows, d] → (x − x_mean) / x_std → Gemm(W, b, transB) → Sigmoid → Gemm(A, c, transB)
//     → o·y_std + y_mean → Where(binary task, Sigmoid(·), ·) → predictions [rows, T]
//
// Inputs and outputs are named ("features", "predictions"); the feature, task and loss names and
// the format version ride in the model's metadata_props. Field numbers are onnx.proto's.
import { resolveLoss } from '../core/losses.js';
import type { TrainedModel } from '../model/model.js';
import { parameterLayout, view } from '../core/shape.js';

// --- protobuf wire format ---------------------------------------------------------------------

class Writer {
  private readonly bytes: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      this.bytes.push(v ? byte | 0x80 : byte);
    } while (v);
    return this;
  }

  private key(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    return this.key(field, 0).varint(value);
  }

  bytesField(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytesField(field, new TextEncoder().encode(text));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(new Float32Array([value]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

// --- ONNX messages ------------------------------------------------------------------------------

const FLOAT = 1;
const BOOL = 9;
const ATTRIBUTE_INT = 2;

interface Node {
  op: string;
  inputs: string[];
  output: string;
  attributes?: Record<string, number>;
}

function tensor(w: Writer, name: string, dims: number[], type: number, data: Uint8Array): void {
  for (const d of dims) w.int(1, d); // dims
  w.int(2, type); // data_type
  w.string(8, name); // name
  w.bytesField(9, data); // raw_data, little-endian
}

const floats = (values: ArrayLike<number>) => new Uint8Array(Float32Array.from(values).buffer);

function valueInfo(w: Writer, name: string, dims: Array<number | string>): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (t) => {
      t.int(1, FLOAT); // elem_type
      t.message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

/** The model as ONNX bytes (ModelProto, IR version 8, opset 13). */
export function encodeOnnx(model: TrainedModel, version: string): Uint8Array {
  const layout = parameterLayout(model.shape);
  const { features: d, hidden: H, tasks: T } = model.shape;
  const p = model.params;
  const initializers: Array<[string, number[], number, Uint8Array]> = [
    ['x_mean', [d], FLOAT, floats(model.x.mean)],
    ['x_std', [d], FLOAT, floats(model.x.std)],
    ['W', [H, d], FLOAT, floats(view(p, layout.W))],
    ['b', [H], FLOAT, floats(view(p, layout.b))],
    ['A', [T, H], FLOAT, floats(view(p, layout.A))],
    ['c', [T], FLOAT, floats(view(p, layout.c))],
    ['y_std', [T], FLOAT, floats(model.y.std)],
    ['y_mean', [T], FLOAT, floats(model.y.mean)],
    ['is_sigmoid', [T], BOOL, Uint8Array.from(model.losses, (l) => (resolveLoss(l).entry.linkName === 'sigmoid' ? 1 : 0))],
  ];
  const nodes: Node[] = [
    { op: 'Sub', inputs: ['features', 'x_mean'], output: 'centred' },
    { op: 'Div', inputs: ['centred', 'x_std'], output: 'standardised' },
    { op: 'Gemm', inputs: ['standardised', 'W', 'b'], output: 'z', attributes: { transB: 1 } },
    { op: 'Sigmoid', inputs: ['z'], output: 'hidden' },
    { op: 'Gemm', inputs: ['hidden', 'A', 'c'], output: 'outputs', attributes: { transB: 1 } },
    { op: 'Mul', inputs: ['outputs', 'y_std'], output: 'scaled' },
    { op: 'Add', inputs: ['scaled', 'y_mean'], output: 'values' },
    { op: 'Sigmoid', inputs: ['values'], output: 'probabilities' },
    { op: 'Where', inputs: ['is_sigmoid', 'probabilities', 'values'], output: 'predictions' },
  ];
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'sigmtl'); // producer_name
  w.string(3, version); // producer_version
  w.string(4, 'sigmtl'); // domain
  w.int(5, 1); // model_version
  w.string(6, 'y = A·σ(W·((x − x_mean)/x_std) + b) + c, de-standardised; σ for binary tasks (probabilities)');
  w.message(7, (graph) => {
    nodes.forEach((node, i) =>
      graph.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        n.string(2, node.output);
        n.string(3, `${node.op.toLowerCase()}_${i}`);
        n.string(4, node.op);
        for (const [name, value] of Object.entries(node.attributes ?? {})) {
          n.message(5, (a) => a.string(1, name).int(3, value).int(20, ATTRIBUTE_INT));
        }
      }),
    );
    graph.string(2, 'sigmtl');
    for (const [name, dims, type, data] of initializers) graph.message(5, (t) => tensor(t, name, dims, type, data));
    graph.message(11, (v) => valueInfo(v, 'features', ['rows', d]));
    graph.message(12, (v) => valueInfo(v, 'predictions', ['rows', T]));
  });
  w.message(8, (o) => o.string(1, '').int(2, 13)); // opset_import: the default domain, opset 13
  const metadata = { features: JSON.stringify(model.featureNames), tasks: JSON.stringify(model.targetNames), losses: JSON.stringify(model.losses), format: 'sigmtl-onnx-1' };
  for (const [key, value] of Object.entries(metadata)) w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}
