// The model file: safetensors with tensors W [H,d], b [H], A [T,H], c [T], x_mean [d], x_std [d],
// y_mean [T], y_std [T] (0 and 1 for BCE tasks), all F32 row-major, and metadata holding the
// feature and target names, per-task losses, hyper-parameters and the format version.
// This module turns models into bytes and back; src/io/files.ts does the (atomic) file I/O.
import { parameterLayout, view } from '../core/shape.js';
import type { TrainedModel } from '../model/model.js';
import { isLossSpec, LOSS_KINDS, type LossSpec } from '../core/losses.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type Tensor } from './safetensors.js';

export const MODEL_FORMAT = 'sigmtl-model';
export const MODEL_FORMAT_VERSION = '1';

export function encodeModel(model: TrainedModel, extraTensors: Record<string, Tensor> = {}, extraMeta: Record<string, string> = {}): Uint8Array {
  const layout = parameterLayout(model.shape);
  const { features: d, hidden: H, tasks: T } = model.shape;
  // Nothing non-finite is ever saved as a good model.
  for (const [name, values] of [
    ['parameters', model.params],
    ['x_mean', model.x.mean],
    ['x_std', model.x.std],
    ['y_mean', model.y.mean],
    ['y_std', model.y.std],
  ] as const) {
    const bad = Array.prototype.findIndex.call(values, (v: number) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`refusing to save a model whose ${name} hold a non-finite value (${values[bad]} at index ${bad})`);
  }
  const f32 = (values: ArrayLike<number>) => Float32Array.from(values);
  const tensors: Record<string, Tensor> = {
    W: { shape: [H, d], data: f32(view(model.params, layout.W)) },
    b: { shape: [H], data: f32(view(model.params, layout.b)) },
    A: { shape: [T, H], data: f32(view(model.params, layout.A)) },
    c: { shape: [T], data: f32(view(model.params, layout.c)) },
    x_mean: { shape: [d], data: f32(model.x.mean) },
    x_std: { shape: [d], data: f32(model.x.std) },
    y_mean: { shape: [T], data: f32(model.y.mean) },
    y_std: { shape: [T], data: f32(model.y.std) },
    ...extraTensors,
  };
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    features: JSON.stringify(model.featureNames),
    targets: JSON.stringify(model.targetNames),
    losses: JSON.stringify(model.losses),
    hyper: JSON.stringify(model.hyper),
    ...extraMeta,
  };
  return encodeSafetensors(tensors, metadata);
}

export interface DecodedModel {
  model: TrainedModel;
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

export function decodeModel(bytes: Uint8Array, file: string): DecodedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const fail = (why: string) => new SafetensorsError(`${file}: not a sigmtl model: ${why}`);
  if (metadata.format !== MODEL_FORMAT) throw fail(`metadata.format is ${JSON.stringify(metadata.format)}`);
  if (metadata.format_version !== MODEL_FORMAT_VERSION) {
    throw fail(`metadata.format_version is ${JSON.stringify(metadata.format_version)}; this sigmtl reads "${MODEL_FORMAT_VERSION}"`);
  }
  const parse = <T>(key: string): T => {
    try {
      return JSON.parse(metadata[key] ?? '') as T;
    } catch {
      throw fail(`metadata.${key} is missing or not JSON`);
    }
  };
  const names = (key: string): string[] => {
    const value = parse<unknown>(key);
    if (!Array.isArray(value) || value.some((n) => typeof n !== 'string')) throw fail(`metadata.${key} must be a JSON array of strings`);
    return value as string[];
  };
  const featureNames = names('features');
  const targetNames = names('targets');
  const losses = names('losses') as LossSpec[];
  const hyper = parse<TrainedModel['hyper']>('hyper');
  if (typeof hyper !== 'object' || hyper === null || Array.isArray(hyper)) throw fail('metadata.hyper must be a JSON object');
  const W = tensors.W;
  if (!W || W.shape.length !== 2) throw fail('no 2-D tensor W');
  const [H, d] = W.shape as [number, number];
  const T = targetNames.length;
  const expected: Record<string, number[]> = { W: [H, d], b: [H], A: [T, H], c: [T], x_mean: [d], x_std: [d], y_mean: [T], y_std: [T] };
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = tensors[name];
    if (!tensor) throw fail(`tensor ${name} is missing`);
    if (tensor.shape.join(',') !== shape.join(',')) throw fail(`tensor ${name} has shape [${tensor.shape}], expected [${shape}]`);
  }
  if (featureNames.length !== d) throw fail(`${featureNames.length} feature names for d = ${d}`);
  if (losses.length !== T) throw fail(`${losses.length} losses for ${T} targets`);
  const badLoss = losses.find((l) => !isLossSpec(l));
  if (badLoss !== undefined) throw fail(`unknown loss ${JSON.stringify(badLoss)} (known: ${LOSS_KINDS.join(', ')}, with a parameter as 'huber:2' or 'quantile:0.9')`);
  for (const name of Object.keys(expected)) {
    const data = tensors[name]!.data;
    const bad = Array.prototype.findIndex.call(data, (v: number) => !Number.isFinite(v));
    if (bad >= 0) throw fail(`tensor ${name} holds a non-finite value (${data[bad]} at index ${bad})`);
  }
  const positive = Array.prototype.findIndex.call(tensors.x_std!.data, (v: number) => !(v > 0));
  if (positive >= 0) throw fail(`x_std[${positive}] is ${tensors.x_std!.data[positive]}; a standard deviation must be positive`);
  const shape = { features: d, hidden: H, tasks: T };
  const layout = parameterLayout(shape);
  const params = new Float64Array(layout.count);
  for (const name of ['W', 'A', 'b', 'c'] as const) params.set(tensors[name]!.data, layout[name].offset);
  const model: TrainedModel = {
    shape,
    featureNames,
    targetNames,
    losses,
    params,
    x: { mean: Float64Array.from(tensors.x_mean!.data), std: Float64Array.from(tensors.x_std!.data) },
    y: { mean: Float64Array.from(tensors.y_mean!.data), std: Float64Array.from(tensors.y_std!.data) },
    hyper,
  };
  return { model, tensors, metadata };
}
