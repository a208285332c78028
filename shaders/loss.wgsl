// Per-task loss of one batch and its gradient G_Y = ∂L/∂Y, with
//   WEIGHTING_EQUAL: L = Σ_t w_t · L_t
//   WEIGHTING_UW:    L = Σ_t w_t · (c_t·e^{−s_t}·L_t + ½·s_t)   (uncertainty weighting, learned s;
//                    also writes ∂L/∂s_t = w_t·(½ − c_t·e^{−s_t}·L_t); src/core/weighting.ts)
//   WEIGHTING_GLS:   G_Y = ∂L_t/∂Y per task; gls.wgsl then scales it to the geometric mean's gradient
//   L_t = Σ_n mask[n,t]·ℓ_t(Y[n,t], Ŷ[n,t]) / count_t,   count_t = Σ_n mask[n,t]
//   MSE:             ℓ = (y − ŷ)²                            ∂ℓ/∂y = 2(y − ŷ)
//   BCE with logits: ℓ = max(y, 0) − y·ŷ + log(1 + e^(−|y|))  ∂ℓ/∂y = σ(y) − ŷ
// A task with count_t = 0 in this batch adds nothing and gets a zero gradient.
// G_Y is overwritten; lossSums[t] accumulates L_t (unweighted) across steps until the host
// reads and clears it. One workgroup per task (WORKGROUP invocations, a power of two set by the
// host: fewer on software adapters, where each barrier of the reduction is a thread switch)
// strides over the batch rows and reduces the count and the loss in workgroup memory.
//
// | binding | name     | access     | shape                                          |
// |---------|----------|------------|------------------------------------------------|
// | 0       | y        | read       | rows×T predictions                             |
// | 1       | targets  | read       | rows×T, starting at row offsetRows             |
// | 2       | mask     | read       | rows×T (1 = observed), starting at offsetRows  |
// | 3       | tasks    | read       | T × TaskInfo (weight, loss kind, c_t)          |
// | 4       | logVar   | read       | T: s, the parameters' log-variance segment     |
// | 5       | gradY    | read_write | rows×T                                         |
// | 6       | lossSums | read_write | T                                              |
// | 7       | gradLogVar | read_write | T: ∂L/∂s, the gradients' s segment (overwritten) |
// | 8       | dims     | uniform    | LossDims                                       |

// LOSS_* and WEIGHTING_* codes, TaskInfo and LossDims: generated from src/core and src/kernels/loss.ts.
// WORKGROUP, lossValue, lossGradient and taskLossSums: shaders/loss_fn.wgsl (shared with gls.wgsl).

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> tasks: array<TaskInfo>;
@group(0) @binding(4) var<storage, read> logVar: array<f32>;
@group(0) @binding(5) var<storage, read_write> gradY: array<f32>;
@group(0) @binding(6) var<storage, read_write> lossSums: array<f32>;
@group(0) @binding(7) var<storage, read_write> gradLogVar: array<f32>;
@group(0) @binding(8) var<uniform> dims: LossDims;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wid.x;
  let T = dims.tasks;
  let info = tasks[t];
  let dataBase = dims.offsetRows * T + t;

  let total = taskLossSums(t, li);
  let count = total.x;

  let meanLoss = select(0.0, total.y / count, count > 0.0);
  // The factor on L_t: w_t, or w_t·c_t·e^{−s_t} under uncertainty weighting, or 1 under the
  // geometric loss strategy (gls.wgsl rescales G_Y afterwards).
  let uncertainty = dims.weighting == WEIGHTING_UW;
  let s = select(0.0, logVar[t], uncertainty);
  var factor = select(info.weight, info.weight * info.uncertaintyScale * exp(-s), uncertainty);
  if (dims.weighting == WEIGHTING_GLS) {
    factor = 1.0;
  }
  let scale = select(0.0, factor / count, count > 0.0);
  for (var n = li; n < dims.rows; n += WORKGROUP) {
    let w = mask[dataBase + n * T];
    var g = 0.0;
    if (w != 0.0) {
      g = scale * w * lossGradient(info.kind, y[n * T + t], targets[dataBase + n * T], info.param);
    }
    gradY[n * T + t] = g;
  }
  if (li == 0u) {
    if (count > 0.0) {
      lossSums[t] += meanLoss;
    }
    gradLogVar[t] = select(0.0, info.weight * 0.5 - factor * meanLoss, uncertainty);
  }
}
