// The safetensors format, read and written by hand (it is small):
//   8 bytes: little-endian u64 N | N bytes: JSON header | the tensor bytes
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end)} relative to the
// byte buffer, plus an optional "__metadata__" of string → string. We handle F32 (the model's
// tensors) and F64 (checkpoints of the float64 CPU backend, so a resume is exact), row-major.

export interface Tensor {
  shape: number[];
  data: Float32Array | Float64Array;
}

const dtypeOf = (data: Tensor['data']) => (data instanceof Float64Array ? 'F64' : 'F32');

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) throw new SafetensorsError(`tensor ${name}: shape [${tensor.shape}] but ${tensor.data.length} values`);
    header[name] = { dtype: dtypeOf(tensor.data), shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Padded with spaces to a multiple of 8 bytes (not characters: names may be non-ASCII), so
  // the tensor data starts 8-aligned, as strict readers require.
  const headerBytes = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const tensor of Object.values(tensors)) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), at);
    at += tensor.data.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const fail = (why: string) => new SafetensorsError(`${file}: not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw fail(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) throw fail(`header length ${headerLength} exceeds the file (${bytes.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw fail('the header is not JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32' && dtype !== 'F64') throw fail(`tensor ${name} has dtype ${dtype}; sigmtl reads F32 and F64`);
    const width = dtype === 'F64' ? 8 : 4;
    const [begin, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * width) throw fail(`tensor ${name}: shape [${shape}] needs ${count * width} bytes, offsets give ${end - begin}`);
    if (dataStart + end > bytes.length) throw fail(`tensor ${name} ends at byte ${dataStart + end}, the file has ${bytes.length} (truncated?)`);
    const copy = bytes.slice(dataStart + begin, dataStart + end);
    tensors[name] = { shape, data: dtype === 'F64' ? new Float64Array(copy.buffer, 0, count) : new Float32Array(copy.buffer, 0, count) };
  }
  return { tensors, metadata };
}
