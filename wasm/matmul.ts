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
// The codes are src/core/epilogues.ts's Epilogue table (a test checks they agree).
//
// A 4×8 block of C lives in eight f32x4 registers; each k step broadcasts one value of each of
// op(A)'s 4 rows (a load-splat) against 8 columns of op(B) (two loads). Operands are read where
// they lie whenever that is contiguous, so the large ones (the data set X, activations) are never
// copied: op(A) untransposed is read row by row, op(B) untransposed 8 columns at a time along its
// rows. Only what is strided is packed first into scratch (small in the engine's products): op(A)
// stored transposed, into panels of 4 rows k-major, and op(B) stored transposed (or its last,
// partial column panel), into panels of 8 columns k-major, zero-padded. Pointers are byte offsets
// into this module's memory, laid out by the host (src/cpu/wasm-matmul.ts).

const EPILOGUE_NONE: i32 = 0;
const EPILOGUE_BIAS: i32 = 1;
const EPILOGUE_BIAS_SIGMOID: i32 = 2;
const EPILOGUE_SIGMOID_GRAD: i32 = 3;

/** Rows of the batch a packed-A product (the weight gradients) takes at a time: see compute(). */
const K_BLOCK: i32 = 1024;

/** transposeB = B_PANELS: B is already in column panels (packColumnPanels), `bPitch` bytes apart. */
const B_PANELS: i32 = 2;
/**
 * transposeA = A_PANELS: op(A) (M×K) is already in column panels of 8 (packColumnPanels), `aPitch`
 * bytes apart: its rows are adjacent 32-byte pieces of each panel, so 4 rows × 8 k are 128
 * contiguous bytes. The data set is kept this way once, and both X·Wᵀ and G_Zᵀ·X read it.
 */
const A_PANELS: i32 = 2;

/** Bytes of scratch that op(A) (M×K) needs: its packed panels when A is stored transposed. */
export function packedBytesA(M: i32, K: i32, transposeA: i32): i32 {
  return transposeA == 1 ? ((M + 3) >> 2) * K * 16 : 0;
}

/** Bytes of scratch that op(B) (K×N) needs: every panel when transposed, else the partial last one. */
export function packedBytesB(K: i32, N: i32, transposeB: i32): i32 {
  if (transposeB == B_PANELS) return 0;
  if (transposeB != 0) return ((N + 7) >> 3) * K * 32;
  return (N & 7) != 0 ? K * 32 : 0;
}

/** Scratch bytes for one product on `threads` threads (packed operands, then a 4×8 tile each). */
export function scratchBytes(M: i32, N: i32, K: i32, transposeA: i32, transposeB: i32, threads: i32): i32 {
  return packedBytesA(M, K, transposeA) + packedBytesB(K, N, transposeB) + 128 * threads;
}

// A stored K×M → panels of 4 rows of op(A): panel p holds op(A) rows 4p..4p+3 as [k][4]; and the
// row sums. Full panels read 4 contiguous values a k.
function packTransposedA(a: usize, M: i32, K: i32, out: usize, rowSums: usize): void {
  const full = M >> 2;
  for (let p = 0; p < full; p++) {
    const base = out + (<usize>(p * K) << 4);
    let sum = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      const v = v128.load(a + (<usize>(k * M + p * 4) << 2));
      v128.store(base + (<usize>k << 4), v);
      sum = f32x4.add(sum, v);
    }
    if (rowSums != 0) v128.store(rowSums + (<usize>(p * 4) << 2), sum);
  }
  if (full * 4 < M) {
    const p = full;
    const base = out + (<usize>(p * K) << 4);
    for (let r = 0; r < 4; r++) {
      const m = p * 4 + r;
      let sum: f32 = 0;
      for (let k = 0; k < K; k++) {
        let v: f32 = 0;
        if (m < M) v = load<f32>(a + (<usize>(k * M + m) << 2));
        store<f32>(base + (<usize>(k * 4 + r) << 2), v);
        sum += v;
      }
      if (rowSums != 0 && m < M) store<f32>(rowSums + (<usize>m << 2), sum);
    }
  }
}

// Row sums of A stored M×K (untransposed): read in place.
function rowSumsDirect(a: usize, M: i32, K: i32, rowSums: usize): void {
  for (let m = 0; m < M; m++) {
    const row = a + (<usize>(m * K) << 2);
    let sum: f32 = 0;
    for (let k = 0; k < K; k++) sum += load<f32>(row + (<usize>k << 2));
    store<f32>(rowSums + (<usize>m << 2), sum);
  }
}

// Columns 8q..8q+7 of op(B) → [k][8] at `out`, zero-padded past N.
function packPanelB(b: usize, K: i32, N: i32, transposeB: bool, q: i32, out: usize): void {
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < 8; c++) {
      const n = q * 8 + c;
      let v: f32 = 0;
      if (n < N) v = transposeB ? load<f32>(b + (<usize>(n * K + k) << 2)) : load<f32>(b + (<usize>(k * N + n) << 2));
      store<f32>(out + (<usize>(k * 8 + c) << 2), v);
    }
  }
}

// σ for four lanes: 1/(1 + e^−|x|) or e^−|x|/(1 + e^−|x|) by sign (stable for large |x|, as
// stableSigmoid in shaders/sigmoid_fn.wgsl). e^y for y ≤ 0 as 2^n·p(r), r = y − n·ln 2 (|r| ≤ ln2/2),
// p of degree 6 (relative error ~1e-7); below y = −87 (where 2^n would leave the normal floats)
// e^y is taken as 0.
@inline function sigmoid4(x: v128): v128 {
  const y0 = f32x4.neg(f32x4.abs(x));
  const y = f32x4.max(y0, f32x4.splat(-87));
  const n = f32x4.nearest(f32x4.mul(y, f32x4.splat(1.44269504)));
  const r = f32x4.sub(f32x4.sub(y, f32x4.mul(n, f32x4.splat(0.693145752))), f32x4.mul(n, f32x4.splat(1.42860677e-6)));
  let p = f32x4.splat(1.0 / 720);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const e = v128.and(f32x4.mul(p, scale), f32x4.ge(y0, f32x4.splat(-87)));
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  return v128.bitselect(t, f32x4.mul(e, t), f32x4.ge(x, f32x4.splat(0)));
}

/** σ(x) for one value, bit for bit the lanes of sigmoid4 (for the edges of C). */
export function sigmoid(x: f32): f32 {
  return f32x4.extract_lane(sigmoid4(f32x4.splat(x)), 0);
}

// acc + x·b: one fused multiply–add where the build has relaxed SIMD (ASC_FEATURE_RELAXED_SIMD is a
// compile-time constant), else a multiply and an add.
@inline function madd(acc: v128, x: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, b, acc);
  return f32x4.add(acc, f32x4.mul(x, b));
}

// Four columns of C's row m from n: the epilogue on acc, stored.
@inline function finish4(acc: v128, out: usize, m: i32, n: i32, N: i32, epilogue: i32, aux: usize): void {
  let v = acc;
  if (epilogue == EPILOGUE_BIAS) {
    v = f32x4.add(v, v128.load(aux + (<usize>n << 2)));
  } else if (epilogue == EPILOGUE_BIAS_SIGMOID) {
    v = sigmoid4(f32x4.add(v, v128.load(aux + (<usize>n << 2))));
  } else if (epilogue == EPILOGUE_SIGMOID_GRAD) {
    const s = v128.load(aux + (<usize>(m * N + n) << 2));
    v = f32x4.mul(f32x4.mul(v, s), f32x4.sub(f32x4.splat(1), s));
  }
  v128.store(out, v);
}

@inline function finish1(acc: f32, m: i32, n: i32, N: i32, epilogue: i32, aux: usize): f32 {
  if (epilogue == EPILOGUE_BIAS) return acc + load<f32>(aux + (<usize>n << 2));
  if (epilogue == EPILOGUE_BIAS_SIGMOID) return sigmoid(acc + load<f32>(aux + (<usize>n << 2)));
  if (epilogue == EPILOGUE_SIGMOID_GRAD) {
    const s = load<f32>(aux + (<usize>(m * N + n) << 2));
    return acc * s * (1 - s);
  }
  return acc;
}

// One 4×8 block of C at (m0, n0): op(A)'s rows r at a_r + k·strideA, op(B)'s 8 columns at
// pb + k·strideB (bytes); every `chunk` k steps op(A)'s pointers also jump by jumpA (the next
// column panel of a matrix in panels; chunk = K otherwise).
@inline function block(
  a0: usize,
  a1: usize,
  a2: usize,
  a3: usize,
  strideA: usize,
  chunk: i32,
  jumpA: usize,
  pb: usize,
  strideB: usize,
  K: i32,
  c: usize,
  m0: i32,
  n0: i32,
  M: i32,
  N: i32,
  epilogue: i32,
  aux: usize,
  tile: usize,
  accumulate: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k0 = 0; k0 < K; k0 += chunk) {
    const steps = min(chunk, K - k0);
    for (let k = 0; k < steps; k++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const x0 = v128.load32_splat(a0);
      const x1 = v128.load32_splat(a1);
      const x2 = v128.load32_splat(a2);
      const x3 = v128.load32_splat(a3);
      c00 = madd(c00, x0, b0);
      c01 = madd(c01, x0, b1);
      c10 = madd(c10, x1, b0);
      c11 = madd(c11, x1, b1);
      c20 = madd(c20, x2, b0);
      c21 = madd(c21, x2, b1);
      c30 = madd(c30, x3, b0);
      c31 = madd(c31, x3, b1);
      a0 += strideA;
      a1 += strideA;
      a2 += strideA;
      a3 += strideA;
      pb += strideB;
    }
    a0 += jumpA;
    a1 += jumpA;
    a2 += jumpA;
    a3 += jumpA;
  }
  if (m0 + 4 <= M && n0 + 8 <= N) {
    const row = c + (<usize>(m0 * N + n0) << 2);
    const pitch = <usize>N << 2;
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(row));
      c01 = f32x4.add(c01, v128.load(row + 16));
      c10 = f32x4.add(c10, v128.load(row + pitch));
      c11 = f32x4.add(c11, v128.load(row + pitch + 16));
      c20 = f32x4.add(c20, v128.load(row + 2 * pitch));
      c21 = f32x4.add(c21, v128.load(row + 2 * pitch + 16));
      c30 = f32x4.add(c30, v128.load(row + 3 * pitch));
      c31 = f32x4.add(c31, v128.load(row + 3 * pitch + 16));
    }
    finish4(c00, row, m0, n0, N, epilogue, aux);
    finish4(c01, row + 16, m0, n0 + 4, N, epilogue, aux);
    finish4(c10, row + pitch, m0 + 1, n0, N, epilogue, aux);
    finish4(c11, row + pitch + 16, m0 + 1, n0 + 4, N, epilogue, aux);
    finish4(c20, row + 2 * pitch, m0 + 2, n0, N, epilogue, aux);
    finish4(c21, row + 2 * pitch + 16, m0 + 2, n0 + 4, N, epilogue, aux);
    finish4(c30, row + 3 * pitch, m0 + 3, n0, N, epilogue, aux);
    finish4(c31, row + 3 * pitch + 16, m0 + 3, n0 + 4, N, epilogue, aux);
    return;
  }
  // An edge block: through a 4×8 tile, then the elements inside C.
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
      const at = c + (<usize>(m * N + n) << 2);
      let acc = load<f32>(tile + (<usize>(r * 8 + j) << 2));
      if (accumulate) acc += load<f32>(at);
      store<f32>(at, finish1(acc, m, n, N, epilogue, aux));
    }
  }
}

/**
 * The first half of a matmul, done once before the blocks are shared out among threads: packs
 * what must be packed into `scratch` (scratchBytes(...) bytes, 16-byte aligned) and writes the
 * row sums.
 */
export function pack(a: usize, b: usize, M: i32, N: i32, K: i32, transposeA: i32, transposeB: i32, rowSums: usize, scratch: usize): void {
  if (transposeA == 1) {
    packTransposedA(a, M, K, scratch, rowSums);
  } else if (rowSums != 0 && transposeA == 0) {
    rowSumsDirect(a, M, K, rowSums);
  }
  const packedB = scratch + <usize>packedBytesA(M, K, transposeA);
  const panels = (N + 7) >> 3;
  if (transposeB == B_PANELS) return;
  if (transposeB != 0) {
    for (let q = 0; q < panels; q++) packPanelB(b, K, N, true, q, packedB + (<usize>(q * K) << 5));
  } else if ((N & 7) != 0) {
    packPanelB(b, K, N, false, panels - 1, packedB);
  }
}

/**
 * The blocks of C in B's column panels [first, end) and A's row panels [rowFirst, rowEnd): the
 * second half, shared out among threads by columns (wide C) or by rows (tall C); `thread` picks
 * its own tile. Row panels go outermost when op(A) is read in place (its rows stream once, B's
 * packed panels stay in cache), column panels when op(A) is packed (each of B's panels streams
 * once against the small packed A).
 */
export function compute(
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
  scratch: usize,
  first: i32,
  end: i32,
  rowFirst: i32,
  rowEnd: i32,
  thread: i32,
  bPitch: i32,
  aPitch: i32,
): void {
  const packedB = scratch + <usize>packedBytesA(M, K, transposeA);
  const tile = packedB + <usize>packedBytesB(K, N, transposeB) + (<usize>thread << 7);
  const lastPanel = (N + 7) >> 3;
  const rowsOuter = transposeA != 1;
  const outerEnd = rowsOuter ? rowEnd : end;
  const innerEnd = rowsOuter ? end : rowEnd;
  // With op(A) packed (the weight gradients: K is the batch's rows) K goes in blocks, so that all
  // of A's panels for one block stay in L2 while B's panels stream past them once; C takes the
  // partial sums, and the epilogue only at the last block.
  const kBlock = transposeA == 1 ? K_BLOCK : K;
  for (let kStart = 0; kStart < K; kStart += kBlock) {
    const kCount = min(kBlock, K - kStart);
    const last = kStart + kCount == K;
    for (let outer = rowsOuter ? rowFirst : first; outer < outerEnd; outer++) {
      for (let inner = rowsOuter ? first : rowFirst; inner < innerEnd; inner++) {
        const p = rowsOuter ? outer : inner;
        const q = rowsOuter ? inner : outer;
        // op(B)'s panel q: packed, or in place along B's rows.
        let pb: usize, strideB: usize;
        if (transposeB == B_PANELS) {
          pb = b + <usize>q * <usize>bPitch;
          strideB = 32;
        } else if (transposeB != 0) {
          pb = packedB + (<usize>(q * K) << 5);
          strideB = 32;
        } else if ((N & 7) != 0 && q == lastPanel - 1) {
          pb = packedB;
          strideB = 32;
        } else {
          pb = b + (<usize>(q * 8) << 2);
          strideB = <usize>N << 2;
        }
        // op(A)'s rows 4p..4p+3: packed, or in place (rows past M repeat the last; never stored).
        const m0 = p * 4;
        let a0: usize, a1: usize, a2: usize, a3: usize, strideA: usize;
        let chunk = K;
        let jumpA: usize = 0;
        if (transposeA == A_PANELS) {
          a0 = a + (<usize>m0 << 5);
          a1 = a + (<usize>min(m0 + 1, M - 1) << 5);
          a2 = a + (<usize>min(m0 + 2, M - 1) << 5);
          a3 = a + (<usize>min(m0 + 3, M - 1) << 5);
          strideA = 4;
          chunk = 8;
          jumpA = <usize>aPitch - 32;
        } else if (transposeA != 0) {
          a0 = scratch + (<usize>(p * K) << 4);
          a1 = a0 + 4;
          a2 = a0 + 8;
          a3 = a0 + 12;
          strideA = 16;
        } else {
          const rowBytes = <usize>K << 2;
          a0 = a + <usize>m0 * rowBytes;
          a1 = a + <usize>min(m0 + 1, M - 1) * rowBytes;
          a2 = a + <usize>min(m0 + 2, M - 1) * rowBytes;
          a3 = a + <usize>min(m0 + 3, M - 1) * rowBytes;
          strideA = 4;
        }
        // Only a packed A comes in k blocks (chunk = K there, no jumps): step into the block.
        const skipA = <usize>kStart * strideA;
        const skipB = <usize>kStart * strideB;
        block(a0 + skipA, a1 + skipA, a2 + skipA, a3 + skipA, strideA, chunk, jumpA, pb + skipB, strideB, kCount, c, m0, q * 8, M, N, last ? epilogue : EPILOGUE_NONE, aux, tile, kStart > 0);
      }
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
  bPitch: i32,
  aPitch: i32,
): void {
  pack(a, b, M, N, K, transposeA, transposeB, rowSums, scratch);
  compute(a, b, c, M, N, K, transposeA, transposeB, epilogue, aux, scratch, 0, (N + 7) >> 3, 0, (M + 3) >> 2, 0, bPitch, aPitch);
}

/**
 * A row-major rows×cols matrix → column panels of 8, each [row][8] (zero-padded past cols), panel
 * q at out + q·pitch (pitch ≥ rows·32 bytes): the layout in which any range of rows is contiguous
 * in every panel, so a batch of the data set is op(A) of X·Wᵀ (A_PANELS) and op(B) of G_Zᵀ·X
 * (B_PANELS) as it lies.
 */
export function packColumnPanels(src: usize, rows: i32, cols: i32, out: usize, pitch: i32): void {
  const panels = (cols + 7) >> 3;
  const full = cols >> 3;
  for (let n = 0; n < rows; n++) {
    const row = src + (<usize>(n * cols) << 2);
    for (let q = 0; q < full; q++) {
      const to = out + <usize>q * <usize>pitch + (<usize>n << 5);
      v128.store(to, v128.load(row + (<usize>(q * 8) << 2)));
      v128.store(to, v128.load(row + (<usize>(q * 8) << 2), 16), 16);
    }
    for (let q = full; q < panels; q++) {
      const to = out + <usize>q * <usize>pitch + (<usize>n << 5);
      for (let j = 0; j < 8; j++) {
        const col = q * 8 + j;
        store<f32>(to + (<usize>j << 2), col < cols ? load<f32>(row + (<usize>col << 2)) : 0);
      }
    }
  }
}

// --- the task losses (src/core/losses.ts's codes) ------------------------------------------------

const LOSS_MSE: i32 = 0;
const LOSS_BCE: i32 = 1;
const LOSS_HUBER: i32 = 2;
const LOSS_QUANTILE: i32 = 3;

/** ℓ(v, target) in float64 for loss `code` with parameter p (Huber's δ, the quantile's q). */
function lossValue(code: i32, v: f64, target: f64, p: f64): f64 {
  if (code == LOSS_BCE) return Math.max(v, 0) - v * target + Math.log1p(Math.exp(-Math.abs(v)));
  if (code == LOSS_HUBER) {
    const e = Math.abs(v - target);
    return e <= p ? 0.5 * e * e : p * (e - 0.5 * p);
  }
  if (code == LOSS_QUANTILE) {
    const r = target - v;
    return r >= 0 ? p * r : (p - 1) * r;
  }
  return (v - target) * (v - target);
}

/**
 * Each task's masked loss sum and observed count over rows×T outputs Y (f32), targets and mask
 * (f32, the data set's rows from the first of the batch), in float64: out[t] = Σ_n m·ℓ(y, ŷ),
 * out[T + t] = Σ_n m. codes: T i32 loss codes; params: T f32 loss parameters.
 */
export function lossSums(y: usize, targets: usize, mask: usize, rows: i32, T: i32, codes: usize, params: usize, out: usize): void {
  // The leading tasks in groups of four MSE tasks: the squared errors in f32, summed in float64
  // pairs in `out`, row by row (each row read once, in order: a task-by-task sweep would stride
  // through the whole batch once per group).
  let mse = 0;
  while (mse + 4 <= T && i32x4.all_true(i32x4.eq(v128.load(codes + (<usize>mse << 2)), i32x4.splat(LOSS_MSE)))) mse += 4;
  for (let t = 0; t < mse; t += 2) {
    v128.store(out + (<usize>t << 3), f64x2.splat(0));
    v128.store(out + (<usize>(T + t) << 3), f64x2.splat(0));
  }
  for (let n = 0; n < rows; n++) {
    for (let t = 0; t < mse; t += 4) {
      const i = <usize>(n * T + t) << 2;
      const m = v128.load(mask + i);
      // A missing target may hold anything: masked out by select, not by multiplying by 0.
      const e = v128.and(f32x4.sub(v128.load(y + i), v128.load(targets + i)), f32x4.ne(m, f32x4.splat(0)));
      const l = f32x4.mul(f32x4.mul(e, e), m);
      const sums = out + (<usize>t << 3);
      const counts = out + (<usize>(T + t) << 3);
      v128.store(sums, f64x2.add(v128.load(sums), f64x2.promote_low_f32x4(l)));
      v128.store(sums, f64x2.add(v128.load(sums, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(l, l, 2, 3, 0, 1))), 16);
      v128.store(counts, f64x2.add(v128.load(counts), f64x2.promote_low_f32x4(m)));
      v128.store(counts, f64x2.add(v128.load(counts, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(m, m, 2, 3, 0, 1))), 16);
    }
  }
  let t = mse;
  // The rest one task at a time, in float64.
  for (; t < T; t++) {
    const code = load<i32>(codes + (<usize>t << 2));
    const p = <f64>load<f32>(params + (<usize>t << 2));
    let sum: f64 = 0;
    let count: f64 = 0;
    for (let n = 0; n < rows; n++) {
      const i = <usize>(n * T + t) << 2;
      const m = <f64>load<f32>(mask + i);
      if (m == 0) continue;
      sum += m * lossValue(code, <f64>load<f32>(y + i), <f64>load<f32>(targets + i), p);
      count += m;
    }
    store<f64>(out + (<usize>t << 3), sum);
    store<f64>(out + (<usize>(T + t) << 3), count);
  }
}

/**
 * G_Y = scale_t·m·∂ℓ/∂y for rows×T outputs: 2(y − ŷ) (MSE), σ(y) − ŷ (BCE), y − ŷ clipped to ±δ
 * (Huber), −q below the target and 1 − q above (quantile); scales: T f32 (the weighting's factor
 * over the task's count), codes and params as in lossSums. Four tasks at a time.
 */
export function lossGradient(y: usize, targets: usize, mask: usize, rows: i32, T: i32, codes: usize, params: usize, scales: usize, gradY: usize): void {
  const T4 = T & ~3;
  for (let n = 0; n < rows; n++) {
    const row = <usize>(n * T) << 2;
    for (let t = 0; t < T4; t += 4) {
      const i = row + (<usize>t << 2);
      const v = v128.load(y + i);
      const target = v128.load(targets + i);
      const code = v128.load(codes + (<usize>t << 2));
      const bce = i32x4.eq(code, i32x4.splat(LOSS_BCE));
      const huber = i32x4.eq(code, i32x4.splat(LOSS_HUBER));
      const quantile = i32x4.eq(code, i32x4.splat(LOSS_QUANTILE));
      const e = f32x4.sub(v, target);
      let g = f32x4.mul(f32x4.splat(2), e);
      if (v128.any_true(bce)) g = v128.bitselect(f32x4.sub(sigmoid4(v), target), g, bce);
      if (v128.any_true(huber)) {
        const delta = v128.load(params + (<usize>t << 2));
        g = v128.bitselect(f32x4.min(f32x4.max(e, f32x4.neg(delta)), delta), g, huber);
      }
      if (v128.any_true(quantile)) {
        const q = v128.load(params + (<usize>t << 2));
        const below = f32x4.lt(v, target);
        g = v128.bitselect(v128.bitselect(f32x4.neg(q), f32x4.sub(f32x4.splat(1), q), below), g, quantile);
      }
      const m = v128.load(mask + i);
      // A missing target may hold anything (NaN included): its gradient is 0, not 0·NaN.
      v128.store(gradY + i, v128.and(f32x4.mul(f32x4.mul(g, m), v128.load(scales + (<usize>t << 2))), f32x4.ne(m, f32x4.splat(0))));
    }
    for (let t = T4; t < T; t++) {
      const i = row + (<usize>t << 2);
      const m = load<f32>(mask + i);
      if (m == 0) {
        store<f32>(gradY + i, 0);
        continue;
      }
      const v = load<f32>(y + i);
      const target = load<f32>(targets + i);
      const code = load<i32>(codes + (<usize>t << 2));
      const p = load<f32>(params + (<usize>t << 2));
      let g: f32 = 2 * (v - target);
      if (code == LOSS_BCE) g = sigmoid(v) - target;
      else if (code == LOSS_HUBER) g = min(max(v - target, -p), p);
      else if (code == LOSS_QUANTILE) g = v < target ? -p : 1 - p;
      store<f32>(gradY + i, g * m * load<f32>(scales + (<usize>t << 2)));
    }
  }
}
