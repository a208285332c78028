// CSV parsing, column choice, missing targets, standardisation: every bad input gets an error
// naming the file, the line and the column.
import { describe, expect, test } from 'vitest';
import { parseCsv } from '../src/data/csv.js';
import { chooseColumns, toTaskTable } from '../src/data/table.js';
import { fitStandardizer, standardize } from '../src/data/standardize.js';
import { detectLoss, prepareProblem, splitRows } from '../src/train/prepare.js';
import { computeMetrics, rocAuc } from '../src/train/metrics.js';

const load = (text: string, targets = ['y*']) => {
  const table = parseCsv(text, 'f.csv');
  return toTaskTable(table, chooseColumns(table, targets));
};

describe('CSV and columns', () => {
  test('an empty file', () => {
    expect(() => parseCsv('\n\n', 'empty.csv')).toThrow('empty.csv: the file is empty');
  });

  test('a header with no rows', () => {
    expect(() => parseCsv('a,b\n', 'h.csv')).toThrow('h.csv: no data rows after the header');
  });

  test('line numbers count lines, not records, after a quoted cell that spans lines', () => {
    expect(() => load('a,"b\nsecond line",y1\n1,2,3\n4,x,6\n')).toThrow('f.csv: line 4, column "b\nsecond line": feature is not a finite number ("x")');
    expect(() => parseCsv('a,"b\nc",y\n1,2,3\n4,5\n', 'q.csv')).toThrow('q.csv: line 4 has 2 fields, the header has 3');
    expect(() => parseCsv('a,b\n1,2\n"3,4\n', 'u.csv')).toThrow(/^u\.csv: line 3: /);
  });

  test('a ragged row names its line', () => {
    expect(() => parseCsv('a,b,y\n1,2,3\n4,5\n', 'r.csv')).toThrow('r.csv: line 3 has 2 fields, the header has 3');
  });

  test('a duplicate header name', () => {
    expect(() => parseCsv('a,a,y\n1,2,3\n', 'd.csv')).toThrow('d.csv: line 1: the header names column "a" twice');
  });

  test('an unknown target column lists the available ones', () => {
    const table = parseCsv('a,b,y1\n1,2,3\n', 'u.csv');
    expect(() => chooseColumns(table, ['z'])).toThrow('u.csv: no target column matches "z" (available: a, b, y1)');
  });

  test('a non-numeric feature names file, line and column', () => {
    expect(() => load('a,b,y1\n1,2,3\n4,x,6\n')).toThrow('f.csv: line 3, column "b": feature is not a finite number ("x")');
  });

  test('a missing feature value', () => {
    expect(() => load('a,b,y1\n1,,3\n')).toThrow('f.csv: line 2, column "b": missing feature value ("")');
  });

  test('Infinity in a feature', () => {
    expect(() => load('a,b,y1\n1,Infinity,3\n')).toThrow('column "b": feature is not a finite number');
  });

  test('a bad target cell that is not a missing marker', () => {
    expect(() => load('a,y1\n1,abc\n')).toThrow('f.csv: line 2, column "y1": target is not a number or a missing marker');
  });

  test('missing targets (empty, NA, NaN, ?) are masked for that task only', () => {
    const t = load('a,y1,y2\n1,,5\n2,NA,6\n3,7,?\n4,NaN,8\n', ['y1', 'y2']);
    expect(Array.from(t.mask)).toEqual([0, 1, 0, 1, 1, 0, 0, 1]);
    expect(t.Y[4]).toBe(7);
  });

  test('targets by glob and comma list; features default to the rest', () => {
    const table = parseCsv('id,x1,x2,y_a,y_b,z\n1,2,3,4,5,6\n', 'g.csv');
    const c = chooseColumns(table, ['y_*,z'], undefined, 'id');
    expect(c.targets).toEqual(['y_a', 'y_b', 'z']);
    expect(c.features).toEqual(['x1', 'x2']);
  });
});

describe('standardisation and losses', () => {
  test('a constant column becomes zeros, never NaN', () => {
    const values = Float64Array.from([5, 1, 5, 2, 5, 3]);
    const s = fitStandardizer(values, 3, 2);
    expect(s.std[0]).toBe(1);
    const out = standardize(values, 2, s);
    expect(Array.from(out.filter((_, i) => i % 2 === 0))).toEqual([0, 0, 0]);
    expect(out.every(Number.isFinite)).toBe(true);
  });

  test('auto loss: BCE for 0/1 columns, MSE otherwise; standardisation fit on training rows only', () => {
    const train = load('a,y1,y2\n1,0,0.5\n2,1,1.5\n3,1,2.5\n', ['y1', 'y2']);
    const test = load('a,y1,y2\n100,0,50\n', ['y1', 'y2']);
    expect([detectLoss(train, 0), detectLoss(train, 1)]).toEqual(['bce', 'mse']);
    const problem = prepareProblem(train, test, { loss: 'auto', seed: 1 });
    expect(problem.losses).toEqual(['bce', 'mse']);
    expect(problem.x.mean[0]).toBe(2);
    expect(problem.y.mean[1]).toBeCloseTo(1.5);
    expect(problem.y.std[0]).toBe(1); // BCE targets stay 0/1
    expect(() => prepareProblem(train, test, { loss: 'bce', seed: 1 })).toThrow(/^f\.csv: line \d+, column "y2": [\d.]+ is not 0 or 1, so the task cannot use the BCE loss$/);
  });
});

describe('metrics', () => {
  test('ROC-AUC by ranks, ties at half credit', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBeCloseTo(0.5);
  });

  test('regression and binary metrics over observed targets only', () => {
    const outputs = [1, 0.9, 2, 0.2, 3, 0.6, 99, 0.1];
    const targets = [1, 1, 2, 0, 4, 1, 0, 0];
    const mask = [1, 1, 1, 1, 1, 1, 0, 1];
    const m = computeMetrics(outputs, targets, mask, 4, ['r', 'b'], ['mse', 'bce']);
    const r = m.tasks.r as { mse: number; r2: number; count: number };
    expect(r.count).toBe(3);
    expect(r.mse).toBeCloseTo(1 / 3);
    expect(r.r2).toBeCloseTo(1 - 1 / (14 / 3));
    const b = m.tasks.b as { accuracy: number; f1: number };
    expect(b.accuracy).toBe(1);
    expect(b.f1).toBe(1);
    expect(m.overall.hammingLoss).toBe(0);
  });

  test('a task named "overall" keeps its own metrics; F1 without any positive is undefined, not 1', () => {
    const m = computeMetrics([0.1, 0.2, 0.3], [0, 0, 0], [1, 1, 1], 3, ['overall'], ['bce']);
    expect(m.tasks.overall!.count).toBe(3);
    expect((m.tasks.overall as { f1: number }).f1).toBeNaN();
    expect(m.overall.macroF1).toBeNaN();
  });

  test('a NaN score gives AUC NaN at once (it used to loop forever)', () => {
    expect(rocAuc([NaN, 0.3, NaN], [1, 0, 0])).toBeNaN();
  });
});

describe('splits by group', () => {
  const table = (groups: string[]) => ({
    featureNames: ['x'],
    targetNames: ['y'],
    rows: groups.length,
    X: Float64Array.from(groups, (_, i) => i),
    Y: new Float64Array(groups.length),
    mask: new Float64Array(groups.length).fill(1),
    groups,
  });

  test('no group is on both sides, and about the asked fraction is held out', () => {
    const groups = Array.from({ length: 200 }, (_, i) => `subject${i % 23}`);
    for (const seed of [1, 2, 3]) {
      const [kept, held] = splitRows(table(groups), 0.2, seed, 'test');
      const heldGroups = new Set(held.groups);
      expect(kept.groups!.some((g) => heldGroups.has(g))).toBe(false);
      expect(kept.rows + held.rows).toBe(200);
      expect(held.rows).toBeGreaterThanOrEqual(40);
      expect(held.rows).toBeLessThan(40 + 10); // at most one group (≤ 9 rows) past the target
    }
  });

  test('one group cannot be split', () => {
    expect(() => splitRows(table(['a', 'a', 'a']), 0.3, 1, 'validation')).toThrow('validation split by group: only 1 group');
  });
});
