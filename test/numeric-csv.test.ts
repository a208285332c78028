// The byte-level numeric CSV reader (src/io/numeric-csv.ts) against the checked path (Papa Parse
// and parseDecimal, which is Number() of the cell: JavaScript's correctly rounded float64): every
// value identical (−0 included), every window it takes parsed exactly as the checked path parses
// it, and every window the checked path refuses left to the checked path.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseCsv } from '../src/data/csv.js';
import { chooseColumns, toTaskTable } from '../src/data/table.js';
import { parseNumericWindow, type NumericLayout } from '../src/io/numeric-csv.js';
import { parsePool, sharedBytes } from '../src/io/parse-workers.js';
import { parseDecimal } from '../src/util/numbers.js';

const encoder = new TextEncoder();

/** One cell as the only feature of a one-row window: the reader's value, or undefined. */
function readOne(cell: string): number | undefined {
  const layout: NumericLayout = { columns: 2, features: Int32Array.of(0), targets: Int32Array.of(1) };
  return parseNumericWindow(encoder.encode(`${cell},1\n`), layout, 1)?.X[0];
}

describe('values: exactly the checked path’s float64 for every decimal it takes', () => {
  const EDGES = [
    '0',
    '-0',
    '+0',
    '0.0',
    '-0.000',
    '.5',
    '5.',
    '-.5',
    '+.5e1',
    '1e0',
    '1E+2',
    '1e-7',
    '0001.2500',
    '123456789012345',
    '1234567890123456',
    '12345678901234567890',
    '0.1',
    '0.3',
    '2.2250738585072014e-308',
    '4.9e-324',
    '1e-400',
    '-1e-400',
    '3.4028234663852886e38',
    '3.4028235e38',
    '1.7976931348623157e308',
    '9007199254740993',
    '0.000000000000000000000000001',
    '1.00000000000000000000001',
    '123.456e-5',
    '99999999999999999999e-10',
    '  7.25  ',
    '\t-3\t',
  ];
  test.each(EDGES)('%j', (cell) => {
    const want = parseDecimal(cell.trim());
    const got = readOne(cell);
    if (want === undefined || !(Math.abs(want) <= 3.4028234663852886e38)) expect(got).toBeUndefined();
    else expect(Object.is(got, want), `${cell}: got ${got}, want ${want}`).toBe(true);
  });

  test.each(['', 'NA', 'nan', '1e', '1e+', '.', '-', '--1', '1.2.3', '0x10', 'Infinity', '1,5', '"1"', '1 2', '١'])('not a plain number: %j goes to the checked path', (cell) => {
    expect(readOne(cell)).toBeUndefined();
  });

  test('random doubles in every written form: identical to Number()', () => {
    const written = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)),
      fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 })).map(([v, k]) => v.toExponential(k)),
      fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 25 })).map(([v, k]) => v.toFixed(k)),
      fc.tuple(fc.stringMatching(/^[+-]?[0-9]{0,25}$/), fc.stringMatching(/^[0-9]{0,25}$/), fc.integer({ min: -330, max: 330 })).map(([i, f, e]) => `${i}.${f}e${e}`),
      fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)), // near float32's limits and subnormals too
    );
    fc.assert(
      fc.property(written, (cell) => {
        const want = parseDecimal(cell);
        const got = readOne(cell);
        if (want === undefined || !(Math.abs(want) <= 3.4028234663852886e38)) return got === undefined;
        return Object.is(got, want);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('windows: the fast path agrees with the checked path on every window it takes', () => {
  const COLUMNS = ['id', 'x1', 'x2', 'y1', 'y2'];
  const choice = { features: ['x1', 'x2'], targets: ['y1', 'y2'] };
  const layout: NumericLayout = { columns: 5, features: Int32Array.of(1, 2), targets: Int32Array.of(3, 4) };
  const cell = fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('', 'NA', 'nan', '?', 'N/A', 'null', ' 2 ', 'abc', '"3"', '1e5', '-0', '1e39') },
  );
  const record = fc.array(cell, { minLength: 4, maxLength: 6 }).map((cells) => cells.join(','));
  const window = fc.tuple(
    fc.array(fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: fc.constantFrom('', '  ') }), { minLength: 1, maxLength: 12 }),
    fc.constantFrom('\n', '\r\n'),
    fc.boolean(),
  );

  test('fast-check: equal tables, or the checked path (which may refuse the window with its error)', () => {
    fc.assert(
      fc.property(window, ([lines, newline, trailing]) => {
        const text = lines.join(newline) + (trailing ? newline : '');
        let checked: ReturnType<typeof toTaskTable> | undefined;
        try {
          const table = parseCsv(`${COLUMNS.join(',')}\n${text}`, 'w.csv');
          checked = toTaskTable(table, chooseColumns(table, choice.targets, choice.features));
        } catch {
          checked = undefined; // the checked path refuses it: the fast path must not take it
        }
        const rows = checked?.rows ?? lines.filter((l) => l.trim() !== '').length;
        if (rows === 0) return true; // a window always holds a record (the scan starts windows at records)
        const fast = parseNumericWindow(encoder.encode(text), layout, rows);
        if (!fast) return true;
        expect(checked, `the fast path took a window the checked path refuses:\n${text}`).toBeDefined();
        expect(Array.from(fast.X)).toEqual(Array.from(checked!.X));
        expect(Array.from(fast.Y)).toEqual(Array.from(checked!.Y));
        expect(Array.from(fast.mask)).toEqual(Array.from(checked!.mask));
        // checked lines count from the header at line 1; the fast path's from the window's first line at 0
        expect(Array.from(fast.lineOffsets, (o) => o + 2)).toEqual(checked!.source!.lines);
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  test('a plain numeric window is taken, with missing targets masked and blank lines skipped', () => {
    const text = 'a,1.5,-2,3,NA\r\n\r\nb,0.25,1e3,,7\r\n';
    const fast = parseNumericWindow(encoder.encode(text), layout, 2);
    expect(fast).toBeDefined();
    expect(Array.from(fast!.X)).toEqual([1.5, -2, 0.25, 1000]);
    expect(Array.from(fast!.Y)).toEqual([3, 0, 0, 7]);
    expect(Array.from(fast!.mask)).toEqual([1, 0, 0, 1]);
    expect(Array.from(fast!.lineOffsets)).toEqual([0, 2]);
  });

  test.each([
    ['a missing feature', 'a,,2,3,4\n'],
    ['a quoted cell', 'a,"1",2,3,4\n'],
    ['a quote in a skipped column', '"a,b",1,2,3,4\n'],
    ['a short record', 'a,1,2,3\n'],
    ['a long record', 'a,1,2,3,4,5\n'],
    ['a value beyond float32', 'a,1e39,2,3,4\n'],
    ['fewer records than the scan found', ''],
  ])('%s goes to the checked path', (_what, text) => {
    expect(parseNumericWindow(encoder.encode(text), layout, 1)).toBeUndefined();
  });
});

describe('the reader on worker threads', () => {
  const layout: NumericLayout = { columns: 4, features: Int32Array.of(0, 1), targets: Int32Array.of(2, 3) };
  /** About 2 MB of records (blank lines and missing targets among them), in shared memory. */
  function window(poison?: string) {
    const lines: string[] = [];
    for (let r = 0; r < 60_000; r++) {
      if (r % 997 === 0) lines.push('');
      lines.push(r === 40_000 && poison !== undefined ? poison : `${Math.sin(r).toFixed(6)},${(r * 1e-3).toExponential(4)},${r % 7 === 0 ? 'NA' : Math.cos(r)},${-r}`);
    }
    const text = encoder.encode(lines.join('\n') + '\n');
    const bytes = sharedBytes(text.length);
    bytes.set(text);
    return { bytes, rows: 60_000 };
  }

  test('the workers’ joined pieces are the one-thread parse, lines included', async () => {
    const pool = parsePool(3);
    try {
      const { bytes, rows } = window();
      const alone = parseNumericWindow(bytes, layout, rows)!;
      const joined = (await pool.parse(bytes, layout, rows))!;
      expect(joined.rows).toBe(rows);
      expect(joined.X).toEqual(alone.X);
      expect(joined.Y).toEqual(alone.Y);
      expect(joined.mask).toEqual(alone.mask);
      expect(joined.lineOffsets).toEqual(alone.lineOffsets);
    } finally {
      pool.close();
    }
  });

  test('a piece the reader will not take sends the whole window to the checked path', async () => {
    const pool = parsePool(2);
    try {
      const { bytes, rows } = window('1,"2",3,4');
      expect(await pool.parse(bytes, layout, rows)).toBeUndefined();
      expect(await pool.parse(window().bytes, layout, rows + 1)).toBeUndefined(); // the scan's count differs
    } finally {
      pool.close();
    }
  });
});
