// Property tests with fast-check on everything that parses outside input: the CSV loader, the
// --A-init CSV, the safetensors and model readers, the checkpoint reader and train()'s options. On generated and
// mutated inputs each either succeeds or throws sigmtl's own error naming the input — never a
// TypeError from deep inside, never a hang. Seeded (1000 cases each, ~2 s); for a longer local run:
// SIGMTL_FUZZ_RUNS=100000 SIGMTL_FUZZ_SEED=$RANDOM npx vitest run test/fuzz.test.ts
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readCsvText } from '../src/api/datasets.js';
import { resolveSettings, type TrainOptions } from '../src/api/options.js';
import { toTable } from '../src/api/data.js';
import { newOptimizerState } from '../src/core/optimizers.js';
import { parameterLayout } from '../src/core/shape.js';
import { DataError } from '../src/data/csv.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/io/checkpoint.js';
import { decodeModel, encodeModel } from '../src/io/model-format.js';
import { SafetensorsError } from '../src/io/safetensors.js';
import { smallModel } from './small-model.js';
import { parseCouplingCsv } from '../src/cli/train-job.js';

const RUNS = Number(process.env.SIGMTL_FUZZ_RUNS ?? 1000);
const settings = { numRuns: RUNS, seed: Number(process.env.SIGMTL_FUZZ_SEED ?? 20261129), interruptAfterTimeLimit: 20_000 };

/** Runs `parse`; it may succeed, or throw `errorType` whose message names `name`. */
function succeedsOrNames(errorType: abstract new (...args: never[]) => Error, name: string, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    expect(error, `${(error as Error).name}: ${(error as Error).message}`).toBeInstanceOf(errorType);
    expect((error as Error).message).toContain(name);
  }
}

const csvCell = fc.oneof(
  fc.constantFrom('', 'NA', 'nan', '?', '1', '-2.5', '1e39', '0x10', 'Infinity', '"q"', '"a,b"', '"\n"', ' 3 ', '1e-3'),
  fc.double({ noNaN: false }).map(String),
  fc.string({ maxLength: 6 }),
);
const csvText = fc
  .tuple(fc.array(fc.array(csvCell, { minLength: 1, maxLength: 5 }), { minLength: 0, maxLength: 8 }), fc.constantFrom('\n', '\r\n'))
  .map(([rows, newline]) => rows.map((r) => r.join(',')).join(newline));

describe('the CSV loader', () => {
  test('generated CSV text: rows or a DataError naming the file', () => {
    fc.assert(
      fc.property(csvText, fc.constantFrom(['y'], ['b', 'y'], ['*']), (text, targets) =>
        succeedsOrNames(DataError, 'fuzz.csv', () => readCsvText(text, { name: 'fuzz.csv', targets })),
      ),
      settings,
    );
  });

  test('a valid CSV with one cell mutated', () => {
    const valid = ['a,b,y', '1,2,3', '4,5,6', '7,8,9'];
    fc.assert(
      fc.property(fc.nat(3), fc.nat(2), csvCell, (row, col, cell) => {
        const lines = valid.map((l) => l.split(','));
        lines[row]![col] = cell;
        succeedsOrNames(DataError, 'mut.csv', () => {
          const data = readCsvText(lines.map((l) => l.join(',')).join('\n'), { name: 'mut.csv', targets: ['y'] });
          for (const v of data.features) expect(Number.isFinite(v) && Math.abs(v) <= 3.4028234663852886e38).toBe(true);
        });
      }),
      settings,
    );
  });
});

test('the --A-init CSV: rows of finite numbers, or a DataError naming the file', () => {
  fc.assert(
    fc.property(csvText, (text) =>
      succeedsOrNames(DataError, 'A.csv', () => {
        const rows = parseCouplingCsv(text, 'A.csv');
        for (const row of rows) expect(row.every(Number.isFinite)).toBe(true);
      }),
    ),
    settings,
  );
});

const model = smallModel;

/** Bytes with up to 8 random edits (overwrites, truncation, insertion). */
const mutated = (original: Uint8Array) =>
  fc.array(fc.tuple(fc.constantFrom('set', 'cut', 'insert'), fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }).map((edits) => {
    let bytes = original.slice();
    for (const [kind, at, value] of edits) {
      const i = at % Math.max(1, bytes.length);
      if (kind === 'set') bytes[i] = value;
      else if (kind === 'cut') bytes = bytes.slice(0, i);
      else bytes = Uint8Array.from([...bytes.subarray(0, i), value, ...bytes.subarray(i)]);
    }
    return bytes;
  });

describe('the model and checkpoint readers', () => {
  const modelBytes = encodeModel(model());

  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => succeedsOrNames(SafetensorsError, 'rand.safetensors', () => decodeModel(bytes, 'rand.safetensors'))),
      settings,
    );
  });

  test('a model file with random edits: a model with finite values, or a SafetensorsError naming the file', () => {
    fc.assert(
      fc.property(mutated(modelBytes), (bytes) =>
        succeedsOrNames(SafetensorsError, 'm.safetensors', () => {
          const { model: m } = decodeModel(bytes, 'm.safetensors');
          expect(m.params.every(Number.isFinite)).toBe(true);
        }),
      ),
      settings,
    );
  });

  test('a checkpoint with random edits', () => {
    const m = model();
    const layout = parameterLayout(m.shape);
    const bytes = encodeCheckpoint(m, newOptimizerState(layout.count), { epoch: 3, rngState: 12345 });
    fc.assert(
      fc.property(mutated(bytes), (b) => succeedsOrNames(SafetensorsError, 'c.safetensors', () => decodeCheckpoint(b, 'c.safetensors', layout))),
      settings,
    );
  });
});

describe("train()'s options", () => {
  const data = {
    features: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    targets: [[1], [0], [1]],
  };
  const anything = fc.oneof(fc.anything(), fc.double(), fc.integer({ min: -5, max: 1e6 }), fc.constantFrom('adam', 'sgd', 'auto', 'cpu', 'bce', ''));
  const option = fc.constantFrom(
    'epochs',
    'batchSize',
    'hidden',
    'seed',
    'validationSplit',
    'testSplit',
    'patience',
    'losses',
    'taskWeights',
    'backend',
    'optimizer',
    'schedule',
    'coupling',
    'reportEvery',
    'verifyEvery',
    'signal',
    'onProgress',
    'nonsense',
  );

  test('any value of any option: accepted, or a RangeError naming the option', () => {
    fc.assert(
      fc.property(option, anything, (name, value) => {
        try {
          resolveSettings({ ...data, [name]: value } as unknown as TrainOptions);
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(RangeError);
          expect((error as Error).message).toContain(name === 'nonsense' ? 'unknown option "nonsense"' : name);
        }
      }),
      settings,
    );
  });

  test('rows of any shape and content: a table, or a RangeError naming features or targets', () => {
    const matrix = fc.oneof(
      fc.array(fc.array(fc.oneof(fc.double(), fc.constant(NaN), fc.string()), { maxLength: 4 }), { maxLength: 5 }),
      fc.float32Array({ maxLength: 12 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(matrix, matrix, fc.option(fc.integer({ min: -1, max: 5 })), (features, targets, featureCount) => {
        try {
          const table = toTable({ features, targets } as never, { featureCount: featureCount ?? undefined });
          expect(table.X.every((v) => Number.isFinite(v))).toBe(true);
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(RangeError);
          expect((error as Error).message).toMatch(/features|targets|featureCount|taskCount/);
        }
      }),
      settings,
    );
  });
});
