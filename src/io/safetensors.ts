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
  // F64 tensors first: every tensor then starts at a multiple of its own width (an F64 after an
  // odd number of F32 values would not), with no gap in the buffer, as the format asks.
  const ordered = [...Object.entries(tensors)].sort(([, a], [, b]) => b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT);
  let offset = 0;
  for (const [name, tensor] of ordered) {
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
  for (const [, tensor] of ordered) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), at);
    at += tensor.data.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** The largest header sigmtl reads (a model's header is a few kB). */
export const MAX_HEADER_BYTES = 100_000_000;

const isNonNegativeInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and checks a safetensors file: the header's size against the file, every entry's dtype,
 * shape and offsets (whole, in order, within the data, not overlapping), and string metadata.
 * Nothing is allocated from the header's claims before they are checked against the file.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const fail = (why: string) => new SafetensorsError(`${file}: not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw fail(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${headerLength} is over sigmtl's limit of ${MAX_HEADER_BYTES} bytes`);
  if (Number(headerLength) > bytes.length - 8) throw fail(`header length ${headerLength} exceeds the file (${bytes.length} bytes; truncated?)`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch {
    throw fail('the header is not JSON (UTF-8)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('the header is not a JSON object');
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  const ranges: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        throw fail('__metadata__ must be an object of strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (typeof entry !== 'object' || entry === null) throw fail(`tensor ${name} is ${JSON.stringify(entry)}, not an object`);
    const { dtype, shape, data_offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32' && dtype !== 'F64') throw fail(`tensor ${name} has dtype ${JSON.stringify(dtype)}; sigmtl reads F32 and F64`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) throw fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isNonNegativeInteger) || data_offsets[0]! > data_offsets[1]!) {
      throw fail(`tensor ${name}: data_offsets ${JSON.stringify(data_offsets)} must be [begin, end] with 0 ≤ begin ≤ end`);
    }
    const width = dtype === 'F64' ? 8 : 4;
    const [begin, end] = data_offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * width) throw fail(`tensor ${name}: shape [${shape}] needs ${count * width} bytes, offsets give ${end - begin}`);
    if (dataStart + end > bytes.length) throw fail(`tensor ${name} ends at byte ${dataStart + end}, the file has ${bytes.length} (truncated?)`);
    if (begin % width !== 0) throw fail(`tensor ${name}: offset ${begin} is not a multiple of ${width}`);
    ranges.push([begin, end, name]);
    const copy = bytes.slice(dataStart + begin, dataStart + end);
    tensors[name] = { shape: shape as number[], data: dtype === 'F64' ? new Float64Array(copy.buffer, 0, count) : new Float32Array(copy.buffer, 0, count) };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) throw fail(`tensors ${ranges[i - 1]![2]} and ${ranges[i]![2]} overlap (bytes ${ranges[i]![0]}–${ranges[i - 1]![1]})`);
  }
  return { tensors, metadata };
}
