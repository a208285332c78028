// Model files: safetensors round trips, clear errors for truncated or foreign files, atomic writes.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { decodeModel, encodeModel } from '../src/io/model-format.js';
import { readFileBytes, writeFileAtomic } from '../src/io/files.js';
import { smallModel } from './small-model.js';

const model = smallModel;

describe('safetensors', () => {
  test('header layout: u64 length, JSON, tensors, 8-byte aligned', () => {
    const bytes = encodeSafetensors({ t: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) } }, { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.t).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(header.__metadata__).toEqual({ k: 'v' });
    expect((8 + n) % 8).toBe(0);
    expect(Array.from(decodeSafetensors(bytes, 'x').tensors.t!.data)).toEqual([1, 2, 3, 4]);
  });

  test('an odd count of F32 values before F64 ones: every tensor still starts at a multiple of its width, no gaps', () => {
    // A checkpoint of sarcos-arm at H = 16 failed to resume this way (F64 parameters at offset 15,100).
    const odd = Float32Array.from([1, 2, 3]);
    const exact = Float64Array.from([0.1, 1 / 3]);
    const bytes = encodeSafetensors({ a: { shape: [3], data: odd }, b: { shape: [2], data: exact }, c: { shape: [1], data: Float32Array.from([7]) } }, {});
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect([header.b.data_offsets, header.a.data_offsets, header.c.data_offsets]).toEqual([
      [0, 16],
      [16, 28],
      [28, 32],
    ]);
    const { tensors } = decodeSafetensors(bytes, 'x');
    expect(Array.from(tensors.b!.data)).toEqual([0.1, 1 / 3]);
    expect(Array.from(tensors.a!.data)).toEqual([1, 2, 3]);
    expect(Array.from(tensors.c!.data)).toEqual([7]);
  });

  test('a model round-trips with names, shapes and metadata', () => {
    const m = model();
    const { model: back, tensors } = decodeModel(encodeModel(m), 'm.safetensors');
    expect(tensors.W!.shape).toEqual([2, 3]);
    expect(tensors.A!.shape).toEqual([2, 2]);
    expect(back.featureNames).toEqual(m.featureNames);
    expect(back.losses).toEqual(['mse', 'bce']);
    expect(Array.from(back.params)).toEqual(Array.from(Float32Array.from(m.params)));
    expect(Array.from(back.y.std)).toEqual([3, 1]);
  });

  test('a truncated file', () => {
    const bytes = encodeModel(model());
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 5), 'cut.safetensors')).toThrow(
      /cut.safetensors: not a valid safetensors file: tensor \w+ ends at byte \d+, the file has \d+ \(truncated\?\)/,
    );
    expect(() => decodeModel(bytes.subarray(0, 4), 'tiny.safetensors')).toThrow('tiny.safetensors: not a valid safetensors file: only 4 bytes');
  });

  test('a foreign file', () => {
    expect(() => decodeModel(new TextEncoder().encode('a,b\n1,2\n'), 'data.csv')).toThrow(/data.csv: not a valid safetensors file/);
    const other = encodeSafetensors({ W: { shape: [1], data: new Float32Array(1) } }, {});
    expect(() => decodeModel(other, 'other.safetensors')).toThrow('other.safetensors: not a sigmtl model: metadata.format is undefined');
  });
});

test('atomic writes leave the old file intact on failure and no temporary files behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigmtl-'));
  const path = join(dir, 'm.safetensors');
  writeFileSync(path, 'old');
  await writeFileAtomic(path, 'new');
  expect(new TextDecoder().decode(await readFileBytes(path))).toBe('new');
  await expect(writeFileAtomic(join(dir, 'm.safetensors', 'x'), 'y')).rejects.toThrow();
  expect(readdirSync(dir)).toEqual(['m.safetensors']);
});

describe('hostile model files', () => {
  /** A safetensors file with this header (as JSON text) and `dataBytes` zero bytes after it. */
  const file = (header: unknown, dataBytes = 64) => {
    const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const tensor = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

  test.each([
    ['overlapping tensors', { a: tensor(0, 16), b: tensor(8, 24) }, 'tensors a and b overlap'],
    ['a negative offset', { a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, 'tensor a: data_offsets [-8,0] must be [begin, end]'],
    ['a null header', 'null', 'the header is not a JSON object'],
    ['a null tensor', { a: null }, 'tensor a is null, not an object'],
    ['a shape that is not sizes', { a: { dtype: 'F32', shape: ['2'], data_offsets: [0, 8] } }, 'tensor a: shape ["2"] is not a list of sizes'],
    ['metadata that is not strings', { __metadata__: { n: 1 } }, '__metadata__ must be an object of strings'],
  ])('%s', (_name, header, message) => {
    expect(() => decodeSafetensors(file(header), 'bad.safetensors')).toThrow(`bad.safetensors: not a valid safetensors file: ${message}`);
  });

  test('a header over the limit is reported as such, not as past the end of the file', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => decodeSafetensors(bytes, 'big.safetensors')).toThrow("header length 1099511627776 is over sigmtl's limit");
  });

  test('non-ASCII names: the header is padded in bytes, so the data stays 8-aligned and readable', () => {
    const m = { ...model(), featureNames: ['é', 'σ', 'c'], targetNames: ['ünï', 'y2'] };
    const bytes = encodeModel(m);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(decodeModel(bytes, 'x').model.featureNames).toEqual(['é', 'σ', 'c']);
  });

  test.each([
    ['targets as a string', { targets: '"y1"' }, 'metadata.targets must be a JSON array of strings'],
    ['an unknown loss', { losses: '["mse","hinge"]' }, 'unknown loss "hinge"'],
    ['a numeric format version', { format_version: 1 }, null],
  ])('model metadata: %s', (_name, patch, message) => {
    const { tensors, metadata } = decodeSafetensors(encodeModel(model()), 'm');
    const bytes = encodeSafetensors(tensors, { ...metadata, ...(patch as Record<string, string>) });
    if (message) expect(() => decodeModel(bytes, 'm.safetensors')).toThrow(message);
    else expect(() => decodeSafetensors(bytes, 'm')).toThrow('__metadata__ must be an object of strings');
  });

  test('a model with a non-finite parameter is neither saved nor loaded', () => {
    const bad = model();
    bad.params[0] = NaN;
    expect(() => encodeModel(bad)).toThrow('refusing to save a model whose parameters hold a non-finite value (NaN at index 0)');
    const { tensors, metadata } = decodeSafetensors(encodeModel(model()), 'm');
    tensors.W!.data[1] = Infinity;
    expect(() => decodeModel(encodeSafetensors(tensors, metadata), 'm.safetensors')).toThrow('tensor W holds a non-finite value (Infinity at index 1)');
  });
});

test('predict chunks: a very wide model predicts in small chunks instead of one huge buffer', async () => {
  const { predictChunk } = await import('../src/api/model.js');
  expect(predictChunk(5000, { features: 10, hidden: 70_000, tasks: 3 })).toBe(239);
  expect(predictChunk(5000, { features: 10, hidden: 8, tasks: 3 })).toBe(4096);
  expect(predictChunk(3, { features: 10, hidden: 8, tasks: 3 })).toBe(3);
});

test('atomic writes remove temporaries left by a killed writer (dead pid), not a live one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigmtl-stale-'));
  const dead = join(dir, '.m.safetensors.4194000.1.tmp');
  const live = join(dir, `.m.safetensors.${process.ppid}.1.tmp`);
  const other = join(dir, '.other.safetensors.4194000.1.tmp');
  for (const path of [dead, live, other]) writeFileSync(path, 'half');
  await writeFileAtomic(join(dir, 'm.safetensors'), 'whole');
  expect(readdirSync(dir).sort()).toEqual(['.m.safetensors.' + process.ppid + '.1.tmp', '.other.safetensors.4194000.1.tmp', 'm.safetensors'].sort());
});
