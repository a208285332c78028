// The fast path of streamed CSV: a window's bytes straight to numbers, with no strings. It takes
// a window only when every record is plain numeric cells separated by commas (a missing-target
// marker allowed); anything else — a quote, text, a missing feature, a wrong field count, a value
// beyond float32 — makes it give up on the window, which then goes through the checked path
// (Papa Parse, src/data/table.ts) with its errors naming file, line and column. Values are exactly
// the checked path's: the correctly rounded float64 of each decimal (Clinger's exact fast case
// for up to 15 significant digits and powers of ten up to 22, else Number() on the cell's text).
// The reader is one closure with nothing from outside (`numericReader`), so that worker threads
// can run its source text (src/io/parse-workers.ts).
import { F32_MAX } from '../util/numbers.js';

/** Where the chosen columns sit in a record, and how many cells a record has. */
export interface NumericLayout {
  columns: number;
  /** Record cell index of each feature, in feature order. */
  features: Int32Array;
  /** Record cell index of each target, in target order. */
  targets: Int32Array;
}

export interface NumericWindow {
  rows: number;
  /** rows×d, rows×T and rows×T, as toTaskTable gives them. */
  X: Float64Array;
  Y: Float64Array;
  mask: Float64Array;
  /** Each row's line, counted from 0 at the window's first byte. */
  lineOffsets: Int32Array;
  /** Lines the bytes held (blank lines included). */
  lines: number;
}

/**
 * The reader, built from nothing outside this function (F32_MAX comes in as `f32Max`): a worker
 * thread evaluates its source text.
 */
export function numericReader(f32Max: number) {
  const COMMA = 44;
  const NEWLINE = 10;
  const MINUS = 45;
  const PLUS = 43;
  const DOT = 46;
  const ZERO = 48;
  const NINE = 57;

  /** Bytes JavaScript's String.prototype.trim removes that can appear in ASCII: space, \t, \n, \v, \f, \r. */
  const isSpace = (b: number) => b === 32 || (b >= 9 && b <= 13);
  /** isSpace but not the newline, which ends a record. */
  const isBlank = (b: number) => b <= 32 && (b === 32 || (b >= 9 && b <= 13 && b !== 10)); // one compare for a digit

  /** 10^0 … 10^22, each exact in float64. */
  const EXACT_POWERS = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

  /** Lines in the bytes (an upper bound on the records), in a function of its own for V8's sake. */
  function countLines(bytes: Uint8Array): number {
    let lines = 1;
    for (let k = 0; k < bytes.length; k++) if (bytes[k] === NEWLINE) lines++;
    return lines;
  }

  /** The role of each record cell: -1 skipped, 0 … d−1 a feature, d … d+T−1 a target. */
  function cellRoles(layout: NumericLayout): Int32Array {
    const roles = new Int32Array(layout.columns).fill(-1);
    layout.features.forEach((cell, j) => (roles[cell] = j));
    layout.targets.forEach((cell, t) => (roles[cell] = layout.features.length + t));
    return roles;
  }

  /** The marker bytes of a missing target (src/data/table.ts's MISSING_MARKERS, any case), or an empty cell. */
  function isMissingMarker(bytes: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n === 0) return true;
    if (n > 4) return false;
    let text = '';
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]! | (bytes[i]! >= 65 && bytes[i]! <= 90 ? 32 : 0));
    return text === 'na' || text === 'nan' || text === '?' || text === 'n/a' || text === 'null';
  }

  /** Where the last readRecords call stopped: the next byte, record and line (blank lines count). */
  let at = 0;
  let rowsRead = 0;
  let linesRead = 0;

  /**
   * Up to `batch` more records of `bytes` (which end with a newline), from where the last call
   * stopped, into X, Y and mask: false where one needs the checked path. Called once per batch of
   * records rather than once per window, so that V8 optimises the whole function early (an
   * on-stack replacement of one long loop runs slower).
   */
  function readRecords(
    bytes: Uint8Array,
    roles: Int32Array,
    columns: number,
    d: number,
    T: number,
    X: Float64Array,
    Y: Float64Array,
    mask: Float64Array,
    lineOffsets: Int32Array,
    expectedRows: number,
    batch: number,
  ): boolean {
    const end = bytes.length;
    let row = rowsRead;
    let line = linesRead;
    let i = at;
    const stop = row + batch;
    while (i < end && row < stop) {
      // A blank line (only spaces) is skipped; it still counts as a line.
      let probe = i;
      while (isBlank(bytes[probe]!)) probe++;
      if (bytes[probe] === NEWLINE) {
        i = probe + 1;
        line++;
        continue;
      }
      if (row === expectedRows) return false; // more records than the scan found
      lineOffsets[row] = line;
      const xBase = row * d;
      const yBase = row * T - d;
      let cell = 0;
      for (;;) {
        // One cell: [spaces] number [spaces], ending at a comma or a newline.
        let b = bytes[i]!;
        while (isBlank(b)) b = bytes[++i]!;
        const start = i;
        let negative = false;
        if (b === MINUS) {
          negative = true;
          b = bytes[++i]!;
        } else if (b === PLUS) {
          b = bytes[++i]!;
        }
        // Digits straight into the mantissa; exact while there are at most 15 of them (leading
        // zeros counted: conservative), else the cell's text goes to Number() below.
        let mantissa = 0;
        const intStart = i;
        while (b >= ZERO && b <= NINE) {
          mantissa = mantissa * 10 + (b - ZERO);
          b = bytes[++i]!;
        }
        let digits = i - intStart;
        let exponent = 0;
        if (b === DOT) {
          b = bytes[++i]!;
          const fracStart = i;
          while (b >= ZERO && b <= NINE) {
            mantissa = mantissa * 10 + (b - ZERO);
            b = bytes[++i]!;
          }
          exponent = fracStart - i;
          digits -= exponent;
        }
        const sawDigit = digits > 0;
        const exactMantissa = digits <= 15;
        let ok = sawDigit;
        if (ok && (b === 101 || b === 69)) {
          // e / E, an optional sign, at least one digit
          b = bytes[++i]!;
          let expNegative = false;
          if (b === MINUS || b === PLUS) {
            expNegative = b === MINUS;
            b = bytes[++i]!;
          }
          let e = 0;
          let expDigits = 0;
          while (b >= ZERO && b <= NINE) {
            if (e < 100000) e = e * 10 + (b - ZERO);
            expDigits++;
            b = bytes[++i]!;
          }
          ok = expDigits > 0;
          exponent += expNegative ? -e : e;
        }
        const textEnd = i;
        while (isBlank(b)) b = bytes[++i]!;
        if (cell >= columns) return false; // more fields than the header
        const role = roles[cell]!;
        if (ok && (b === COMMA || b === NEWLINE)) {
          if (role !== -1) {
            let value: number;
            if (mantissa === 0) value = 0;
            else if (exactMantissa && exponent >= -22 && exponent <= 22) value = exponent >= 0 ? mantissa * EXACT_POWERS[exponent]! : mantissa / EXACT_POWERS[-exponent]!;
            else value = Number(latin1(bytes, bytes[start] === MINUS || bytes[start] === PLUS ? start + 1 : start, textEnd));
            if (negative) value = -value;
            if (!(Math.abs(value) <= f32Max)) return false; // beyond float32 (or not finite): the checked path says so
            if (role < d) X[xBase + role] = value;
            else {
              Y[yBase + role] = value;
              mask[yBase + role] = 1;
            }
          }
        } else {
          // Not a number: a missing target is fine; everything else goes to the checked path.
          let cellEnd = i;
          while (bytes[cellEnd] !== NEWLINE && bytes[cellEnd] !== COMMA) cellEnd++;
          let trimmed = cellEnd;
          while (trimmed > start && isSpace(bytes[trimmed - 1]!)) trimmed--;
          if (role < d || !isMissingMarker(bytes, start, trimmed)) {
            if (role !== -1) return false;
            // A skipped column may hold anything but a quote (which could hide a comma or newline).
            for (let k = start; k < cellEnd; k++) if (bytes[k] === 34) return false;
          }
          i = cellEnd;
          b = bytes[i]!;
        }
        cell++;
        if (b === NEWLINE) break;
        i++; // the comma
      }
      if (cell !== columns) return false;
      row++;
      line++;
      i++; // the newline
    }
    at = i;
    rowsRead = row;
    linesRead = line;
    return true;
  }

  /**
   * A window of `expectedRows` records (no header) → its numbers, or undefined when any record
   * needs the checked path (or the count differs). Without `expectedRows`, as many records as the
   * bytes hold. Blank lines are skipped, as the checked path skips them.
   */
  function parseNumericWindow(bytes: Uint8Array, layout: NumericLayout, expectedRows?: number): NumericWindow | undefined {
    const d = layout.features.length;
    const T = layout.targets.length;
    const roles = cellRoles(layout);
    const exact = expectedRows !== undefined;
    expectedRows ??= countLines(bytes);
    const X = new Float64Array(expectedRows * d);
    const Y = new Float64Array(expectedRows * T);
    const mask = new Float64Array(expectedRows * T);
    const lineOffsets = new Int32Array(expectedRows);
    if (bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE) {
      // Every loop below stops at a newline: the last record gets one, so no read passes the end.
      const ended = new Uint8Array(bytes.length + 1);
      ended.set(bytes);
      ended[bytes.length] = NEWLINE;
      bytes = ended;
    }
    at = rowsRead = linesRead = 0;
    while (at < bytes.length) if (!readRecords(bytes, roles, layout.columns, d, T, X, Y, mask, lineOffsets, expectedRows, 256)) return undefined;
    const [row, line] = [rowsRead, linesRead];
    if (exact && row !== expectedRows) return undefined;
    return { rows: row, X: X.subarray(0, row * d), Y: Y.subarray(0, row * T), mask: mask.subarray(0, row * T), lineOffsets: lineOffsets.subarray(0, row), lines: line };
  }

  function latin1(bytes: Uint8Array, start: number, end: number): string {
    let text = '';
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }
  return parseNumericWindow;
}

/** A window's bytes → its numbers, or undefined for the checked path (see numericReader). */
export const parseNumericWindow = numericReader(F32_MAX);
