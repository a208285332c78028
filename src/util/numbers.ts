// What counts as a number in sigmtl's inputs.

/** The largest finite float32: the GPU, the model file and the CPU backend's inputs are all f32. */
export const F32_MAX = 3.4028234663852886e38;

/** A decimal number as written in a CSV cell ("1", "-2.5", ".5", "1e-3"); not "0x10", "Infinity" or "". */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The cell's number, or undefined when it is not a decimal number. */
export function parseDecimal(cell: string): number | undefined {
  return DECIMAL.test(cell) ? Number(cell) : undefined;
}

/** Why a value cannot be an f32 input, or undefined when it can. */
export function f32Problem(value: number): string | undefined {
  if (!Number.isFinite(value)) return 'is not a finite number';
  if (Math.abs(value) > F32_MAX) return `is outside the float32 range (±3.4e38)`;
  return undefined;
}
