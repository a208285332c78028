// The mutation check (`npm run test:mutations`): each entry writes one deliberate mistake into the
// code — into both twins where the float64 reference mirrors the kernel, so that the twin
// comparison alone cannot see it — runs the fast tests, and restores the files. It fails unless
// every mutation is caught by a failing assertion. A new formula adds its mutation here.
// `node scripts/mutations.mjs [--only TEXT]`.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TESTS = [
  'test/golden.test.ts',
  'test/reference-gradients.test.ts',
  'test/elementwise.test.ts',
  'test/weighting.test.ts',
  'test/aggregators.test.ts',
  'test/famo.test.ts',
  'test/stream.test.ts',
];

/** edits: [file, exact text (must occur once), replacement]; tests: other test files (and vitest filters) than TESTS. */
const MUTATIONS = [
  {
    name: 'native products: σ with a wrong polynomial term (the float64 reference is the oracle)',
    tests: ['test/native.test.ts', 'test/golden.test.ts'],
    edits: [['native/products.c', '  p = p * r + 0.5f;', '  p = p * r + 0.45f;']],
  },
  {
    name: "native products: a column-panel tile's second vector read from the first's columns",
    tests: ['test/native.test.ts', 'test/wasm-backend.test.ts'],
    edits: [['native/products.c', 'const int n1 = n0 + VL;', 'const int n1 = n0;']],
  },
  {
    name: 'native products: a K block past the first overwrites C instead of adding to it',
    tests: ['test/native.test.ts'],
    edits: [['native/products.c', 'if (!first) x += load_part(c + nb, n);', 'if (!first) x += 0;']],
  },
  {
    name: "native optimizer update: Adam's g² rounded before its (1 − β2) factor (the float64 twin's order, which the native loop must keep bit for bit)",
    tests: ['test/native.test.ts'],
    edits: [['native/addon.c', 'const double s = beta2 * second[i] + (1 - beta2) * gi * gi;', 'const double s = beta2 * second[i] + (1 - beta2) * (gi * gi);']],
  },
  {
    name: "step plan: G_Z without the sigmoid's derivative (the engine and WebGPU both follow the plan)",
    tests: ['test/step-plan.test.ts', 'test/wasm-backend.test.ts'],
    edits: [['src/core/step-plan.ts', "epilogue: 'sigmoidGrad', aux: 'S'", "epilogue: 'none', aux: 'S'"]],
  },
  {
    name: 'Adam bias correction dropped',
    edits: [['src/core/optimizers.ts', 'return [1 / (1 - config.beta1 ** step), 1 / (1 - config.beta2 ** step)];', 'return [1, 1];']],
  },
  {
    name: 'Adam β1 and β2 swapped',
    edits: [
      ['shaders/optimizer.wgsl', 'let m = opt.beta1 * state1[i] + (1.0 - opt.beta1) * g;', 'let m = opt.beta2 * state1[i] + (1.0 - opt.beta2) * g;'],
      ['shaders/optimizer.wgsl', 'let v = opt.beta2 * state2[i] + (1.0 - opt.beta2) * g * g;', 'let v = opt.beta1 * state2[i] + (1.0 - opt.beta1) * g * g;'],
      ['src/cpu/optimizer.ts', 'const m = beta1 * first[i]! + (1 - beta1) * g;', 'const m = beta2 * first[i]! + (1 - beta2) * g;'],
      ['src/cpu/optimizer.ts', 'const v = beta2 * second[i]! + (1 - beta2) * g * g;', 'const v = beta1 * second[i]! + (1 - beta1) * g * g;'],
    ],
  },
  {
    name: 'momentum: gradient subtracted from the velocity',
    edits: [
      ['shaders/optimizer.wgsl', 'let v = opt.momentum * state1[i] + g;', 'let v = opt.momentum * state1[i] - g;'],
      ['src/cpu/optimizer.ts', 'const v = momentum * velocity[i]! + grads[i - gradBase]!;', 'const v = momentum * velocity[i]! - grads[i - gradBase]!;'],
    ],
  },
  {
    name: 'sigmoid-gradient epilogue S(1−S) → S',
    edits: [
      ['shaders/matmul_common.wgsl', 'return acc * s * (1.0 - s);', 'return acc * s;'],
      ['src/cpu/reference.ts', 'gradZ[h] = gs * s * (1 - s);', 'gradZ[h] = gs * s;'],
    ],
  },
  {
    name: 'BCE with the sign of the logit flipped',
    edits: [
      ['shaders/loss_fn.wgsl', 'return max(logit, 0.0) - logit * truth + log(1.0 + exp(-abs(logit)));', 'return max(-logit, 0.0) + logit * truth + log(1.0 + exp(-abs(logit)));'],
      ['shaders/loss_fn.wgsl', 'return stableSigmoid(logit) - truth;', 'return stableSigmoid(-logit) - truth;'],
      ['src/core/losses.ts', 'Math.max(y, 0) - y * target + Math.log1p(Math.exp(-Math.abs(y)))', 'Math.max(-y, 0) + y * target + Math.log1p(Math.exp(-Math.abs(y)))'],
      ['src/core/losses.ts', 'gradient: (y, target) => sigmoid(y) - target,', 'gradient: (y, target) => sigmoid(-y) - target,'],
    ],
  },
  {
    name: 'mask ignored in the mean (divide by the batch rows)',
    edits: [
      ['shaders/loss.wgsl', 'let count = total.x;', 'let count = select(0.0, f32(dims.rows), total.x > 0.0);'],
      ['src/cpu/reference.ts', 'taskLossScales(sums, counts, tasks, weighting);', 'taskLossScales(sums, counts.map((c) => (c > 0 ? rows : 0)), tasks, weighting);'],
    ],
  },
  {
    name: 'Huber gradient not clipped at δ (squared error everywhere)',
    edits: [
      ['shaders/loss_fn.wgsl', 'case LOSS_HUBER: { return clamp(logit - truth, -p, p); }', 'case LOSS_HUBER: { return logit - truth; }'],
      ['src/core/losses.ts', 'gradient: (y, target, delta) => Math.max(-delta, Math.min(delta, y - target)),', 'gradient: (y, target) => y - target,'],
    ],
  },
  {
    name: 'quantile loss with q and 1 − q swapped (fits the other tail)',
    edits: [
      ['shaders/loss_fn.wgsl', 'return select((p - 1.0) * r, p * r, r >= 0.0);', 'return select(-p * r, (1.0 - p) * r, r >= 0.0);'],
      ['shaders/loss_fn.wgsl', 'case LOSS_QUANTILE: { return select(1.0 - p, -p, logit < truth); }', 'case LOSS_QUANTILE: { return select(p, p - 1.0, logit < truth); }'],
      ['src/core/losses.ts', 'return r >= 0 ? q * r : (q - 1) * r;', 'return r >= 0 ? (1 - q) * r : -q * r;'],
      ['src/core/losses.ts', 'gradient: (y, target, q) => (y < target ? -q : 1 - q),', 'gradient: (y, target, q) => (y < target ? q - 1 : q),'],
    ],
  },
  {
    name: 'task weight ignored in the gradient',
    edits: [
      [
        'shaders/loss.wgsl',
        'var factor = select(info.weight, info.weight * info.uncertaintyScale * exp(-s), uncertainty);',
        'var factor = select(1.0, info.weight * info.uncertaintyScale * exp(-s), uncertainty);',
      ],
      ['src/cpu/weightings.ts', 'scales[t] = task.weight / counts[t]!;', 'scales[t] = 1 / counts[t]!;'],
    ],
  },
  {
    name: 'uncertainty weighting with e^{+s} for e^{−s}',
    edits: [
      ['shaders/loss.wgsl', 'info.weight * info.uncertaintyScale * exp(-s)', 'info.weight * info.uncertaintyScale * exp(s)'],
      ['src/cpu/weightings.ts', 'resolveLoss(task.loss).entry.uncertaintyScale * Math.exp(-s)', 'resolveLoss(task.loss).entry.uncertaintyScale * Math.exp(s)'],
    ],
  },
  {
    name: 'uncertainty weighting: the ½·s term left out of ∂L/∂s',
    edits: [
      ['shaders/loss.wgsl', 'info.weight * 0.5 - factor * meanLoss', '0.0 - factor * meanLoss'],
      ['src/cpu/weightings.ts', 'gradLogVar[t] = task.weight * 0.5 - factor', 'gradLogVar[t] = 0 - factor'],
    ],
  },
  {
    name: 'uncertainty weighting: c_t = 1 for regression too',
    // MSE's entry (the one followed by BCE's): Huber's has the same line.
    edits: [
      [
        'src/core/losses.ts',
        "uncertaintyScale: 0.5,\n    accepts: Number.isFinite,\n    acceptsText: 'a finite number',\n  },\n  // Binary",
        "uncertaintyScale: 1,\n    accepts: Number.isFinite,\n    acceptsText: 'a finite number',\n  },\n  // Binary",
      ],
    ],
  },
  {
    name: 'geometric loss strategy without the 1/L_t of its gradient',
    edits: [
      ['shaders/gls.wgsl', 'gradY[i] * geometric * tasks[t].weight / (weightSum * lt)', 'gradY[i] * geometric * tasks[t].weight / weightSum'],
      ['src/cpu/weightings.ts', '(total * task.weight) / (weightSum * perTask[t]! * counts[t]!)', '(total * task.weight) / (weightSum * counts[t]!)'],
    ],
  },
  {
    name: 'dynamic weight average with the loss ratio inverted',
    edits: [['src/core/weighting.ts', '(beforeLast[t]! > 0 ? last[t]! / beforeLast[t]! : 1)', '(last[t]! > 0 ? beforeLast[t]! / last[t]! : 1)']],
  },
  {
    name: 'weight decay applied to b and c too',
    edits: [['src/core/shape.ts', 'decayCount: A.offset + A.size', 'decayCount: c.offset + c.size']],
  },
  {
    name: 'bias-gradient row sums skip the first batch row',
    edits: [
      ['shaders/matmul_regblock.wgsl', 'if (ROW_SUMS) {\n      sums += av;', 'if (ROW_SUMS && k > 0u) {\n      sums += av;'],
      ['src/cpu/reference.ts', 'dc[t]! += g;', 'if (n > 0) dc[t]! += g;'],
      ['src/cpu/reference.ts', 'db[h]! += gradZ[h]!;', 'if (n > 0) db[h]! += gradZ[h]!;'],
      ['src/cpu/reference.ts', 'for (let k = 0; k < s.K; k++) out[m]! +=', 'for (let k = 1; k < s.K; k++) out[m]! +='],
    ],
  },
  {
    name: 'transposed-B index swapped',
    edits: [
      ['shaders/matmul_common.wgsl', 'select(vec2u(1u, dims.N), vec2u(dims.K, 1u), TRANSPOSE_B)', 'select(vec2u(1u, dims.N), vec2u(1u, dims.K), TRANSPOSE_B)'],
      ['src/cpu/reference.ts', 'const bv = s.transposeB ? b[n * s.K + k]! : b[k * s.N + n]!;', 'const bv = s.transposeB ? b[k * s.N + n]! : b[k * s.N + n]!;'],
    ],
  },
  {
    name: 'coupling L1 gradient with the wrong sign',
    edits: [
      ['shaders/optimizer.wgsl', 'g += opt.couplingL1 * sign(p)', 'g -= opt.couplingL1 * sign(p)'],
      ['src/cpu/optimizer.ts', 'g += coupling.l1 * Math.sign(p)', 'g -= coupling.l1 * Math.sign(p)'],
    ],
  },
  {
    name: 'coupling pulled toward −I instead of I',
    edits: [
      ['shaders/optimizer.wgsl', 'opt.couplingToIdentity * (p - identity)', 'opt.couplingToIdentity * (p + identity)'],
      ['src/cpu/optimizer.ts', 'coupling.toIdentity * (p - identity)', 'coupling.toIdentity * (p + identity)'],
    ],
  },
  {
    name: 'frozen A updated anyway',
    edits: [
      ['shaders/optimizer.wgsl', '(i >= opt.frozenStart && i < opt.frozenEnd)', '(i >= opt.frozenStart && i < opt.frozenStart)'],
      ['src/cpu/optimizer.ts', 'if (start >= frozen[0] && start < frozen[1]) continue;', 'if (start >= frozen[0] && start < frozen[0]) continue;'],
    ],
  },
  {
    name: 'PCGrad projects where the gradients agree instead of where they conflict',
    edits: [
      ['shaders/aggregate.wgsl', 'if (dot < 0.0) {', 'if (dot > 0.0) {'],
      ['src/cpu/aggregators.ts', 'if (dot < 0) {', 'if (dot > 0) {'],
    ],
  },
  {
    name: 'UPGrad without its lower bound e_i (a task may drop its own gradient)',
    edits: [
      ['shaders/aggregate.wgsl', 'max(select(0.0, 1.0, k == i), ', 'max(0.0, '],
      ['src/cpu/aggregators.ts', 'Math.max(k === i ? 1 : 0, ', 'Math.max(0, '],
    ],
  },
  {
    name: 'MGDA weights not scaled by the number of tasks',
    edits: [
      ['shaders/aggregate.wgsl', 'weight[t] = scratch[t] * f32(count);', 'weight[t] = scratch[t];'],
      ['src/cpu/aggregators.ts', 'return alpha.map((a) => a * count);', 'return alpha.map((a) => a);'],
    ],
  },
  {
    name: 'task Gramian without the bias gradients',
    edits: [['shaders/gramian.wgsl', 'dot += jacobianBias[s * dims.hidden + i] * jacobianBias[t * dims.hidden + i];', 'dot += 0.0;']],
  },
  {
    name: 'per-task hidden gradients without S(1−S)',
    edits: [['shaders/task_jacobian.wgsl', '* params[dims.offsetA + t * dims.hidden + h] * s * (1.0 - s);', '* params[dims.offsetA + t * dims.hidden + h] * s;']],
  },
  {
    name: 'FAMO with δ reversed (the logits favour the tasks that improve fastest)',
    edits: [
      ['shaders/famo.wgsl', 'logLoss(last) - logLoss(taskLoss[t])', 'logLoss(taskLoss[t]) - logLoss(last)'],
      ['src/cpu/famo.ts', 'logLoss(last[t]!) - logLoss(losses[t]!)', 'logLoss(losses[t]!) - logLoss(last[t]!)'],
    ],
  },
  {
    name: 'FAMO weights without the 1/L_t (plain softmax weights)',
    edits: [
      ['shaders/famo.wgsl', 'count * z[t] / (c * (taskLoss[t] + FAMO_LOSS_EPSILON))', 'count * z[t]'],
      ['src/cpu/famo.ts', '(count * z[t]!) / (c * (losses[t]! + FAMO.lossEpsilon))', 'count * z[t]!'],
    ],
  },
  {
    name: 'streamed standardisation: the squared deviation from the old mean only (Welford broken)',
    edits: [['src/api/stream.ts', 'this.m2[j]! += delta * (value - this.mean[j]!);', 'this.m2[j]! += delta * delta;']],
  },
  {
    name: "training rows: the reused order is shuffled again without starting from 0, 1, 2, … (a run's epochs depend on the runs before it)",
    tests: ['test/search.test.ts'],
    edits: [
      [
        'src/train/trainer.ts',
        '      order ??= new Uint32Array(data.rows);\n      for (let i = 0; i < data.rows; i++) order[i] = i;\n',
        '      order ??= Uint32Array.from({ length: data.rows }, (_, i) => i);\n',
      ],
    ],
  },
  {
    name: 'model search: the paired z without √N (every larger finalist judged unclear)',
    tests: ['test/search.test.ts'],
    edits: [['src/api/search.ts', 'return (Math.sqrt(n) * mean) / sd;', 'return mean / sd;']],
  },
  {
    name: "model search: a row's share of the validation loss not divided by the task's label count",
    tests: ['test/search.test.ts'],
    edits: [['src/api/search.ts', '/ counts[t]!;', ';']],
  },
  {
    name: 'model search: the next rung takes the best n across learning rates (a short rung drops the slower rate)',
    tests: ['test/search.test.ts'],
    edits: [['src/api/search.ts', 'this.runs = survivors(this.runs, this.rungs[k + 1]!.candidates);', 'this.runs = this.runs.slice(0, this.rungs[k + 1]!.candidates);']],
  },
  {
    name: "DDP job: each rank's own label counts in place of the global batch's",
    tests: ['test/ddp.test.ts', '-t', 'equal, adam'],
    edits: [['src/io/ddp-script.ts', 'share = sums / global_counts', 'share = sums / counts.clamp(min=1) / self.world']],
  },
  {
    name: "DDP job: the shuffle draws j from [0, i) (Sattolo's, not sigmtl's Fisher–Yates)",
    tests: ['test/ddp.test.ts', '-t', 'equal, adam'],
    edits: [['src/io/ddp-script.ts', 'j = math.floor(self.next() * (i + 1))', 'j = math.floor(self.next() * i)']],
  },
];

const report = join(tmpdir(), `sigmtl-mutations-${process.pid}.json`);

/** Runs the fast tests; returns the files with a failed assertion, or null when the run did not complete. */
function runTests(tests = TESTS) {
  rmSync(report, { force: true });
  const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...tests, '--reporter=json', `--outputFile=${report}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let results;
  try {
    results = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    return { status: run.status, failedFiles: null, stderr: run.stderr };
  }
  const failedFiles = results.testResults
    .filter((file) => file.assertionResults.some((a) => a.status === 'failed' && a.failureMessages.some((m) => /AssertionError|expected/.test(m))))
    .map((file) => file.name.replace(`${process.cwd()}/`, ''));
  return { status: run.status, failedFiles, stderr: run.stderr };
}

function apply(edits) {
  const originals = new Map();
  for (const [file, from, to] of edits) {
    const text = originals.get(file) ?? readFileSync(file, 'utf8');
    if (!originals.has(file)) originals.set(file, text);
    const current = readFileSync(file, 'utf8');
    const count = current.split(from).length - 1;
    if (count !== 1) {
      restore(originals);
      throw new Error(`mutation text found ${count} times (not once) in ${file}: ${JSON.stringify(from)}`);
    }
    writeFileSync(file, current.replace(from, to));
  }
  return originals;
}

function restore(originals) {
  for (const [file, text] of originals) writeFileSync(file, text);
}

// Every mutation's text must be found exactly once before anything runs (fail in seconds, not
// after the baseline and the mutations before it).
for (const mutation of MUTATIONS) {
  const texts = new Map();
  for (const [file, from, to] of mutation.edits) {
    const text = texts.get(file) ?? readFileSync(file, 'utf8');
    const count = text.split(from).length - 1;
    if (count !== 1) {
      console.error(`mutation "${mutation.name}": its text is found ${count} times (not once) in ${file}: ${JSON.stringify(from)}`);
      process.exit(1);
    }
    texts.set(file, text.replace(from, to));
  }
}

const baseline = runTests();
if (baseline.status !== 0) {
  console.error(`the unmutated code fails the fast tests (exit ${baseline.status}); fix that first\n${baseline.stderr.slice(-2000)}`);
  process.exit(1);
}

// `--only TEXT`: just the mutations whose name contains TEXT (while working on one formula).
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const chosen = only ? MUTATIONS.filter((m) => m.name.includes(only)) : MUTATIONS;
if (chosen.length === 0) {
  console.error(`--only ${only}: no mutation's name contains it`);
  process.exit(1);
}

/** A mutation in native/ is built before its tests run (and the sources rebuilt after). */
const touchesNative = (mutation) => mutation.edits.some(([file]) => file.startsWith('native/'));
function buildNative() {
  const build = spawnSync(process.execPath, ['scripts/build-native.mjs'], { encoding: 'utf8' });
  return build.status === 0 ? null : `the native build failed: ${build.stderr.slice(-500)}`;
}

let survivors = 0;
const rows = [];
for (const mutation of chosen) {
  const originals = apply(mutation.edits);
  let result;
  try {
    const failed = touchesNative(mutation) ? buildNative() : null;
    result = failed ? { status: 1, failedFiles: null, stderr: failed } : runTests(mutation.tests);
  } finally {
    restore(originals);
    if (touchesNative(mutation) && buildNative()) throw new Error('native/ as committed does not build');
  }
  const caught = result.status !== 0 && result.failedFiles !== null && result.failedFiles.length > 0;
  if (!caught) survivors++;
  const by = result.failedFiles?.length ? result.failedFiles.join(', ') : result.status === 0 ? 'nothing' : 'a crash, not an assertion';
  rows.push(`${caught ? 'caught  ' : 'SURVIVED'}  ${mutation.name}  (${mutation.edits.length} edit${mutation.edits.length > 1 ? 's' : ''}; failed: ${by})`);
  console.log(rows.at(-1));
}
rmSync(report, { force: true });
console.log(survivors ? `\n${survivors} of ${chosen.length} mutations SURVIVED` : `\nall ${chosen.length} mutations caught`);
process.exit(survivors ? 1 : 0);
