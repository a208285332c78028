// Comparing a GPU (f32) result with the float64 reference: |got − ref| ≤ atol + rtol·|ref|,
// reporting the max differences and the first mismatches (as llm.c's validate_result does).

export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface Mismatch {
  index: number;
  got: number;
  ref: number;
}

export interface Comparison {
  ok: boolean;
  maxAbs: number;
  /** max |got − ref| / max(|ref|, 1e-12)... over elements where |ref| > atol (relative error of small values is noise). */
  maxRel: number;
  mismatches: Mismatch[];
  count: number;
}

export function compareArrays(got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance, keep = 5): Comparison {
  if (got.length !== ref.length) {
    throw new RangeError(`comparing ${got.length} values with ${ref.length} reference values`);
  }
  let maxAbs = 0;
  let maxRel = 0;
  let failures = 0;
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    const r = ref[i]!;
    const diff = Math.abs(g - r);
    const bad = !(diff <= tol.atol + tol.rtol * Math.abs(r)); // NaN counts as bad
    if (Number.isNaN(diff)) maxAbs = NaN;
    else maxAbs = Math.max(maxAbs, diff);
    if (Math.abs(r) > tol.atol) maxRel = Math.max(maxRel, diff / Math.abs(r));
    if (bad) {
      failures++;
      if (mismatches.length < keep) mismatches.push({ index: i, got: g, ref: r });
    }
  }
  return { ok: failures === 0, maxAbs, maxRel, mismatches, count: failures };
}

export function describeComparison(name: string, c: Comparison, tol: Tolerance): string {
  const head = `${name}: max abs ${c.maxAbs.toExponential(2)}, max rel ${c.maxRel.toExponential(2)} (atol ${tol.atol}, rtol ${tol.rtol})`;
  if (c.ok) return `${head} ok`;
  const first = c.mismatches.map((m) => `  [${m.index}] got ${m.got} ref ${m.ref}`).join('\n');
  return `${head} — ${c.count} mismatches, first:\n${first}`;
}
