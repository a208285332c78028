// One training step as an ordered plan: the five products (with their operands, transposes,
// fused epilogues and row sums) and the hook points between them. The CPU engine
// (src/backends/wasm.ts) runs the plan as written; the WebGPU backend (src/backends/webgpu.ts)
// takes each product's kernel variant, label and dimensions from it. The float64 reference
// (src/cpu/reference.ts) keeps its own plain loops on purpose: it is the oracle the other two are
// checked against, so a mistake in this plan shows up as a difference from it (and from PyTorch's
// golden values and finite differences), not as agreement.
//
//   S = σ(X·Wᵀ + b)   Y = S·Aᵀ + c   [loss: L_t, G_Y; the weighting's scaleTasks]
//   dA = G_Yᵀ·S, dc = Σ_n G_Y   [the weighting's aggregate: G_Y's columns scaled by α]
//   G_Z = (G_Y·A) ⊙ S(1−S)   dW = G_Zᵀ·X, db = Σ_n G_Z   [update]
import type { EpilogueName } from './epilogues.js';

/** The matrices of a step: the batch X, the parameters, activations and gradients. */
export type Operand = 'X' | 'W' | 'b' | 'A' | 'c' | 'S' | 'Y' | 'G_Y' | 'G_Z' | 'dW' | 'db' | 'dA' | 'dc';

/** A dimension of a step: the batch's rows, features d, hidden units H, tasks T. */
export type Dim = 'rows' | 'd' | 'H' | 'T';

export interface ProductStage {
  readonly stage: 'product';
  readonly label: string;
  /** out = epilogue(op(a)·op(b)), op(a) M×K, op(b) K×N; rowSums = Σ_k op(a)[m,k] (a bias gradient). */
  readonly a: Operand;
  readonly b: Operand;
  readonly out: Operand;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly epilogue: EpilogueName;
  /** The epilogue's operand: the bias (bias, biasSigmoid) or S (sigmoidGrad). */
  readonly aux?: Operand;
  readonly rowSums?: Operand;
  readonly M: Dim;
  readonly N: Dim;
  readonly K: Dim;
}

/** Where the step leaves the products: the loss and G_Y (and a weighting's scaleTasks), an aggregator, the update. */
export interface HookStage {
  readonly stage: 'loss' | 'aggregate' | 'update';
  readonly label: string;
}

export type StepStage = ProductStage | HookStage;

const product = (p: Omit<ProductStage, 'stage' | 'transposeA' | 'transposeB'> & Partial<Pick<ProductStage, 'transposeA' | 'transposeB'>>): ProductStage => ({
  stage: 'product',
  transposeA: false,
  transposeB: false,
  ...p,
});

/** The step's products by role (the WebGPU backend keeps a kernel and bind group per role). */
export const STEP_PRODUCTS = {
  hidden: product({ label: 'S = σ(X·Wᵀ + b)', a: 'X', b: 'W', out: 'S', transposeB: true, epilogue: 'biasSigmoid', aux: 'b', M: 'rows', N: 'H', K: 'd' }),
  output: product({ label: 'Y = S·Aᵀ + c', a: 'S', b: 'A', out: 'Y', transposeB: true, epilogue: 'bias', aux: 'c', M: 'rows', N: 'T', K: 'H' }),
  gradA: product({ label: 'dA = G_Yᵀ·S, dc', a: 'G_Y', b: 'S', out: 'dA', transposeA: true, epilogue: 'none', rowSums: 'dc', M: 'T', N: 'H', K: 'rows' }),
  gradHidden: product({ label: 'G_Z = (G_Y·A) ⊙ S(1−S)', a: 'G_Y', b: 'A', out: 'G_Z', epilogue: 'sigmoidGrad', aux: 'S', M: 'rows', N: 'H', K: 'T' }),
  gradW: product({ label: 'dW = G_Zᵀ·X, db', a: 'G_Z', b: 'X', out: 'dW', transposeA: true, epilogue: 'none', rowSums: 'db', M: 'H', N: 'd', K: 'rows' }),
} as const satisfies Record<string, ProductStage>;

export type ProductRole = keyof typeof STEP_PRODUCTS;

/** The whole step, in order. */
export const STEP_PLAN: readonly StepStage[] = [
  STEP_PRODUCTS.hidden,
  STEP_PRODUCTS.output,
  { stage: 'loss', label: 'losses, weighting, G_Y' },
  STEP_PRODUCTS.gradA,
  { stage: 'aggregate', label: 'task Gramian, α' },
  STEP_PRODUCTS.gradHidden,
  STEP_PRODUCTS.gradW,
  { stage: 'update', label: 'optimizer update' },
];

/** The forward pass alone (prediction): the plan up to its first hook. */
export const FORWARD_PLAN: readonly ProductStage[] = [STEP_PRODUCTS.hidden, STEP_PRODUCTS.output];

/** A plan dimension's size. */
export function dimSize(dim: Dim, sizes: { rows: number; features: number; hidden: number; tasks: number }): number {
  return dim === 'rows' ? sizes.rows : dim === 'd' ? sizes.features : dim === 'H' ? sizes.hidden : sizes.tasks;
}

/** The gradient each product output or row sum is, by parameter (W, b, A, c). */
export const GRADIENT_OF: Partial<Record<Operand, 'W' | 'b' | 'A' | 'c'>> = { dW: 'W', db: 'b', dA: 'A', dc: 'c' };
