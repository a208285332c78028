// AssemblyScript, compiled to WebAssembly with 128-bit SIMD by scripts/build-wasm.mjs (the bytes
// are committed in src/cpu/wasm-matmul-bytes.ts, with a test that they match this source).
//
// C = epilogue(op(A)·op(B)), the float32 twin of shaders/matmul_*.wgsl for the CPU engine:
//   op(A) M×K (A stored K×M when transposeA), op(B) K×N (B stored N×K when transposeB),
//   C M×N row-major; rowSums (if its pointer is not 0) = Σ_k op(A)[m,k] (bias gradients).
//   EPILOGUE_NONE:         C = acc
//   EPILOGUE_BIAS:         C = acc + aux[n]
//   EPILOGUE_BIAS_SIGMOID: C = σ(acc + aux[n])
//   EPILOGUE_SIGMOID_GRAD: C = acc ⊙ S ⊙ (1 − S), S = aux (M×N)
// The codes are src/kernels/matmul.ts's Epilogue table (a test checks they agree).
//
// Both operands are first packed into panels (op(A): 4 rows, k-major; op(B): 8 columns, k-major,
// zero-padded at the edges) so the inner loop reads both contiguously whatever the transposes; a
// 4×8 block of C lives in eight f32x4 registers. Pointers are byte offsets into this module's
// memory, laid out by the host (src/cpu/wasm-matmul.ts).

const EPILOGUE_NONE: i32 = 0;
const EPILOGUE_BIAS: i32 = 1;
const EPILOGUE_BIAS_SIGMOID: i32 = 2;
const EPILOGUE_SIGMOID_GRAD: i32 = 3;

/** Bytes of the packed panels for op(A) (M×K) and op(B) (K×N). */
export function packedBytesA(M: i32, K: i32): i32 {
  return ((M + 3) >> 2) * K * 16;
}
export function packedBytesB(K: i32, N: i32): i32 {
  return ((N + 7) >> 3) * K * 32;
}

// op(A) → panels of 4 rows: panel p holds rows 4p..4p+3 as [k][4]; also the row sums.
function packA(a: usize, M: i32, K: i32, transposeA: bool, out: usize, rowSums: usize): void {
  const panels = (M + 3) >> 2;
  for (let p = 0; p < panels; p++) {
    const base = out + (<usize>(p * K) << 4);
    for (let r = 0; r < 4; r++) {
      const m = p * 4 + r;
      let sum: f32 = 0;
      for (let k = 0; k < K; k++) {
        let v: f32 = 0;
        if (m < M) v = transposeA ? load<f32>(a + (<usize>(k * M + m) << 2)) : load<f32>(a + (<usize>(m * K + k) << 2));
        store<f32>(base + (<usize>(k * 4 + r) << 2), v);
        sum += v;
      }
      if (rowSums != 0 && m < M) store<f32>(rowSums + (<usize>m << 2), sum);
    }
  }
}

// op(B) → panels of 8 columns: panel q holds columns 8q..8q+7 as [k][8].
function packB(b: usize, K: i32, N: i32, transposeB: bool, out: usize): void {
  const panels = (N + 7) >> 3;
  for (let q = 0; q < panels; q++) {
    const base = out + (<usize>(q * K) << 5);
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < 8; c++) {
        const n = q * 8 + c;
        let v: f32 = 0;
        if (n < N) v = transposeB ? load<f32>(b + (<usize>(n * K + k) << 2)) : load<f32>(b + (<usize>(k * N + n) << 2));
        store<f32>(base + (<usize>(k * 8 + c) << 2), v);
      }
    }
  }
}

@inline function sigmoid(x: f32): f32 {
  // Stable for large |x|, as stableSigmoid in shaders/sigmoid_fn.wgsl.
  if (x >= 0) return 1 / (1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (1 + e);
}

@inline function finish(acc: f32, m: i32, n: i32, N: i32, epilogue: i32, aux: usize): f32 {
  if (epilogue == EPILOGUE_BIAS) return acc + load<f32>(aux + (<usize>n << 2));
  if (epilogue == EPILOGUE_BIAS_SIGMOID) return sigmoid(acc + load<f32>(aux + (<usize>n << 2)));
  if (epilogue == EPILOGUE_SIGMOID_GRAD) {
    const s = load<f32>(aux + (<usize>(m * N + n) << 2));
    return acc * s * (1 - s);
  }
  return acc;
}

// One 4×8 block of C from panel p of A and panel q of B.
@inline function block(pa: usize, pb: usize, K: i32, c: usize, m0: i32, n0: i32, M: i32, N: i32, epilogue: i32, aux: usize, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a = v128.load(pa);
    const a0 = v128.shuffle<f32>(a, a, 0, 0, 0, 0);
    const a1 = v128.shuffle<f32>(a, a, 1, 1, 1, 1);
    const a2 = v128.shuffle<f32>(a, a, 2, 2, 2, 2);
    const a3 = v128.shuffle<f32>(a, a, 3, 3, 3, 3);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += 16;
    pb += 32;
  }
  // Through a 4×8 tile, then the epilogue on the elements inside C.
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  const rows = min(4, M - m0);
  const cols = min(8, N - n0);
  for (let r = 0; r < rows; r++) {
    const m = m0 + r;
    for (let j = 0; j < cols; j++) {
      const n = n0 + j;
      const acc = load<f32>(tile + (<usize>(r * 8 + j) << 2));
      store<f32>(c + (<usize>(m * N + n) << 2), finish(acc, m, n, N, epilogue, aux));
    }
  }
}

/**
 * Packs op(A) and op(B) into `scratch` (and writes the row sums): the first half of a matmul,
 * done once before the blocks are shared out among threads. `scratch` must hold
 * packedBytesA(M, K) + packedBytesB(K, N) + 128·threads bytes, 16-byte aligned.
 */
export function pack(a: usize, b: usize, M: i32, N: i32, K: i32, transposeA: i32, transposeB: i32, rowSums: usize, scratch: usize): void {
  packA(a, M, K, transposeA != 0, scratch, rowSums);
  packB(b, K, N, transposeB != 0, scratch + <usize>packedBytesA(M, K));
}

/**
 * The blocks of C in B's column panels [first, end) and A's row panels [rowFirst, rowEnd): the
 * second half, shared out among threads by columns (wide C) or by rows (tall C); `thread` picks
 * its own tile.
 */
export function compute(c: usize, M: i32, N: i32, K: i32, epilogue: i32, aux: usize, scratch: usize, first: i32, end: i32, rowFirst: i32, rowEnd: i32, thread: i32): void {
  const packedA = scratch;
  const packedB = scratch + <usize>packedBytesA(M, K);
  const tile = packedB + <usize>packedBytesB(K, N) + (<usize>thread << 7);
  for (let q = first; q < end; q++) {
    const pb = packedB + (<usize>(q * K) << 5);
    for (let p = rowFirst; p < rowEnd; p++) {
      block(packedA + (<usize>(p * K) << 4), pb, K, c, p * 4, q * 8, M, N, epilogue, aux, tile);
    }
  }
}

/** C = epilogue(op(A)·op(B)) on one thread. */
export function matmul(
  a: usize,
  b: usize,
  c: usize,
  M: i32,
  N: i32,
  K: i32,
  transposeA: i32,
  transposeB: i32,
  epilogue: i32,
  aux: usize,
  rowSums: usize,
  scratch: usize,
): void {
  pack(a, b, M, N, K, transposeA, transposeB, rowSums, scratch);
  compute(c, M, N, K, epilogue, aux, scratch, 0, (N + 7) >> 3, 0, (M + 3) >> 2, 0);
}
