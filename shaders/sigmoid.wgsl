// Elementwise sigmoid, forward and backward (the matmul fuses both into its epilogues; these
// standalone kernels serve tests and callers). WORKGROUP_SIZE invocations a workgroup, one element each;
// workgroups are folded into (x, y) past 65,535.
//
//   sigmoid_forward:  S = σ(Z)
//   sigmoid_backward: G_Z = G_S ⊙ S ⊙ (1 − S)   (overwrites G_Z)
//
// | entry            | binding | name  | access     | shape |
// |------------------|---------|-------|------------|-------|
// | sigmoid_forward  | 0       | z     | read       | count |
// |                  | 1       | s     | read_write | count |
// |                  | 2       | size  | uniform    | Size  |
// | sigmoid_backward | 0       | s     | read       | count |
// |                  | 1       | gradS | read       | count |
// |                  | 2       | gradZ | read_write | count |
// |                  | 3       | size  | uniform    | Size  |

// WORKGROUP_SIZE and Size: generated from src/kernels/sigmoid.ts.

fn elementIndex(wid: vec3u, nwg: vec3u, localIndex: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + localIndex;
}

@group(0) @binding(0) var<storage, read> forwardZ: array<f32>;
@group(0) @binding(1) var<storage, read_write> forwardS: array<f32>;
@group(0) @binding(2) var<uniform> forwardSize: Size;

@compute @workgroup_size(WORKGROUP_SIZE)
fn sigmoid_forward(@builtin(workgroup_id) wid: vec3u,
                   @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) li: u32) {
  let i = elementIndex(wid, nwg, li);
  if (i < forwardSize.count) {
    forwardS[i] = stableSigmoid(forwardZ[i]);
  }
}

@group(0) @binding(0) var<storage, read> backwardS: array<f32>;
@group(0) @binding(1) var<storage, read> backwardGradS: array<f32>;
@group(0) @binding(2) var<storage, read_write> backwardGradZ: array<f32>;
@group(0) @binding(3) var<uniform> backwardSize: Size;

@compute @workgroup_size(WORKGROUP_SIZE)
fn sigmoid_backward(@builtin(workgroup_id) wid: vec3u,
                    @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) li: u32) {
  let i = elementIndex(wid, nwg, li);
  if (i < backwardSize.count) {
    let s = backwardS[i];
    backwardGradZ[i] = backwardGradS[i] * s * (1.0 - s);
  }
}
