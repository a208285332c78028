// Shared-memory tiled matmul for real GPUs (bindings: matmul_common.wgsl).
// A TILE×TILE workgroup computes a TILE×TILE tile of C, one element per invocation. For each
// k-slab it stages op(A)[tile rows, slab] and op(B)[slab, tile cols] in workgroup memory
// (zero outside the matrices), so each global element is read once per tile, not once per
// output. Workgroups are numbered row-major over the tiles and folded into (x, y) when there
// are more than 65,535; the early return depends on the workgroup alone, so it is uniform.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;

override TILE: u32 = 16u;

var<workgroup> tileA: array<f32, TILE * TILE>;
var<workgroup> tileB: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE, 1)
fn main(@builtin(local_invocation_id) lid: vec3u,
        @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let tilesN = (dims.N + TILE - 1u) / TILE;
  let tile = wid.x + wid.y * nwg.x;
  let rowStart = (tile / tilesN) * TILE;
  if (rowStart >= dims.M) {
    return;
  }
  let m = rowStart + lid.y;
  let n = (tile % tilesN) * TILE + lid.x;
  let sa = strideA();
  let sb = strideB();

  var acc = 0.0;
  var rowSum = 0.0;
  for (var k0 = 0u; k0 < dims.K; k0 += TILE) {
    let ka = k0 + lid.x;
    let kb = k0 + lid.y;
    var av = 0.0;
    if (m < dims.M && ka < dims.K) {
      av = a[dims.offsetA + m * sa.x + ka * sa.y];
    }
    var bv = 0.0;
    if (n < dims.N && kb < dims.K) {
      bv = b[dims.offsetB + n * sb.x + kb * sb.y];
    }
    tileA[lid.y * TILE + lid.x] = av;
    tileB[lid.y * TILE + lid.x] = bv;
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      let x = tileA[lid.y * TILE + kk];
      acc += x * tileB[kk * TILE + lid.x];
      rowSum += x;
    }
    workgroupBarrier();
  }

  if (m < dims.M && n < dims.N) {
    storeC(m, n, acc);
  }
  if (ROW_SUMS && n == 0u && m < dims.M) {
    rowSums[dims.offsetRowSums + m] = rowSum;
  }
}
