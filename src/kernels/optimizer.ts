// Host side of shaders/optimizer.wgsl: one SGD / momentum / Adam step over the flat parameter buffer.
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { writeF32s, writeU32s } from '../gpu/uniforms.js';
import { WGSL } from './shaders.js';

export type OptimizerKind = 'sgd' | 'momentum' | 'adam';
const KIND_CODE: Record<OptimizerKind, number> = { sgd: 0, momentum: 1, adam: 2 };

export interface OptimizerConfig {
  kind: OptimizerKind;
  learningRate: number;
  /** Decoupled weight decay λ on W and A (not the biases). */
  weightDecay: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  kind: 'adam',
  learningRate: 0.01,
  weightDecay: 0,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};

/** Which parameters get what: weight decay, freezing, the coupling regulariser (src/model/rules.ts). */
export interface UpdateRules {
  /** Elements below this get weight decay (W and A). */
  decayCount: number;
  /** [start, end) left unchanged. */
  frozen: readonly [number, number];
  /** The coupling matrix A's range and columns, and λ1 (L1) and λI (toward the identity). */
  coupling: { start: number; end: number; cols: number; l1: number; toIdentity: number };
}

/** Everything one update needs besides the buffers. */
export interface OptimizerStepValues {
  count: number;
  rules: UpdateRules;
  /** 1-based step number, for Adam's bias correction. */
  step: number;
  learningRate: number;
}

export function optimizerKernel(registry: KernelRegistry): Promise<Kernel> {
  return registry.get({
    name: 'optimizer',
    source: WGSL.optimizer,
    entryPoint: 'main',
    inputs: ['grads'],
    outputs: ['params', 'state1', 'state2'],
  });
}

export function writeOptimizerStep(view: DataView, config: OptimizerConfig, v: OptimizerStepValues): void {
  const { decayCount, frozen, coupling } = v.rules;
  writeU32s(view, [v.count, KIND_CODE[config.kind], decayCount, frozen[0], frozen[1], coupling.start, coupling.end, coupling.cols]);
  writeF32s(
    view,
    [
      v.learningRate,
      config.weightDecay,
      config.momentum,
      config.beta1,
      config.beta2,
      config.epsilon,
      1 / (1 - Math.pow(config.beta1, v.step)),
      1 / (1 - Math.pow(config.beta2, v.step)),
      coupling.l1,
      coupling.toIdentity,
    ],
    32,
  );
}
