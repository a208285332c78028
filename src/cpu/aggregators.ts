// The gradient aggregators' weights from the task Gramian, in float64: the twin of
// shaders/aggregate.wgsl (the same algorithms, step for step; src/core/weighting.ts says what each
// aggregator is). G is T×T row-major; only the tasks with G_tt > 0 (a nonzero gradient in this
// batch) take part, the others get α_t = 0.
import { AGGREGATOR_LIMITS, type AggregatorKind } from '../core/weighting.js';

export function aggregatorWeights(kind: AggregatorKind, gramian: ArrayLike<number>, tasks: number, step = 0, seed = 0): Float64Array {
  switch (kind) {
    case 'mgda':
      return mgdaWeights(gramian, tasks);
    case 'pcgrad':
      return pcgradWeights(gramian, tasks, step, seed);
    case 'upgrad':
      return upgradWeights(gramian, tasks);
  }
}

const active = (G: ArrayLike<number>, T: number) => Array.from({ length: T }, (_, t) => G[t * T + t]! > 0);

/**
 * |P|·argmin_{a ∈ simplex over P} aᵀGa (P: the tasks with G_tt > 0) by pairwise steps (SMO):
 * move weight from the task with the largest (Ga)_i to a partner j, by the exact line minimum,
 * until max (Ga) over the support − min (Ga) is within the tolerance (the KKT conditions).
 */
export function mgdaWeights(G: ArrayLike<number>, T: number): Float64Array {
  const inP = active(G, T);
  const count = inP.filter(Boolean).length;
  const alpha = new Float64Array(T);
  if (count === 0) return alpha;
  for (let t = 0; t < T; t++) if (inP[t]) alpha[t] = 1 / count;
  const Ga = Float64Array.from({ length: T }, (_, r) => alpha.reduce((sum, a, t) => sum + G[r * T + t]! * a, 0));
  const scale = Math.max(...Array.from({ length: T }, (_, t) => G[t * T + t]!));
  for (let iteration = 0; iteration < AGGREGATOR_LIMITS.mgdaSteps; iteration++) {
    // i: the task with weight to give and the largest (Ga)_i; j: the partner whose exact line step
    // lowers the objective most, (Ga_i − Ga_j)²/curvature (second-order pair selection).
    let i = -1;
    let lowest = Infinity;
    for (let t = 0; t < T; t++) {
      if (!inP[t]) continue;
      if (alpha[t]! > 0 && (i < 0 || Ga[t]! > Ga[i]!)) i = t;
      lowest = Math.min(lowest, Ga[t]!);
    }
    if (Ga[i]! - lowest <= AGGREGATOR_LIMITS.tolerance * scale) break;
    let j = -1;
    let best = -1;
    for (let t = 0; t < T; t++) {
      const descent = Ga[i]! - Ga[t]!;
      if (!inP[t] || descent <= 0) continue;
      const curvature = G[i * T + i]! + G[t * T + t]! - 2 * G[i * T + t]!;
      const score = curvature > 0 ? (descent * descent) / curvature : Infinity;
      if (score > best) {
        best = score;
        j = t;
      }
    }
    const curvature = G[i * T + i]! + G[j * T + j]! - 2 * G[i * T + j]!;
    const move = curvature > 0 ? Math.min(alpha[i]!, (Ga[i]! - Ga[j]!) / curvature) : alpha[i]!;
    alpha[i]! -= move;
    alpha[j]! += move;
    for (let r = 0; r < T; r++) Ga[r]! += move * (G[r * T + j]! - G[r * T + i]!);
  }
  return alpha.map((a) => a * count);
}

/**
 * PCGrad: J_i' = J_i, then for each j ≠ i in a seeded random order (pcgradOrder), when
 * ⟨J_i', J_j⟩ < 0: J_i' −= ⟨J_i', J_j⟩/‖J_j‖²·J_j. Kept as coefficients c (J_i' = Σ_j c_j·J_j, so
 * ⟨J_i', J_j⟩ = (Gc)_j); α = Σ_i c.
 */
export function pcgradWeights(G: ArrayLike<number>, T: number, step: number, seed: number): Float64Array {
  const inP = active(G, T);
  const weights = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    if (!inP[i]) continue;
    const c = new Float64Array(T);
    c[i] = 1;
    const Gc = Float64Array.from({ length: T }, (_, r) => G[r * T + i]!);
    for (const j of pcgradOrder(T, i, step, seed)) {
      if (j === i || !inP[j]) continue;
      const dot = Gc[j]!;
      if (dot < 0) {
        const f = dot / G[j * T + j]!;
        c[j]! -= f;
        for (let r = 0; r < T; r++) Gc[r]! -= f * G[r * T + j]!;
      }
    }
    for (let t = 0; t < T; t++) weights[t]! += c[t]!;
  }
  for (let t = 0; t < T; t++) if (!inP[t]) weights[t] = 0;
  return weights;
}

/**
 * UPGrad: v_i = argmin_{v ≥ e_i} vᵀGv by projected coordinate descent (v_k ← max(lb_k, v_k −
 * (Gv)_k/G_kk)); Jᵀv_i is J_i projected onto the dual cone of the rows. α = Σ_i v_i.
 */
export function upgradWeights(G: ArrayLike<number>, T: number): Float64Array {
  const inP = active(G, T);
  const weights = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    if (!inP[i]) continue;
    const v = new Float64Array(T);
    v[i] = 1;
    const Gv = Float64Array.from({ length: T }, (_, r) => G[r * T + i]!);
    for (let sweep = 0; sweep < AGGREGATOR_LIMITS.upgradSweeps; sweep++) {
      let largest = 0;
      for (let k = 0; k < T; k++) {
        if (!inP[k]) continue;
        const next = Math.max(k === i ? 1 : 0, v[k]! - Gv[k]! / G[k * T + k]!);
        const change = next - v[k]!;
        if (change !== 0) {
          v[k] = next;
          for (let r = 0; r < T; r++) Gv[r]! += change * G[r * T + k]!;
          largest = Math.max(largest, Math.abs(change));
        }
      }
      if (largest <= AGGREGATOR_LIMITS.tolerance) break;
    }
    for (let t = 0; t < T; t++) weights[t]! += v[t]!;
  }
  for (let t = 0; t < T; t++) if (!inP[t]) weights[t] = 0;
  return weights;
}

/** A 32-bit integer hash (lowbias32); the same u32 arithmetic as shaders/aggregate.wgsl. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The order in which PCGrad projects task i's gradient at this step: a seeded Fisher–Yates shuffle of 0..T−1. */
export function pcgradOrder(T: number, i: number, step: number, seed: number): number[] {
  const key = hash32((hash32((hash32(seed >>> 0) + step) >>> 0) + i) >>> 0);
  const order = Array.from({ length: T }, (_, t) => t);
  for (let k = T - 1; k > 0; k--) {
    const r = hash32((key + k) >>> 0) % (k + 1);
    [order[k], order[r]] = [order[r]!, order[k]!];
  }
  return order;
}
