// Both backends against golden values from an independent implementation: PyTorch autograd and
// torch.optim in float64 (test/fixtures/golden.json, made by scripts/golden/make.py). Unlike the
// float64 twin, these share no formula with sigmtl, so a mistake written into both twins fails here.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import type { BackendConfig, TrainingBackend } from '../src/core/backend.js';
import { LOSS_KINDS, type LossSpec } from '../src/core/losses.js';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from '../src/core/optimizers.js';
import { parameterLayout, PARAMETER_NAMES, type ParameterLayout } from '../src/core/shape.js';
import { WasmBackend } from '../src/backends/wasm.js';
import { CpuBackend } from '../src/backends/cpu.js';
import { WebGpuBackend } from '../src/backends/webgpu.js';
import { compareArrays, describeComparison, type Tolerance } from '../src/util/compare.js';
import { gpu } from './gpu.js';
import { nativeProductBuilds, setNativeProducts } from '../src/cpu/wasm-matmul.js';
import { loadNativeProducts } from '../src/io/native-products.js';

// The CPU engine twice: its products on WebAssembly and on the best native build (native/).
setNativeProducts(loadNativeProducts());
const ENGINE_KINDS = nativeProductBuilds().length ? (['wasm', 'native'] as const) : (['wasm'] as const);

type Params = Record<'W' | 'b' | 'A' | 'c' | 's', number[]>;
interface Run {
  optimizer: OptimizerConfig;
  weighting?: 'equal' | 'uw' | 'gls';
  l1A?: number;
  identityA?: number;
  freezeA?: boolean;
  after: Record<'1' | '5', Params>;
}
interface Case {
  name: string;
  d: number;
  H: number;
  T: number;
  N: number;
  losses: LossSpec[];
  weights: number[];
  X: number[];
  Y: number[];
  mask: number[];
  params: Params;
  forward: { S: number[]; Y: number[] };
  loss: { perTask: number[]; total: number };
  grads: Params;
  /** Uncertainty weighting: the loss and its gradients, s included. */
  uw: { total: number; grads: Params };
  /** The geometric loss strategy: the loss and its gradients. */
  gls: { total: number; grads: Params };
  runs: Run[];
}

const golden = JSON.parse(readFileSync('test/fixtures/golden.json', 'utf8')) as { generator: string; cases: Case[] };

/** Every segment the flat layout holds: the model's W, A, b, c and the log-variances s. */
const SEGMENTS = [...PARAMETER_NAMES, 's'] as const;

/** W, b, A, c, s → the flat parameter layout (zeros in the alignment padding). */
function flat(layout: ParameterLayout, p: Params): Float64Array {
  const out = new Float64Array(layout.count);
  for (const name of SEGMENTS) out.set(p[name], layout[name].offset);
  return out;
}

// f64 against f64: only summation order differs. f32 against f64: the GPU's rounding, which Adam
// amplifies where a gradient is near zero (its step is ±lr whatever the size of g).
type Kind = 'cpu' | 'webgpu' | 'wasm' | 'native';
const TOLERANCE: Record<Kind, { forward: Tolerance; grads: Tolerance; steps: Tolerance; adam: Tolerance }> = {
  cpu: { forward: { atol: 1e-12, rtol: 1e-10 }, grads: { atol: 1e-12, rtol: 1e-9 }, steps: { atol: 1e-12, rtol: 1e-9 }, adam: { atol: 1e-11, rtol: 1e-9 } },
  webgpu: { forward: { atol: 2e-6, rtol: 1e-5 }, grads: { atol: 2e-6, rtol: 1e-4 }, steps: { atol: 2e-6, rtol: 1e-4 }, adam: { atol: 5e-5, rtol: 1e-3 } },
  // The CPU engine: float32 products like the GPU's, the losses' sums in float64.
  wasm: { forward: { atol: 2e-6, rtol: 1e-5 }, grads: { atol: 2e-6, rtol: 1e-4 }, steps: { atol: 2e-6, rtol: 1e-4 }, adam: { atol: 5e-5, rtol: 1e-3 } },
  native: { forward: { atol: 2e-6, rtol: 1e-5 }, grads: { atol: 2e-6, rtol: 1e-4 }, steps: { atol: 2e-6, rtol: 1e-4 }, adam: { atol: 5e-5, rtol: 1e-3 } },
};

function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: Tolerance) {
  const comparison = compareArrays(got, want, tolerance);
  expect(comparison.ok, describeComparison(what, comparison, tolerance)).toBe(true);
}

const backends: TrainingBackend[] = [];
afterAll(() => backends.forEach((b) => b.destroy()));

async function open(kind: Kind, config: BackendConfig): Promise<TrainingBackend> {
  const backend =
    kind === 'cpu'
      ? new CpuBackend(config)
      : kind === 'webgpu'
        ? await WebGpuBackend.create(await gpu(), config)
        : await WasmBackend.create(config, { threads: 1, native: kind === 'native' });
  backends.push(backend);
  return backend;
}

test('the fixtures come from PyTorch and cover every loss', () => {
  expect(golden.generator).toMatch(/PyTorch/);
  expect(new Set(golden.cases.flatMap((c) => c.losses.map((spec) => spec.split(':')[0])))).toEqual(new Set(LOSS_KINDS));
  expect(golden.cases.length).toBeGreaterThanOrEqual(3);
});

describe.each(['cpu', 'webgpu', ...ENGINE_KINDS] as const)('%s backend against PyTorch', (kind) => {
  const tol = TOLERANCE[kind];
  describe.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const shape = { features: c.d, hidden: c.H, tasks: c.T };
    const layout = parameterLayout(shape);
    const tasks = c.losses.map((loss, t) => ({ loss, weight: c.weights[t]! }));
    const data = { rows: c.N, X: Float32Array.from(c.X), Y: Float32Array.from(c.Y), mask: Float32Array.from(c.mask) };

    test('forward outputs, per-task losses and gradients', async () => {
      const backend = await open(kind, { shape, tasks, optimizer: DEFAULT_OPTIMIZER, maxBatch: c.N });
      backend.setParameters(flat(layout, c.params));
      backend.setDataset(data);
      expectClose('forward Y', await backend.predict(data.X, c.N), c.forward.Y, tol.forward);
      const { perTask, grads } = await backend.gradients(0, c.N);
      expectClose('per-task losses', perTask, c.loss.perTask, tol.forward);
      const want = flat(layout, c.grads);
      for (const name of SEGMENTS) {
        expectClose(
          `∂L/∂${name}`,
          grads.subarray(layout[name].offset, layout[name].offset + layout[name].size),
          want.subarray(layout[name].offset, layout[name].offset + layout[name].size),
          tol.grads,
        );
      }
    });

    test.each([
      ['uw', 'uncertainty weighting: Σ w_t(c_t·e^{−s_t}·L_t + ½·s_t), s included'],
      ['gls', 'the geometric loss strategy: exp(Σ w_t·log L_t / Σ w_t)'],
    ] as const)('%s, the gradients of %s', async (weighting, _what) => {
      const backend = await open(kind, { shape, tasks, optimizer: DEFAULT_OPTIMIZER, maxBatch: c.N, weighting });
      backend.setParameters(flat(layout, c.params));
      backend.setDataset(data);
      const { perTask, grads } = await backend.gradients(0, c.N);
      expectClose('per-task losses (unweighted)', perTask, c.loss.perTask, tol.forward);
      const want = flat(layout, c[weighting].grads);
      for (const name of SEGMENTS) {
        expectClose(
          `∂L/∂${name}`,
          grads.subarray(layout[name].offset, layout[name].offset + layout[name].size),
          want.subarray(layout[name].offset, layout[name].offset + layout[name].size),
          tol.grads,
        );
      }
    });

    test.each(c.runs.map((run) => [describeRun(run), run] as const))('parameters after 1 and 5 steps: %s', async (_label, run) => {
      const config = {
        shape,
        tasks,
        optimizer: run.optimizer,
        maxBatch: c.N,
        weighting: run.weighting,
        coupling: { l1A: run.l1A, identityA: run.identityA, freezeA: run.freezeA },
      };
      const backend = await open(kind, config);
      backend.setParameters(flat(layout, c.params));
      backend.setDataset(data);
      const step = { start: 0, rows: c.N, learningRate: run.optimizer.learningRate };
      const tolerance = run.optimizer.kind === 'adam' ? tol.adam : tol.steps;
      await backend.trainSteps([step]);
      expectClose('after 1 step', await backend.getParameters(), flat(layout, run.after['1']), tolerance);
      await backend.trainSteps([step, step, step, step]);
      expectClose('after 5 steps', await backend.getParameters(), flat(layout, run.after['5']), tolerance);
    });
  });
});

function describeRun(run: Run): string {
  const o = run.optimizer;
  return [
    o.kind === 'adam' && o.weightDecay > 0 ? `AdamW (decay ${o.weightDecay})` : o.kind,
    `lr ${o.learningRate}`,
    run.l1A ? `A-l1 ${run.l1A}` : '',
    run.identityA ? `A-identity ${run.identityA}` : '',
    run.freezeA ? 'A frozen' : '',
    run.weighting === 'uw' ? 'uncertainty weighting' : '',
    run.weighting === 'gls' ? 'geometric loss strategy' : '',
  ]
    .filter(Boolean)
    .join(', ');
}
