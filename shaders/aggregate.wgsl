// The gradient aggregators (src/core/weighting.ts): task weights α from the Gramian G (gramian.wgsl),
// then G_Y[:,t] *= α_t in place, so the rest of the backward pass (G_Z, dW, db) yields the
// aggregated gradient Σ_t α_t·J_t of the shared parameters. dA and dc were taken from G_Y before.
// One workgroup of WORKGROUP invocations. Only tasks with G_tt > 0 take part (α_t = 0 otherwise).
//   MGDA:   invocation 0 runs pairwise (SMO, second-order pair choice) steps on the simplex over
//           the active tasks P; α = |P|·a.
//   PCGrad: invocation i projects task i's coefficients c (J_i' = Σ_j c_j·J_j) in its seeded order.
//   UPGrad: invocation i solves min vᵀGv over v ≥ e_i by projected coordinate descent.
//   α_t = Σ_i of the tasks' coefficient vectors (PCGrad, UPGrad).
// The float64 twin, step for step: src/cpu/aggregators.ts.
//
// | binding | name       | access     | shape                                                |
// |---------|------------|------------|------------------------------------------------------|
// | 0       | gramian    | read       | T×T                                                  |
// | 1       | gradY      | read_write | rows×T (scaled in place)                             |
// | 2       | weightSums | read_write | T: Σ α over the steps since the host last read them  |
// | 3       | scratch    | read_write | 3·T² + T: per task i, x_i and G·x_i; orders; then α  |
// | 4       | dims       | uniform    | AggregateDims                                        |

// AggregateDims, AGGREGATOR_* codes and limits: generated from src/kernels/aggregate.ts and src/core.
override TASKS: u32 = 1u;
override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read> gramian: array<f32>;
@group(0) @binding(1) var<storage, read_write> gradY: array<f32>;
@group(0) @binding(2) var<storage, read_write> weightSums: array<f32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(4) var<uniform> dims: AggregateDims;

var<workgroup> weight: array<f32, TASKS>;

fn G(r: u32, c: u32) -> f32 { return gramian[r * dims.tasks + c]; }
fn isActive(t: u32) -> bool { return G(t, t) > 0.0; }

// lowbias32, as hash32 in src/cpu/aggregators.ts.
fn hash32(value: u32) -> u32 {
  var x = value;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  return x ^ (x >> 16u);
}

// Pairwise steps on the simplex; writes α = |P|·a into `weight`. Invocation 0 only.
fn mgda() {
  let T = dims.tasks;
  var count = 0u;
  var scale = 0.0;
  for (var t = 0u; t < T; t++) {
    if (isActive(t)) {
      count++;
      scale = max(scale, G(t, t));
    }
  }
  // a in scratch[0..T), G·a in scratch[T..2T)
  for (var t = 0u; t < T; t++) {
    scratch[t] = select(0.0, 1.0 / f32(count), isActive(t));
  }
  for (var r = 0u; r < T; r++) {
    var sum = 0.0;
    for (var t = 0u; t < T; t++) {
      sum += G(r, t) * scratch[t];
    }
    scratch[T + r] = sum;
  }
  for (var iteration = 0u; iteration < MGDA_STEPS && count > 0u; iteration++) {
    // i: weight to give, the largest (Ga)_i; j: the partner whose exact line step lowers aᵀGa most.
    var i = T;
    var lowest = 3.4e38;
    for (var t = 0u; t < T; t++) {
      if (!isActive(t)) {
        continue;
      }
      if (scratch[t] > 0.0 && (i == T || scratch[T + t] > scratch[T + i])) {
        i = t;
      }
      lowest = min(lowest, scratch[T + t]);
    }
    if (scratch[T + i] - lowest <= AGGREGATOR_TOLERANCE * scale) {
      break;
    }
    var j = T;
    var best = -1.0;
    for (var t = 0u; t < T; t++) {
      let descent = scratch[T + i] - scratch[T + t];
      if (!isActive(t) || descent <= 0.0) {
        continue;
      }
      let c = G(i, i) + G(t, t) - 2.0 * G(i, t);
      let score = select(3.4e38, descent * descent / c, c > 0.0);
      if (score > best) {
        best = score;
        j = t;
      }
    }
    let curvature = G(i, i) + G(j, j) - 2.0 * G(i, j);
    let shift = select(scratch[i], min(scratch[i], (scratch[T + i] - scratch[T + j]) / curvature), curvature > 0.0);
    scratch[i] -= shift;
    scratch[j] += shift;
    for (var r = 0u; r < T; r++) {
      scratch[T + r] += shift * (G(r, j) - G(r, i));
    }
  }
  for (var t = 0u; t < T; t++) {
    weight[t] = scratch[t] * f32(count);
  }
}

// Task i's PCGrad coefficients into scratch[i·2T ..): c and G·c.
fn pcgrad(i: u32) {
  let T = dims.tasks;
  let x = i * 2u * T;
  let order = 2u * T * T + i * T;
  for (var r = 0u; r < T; r++) {
    scratch[x + r] = select(0.0, 1.0, r == i);
    scratch[x + T + r] = G(r, i);
    scratch[order + r] = f32(r);
  }
  let key = hash32(hash32(hash32(dims.seed) + dims.step) + i);
  for (var k = T - 1u; k > 0u; k--) {
    let r = hash32(key + k) % (k + 1u);
    let swap = scratch[order + k];
    scratch[order + k] = scratch[order + r];
    scratch[order + r] = swap;
  }
  for (var m = 0u; m < T; m++) {
    let j = u32(scratch[order + m]);
    if (j == i || !isActive(j)) {
      continue;
    }
    let dot = scratch[x + T + j];
    if (dot < 0.0) {
      let f = dot / G(j, j);
      scratch[x + j] -= f;
      for (var r = 0u; r < T; r++) {
        scratch[x + T + r] -= f * G(r, j);
      }
    }
  }
}

// v_i = argmin_{v ≥ e_i} vᵀGv into scratch[i·2T ..): v and G·v.
fn upgrad(i: u32) {
  let T = dims.tasks;
  let x = i * 2u * T;
  for (var r = 0u; r < T; r++) {
    scratch[x + r] = select(0.0, 1.0, r == i);
    scratch[x + T + r] = G(r, i);
  }
  for (var sweep = 0u; sweep < UPGRAD_SWEEPS; sweep++) {
    var largest = 0.0;
    for (var k = 0u; k < T; k++) {
      if (!isActive(k)) {
        continue;
      }
      let next = max(select(0.0, 1.0, k == i), scratch[x + k] - scratch[x + T + k] / G(k, k));
      let change = next - scratch[x + k];
      if (change != 0.0) {
        scratch[x + k] = next;
        for (var r = 0u; r < T; r++) {
          scratch[x + T + r] += change * G(r, k);
        }
        largest = max(largest, abs(change));
      }
    }
    if (largest <= AGGREGATOR_TOLERANCE) {
      break;
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) li: u32) {
  let T = dims.tasks;
  if (dims.kind == AGGREGATOR_MGDA) {
    if (li == 0u) {
      mgda();
    }
  } else {
    for (var i = li; i < T; i += WORKGROUP) {
      if (!isActive(i)) {
        for (var r = 0u; r < T; r++) {
          scratch[i * 2u * T + r] = 0.0;
        }
      } else if (dims.kind == AGGREGATOR_PCGRAD) {
        pcgrad(i);
      } else {
        upgrad(i);
      }
    }
    storageBarrier();
    for (var t = li; t < T; t += WORKGROUP) {
      var sum = 0.0;
      for (var i = 0u; i < T; i++) {
        sum += scratch[i * 2u * T + t];
      }
      weight[t] = sum;
    }
  }
  workgroupBarrier();
  for (var t = li; t < T; t += WORKGROUP) {
    weight[t] = select(0.0, weight[t], isActive(t));
    scratch[3u * T * T + t] = weight[t];
    if (dims.accumulate != 0u) {
      weightSums[t] += weight[t];
    }
  }
  workgroupBarrier();
  for (var i = li; i < dims.rows * T; i += WORKGROUP) {
    gradY[i] *= weight[i % T];
  }
}
