// Register-blocked matmul with vec4 loads (bindings: matmul_common.wgsl, with a and b read as vec4
// arrays). Like matmul_regblock.wgsl — no workgroup memory, no barriers — but each invocation
// computes an 8×8 block of C, and each step of 4 along k loads an 8×4 slab of op(A) and a 4×8 slab
// of op(B) with eight vec4 loads each, then does 256 multiply-adds as sixteen 4×4 matrix–vector
// products: 8× fewer loads per multiply-add than the scalar kernel, which is what bounds SwiftShader.
// A WG_X×WG_Y workgroup covers a (8·WG_Y)×(8·WG_X) tile of C.
// It needs every stored row to be whole vec4s: K % 4 = 0, M % 4 = 0 when TRANSPOSE_A, N % 4 = 0
// unless TRANSPOSE_B, offsetA and offsetB % 4 = 0 (the host checks: matmulVec4Fits in
// src/kernels/matmul.ts). Edge rows, columns and vec4 groups are clamped for loading and masked
// only on the final stores.

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3u,
        @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let origin = blockOrigin(lid, wid, nwg, vec2u(WG_X, WG_Y), 8u);
  let m0 = origin.x;
  let n0 = origin.y;
  if (m0 >= dims.M || n0 >= dims.N) {
    return;
  }
  let K4 = dims.K / 4u;
  let offA = dims.offsetA / 4u;
  let offB = dims.offsetB / 4u;
  let rowA = dims.M / 4u; // vec4s per stored row of A when TRANSPOSE_A
  let rowB = dims.N / 4u; // vec4s per stored row of B unless TRANSPOSE_B
  let lastRow = dims.M - 1u;
  let lastCol = dims.N - 1u;

  // Where each of the 8 rows of op(A) (or, transposed, the 2 vec4 groups of rows) starts.
  var a0 = 0u; var a1 = 0u; var a2 = 0u; var a3 = 0u; var a4 = 0u; var a5 = 0u; var a6 = 0u; var a7 = 0u;
  var aGroupLo = 0u; var aGroupHi = 0u;
  if (TRANSPOSE_A) {
    aGroupLo = m0 / 4u;
    aGroupHi = min(m0 / 4u + 1u, rowA - 1u);
  } else {
    a0 = offA + m0 * K4;
    a1 = offA + min(m0 + 1u, lastRow) * K4;
    a2 = offA + min(m0 + 2u, lastRow) * K4;
    a3 = offA + min(m0 + 3u, lastRow) * K4;
    a4 = offA + min(m0 + 4u, lastRow) * K4;
    a5 = offA + min(m0 + 5u, lastRow) * K4;
    a6 = offA + min(m0 + 6u, lastRow) * K4;
    a7 = offA + min(m0 + 7u, lastRow) * K4;
  }
  // Likewise the 8 columns of op(B), or its 2 vec4 groups of columns.
  var b0 = 0u; var b1 = 0u; var b2 = 0u; var b3 = 0u; var b4 = 0u; var b5 = 0u; var b6 = 0u; var b7 = 0u;
  var bGroupLo = 0u; var bGroupHi = 0u;
  if (TRANSPOSE_B) {
    b0 = offB + n0 * K4;
    b1 = offB + min(n0 + 1u, lastCol) * K4;
    b2 = offB + min(n0 + 2u, lastCol) * K4;
    b3 = offB + min(n0 + 3u, lastCol) * K4;
    b4 = offB + min(n0 + 4u, lastCol) * K4;
    b5 = offB + min(n0 + 5u, lastCol) * K4;
    b6 = offB + min(n0 + 6u, lastCol) * K4;
    b7 = offB + min(n0 + 7u, lastCol) * K4;
  } else {
    bGroupLo = n0 / 4u;
    bGroupHi = min(n0 / 4u + 1u, rowB - 1u);
  }

  var lo0 = vec4f(0.0); var lo1 = vec4f(0.0); var lo2 = vec4f(0.0); var lo3 = vec4f(0.0);
  var lo4 = vec4f(0.0); var lo5 = vec4f(0.0); var lo6 = vec4f(0.0); var lo7 = vec4f(0.0);
  var hi0 = vec4f(0.0); var hi1 = vec4f(0.0); var hi2 = vec4f(0.0); var hi3 = vec4f(0.0);
  var hi4 = vec4f(0.0); var hi5 = vec4f(0.0); var hi6 = vec4f(0.0); var hi7 = vec4f(0.0);
  var sumsTop = mat4x4f();
  var sumsBottom = mat4x4f();
  for (var k4 = 0u; k4 < K4; k4++) {
    // top / bottom: column i = op(A)[m0 + i (+ 4), k..k+3]
    var top: mat4x4f;
    var bottom: mat4x4f;
    if (TRANSPOSE_A) {
      let r = offA + 4u * k4 * rowA;
      top = transpose(mat4x4f(a[r + aGroupLo], a[r + rowA + aGroupLo], a[r + 2u * rowA + aGroupLo], a[r + 3u * rowA + aGroupLo]));
      bottom = transpose(mat4x4f(a[r + aGroupHi], a[r + rowA + aGroupHi], a[r + 2u * rowA + aGroupHi], a[r + 3u * rowA + aGroupHi]));
    } else {
      top = mat4x4f(a[a0 + k4], a[a1 + k4], a[a2 + k4], a[a3 + k4]);
      bottom = mat4x4f(a[a4 + k4], a[a5 + k4], a[a6 + k4], a[a7 + k4]);
    }
    // left / right: column kk = op(B)[k + kk, n0..n0+3 (+ 4)]
    var left: mat4x4f;
    var right: mat4x4f;
    if (TRANSPOSE_B) {
      left = transpose(mat4x4f(b[b0 + k4], b[b1 + k4], b[b2 + k4], b[b3 + k4]));
      right = transpose(mat4x4f(b[b4 + k4], b[b5 + k4], b[b6 + k4], b[b7 + k4]));
    } else {
      let r = offB + 4u * k4 * rowB;
      left = mat4x4f(b[r + bGroupLo], b[r + rowB + bGroupLo], b[r + 2u * rowB + bGroupLo], b[r + 3u * rowB + bGroupLo]);
      right = mat4x4f(b[r + bGroupHi], b[r + rowB + bGroupHi], b[r + 2u * rowB + bGroupHi], b[r + 3u * rowB + bGroupHi]);
    }
    lo0 += left * top[0];
    lo1 += left * top[1];
    lo2 += left * top[2];
    lo3 += left * top[3];
    lo4 += left * bottom[0];
    lo5 += left * bottom[1];
    lo6 += left * bottom[2];
    lo7 += left * bottom[3];
    hi0 += right * top[0];
    hi1 += right * top[1];
    hi2 += right * top[2];
    hi3 += right * top[3];
    hi4 += right * bottom[0];
    hi5 += right * bottom[1];
    hi6 += right * bottom[2];
    hi7 += right * bottom[3];
    if (ROW_SUMS) {
      sumsTop += top;
      sumsBottom += bottom;
    }
  }

  storeRow(m0, n0, lo0, hi0);
  storeRow(m0 + 1u, n0, lo1, hi1);
  storeRow(m0 + 2u, n0, lo2, hi2);
  storeRow(m0 + 3u, n0, lo3, hi3);
  storeRow(m0 + 4u, n0, lo4, hi4);
  storeRow(m0 + 5u, n0, lo5, hi5);
  storeRow(m0 + 6u, n0, lo6, hi6);
  storeRow(m0 + 7u, n0, lo7, hi7);
  if (ROW_SUMS && n0 == 0u) {
    let ones = vec4f(1.0);
    for (var i = 0u; i < 4u; i++) {
      if (m0 + i < dims.M) {
        rowSums[dims.offsetRowSums + m0 + i] = dot(sumsTop[i], ones);
      }
      if (m0 + 4u + i < dims.M) {
        rowSums[dims.offsetRowSums + m0 + 4u + i] = dot(sumsBottom[i], ones);
      }
    }
  }
}

fn storeRow(m: u32, n0: u32, left: vec4f, right: vec4f) {
  if (m >= dims.M) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < dims.N) {
      storeC(m, n0 + j, left[j]);
    }
    if (n0 + 4u + j < dims.N) {
      storeC(m, n0 + 4u + j, right[j]);
    }
  }
}
