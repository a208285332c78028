// sigmtl ddp: the job it writes, run by PyTorch itself (Debian's python3-torch; CI installs it) on
// 1 and 2 gloo ranks, against sigmtl's own training (the float64 CPU reference) from the same
// options. The PyTorch side computes its gradients with autograd, not with sigmtl's hand-written
// backward pass, so the agreement checks the losses, weightings, masks and optimizer of both.
// The data has labels missing unevenly, so a job that took each rank's own label counts (not the
// global batch's) would train a different model on 2 ranks than on 1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadModelFile } from 'sigmtl/node';
import { Random } from '../src/util/random.js';
import { encodeNpy } from '../src/io/npy.js';

const PYTHON = process.env.SIGMTL_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch.distributed'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`\n*** SKIPPING the PyTorch DDP job test: ${PYTHON} cannot import torch (apt-get install python3-torch) ***\n`);

const cli = (...args: string[]) => spawnSync(process.execPath, ['scripts/run-cli.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });

/** 300 rows, 4 features, a regression task with 40 % of labels missing, a binary one with 25 % missing, a complete one. */
function writeData(dir: string): string {
  const random = new Random(7);
  const lines = ['x1,x2,x3,x4,growth,event,level'];
  for (let r = 0; r < 300; r++) {
    const x = Array.from({ length: 4 }, () => random.uniform(-2, 2) * (1 + r / 300));
    const growth = random.next() < 0.4 ? '' : (x[0]! * 1.5 - x[1]! + 0.3 * random.normal()).toFixed(4);
    const event = random.next() < 0.25 ? '' : x[2]! + 0.5 * random.normal() > 0 ? '1' : '0';
    const level = (Math.sin(x[3]!) + 0.5 * x[0]! + 0.2 * random.normal() + 10).toFixed(4);
    lines.push([...x.map((v) => v.toFixed(4)), growth, event, level].join(','));
  }
  const path = join(dir, 'uneven.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** W, b, A, c of a model file, flat. */
async function parameters(path: string): Promise<Float64Array> {
  const model = await loadModelFile(path);
  const p = model.parameters();
  return Float64Array.from([...p.W, ...p.b, ...p.A, ...p.c]);
}

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

function launch(dir: string, ranks: number, ...options: string[]) {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const run = spawnSync('sh', [join(dir, 'launch.sh'), String(ranks), ...options], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, PYTHON, MASTER_PORT: port } });
  expect(run.status, run.stderr + run.stdout).toBe(0);
  return run.stdout;
}

test('.npy arrays: the format 1.0 header (magic, 64-byte aligned dict) and little-endian float32 values', () => {
  const bytes = encodeNpy(Float32Array.from([1.5, -2, 3.25, 0, 1e-30, 7]), [3, 2]);
  const headerLength = bytes[8]! | (bytes[9]! << 8);
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0]);
  expect((10 + headerLength) % 64).toBe(0);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }");
  expect(header.endsWith('\n')).toBe(true);
  const view = new DataView(bytes.buffer, 10 + headerLength);
  expect(Array.from({ length: 6 }, (_, i) => view.getFloat32(4 * i, true))).toEqual([1.5, -2, 3.25, 0, Math.fround(1e-30), 7]);
  expect(new TextDecoder().decode(encodeNpy(new Float32Array(4), [4]).subarray(10, 70))).toContain("'shape': (4,)");
  expect(() => encodeNpy(new Float32Array(5), [2, 2])).toThrow(/shape \[2,2\] holds 4 values, got 5/);
});

describe.skipIf(!hasTorch)('sigmtl ddp: a PyTorch DDP job', () => {
  const common = ['--targets', 'growth,event,level', '--epochs', '4', '--batch-size', '25', '--seed', '3'];
  test.each([
    ['equal, adam, missing labels', ['--hidden', '3', '--loss', 'mse,bce,quantile:0.8']],
    [
      'uncertainty weighting, momentum, weight decay, cosine schedule',
      [
        '--hidden',
        '3',
        '--weighting',
        'uw',
        '--optimizer',
        'momentum',
        '--lr',
        '0.05',
        '--weight-decay',
        '0.01',
        '--schedule',
        'cosine',
        '--warmup',
        '5',
        '--loss',
        'huber:0.5,bce,mse',
      ],
    ],
    ['dynamic weight average, hidden 5, A regularised', ['--weighting', 'dwa', '--hidden', '5', '--A-l1', '0.001', '--A-identity', '0.01', '--task-weights', '1,2,0.5']],
    ['geometric loss strategy, frozen A, sgd', ['--hidden', '3', '--weighting', 'gls', '--freeze-A', '--optimizer', 'sgd', '--lr', '0.2']],
  ])(
    '%s: 1 and 2 ranks train the model sigmtl trains',
    async (_name, extra) => {
      const dir = mkdtempSync(join(tmpdir(), 'sigmtl-ddp-'));
      const data = writeData(dir);
      const own = join(dir, 'own.safetensors');
      const trained = cli('train', '--data', data, ...common, ...extra, '--backend', 'cpu', '--out', own, '--quiet');
      expect(trained.status, trained.stderr).toBe(0);
      const job = join(dir, 'job');
      const written = cli('ddp', '--data', data, ...common, ...extra, '--out', job, '--quiet');
      expect(written.status, written.stderr).toBe(0);

      // float64: the same steps as the float64 reference, on 1 and on 2 ranks (the model file is float32).
      launch(job, 1, '--dtype', 'float64', '--out', join(dir, 'one.safetensors'));
      const stdout = launch(job, 2, '--dtype', 'float64', '--out', join(dir, 'two.safetensors'));
      expect(stdout).toMatch(/on 2 rank\(s\)/);
      const want = await parameters(own);
      const one = await parameters(join(dir, 'one.safetensors'));
      const two = await parameters(join(dir, 'two.safetensors'));
      const scale = Math.max(...want.map(Math.abs));
      // The initial parameters reach PyTorch as float32 (init.safetensors): differences of that order, no more.
      expect(maxDiff(one, want)).toBeLessThan(1e-6 * Math.max(1, scale));
      expect(maxDiff(two, one)).toBeLessThan(1e-7 * Math.max(1, scale));

      // float32, the job's default: 2 ranks within float32 rounding of 1 rank.
      launch(job, 1, '--out', join(dir, 'one32.safetensors'));
      launch(job, 2, '--out', join(dir, 'two32.safetensors'));
      const one32 = await parameters(join(dir, 'one32.safetensors'));
      expect(maxDiff(await parameters(join(dir, 'two32.safetensors')), one32)).toBeLessThan(1e-4 * Math.max(1, scale));
      expect(maxDiff(one32, want)).toBeLessThan(1e-3 * Math.max(1, scale));

      // sigmtl reads the job's model as its own: predict runs on it, and the metadata says who trained it.
      const model = await loadModelFile(join(dir, 'two.safetensors'));
      expect(model.hyperparameters).toMatchObject({ trainer: 'pytorch-ddp', ranks: 2 });
      const predicted = cli('predict', '--model', join(dir, 'two.safetensors'), '--data', data, '--out', join(dir, 'p.csv'), '--backend', 'cpu');
      expect(predicted.status, predicted.stderr).toBe(0);
      expect(readFileSync(join(dir, 'p.csv'), 'utf8').split('\n')[0]).toBe('growth,event,level');
    },
    300_000,
  );

  test('what a DDP job cannot do is refused with the reason, and nothing outside --out is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigmtl-ddp-'));
    const data = writeData(dir);
    const args = ['--data', data, '--targets', 'growth,event,level'];
    const mgda = cli('ddp', ...args, '--weighting', 'mgda', '--out', join(dir, 'a'));
    expect(mgda.status).toBe(1);
    expect(mgda.stderr).toMatch(/Gramian of gradients summed over ranks is not the sum/);
    expect(cli('ddp', ...args, '--weighting', 'famo', '--out', join(dir, 'a')).stderr).toMatch(/famo/);
    const backend = cli('ddp', ...args, '--backend', 'cpu', '--out', join(dir, 'a'));
    expect(backend.status).toBe(2);
    expect(backend.stderr).toMatch(/--backend is an option of sigmtl train/);
    // A directory with other files in it is not the job's.
    mkdirSync(join(dir, 'busy'));
    writeFileSync(join(dir, 'busy', 'notes.txt'), 'mine');
    const busy = cli('ddp', ...args, '--out', join(dir, 'busy'));
    expect(busy.stderr).toMatch(/not empty and holds no sigmtl DDP job/);
    expect(readFileSync(join(dir, 'busy', 'notes.txt'), 'utf8')).toBe('mine');
    // An earlier job is rewritten; a link in it pointing outside is refused, not followed.
    expect(cli('ddp', ...args, '--out', join(dir, 'job'), '--quiet').status).toBe(0);
    expect(cli('ddp', ...args, '--epochs', '3', '--out', join(dir, 'job'), '--quiet').status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'job', 'job.json'), 'utf8')).epochs).toBe(3);
    writeFileSync(join(dir, 'outside.txt'), 'keep');
    spawnSync('rm', [join(dir, 'job', 'README.md')]);
    symlinkSync(join(dir, 'outside.txt'), join(dir, 'job', 'README.md'));
    const linked = cli('ddp', ...args, '--out', join(dir, 'job'));
    expect(linked.stderr).toMatch(/README.md exists and is not a regular file/);
    expect(readFileSync(join(dir, 'outside.txt'), 'utf8')).toBe('keep');
  }, 120_000);
});
