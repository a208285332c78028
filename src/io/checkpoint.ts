// Checkpoints: the model file's tensors plus the exact float64 parameters, the optimizer state
// and where the run stands (next epoch, RNG state), so --resume continues exactly.
import type { OptimizerState } from '../core/optimizers.js';
import { decodeModel, encodeModel } from './model-format.js';
import { decodeSafetensors, SafetensorsError } from './safetensors.js';
import type { ParameterLayout } from '../core/shape.js';
import { famoStateSize } from '../core/weighting.js';
import type { TrainedModel } from '../model/model.js';
import type { ResumeState } from '../train/trainer.js';

export function encodeCheckpoint(model: TrainedModel, optimizer: OptimizerState, state: ResumeState): Uint8Array {
  const n = model.params.length;
  const tensor = (values: ArrayLike<number>) => ({ shape: [n], data: Float64Array.from(values) });
  return encodeModel(
    model,
    {
      'checkpoint.params': tensor(model.params),
      'checkpoint.state1': tensor(optimizer.state1),
      'checkpoint.state2': tensor(optimizer.state2),
      ...(state.best ? { 'checkpoint.best': tensor(state.best.params) } : {}),
      ...(optimizer.weighting ? { 'checkpoint.weighting': { shape: [optimizer.weighting.length], data: Float64Array.from(optimizer.weighting) } } : {}),
    },
    {
      checkpoint: JSON.stringify({
        nextEpoch: state.epoch,
        rngState: state.rngState,
        optimizerStep: optimizer.step,
        best: state.best && { epoch: state.best.epoch, loss: state.best.loss },
        epochLosses: state.epochLosses,
      }),
    },
  );
}

export interface Checkpoint {
  /** The model as it stood (names, losses, standardisation, hyperparameters). */
  model: TrainedModel;
  params: Float64Array;
  optimizer: OptimizerState;
  resume: ResumeState;
}

/** A checkpoint's bytes (`name` for errors: a file name) for a model of this layout. */
export function decodeCheckpoint(bytes: Uint8Array, name: string, layout: ParameterLayout): Checkpoint {
  const path = name;
  const { model, tensors, metadata } = decodeModel(bytes, path);
  const fail = (why: string) => new SafetensorsError(`${path}: not a usable checkpoint: ${why}`);
  if (!metadata.checkpoint) throw fail('no checkpoint metadata (is this a model file?)');
  let info: { nextEpoch: number; rngState: number; optimizerStep: number; best?: { epoch: number; loss: number }; epochLosses?: number[][] };
  try {
    info = JSON.parse(metadata.checkpoint);
  } catch {
    throw fail('metadata.checkpoint is not JSON');
  }
  const integer = (name: string, value: unknown, max: number) => {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max) throw fail(`${name} is ${JSON.stringify(value)}, not an integer in 0..${max}`);
  };
  integer('nextEpoch', info?.nextEpoch, 1e7);
  integer('rngState', info.rngState, 0xffffffff);
  integer('optimizerStep', info.optimizerStep, 1e12);
  if (info.best !== undefined) {
    integer('best.epoch', info.best?.epoch, info.nextEpoch);
    if (typeof info.best.loss !== 'number' || !Number.isFinite(info.best.loss)) throw fail(`best.loss is ${JSON.stringify(info.best.loss)}`);
  }
  const T = layout.shape.tasks;
  const losses = info.epochLosses;
  if (
    losses !== undefined &&
    (!Array.isArray(losses) || losses.length > 2 || losses.some((l) => !Array.isArray(l) || l.length !== T || l.some((v) => typeof v !== 'number' || !Number.isFinite(v))))
  ) {
    throw fail(`epochLosses must be at most two lists of ${T} finite numbers`);
  }
  const get = (name: string, count = layout.count) => {
    const t = tensors[name];
    if (!t || t.data.length !== count) throw fail(`${name} missing or not ${count} values (a different model shape?)`);
    const bad = Array.prototype.findIndex.call(t.data, (v: number) => !Number.isFinite(v));
    if (bad >= 0) throw fail(`${name}[${bad}] is ${t.data[bad]}: a checkpoint must hold finite values`);
    return Float64Array.from(t.data);
  };
  return {
    model,
    params: get('checkpoint.params'),
    optimizer: {
      step: info.optimizerStep,
      state1: get('checkpoint.state1'),
      state2: get('checkpoint.state2'),
      // A stateful weighting's state (FAMO's), when the run had one.
      ...(tensors['checkpoint.weighting'] && { weighting: get('checkpoint.weighting', famoStateSize(T)) }),
    },
    resume: {
      epoch: info.nextEpoch,
      rngState: info.rngState,
      epochLosses: losses,
      best: info.best && { ...info.best, params: get('checkpoint.best') },
    },
  };
}

/** Whether these bytes are a sigmtl checkpoint (a safetensors file with checkpoint metadata). */
export function isCheckpoint(bytes: Uint8Array): boolean {
  try {
    return decodeSafetensors(bytes, 'checkpoint').metadata.checkpoint !== undefined;
  } catch {
    return false;
  }
}
