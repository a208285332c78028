// The command line pointed at real files by a careless or hostile user: nothing lost, nothing
// replaced that should not be, no hang, and every refusal a clear message naming the file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadModel } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sigmtl-hostile-'));

function sigmtl(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const run = spawnSync(process.execPath, ['scripts/run-cli.mjs', ...args], {
    encoding: 'buffer',
    timeout: 120_000,
    input: options.input,
    env: { ...process.env, ...options.env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr.toString('utf8'), text: run.stdout.toString('utf8') };
}

const csv = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** A small regression CSV: y = a − 2b. */
const small = () => ['a,b,y', ...Array.from({ length: 40 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${Math.sin(i) - 2 * Math.cos(i)}`)].join('\n') + '\n';

beforeAll(() => {
  expect(sigmtl(['--version']).code).toBe(0); // builds dist/cli.js once if needed
});

describe('where the model goes', () => {
  test('--out - writes the model to stdout and everything else to stderr', () => {
    const r = sigmtl(['train', '--data', csv('out-dash.csv', small()), '--targets', 'y', '--epochs', '2', '--out', '-']);
    expect(r.code, r.stderr).toBe(0);
    const model = loadModel(new Uint8Array(r.stdout));
    expect(model.taskNames).toEqual(['y']);
    expect(r.stderr).toContain('model written to stdout');
    expect(existsSync('-')).toBe(false);
  });

  test('--out /dev/stdout writes through the device and never replaces it', () => {
    const r = sigmtl(['train', '--data', csv('dev-stdout.csv', small()), '--targets', 'y', '--epochs', '1', '--out', '/dev/stdout', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(loadModel(new Uint8Array(r.stdout)).featureNames).toEqual(['a', 'b']);
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(true);
  });

  test('a symlinked --out replaces its target and stays a link', () => {
    const target = join(dir, 'real-model.safetensors');
    writeFileSync(target, 'old');
    const link = join(dir, 'link.safetensors');
    symlinkSync(target, link);
    const r = sigmtl(['train', '--data', csv('link.csv', small()), '--targets', 'y', '--epochs', '1', '--out', link]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(loadModel(new Uint8Array(readFileSync(target))).taskNames).toEqual(['y']);
  });

  test('the default model path is runs/<file name>, whatever folder the data is in', () => {
    const r = sigmtl(['train', '--data', csv('deep-name.csv', small()), '--targets', 'y', '--epochs', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.text).model).toBe('runs/deep-name.safetensors');
  });

  test('--out equal to --data is refused and the CSV is left as it was', () => {
    const data = csv('same.csv', small());
    const r = sigmtl(['train', '--data', data, '--targets', 'y', '--epochs', '1', '--out', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--out ${data} is the same file as --data ${data}; refusing to overwrite it`);
    expect(readFileSync(data, 'utf8')).toBe(small());
  });

  test('--checkpoint over an existing file that is not a checkpoint (a model) is refused', () => {
    const model = join(dir, 'precious.safetensors');
    const data = csv('precious.csv', small());
    expect(sigmtl(['train', '--data', data, '--targets', 'y', '--epochs', '1', '--out', model]).code).toBe(0);
    const before = readFileSync(model);
    const r = sigmtl(['train', '--data', data, '--targets', 'y', '--epochs', '2', '--out', join(dir, 'other.safetensors'), '--checkpoint', model, '--checkpoint-every', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--checkpoint ${model} exists and is not a sigmtl checkpoint; refusing to overwrite it`);
    expect(readFileSync(model).equals(before)).toBe(true);
  });

  test('predict --out equal to --data is refused', () => {
    const data = csv('predict-same.csv', small());
    const model = join(dir, 'predict-same.safetensors');
    expect(sigmtl(['train', '--data', data, '--targets', 'y', '--epochs', '1', '--out', model]).code).toBe(0);
    const r = sigmtl(['predict', '--model', model, '--data', data, '--out', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is the same file as --data');
    expect(readFileSync(data, 'utf8')).toBe(small());
  });
});

describe('inputs that used to hang, crash or poison a model', () => {
  test('a feature beyond float32 is refused with file, line and column', () => {
    const data = csv('huge-feature.csv', 'a,b,y\n1,2,3\n1e39,1,2\n4,5,6\n');
    const r = sigmtl(['train', '--data', data, '--targets', 'y', '--epochs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${data}: line 3, column "a": feature is outside the float32 range (±3.4e38) ("1e39")`);
  });

  test('a target of 1e300 is refused; 0x10 is not a number', () => {
    const huge = csv('huge-target.csv', 'a,y\n1,3\n2,1e300\n3,4\n');
    expect(sigmtl(['train', '--data', huge, '--targets', 'y']).stderr).toContain(`${huge}: line 3, column "y": target is outside the float32 range`);
    const hex = csv('hex.csv', 'a,y\n1,3\n0x10,1\n3,4\n');
    expect(sigmtl(['train', '--data', hex, '--targets', 'y']).stderr).toContain(`${hex}: line 3, column "a": feature is not a finite number ("0x10")`);
  });

  test('eval on rows beyond float32 ends at once with the line (rocAuc used to spin on NaN)', () => {
    const train = csv('bin.csv', ['x0,x1,y', ...Array.from({ length: 30 }, (_, i) => `${i % 5},${i % 3},${i % 2}`)].join('\n'));
    const model = join(dir, 'bin.safetensors');
    expect(sigmtl(['train', '--data', train, '--targets', 'y', '--epochs', '1', '--out', model]).code).toBe(0);
    const bad = csv('bin-huge.csv', 'x0,x1,y\n1e39,1e39,1\n1,1,0\n');
    const r = sigmtl(['eval', '--model', model, '--data', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}: line 2, column "x0": feature is outside the float32 range`);
  });

  test('a binary task (--loss bce) with a label of 2 is refused at its line and column', () => {
    const data = csv('labels.csv', 'a,y\n1,0\n2,1\n3,2\n4,1\n');
    const r = sigmtl(['train', '--data', data, '--targets', 'y', '--loss', 'bce']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${data}: line 4, column "y": 2 is not 0 or 1, so the task cannot use the BCE loss`);
  });

  test('a target column named "overall" trains and reports its own metrics', () => {
    const data = csv('overall.csv', ['a,overall', ...Array.from({ length: 40 }, (_, i) => `${i / 10},${(i / 10) * 2}`)].join('\n'));
    const r = sigmtl(['train', '--data', data, '--targets', 'overall', '--epochs', '2', '--json', '--out', join(dir, 'overall.safetensors')]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.text);
    expect(result.metrics.tasks.overall.kind).toBe('regression');
    expect(result.metrics.overall.macroR2).toBeTypeOf('number');
  });

  test('a model file that is /dev/zero or a directory is refused before reading', () => {
    const zero = sigmtl(['eval', '--model', '/dev/zero', '--data', 'enb2012']);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('/dev/zero is not a regular file');
    expect(sigmtl(['eval', '--model', dir, '--data', 'enb2012']).stderr).toContain(`${dir} is a directory, not a file`);
  });

  test('a FIFO as --data is refused instead of blocking for ever', () => {
    const fifo = join(dir, 'fifo.csv');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = sigmtl(['train', '--data', fifo, '--targets', 'y']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${fifo} is not a regular file`);
  });

  test('a malformed meta.json beside a CSV is named', () => {
    const folder = mkdtempSync(join(dir, 'meta-'));
    writeFileSync(join(folder, 'data.csv'), small());
    writeFileSync(join(folder, 'meta.json'), '{"target_columns": [');
    const r = sigmtl(['train', '--data', join(folder, 'data.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(folder, 'meta.json')}: not valid JSON`);
  });

  test('--A-init with a NaN cell is refused with its line, not silently shortened', () => {
    const a = csv('a-nan.csv', 'h1,h2\n1,0\nNaN,1\n');
    const r = sigmtl(['train', '--data', 'enb2012', '--A-init', a, '--epochs', '1', '--out', join(dir, 'never.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${a}: line 3, column "h1": missing feature value ("NaN")`);
  });

  test('an empty VK_ICD_FILENAMES counts as unset: SwiftShader is still found', () => {
    const r = sigmtl(['doctor', '--json'], { env: { VK_ICD_FILENAMES: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.text).adapter.vendor).not.toBe('');
  });
});

test('kill -9 at any moment never leaves half a model or checkpoint at the final path', async () => {
  const out = join(dir, 'killed.safetensors');
  const checkpoint = join(dir, 'killed.checkpoint.safetensors');
  for (const delay of [300, 700, 1100, 1500, 1900]) {
    // Enough epochs that every kill lands mid-run, whichever backend auto picks.
    const child = spawn(
      process.execPath,
      ['dist/cli.js', 'train', '--data', 'sarcos-arm', '--epochs', '400', '--patience', '0', '--out', out, '--checkpoint', checkpoint, '--checkpoint-every', '1', '--quiet'],
      { stdio: 'ignore' },
    );
    const exited = new Promise((done) => child.on('exit', done));
    await new Promise((done) => setTimeout(done, delay));
    child.kill('SIGKILL');
    await exited;
    for (const path of [out, checkpoint]) {
      if (existsSync(path)) expect(() => loadModel(new Uint8Array(readFileSync(path))), `${path} after a kill at ${delay} ms`).not.toThrow();
    }
  }
}, 120_000);

test('--group-column keeps each group on one side of the splits and is not a feature', () => {
  const lines = ['subject,a,y', ...Array.from({ length: 120 }, (_, i) => `s${i % 12},${Math.sin(i)},${Math.sin(i) * 2}`)];
  const r = sigmtl([
    'train',
    '--data',
    csv('groups.csv', lines.join('\n')),
    '--targets',
    'y',
    '--group-column',
    'subject',
    '--epochs',
    '2',
    '--json',
    '--out',
    join(dir, 'groups.safetensors'),
  ]);
  expect(r.code, r.stderr).toBe(0);
  const result = JSON.parse(r.text);
  expect(result.metrics.tasks.y.count % 10).toBe(0); // whole subjects of 10 rows each
  expect(loadModel(new Uint8Array(readFileSync(join(dir, 'groups.safetensors')))).featureNames).toEqual(['a']);
});

describe('divergence and resume', () => {
  test.each([
    ['adam at lr 1e6 on yeast (the loss grows to ~1e11, finite)', 'yeast', ['--optimizer', 'adam', '--lr', '1e6']],
    ['weight decay 1e9', 'enb2012', ['--weight-decay', '1e9', '--optimizer', 'sgd', '--lr', '0.5']],
    ['sgd at lr 1e6', 'enb2012', ['--optimizer', 'sgd', '--lr', '1e6']],
  ])('%s stops with the remedy, exit 1, and a finite last-good model', (_name, data, flags) => {
    const out = join(dir, `diverge-${flags.join('')}.safetensors`);
    const r = sigmtl(['train', '--data', data, '--epochs', '30', '--patience', '0', ...flags, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/training diverged: .* Try a lower learning rate/);
    expect(existsSync(out)).toBe(false);
    const rescue = out.replace(/\.safetensors$/, '.last-good.safetensors');
    if (existsSync(rescue)) {
      const params = loadModel(new Uint8Array(readFileSync(rescue))).parameters();
      for (const values of Object.values(params)) expect(values.every(Number.isFinite)).toBe(true);
    }
  });

  test('resume refuses a checkpoint of a different run and says what differs; a truncated one is named', () => {
    const checkpoint = join(dir, 'run.checkpoint.safetensors');
    const first = sigmtl(['train', '--data', 'enb2012', '--epochs', '2', '--out', join(dir, 'run.safetensors'), '--checkpoint', checkpoint, '--checkpoint-every', '1']);
    expect(first.code, first.stderr).toBe(0);
    const other = sigmtl(['train', '--data', 'enb2012', '--epochs', '4', '--lr', '0.02', '--seed', '7', '--out', join(dir, 'run2.safetensors'), '--resume', checkpoint]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('this checkpoint belongs to a different run');
    expect(other.stderr).toContain('lr: checkpoint 0.01, this run 0.02');
    expect(other.stderr).toContain('seed: checkpoint 1, this run 7');
    const data = csv('resume-other.csv', readFileSync('data/enb2012/enb2012.csv', 'utf8').split('\n').slice(0, 300).join('\n'));
    const otherData = sigmtl(['train', '--data', data, '--targets', 'y_*', '--epochs', '4', '--out', join(dir, 'run3.safetensors'), '--resume', checkpoint]);
    expect(otherData.code).toBe(1);
    expect(otherData.stderr).toMatch(/data: checkpoint "enb2012-energy-efficiency", this run "resume-other\.csv"|the training rows differ/);
    const truncated = join(dir, 'truncated.checkpoint.safetensors');
    writeFileSync(truncated, readFileSync(checkpoint).subarray(0, 200));
    const r = sigmtl(['train', '--data', 'enb2012', '--epochs', '4', '--out', join(dir, 'run4.safetensors'), '--resume', truncated]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('resume: not a valid safetensors file');
  });
});
