// Shared-memory tiled matmul for real GPUs (bindings: matmul_common.wgsl).
// A WG_X×WG_Y workgroup computes a (4·WG_Y)×(4·WG_X) tile of C, each invocation a 4×4 block in
// registers. For each slab of K_TILE along k, the workgroup stages op(A)[tile rows, slab] and
// op(B)[slab, tile columns] in workgroup memory — zero outside the matrices, loaded so that
// neighbouring invocations read neighbouring addresses whatever the transposes — then every
// invocation does 16 multiply-adds per k from there. Workgroups are numbered row-major over the
// tiles and folded into (x, y) past 65,535; the early return depends on the workgroup alone, so
// it is uniform and the barriers stay valid.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
const BLOCK = 4u;
const K_TILE = 16u;
override TILE_M = BLOCK * WG_Y;
override TILE_N = BLOCK * WG_X;
override THREADS = WG_X * WG_Y;

var<workgroup> tileA: array<f32, TILE_M * K_TILE>; // [row][k]
var<workgroup> tileB: array<f32, K_TILE * TILE_N>; // [k][column]

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= dims.M || k >= dims.K) {
    return 0.0;
  }
  let s = strideA();
  return a[dims.offsetA + m * s.x + k * s.y];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (k >= dims.K || n >= dims.N) {
    return 0.0;
  }
  let s = strideB();
  return b[dims.offsetB + n * s.x + k * s.y];
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let tilesN = (dims.N + TILE_N - 1u) / TILE_N;
  let tile = wid.x + wid.y * nwg.x;
  let rowStart = (tile / tilesN) * TILE_M;
  if (rowStart >= dims.M) {
    return;
  }
  let colStart = (tile % tilesN) * TILE_N;
  let m0 = lid.y * BLOCK; // within the tile
  let n0 = lid.x * BLOCK;

  var acc: array<vec4f, 4>;
  var rowSum = vec4f(0.0);
  for (var k0 = 0u; k0 < dims.K; k0 += K_TILE) {
    for (var i = li; i < TILE_M * K_TILE; i += THREADS) {
      // Consecutive invocations take consecutive k (A stored M×K) or consecutive rows (Aᵀ stored K×M).
      var r = i / K_TILE;
      var kk = i % K_TILE;
      if (TRANSPOSE_A) {
        r = i % TILE_M;
        kk = i / TILE_M;
      }
      tileA[r * K_TILE + kk] = loadA(rowStart + r, k0 + kk);
    }
    for (var i = li; i < K_TILE * TILE_N; i += THREADS) {
      // Consecutive invocations take consecutive columns (B stored K×N) or consecutive k (Bᵀ stored N×K).
      var kk = i / TILE_N;
      var c = i % TILE_N;
      if (TRANSPOSE_B) {
        kk = i % K_TILE;
        c = i / K_TILE;
      }
      tileB[kk * TILE_N + c] = loadB(k0 + kk, colStart + c);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < K_TILE; kk++) {
      let av = vec4f(tileA[m0 * K_TILE + kk], tileA[(m0 + 1u) * K_TILE + kk], tileA[(m0 + 2u) * K_TILE + kk], tileA[(m0 + 3u) * K_TILE + kk]);
      let bb = kk * TILE_N + n0;
      let bv = vec4f(tileB[bb], tileB[bb + 1u], tileB[bb + 2u], tileB[bb + 3u]);
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
      rowSum += av;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < BLOCK; i++) {
    let m = rowStart + m0 + i;
    if (m >= dims.M) {
      break;
    }
    for (var j = 0u; j < BLOCK; j++) {
      let n = colStart + n0 + j;
      if (n < dims.N) {
        storeC(m, n, acc[i][j]);
      }
    }
    if (ROW_SUMS && colStart == 0u && lid.x == 0u) {
      rowSums[dims.offsetRowSums + m] = rowSum[i];
    }
  }
}
