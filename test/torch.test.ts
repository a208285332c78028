// The PyTorch export, run by PyTorch itself (Debian's python3-torch; CI installs it): the module
// file loads sigmtl's safetensors model and predicts what sigmtl predict does, its golden rows
// included, and its training loss runs on the same rows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const PYTHON = process.env.SIGMTL_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`\n*** SKIPPING the PyTorch export test: ${PYTHON} cannot import torch (apt-get install python3-torch) ***\n`);

const cli = (...args: string[]) => spawnSync(process.execPath, ['scripts/run-cli.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });

describe.skipIf(!hasTorch)('sigmtl export --format torch', () => {
  // The third: losses with parameters, whose exported training loss is also checked against the
  // pinball and Huber formulas written out here (not the export's own expressions).
  test.each([
    ['enb2012', []],
    ['yeast', []],
    ['enb2012', ['--loss', 'quantile:0.9,huber:2']],
  ])(
    '%s %j: the module reproduces sigmtl predict and its golden rows',
    (data, extra) => {
      const dir = mkdtempSync(join(tmpdir(), 'sigmtl-torch-'));
      const model = join(dir, 'model.safetensors');
      expect(cli('train', '--data', data, '--epochs', '4', '--out', model, ...extra).status).toBe(0);
      const module = join(dir, 'sigmtl_model.py');
      const exported = cli('export', '--model', model, '--format', 'torch', '--out', module);
      expect(exported.status, exported.stderr).toBe(0);
      const input = data === 'yeast' ? 'data/yeast/yeast_test.csv' : 'data/enb2012/enb2012.csv';
      const predicted = cli('predict', '--model', model, '--data', input, '--out', join(dir, 'sigmtl.csv'), '--backend', 'cpu');
      expect(predicted.status, predicted.stderr).toBe(0);
      const script = `
import csv, json, sys
import torch
sys.path.insert(0, ${JSON.stringify(dir)})
from sigmtl_model import SigmtlModel, FEATURES, TASKS
model = SigmtlModel.from_safetensors(${JSON.stringify(model)})
golden = json.load(open(${JSON.stringify(join(dir, 'sigmtl_model.golden.json'))}))
with torch.no_grad():
    got = model(torch.tensor(golden["features"], dtype=torch.float32)).flatten().tolist()
    rows = list(csv.DictReader(open(${JSON.stringify(input)})))
    x = torch.tensor([[float(r[f]) for f in FEATURES] for r in rows], dtype=torch.float32)
    on_file = model(x).flatten().tolist()
    y = torch.tensor([[float(r[t]) for t in TASKS] for r in rows], dtype=torch.float32)
    loss = float(model.loss(x, y))
    by_hand = 0.0
    if ${extra.length > 0 ? 'True' : 'False'}:
        r = (y - model.y_mean) / model.y_std - model.outputs(x)  # target − output, standardised
        a = r[:, 1].abs()
        by_hand = float(torch.where(r[:, 0] >= 0, 0.9 * r[:, 0], -0.1 * r[:, 0]).mean() + torch.where(a <= 2, 0.5 * a * a, 2 * (a - 1)).mean())
json.dump({"golden": got, "file": on_file, "loss": loss, "byHand": by_hand, "names": list(dict(model.named_parameters()))}, sys.stdout)
`;
      const run = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 120_000 });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as { golden: number[]; file: number[]; loss: number; byHand: number; names: string[] };
      if (extra.length) expect(out.loss).toBeCloseTo(out.byHand, 5);
      expect(out.names).toEqual(['W', 'b', 'A', 'c']);
      const golden = JSON.parse(readFileSync(join(dir, 'sigmtl_model.golden.json'), 'utf8')) as { predictions: number[] };
      const want = readFileSync(join(dir, 'sigmtl.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .flatMap((l) => l.split(',').map(Number));
      const close = (got: number[], expected: number[]) => got.every((v, i) => Math.abs(v - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)));
      expect(out.golden.length).toBe(golden.predictions.length);
      expect(close(out.golden, golden.predictions)).toBe(true);
      expect(out.file.length).toBe(want.length);
      expect(close(out.file, want)).toBe(true);
      expect(Number.isFinite(out.loss)).toBe(true);
    },
    180_000,
  );
});
