// The `sigmtl` command end to end (the Vite-built bundle, as a user runs it), on WebGPU
// (SwiftShader here) and on the CPU backend.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { decodeModel } from '../src/io/model-format.js';

const dir = mkdtempSync(join(tmpdir(), 'sigmtl-cli-'));

function sigmtl(...args: string[]) {
  const run = spawnSync(process.execPath, ['scripts/run-cli.mjs', ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function json(...args: string[]) {
  const run = sigmtl(...args, '--json');
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

beforeAll(() => {
  // Builds dist/cli.js once if a source is newer.
  expect(sigmtl('--help').code).toBe(0);
});

describe('train on each bundled data set', () => {
  test.each([
    ['yeast', 'hammingLoss'],
    ['enb2012', 'macroR2'],
    ['sarcos-arm', 'macroR2'],
  ])('%s', (data, overallKey) => {
    const out = join(dir, `${data}.safetensors`);
    const r = json('train', '--data', data, '--epochs', '2', '--out', out);
    for (const key of ['backend', 'adapter', 'dataset', 'steps', 'seconds', 'stepsPerSecond', 'lossFirst', 'lossLast', 'model', 'metrics']) {
      expect(r).toHaveProperty(key);
    }
    expect(['webgpu', 'wasm']).toContain(r.backend); // auto: whichever the probe found faster here
    expect(r.lossLast).toBeLessThan(r.lossFirst);
    expect(r.maxAbsDiffVsCpu).toBeLessThan(1e-4);
    expect(r.metrics.overall[overallKey]).toBeTypeOf('number');
    expect(Object.keys(r.metrics)).toEqual(['overall', 'tasks']);
  });
});

test('the default yeast run reaches the published error level (Hamming loss ≤ 0.205)', () => {
  const r = json('train', '--data', 'yeast', '--out', join(dir, 'yeast-default.safetensors'));
  expect(r.metrics.overall.hammingLoss).toBeLessThanOrEqual(0.205);
});

test('save → load → identical predictions; WebGPU and CPU agree', () => {
  const model = join(dir, 'enb.safetensors');
  const trained = json('train', '--data', 'enb2012', '--epochs', '3', '--out', model);
  const evaluated = json('eval', '--model', model, '--data', join('data', 'enb2012', 'enb2012.csv'));
  expect(evaluated.metrics.overall.macroR2).toBeTypeOf('number');
  const input = join(dir, 'input.csv');
  const lines = readFileSync('data/enb2012/enb2012.csv', 'utf8').trim().split('\n').slice(0, 21);
  writeFileSync(input, ['id,' + lines[0], ...lines.slice(1).map((l, i) => `row${i},${l}`)].join('\n'));
  const onGpu = join(dir, 'gpu.csv');
  const onCpu = join(dir, 'cpu.csv');
  json('predict', '--model', model, '--data', input, '--out', onGpu, '--id', 'id', '--backend', 'webgpu');
  json('predict', '--model', model, '--data', input, '--out', onCpu, '--id', 'id', '--backend', 'cpu');
  const read = (path: string) => readFileSync(path, 'utf8').trim().split('\n');
  const gpuRows = read(onGpu);
  expect(gpuRows[0]).toBe('id,y_heating_load,y_cooling_load');
  expect(gpuRows).toHaveLength(21);
  expect(gpuRows[1]!.startsWith('row0,')).toBe(true);
  const cpuRows = read(onCpu);
  for (let i = 1; i < 21; i++) {
    const g = gpuRows[i]!.split(',').slice(1).map(Number);
    const c = cpuRows[i]!.split(',').slice(1).map(Number);
    g.forEach((v, j) => expect(Math.abs(v - c[j]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(c[j]!))));
  }
  // Predicting twice from the saved file gives the same bytes.
  json('predict', '--model', model, '--data', input, '--out', join(dir, 'again.csv'), '--id', 'id', '--backend', 'webgpu');
  expect(readFileSync(join(dir, 'again.csv'), 'utf8')).toBe(readFileSync(onGpu, 'utf8'));
  expect(trained.model).toBe(model);
});

describe.each(['webgpu', 'cpu'])('resume on %s', (backend) => {
  test('a resumed run ends with exactly the parameters of an uninterrupted one', () => {
    const common = ['--data', 'enb2012', '--epochs', '6', '--patience', '2', '--backend', backend, '--seed', '5'];
    const whole = join(dir, `whole-${backend}.safetensors`);
    json('train', ...common, '--out', whole);
    const half = join(dir, `half-${backend}.safetensors`);
    const checkpoint = join(dir, `ckpt-${backend}.safetensors`);
    json('train', ...common.slice(0, 3), '3', ...common.slice(4), '--out', half, '--checkpoint', checkpoint, '--checkpoint-every', '3');
    const resumed = join(dir, `resumed-${backend}.safetensors`);
    json('train', ...common, '--out', resumed, '--resume', checkpoint);
    const params = (path: string) => Array.from(decodeModel(new Uint8Array(readFileSync(path)), path).model.params);
    expect(params(resumed)).toEqual(params(whole));
  });
});

test('synthetic teacher–student data: the student recovers the teacher (R² > 0.95)', () => {
  const r = json(
    'train',
    '--data',
    'synthetic',
    '--synthetic-rows',
    '3000',
    '--synthetic-noise',
    '0.01',
    '--hidden',
    '5',
    '--A-init',
    'random',
    '--lr',
    '0.02',
    '--out',
    join(dir, 'syn.safetensors'),
  );
  expect(r.metrics.overall.macroR2).toBeGreaterThan(0.95);
  expect(r.teacher.overall.macroR2).toBeGreaterThan(0.97); // against the teacher's own, noise-free outputs
});

describe('bad input gets a clear error and exit code', () => {
  test('an unknown target column', () => {
    const csv = join(dir, 'small.csv');
    writeFileSync(csv, 'a,b,y\n1,2,3\n4,5,6\n7,8,9\n');
    const r = sigmtl('train', '--data', csv, '--targets', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${csv}: no target column matches "nope" (available: a, b, y)`);
  });

  test('a non-numeric feature cell', () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'a,b,y\n1,2,3\n4,oops,6\n');
    const r = sigmtl('train', '--data', csv, '--targets', 'y');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${csv}: line 3, column "b": feature is not a finite number ("oops")`);
  });

  test('a bad option value', () => {
    const r = sigmtl('train', '--data', 'yeast', '--lr', 'fast');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lr must be a number > 0, got "fast"');
  });

  test('a truncated model file; the output file is not written', () => {
    const model = join(dir, 'trunc.safetensors');
    writeFileSync(model, readFileSync(join(dir, 'enb.safetensors')).subarray(0, 100));
    const r = sigmtl('predict', '--model', model, '--data', 'enb2012', '--out', join(dir, 'never.csv'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/trunc.safetensors: not a valid safetensors file/);
    expect(() => readFileSync(join(dir, 'never.csv'))).toThrow();
  });
});

test('eval --relations: a symmetric cosine matrix with ones on the diagonal', () => {
  const model = join(dir, 'rel.safetensors');
  json('train', '--data', 'enb2012', '--epochs', '3', '--out', model);
  const r = json('eval', '--model', model, '--data', 'enb2012', '--relations');
  expect(r.relations.tasks).toEqual(['y_heating_load', 'y_cooling_load']);
  expect(r.relations.cosine[0][0]).toBeCloseTo(1, 10);
  expect(r.relations.cosine[0][1]).toBeCloseTo(r.relations.cosine[1][0], 10);
  expect(Math.abs(r.relations.cosine[0][1])).toBeLessThanOrEqual(1);
});

test('--compare-single-task reports Δm and the single-task and no-coupling metrics', () => {
  const r = json('train', '--data', 'enb2012', '--epochs', '5', '--compare-single-task', '--out', join(dir, 'cmp.safetensors'));
  expect(Object.keys(r.singleTask)).toEqual(['y_heating_load', 'y_cooling_load']);
  expect(r.deltaM).toBeTypeOf('number');
  expect(r.noCoupling.metrics.overall.macroR2).toBeTypeOf('number');
  const text = sigmtl('train', '--data', 'enb2012', '--epochs', '5', '--compare-single-task', '--out', join(dir, 'cmp2.safetensors'));
  expect(text.stdout).toMatch(/Δm, multi-task against single-task: [+-]\d+\.\d %/);
});

describe('command-line conventions', () => {
  test('--version, help <command>, usage on stderr without a command', () => {
    const version = sigmtl('--version');
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`sigmtl ${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`);
    const help = sigmtl('help', 'predict');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('sigmtl predict — predictions of a model');
    const none = sigmtl();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Usage: sigmtl <command>');
  });

  test('an unknown positional argument is an error', () => {
    const r = sigmtl('eval', 'model.safetensors');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unexpected argument "model.safetensors"');
  });

  test('progress goes to stderr, results to stdout; predict reads stdin and writes stdout with -', () => {
    const model = join(dir, 'conventions.safetensors');
    const r = sigmtl('train', '--data', 'enb2012', '--epochs', '2', '--out', model);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/epoch 1\/2/);
    expect(r.stdout).not.toMatch(/epoch 1\/2/);
    expect(r.stdout).toContain('test metrics');
    const input = readFileSync('data/enb2012/enb2012.csv', 'utf8').split('\n').slice(0, 4).join('\n') + '\n';
    const run = spawnSync(process.execPath, ['scripts/run-cli.mjs', 'predict', '--model', model, '--data', '-', '--out', '-'], { input, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('y_heating_load,y_cooling_load');
    expect(lines.length).toBe(4);
  });
});

test('check passes on this device and prints JSON', () => {
  const r = json('check');
  expect(r.ok).toBe(true);
  expect(r.rows.length).toBeGreaterThan(50);
  expect(r.adapter).toHaveProperty('software');
});

test('A from a CSV, frozen: eval --show-A gives back exactly that matrix; a wrong shape is refused', () => {
  const aFile = join(dir, 'A.csv');
  writeFileSync(aFile, 'h1,h2\n1,0.5\n-0.25,2\n');
  const model = join(dir, 'fixedA.safetensors');
  json('train', '--data', 'enb2012', '--epochs', '3', '--A-init', aFile, '--freeze-A', '--out', model);
  const evaluated = json('eval', '--model', model, '--data', 'data/enb2012/enb2012.csv', '--show-A');
  expect(evaluated.A).toEqual([
    [1, 0.5],
    [-0.25, 2],
  ]);
  writeFileSync(aFile, 'h1,h2,h3\n1,0,0\n0,1,0\n');
  const r = sigmtl('train', '--data', 'enb2012', '--epochs', '1', '--A-init', aFile, '--out', join(dir, 'never.safetensors'));
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${aFile}: A must be 2 rows (tasks) × 2 columns (hidden units) of numbers, got 2 rows × 3`);
});
