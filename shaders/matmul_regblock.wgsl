// Register-blocked matmul with no workgroup memory and no barriers (bindings: matmul_common.wgsl).
// Each invocation computes a 4×4 block of C straight from global memory, so a WG_X×WG_Y
// workgroup covers a (4·WG_Y)×(4·WG_X) tile. On SwiftShader, where every workgroupBarrier is a
// thread switch, this is several times faster than the tiled kernel.
// Edge blocks load from clamped rows/columns (valid addresses, so the k loop has no bounds
// checks) and mask only the final stores. Workgroups are numbered row-major over the tiles
// and folded into (x, y) when there are more than 65,535.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3u,
        @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let origin = blockOrigin(lid, wid, nwg, vec2u(WG_X, WG_Y), 4u);
  let m0 = origin.x;
  let n0 = origin.y;
  if (m0 >= dims.M || n0 >= dims.N) {
    return;
  }

  let sa = strideA();
  let sb = strideB();
  let lastRow = dims.M - 1u;
  let lastCol = dims.N - 1u;
  let a0 = dims.offsetA + m0 * sa.x;
  let a1 = dims.offsetA + min(m0 + 1u, lastRow) * sa.x;
  let a2 = dims.offsetA + min(m0 + 2u, lastRow) * sa.x;
  let a3 = dims.offsetA + min(m0 + 3u, lastRow) * sa.x;
  let b0 = dims.offsetB + n0 * sb.x;
  let b1 = dims.offsetB + min(n0 + 1u, lastCol) * sb.x;
  let b2 = dims.offsetB + min(n0 + 2u, lastCol) * sb.x;
  let b3 = dims.offsetB + min(n0 + 3u, lastCol) * sb.x;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var sums = vec4f(0.0);
  var ka = 0u;
  var kb = 0u;
  for (var k = 0u; k < dims.K; k++) {
    let av = vec4f(a[a0 + ka], a[a1 + ka], a[a2 + ka], a[a3 + ka]);
    let bv = vec4f(b[b0 + kb], b[b1 + kb], b[b2 + kb], b[b3 + kb]);
    acc0 += av.x * bv;
    acc1 += av.y * bv;
    acc2 += av.z * bv;
    acc3 += av.w * bv;
    if (ROW_SUMS) {
      sums += av;
    }
    ka += sa.y;
    kb += sb.y;
  }

  storeRow(m0, n0, acc0);
  storeRow(m0 + 1u, n0, acc1);
  storeRow(m0 + 2u, n0, acc2);
  storeRow(m0 + 3u, n0, acc3);
  if (ROW_SUMS && n0 == 0u) {
    for (var i = 0u; i < 4u; i++) {
      if (m0 + i < dims.M) {
        rowSums[dims.offsetRowSums + m0 + i] = sums[i];
      }
    }
  }
}

fn storeRow(m: u32, n0: u32, acc: vec4f) {
  if (m >= dims.M) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < dims.N) {
      storeC(m, n0 + j, acc[j]);
    }
  }
}
