// NumPy's .npy format (version 1.0) for float32 arrays: the data shards of `sigmtl ddp`, which
// PyTorch reads without extra packages (and numpy.load reads as they are).
//   "\x93NUMPY", 1, 0, header length (u16 LE), a Python dict literal padded with spaces to a
//   64-byte boundary and ended by "\n", then the values, little-endian, C order.

const MAGIC = [0x93, ...new TextEncoder().encode('NUMPY'), 1, 0];

export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new RangeError(`npy: shape [${shape}] holds ${count} values, got ${values.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = MAGIC.length + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(MAGIC.length + 2 + headerBytes.length + values.byteLength);
  out.set(MAGIC);
  new DataView(out.buffer).setUint16(MAGIC.length, headerBytes.length, true);
  out.set(headerBytes, MAGIC.length + 2);
  const data = new DataView(out.buffer, MAGIC.length + 2 + headerBytes.length);
  for (let i = 0; i < values.length; i++) data.setFloat32(4 * i, values[i]!, true);
  return out;
}
