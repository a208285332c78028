// One update of every parameter in the flat buffer (layout W, A, b, c; see src/core/shape.ts),
// one invocation per element, WORKGROUP_SIZE a workgroup, folded into (x, y) past 65,535 workgroups.
//   decoupled weight decay (elements below decayCount, i.e. W and A):  p ← p − lr·λ·p
//   SGD:            p ← p − lr·g
//   momentum:  v ← μ·v + g;                                   p ← p − lr·v
//   Adam:          m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;   p ← p − lr·(m·c1) / (√(v·c2) + ε)
//                      with the bias corrections c1 = 1/(1 − β1^t), c2 = 1/(1 − β2^t) from the host
// Elements in [frozenStart, frozenEnd) stay as they are (a task-coupling matrix fixed by the user).
// The coupling matrix A ([couplingStart, couplingEnd), couplingCols = H columns) may be regularised
// by λ1·Σ|A| + (λI/2)·‖A − I‖² (I: ones where task = hidden unit): g += λ1·sign(p) + λI·(p − δ).
//
// | binding | name   | access     | shape                          |
// |---------|--------|------------|--------------------------------|
// | 0       | grads  | read       | count                          |
// | 1       | params | read_write | count                          |
// | 2       | state1 | read_write | count (velocity, or Adam's m)  |
// | 3       | state2 | read_write | count (Adam's v)               |
// | 4       | opt    | uniform    | OptimizerStep                  |

// OPTIMIZER_* codes, WORKGROUP_SIZE and OptimizerStep: generated from src/core/optimizers.ts and
// src/kernels/optimizer.ts.

@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> state1: array<f32>;
@group(0) @binding(3) var<storage, read_write> state2: array<f32>;
@group(0) @binding(4) var<uniform> opt: OptimizerStep;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + li;
  if (i >= opt.count || (i >= opt.frozenStart && i < opt.frozenEnd)) {
    return;
  }
  var p = params[i];
  var g = grads[i];
  if (i >= opt.couplingStart && i < opt.couplingEnd) {
    let j = i - opt.couplingStart;
    let identity = select(0.0, 1.0, j / opt.couplingCols == j % opt.couplingCols);
    g += opt.couplingL1 * sign(p) + opt.couplingToIdentity * (p - identity);
  }
  if (i < opt.decayCount) {
    p -= opt.lr * opt.weightDecay * p;
  }
  switch opt.kind {
    case OPTIMIZER_MOMENTUM: {
      let v = opt.momentum * state1[i] + g;
      state1[i] = v;
      p -= opt.lr * v;
    }
    case OPTIMIZER_ADAM: {
      let m = opt.beta1 * state1[i] + (1.0 - opt.beta1) * g;
      let v = opt.beta2 * state2[i] + (1.0 - opt.beta2) * g * g;
      state1[i] = m;
      state2[i] = v;
      p -= opt.lr * (m * opt.biasCorrection1) / (sqrt(v * opt.biasCorrection2) + opt.epsilon);
    }
    case OPTIMIZER_SGD: {
      p -= opt.lr * g;
    }
    default: {
      p = bitcast<f32>(0x7fc00000u | (opt.kind & 0u)); // an unknown code poisons the parameters visibly
    }
  }
  params[i] = p;
}
