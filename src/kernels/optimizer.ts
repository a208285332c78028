// Host side of shaders/optimizer.wgsl: one SGD / momentum / Adam step over the flat parameter
// buffer. OptimizerStep and the OPTIMIZER_* codes are declared here and in src/core/optimizers.ts,
// and generated into the shader.
import { biasCorrections, OPTIMIZERS, OPTIMIZER_WGSL, type OptimizerConfig, type UpdateRules } from '../core/optimizers.js';
import { wgslConstant, wgslPreamble, wgslStruct } from '../core/wgsl.js';
import type { Kernel, KernelRegistry } from '../gpu/registry.js';
import { composeWgsl, ELEMENTWISE_WORKGROUP, SHADER_FILES } from './shaders.js';

export const OptimizerStep = wgslStruct('OptimizerStep', [
  ['count', 'u32'],
  ['kind', 'u32'],
  ['decayCount', 'u32'],
  ['frozenStart', 'u32'],
  ['frozenEnd', 'u32'],
  ['couplingStart', 'u32'],
  ['couplingEnd', 'u32'],
  ['couplingCols', 'u32'],
  ['lr', 'f32'],
  ['weightDecay', 'f32'],
  ['momentum', 'f32'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['epsilon', 'f32'],
  ['biasCorrection1', 'f32'],
  ['biasCorrection2', 'f32'],
  ['couplingL1', 'f32'],
  ['couplingToIdentity', 'f32'],
]);

const SOURCE = composeWgsl(wgslPreamble(OPTIMIZER_WGSL, wgslConstant('WORKGROUP_SIZE', ELEMENTWISE_WORKGROUP), OptimizerStep.wgsl), SHADER_FILES.optimizer);

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
    source: SOURCE,
    entryPoint: 'main',
    inputs: ['grads'],
    outputs: ['params', 'state1', 'state2'],
    uniform: 'opt',
  });
}

export function writeOptimizerStep(view: DataView, config: OptimizerConfig, v: OptimizerStepValues): void {
  const { decayCount, frozen, coupling } = v.rules;
  const [biasCorrection1, biasCorrection2] = biasCorrections(config, v.step);
  OptimizerStep.write(view, {
    count: v.count,
    kind: OPTIMIZERS[config.kind].code,
    decayCount,
    frozenStart: frozen[0],
    frozenEnd: frozen[1],
    couplingStart: coupling.start,
    couplingEnd: coupling.end,
    couplingCols: coupling.cols,
    lr: v.learningRate,
    weightDecay: config.weightDecay,
    momentum: config.momentum,
    beta1: config.beta1,
    beta2: config.beta2,
    epsilon: config.epsilon,
    biasCorrection1,
    biasCorrection2,
    couplingL1: coupling.l1,
    couplingToIdentity: coupling.toIdentity,
  });
}
