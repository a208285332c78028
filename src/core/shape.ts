// The model's shape and where each parameter lives in the one flat parameter buffer.
//   W: H×d, A: T×H, b: H, c: T, stored in the order W, A, b, c, row-major; then s: T, the task
//   log-variances that uncertainty weighting learns (training state, not part of the model file).
// W and A come first so that weight decay covers exactly the elements below `decayCount`.
// Each segment starts on a 256-byte boundary (WebGPU's largest allowed storage-offset alignment),
// so a kernel can bind dW and db, or dA and dc, as separate non-overlapping ranges of the one
// gradient buffer. The padding between segments stays zero. Gradients and optimizer state use
// the same layout.

/** Segment alignment in f32 elements: 256 bytes. */
export const SEGMENT_ALIGNMENT = 64;

const align = (n: number) => Math.ceil(n / SEGMENT_ALIGNMENT) * SEGMENT_ALIGNMENT;

export interface ModelShape {
  /** d: input features. */
  features: number;
  /** H: shared hidden units (T by default). */
  hidden: number;
  /** T: task outputs. */
  tasks: number;
}

export interface Segment {
  offset: number;
  size: number;
}

export interface ParameterLayout {
  shape: ModelShape;
  W: Segment;
  A: Segment;
  b: Segment;
  c: Segment;
  /** s: the tasks' log-variances of uncertainty weighting (zero, and untouched, otherwise). */
  s: Segment;
  count: number;
  decayCount: number;
}

export function parameterLayout(shape: ModelShape): ParameterLayout {
  const { features: d, hidden: H, tasks: T } = shape;
  for (const [name, v] of Object.entries(shape)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`model shape: ${name} must be a positive integer, got ${v}`);
  }
  const W = { offset: 0, size: H * d };
  const A = { offset: align(W.size), size: T * H };
  const b = { offset: align(A.offset + A.size), size: H };
  const c = { offset: align(b.offset + b.size), size: T };
  const s = { offset: align(c.offset + c.size), size: T };
  return { shape, W, A, b, c, s, count: s.offset + s.size, decayCount: A.offset + A.size };
}

export type ParameterName = 'W' | 'A' | 'b' | 'c';
export const PARAMETER_NAMES: readonly ParameterName[] = ['W', 'A', 'b', 'c'];

export function view<T extends Float32Array | Float64Array>(flat: T, segment: Segment): T {
  return flat.subarray(segment.offset, segment.offset + segment.size) as T;
}
