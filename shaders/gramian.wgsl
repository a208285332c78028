// The task Gramian of the shared parameters: G_st = ⟨J_s, J_t⟩ over J_t = [dW_t (H×d), db_t (H)],
// which the matmul Δᵀ·X wrote as rows t·H … t·H+H−1 of `jacobian` and entries t·H … of
// `jacobianBias`. One workgroup per (s, t) (the grid T×T), WORKGROUP invocations reducing in
// workgroup memory; G comes out exactly symmetric (the same products, summed in the same order).
//
// | binding | name         | access     | shape        |
// |---------|--------------|------------|--------------|
// | 0       | jacobian     | read       | (T·H)×d      |
// | 1       | jacobianBias | read       | T·H          |
// | 2       | gramian      | read_write | T×T          |
// | 3       | dims         | uniform    | GramianDims  |

// GramianDims: generated from src/kernels/aggregate.ts.
override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read> jacobian: array<f32>;
@group(0) @binding(1) var<storage, read> jacobianBias: array<f32>;
@group(0) @binding(2) var<storage, read_write> gramian: array<f32>;
@group(0) @binding(3) var<uniform> dims: GramianDims;

var<workgroup> partial: array<f32, WORKGROUP>;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let s = min(wid.x, wid.y);
  let t = max(wid.x, wid.y);
  let weights = dims.hidden * dims.features; // H·d entries of dW_t
  var dot = 0.0;
  for (var i = li; i < weights; i += WORKGROUP) {
    dot += jacobian[s * weights + i] * jacobian[t * weights + i];
  }
  for (var i = li; i < dims.hidden; i += WORKGROUP) {
    dot += jacobianBias[s * dims.hidden + i] * jacobianBias[t * dims.hidden + i];
  }
  partial[li] = dot;
  workgroupBarrier();
  for (var stride = WORKGROUP / 2u; stride > 0u; stride /= 2u) {
    if (li < stride) {
      partial[li] += partial[li + stride];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    gramian[wid.x * dims.tasks + wid.y] = partial[0];
  }
}
