// Model files: safetensors round trips, clear errors for truncated or foreign files, atomic writes.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { decodeModel, encodeModel } from '../src/io/model-format.js';
import { readFileBytes, writeFileAtomic } from '../src/io/files.js';
import { initParameters } from '../src/core/init.js';
import type { TrainedModel } from '../src/model/model.js';

function model(): TrainedModel {
  const shape = { features: 3, hidden: 2, tasks: 2 };
  return {
    shape,
    featureNames: ['a', 'b', 'c'],
    targetNames: ['y1', 'y2'],
    losses: ['mse', 'bce'],
    params: initParameters(shape, 1),
    x: { mean: Float64Array.from([1, 2, 3]), std: Float64Array.from([1, 0.5, 2]) },
    y: { mean: Float64Array.from([10, 0]), std: Float64Array.from([3, 1]) },
    hyper: { lr: 0.01 },
  };
}

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
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 5), 'cut.safetensors')).toThrow(/cut.safetensors: not a valid safetensors file: tensor \w+ ends at byte \d+, the file has \d+ \(truncated\?\)/);
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
