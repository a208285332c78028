// The tasks' backpropagated hidden gradients side by side, for the gradient aggregators:
//   Δ[n, t·H + h] = G_Y[n,t] · A[t,h] · S[n,h] · (1 − S[n,h])
// (rows × T·H, row-major). The training step's G_Z is Σ_t of these; kept apart, one matmul
// Δᵀ·X (with row sums) gives every task's gradient of the shared parameters, J_t = [dW_t, db_t].
// WORKGROUP_SIZE invocations a workgroup, one element each, folded into (x, y) past 65,535.
//
// | binding | name   | access     | shape                            |
// |---------|--------|------------|----------------------------------|
// | 0       | gradY  | read       | rows×T                           |
// | 1       | params | read       | the flat parameters (A at offsetA) |
// | 2       | hidden | read       | rows×H, S                        |
// | 3       | deltas | read_write | rows×(T·H)                       |
// | 4       | dims   | uniform    | JacobianDims                     |

// WORKGROUP_SIZE and JacobianDims: generated from src/kernels/aggregate.ts.

@group(0) @binding(0) var<storage, read> gradY: array<f32>;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> hidden: array<f32>;
@group(0) @binding(3) var<storage, read_write> deltas: array<f32>;
@group(0) @binding(4) var<uniform> dims: JacobianDims;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + li;
  let width = dims.tasks * dims.hidden;
  if (i >= dims.rows * width) {
    return;
  }
  let n = i / width;
  let t = (i % width) / dims.hidden;
  let h = i % dims.hidden;
  let s = hidden[n * dims.hidden + h];
  deltas[i] = gradY[n * dims.tasks + t] * params[dims.offsetA + t * dims.hidden + h] * s * (1.0 - s);
}
