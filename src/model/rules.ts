// The update rules of a model's parameters: weight decay on W and A (not the biases), an optional
// frozen coupling matrix, and optional regularisers on A (L1, or toward the identity).
import type { UpdateRules } from '../kernels/optimizer.js';
import type { ParameterLayout } from './layout.js';

export interface CouplingOptions {
  /** Keep A as initialised. */
  freezeA?: boolean;
  /** λ1 of λ1·Σ|A|. */
  l1A?: number;
  /** λI of (λI/2)·‖A − I‖². */
  identityA?: number;
}

export function updateRules(layout: ParameterLayout, options: CouplingOptions = {}): UpdateRules {
  const A = layout.A;
  return {
    decayCount: layout.decayCount,
    frozen: options.freezeA ? [A.offset, A.offset + A.size] : [0, 0],
    coupling: { start: A.offset, end: A.offset + A.size, cols: layout.shape.hidden, l1: options.l1A ?? 0, toIdentity: options.identityA ?? 0 },
  };
}
