// C = epilogue(op(A)·op(B)) for one instruction set: VL floats a vector (GCC/Clang vector
// extensions; the compiler emits the set's own fused multiply–adds), SUFFIX naming the build.
//
// A tile of C, ROWS × (1 or 2 vectors), lives in registers; each k step broadcasts one value of
// each row of op(A) against the tile's columns of op(B). Like the WebAssembly kernel, the large
// operands are read where they lie: op(A) by scalar broadcasts along its rows, whatever its
// layout (rows `rs` floats apart, k steps `cs` apart, a jump every `chunk` k for a matrix in
// column panels); op(B) a vector at a time where its columns are contiguous (as stored, or in
// panels). Only what is strided or ragged is packed first: op(B) stored transposed, its last
// partial column tile, and op(A)'s last partial row tile (zero-padded, so no read goes past an
// operand). K is cut into blocks of KC: a block of op(B)'s tile stays in cache while every row
// tile passes over it, partial sums going through C.
#include "products.h"

#include <stdint.h>
#include <string.h>

#ifndef VL
#define VL 4
#endif
#ifndef ROWS
#define ROWS 6 // rows of a tile two vectors wide; a one-vector tile has twice as many
#endif
#ifndef SUFFIX
#define SUFFIX base
#endif
#define KC 256 // a multiple of PANEL_WIDTH; KC × a tile's columns of op(B) fit in L1

typedef float vf __attribute__((vector_size(VL * 4)));
typedef int32_t vi __attribute__((vector_size(VL * 4)));
typedef float vf_unaligned __attribute__((vector_size(VL * 4), aligned(4), may_alias)); // for loads and stores

#define GLUE(a, b) a##_##b
#define NAMED(a, b) GLUE(a, b)
#define NAME(x) NAMED(x, SUFFIX)

static inline vf splat(float x) {
  vf v;
  for (int i = 0; i < VL; i++) v[i] = x; // not 0 + x: that loses the sign of −0
  return v;
}
static inline vf load(const float *p) { return *(const vf_unaligned *)p; }
static inline void store(float *p, vf v) { *(vf_unaligned *)p = v; }
// The first n ≤ VL floats at p, zeros after.
static inline vf load_part(const float *p, int n) {
  if (n == VL) return load(p);
  float lanes[VL] = {0};
  memcpy(lanes, p, 4 * (size_t)n);
  return load(lanes);
}
static inline void store_part(float *p, vf v, int n) {
  if (n == VL) return store(p, v);
  float lanes[VL];
  store(lanes, v);
  memcpy(p, lanes, 4 * (size_t)n);
}
static inline vf blend(vi mask, vf yes, vf no) { return (vf)((mask & (vi)yes) | (~mask & (vi)no)); }

// σ as the WebAssembly kernel's sigmoid4 (stable for large |x|): e^y for y = −|x| ≥ −87 as
// 2^n·p(r), r = y − n·ln 2, p of degree 6; 1/(1 + e^y) or e^y/(1 + e^y) by sign.
static inline vf sigmoid(vf x) {
  const vf y0 = (vf)((vi)x | (vi)splat(-0.0f)); // −|x|
  const vi normal = y0 >= splat(-87.0f);
  const vf y = blend(normal, y0, splat(-87.0f));
  const vf n = (y * 1.44269504f + 12582912.0f) - 12582912.0f; // round to nearest (|n| < 2^22)
  const vf r = (y - n * 0.693145752f) - n * 1.42860677e-6f;
  vf p = splat(1.0f / 720);
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const vf scale = (vf)((__builtin_convertvector(n, vi) + 127) << 23);
  const vf e = (vf)((vi)(p * scale) & normal);
  const vf t = 1.0f / (1.0f + e);
  return blend(x >= splat(0.0f), t, e * t);
}

// The epilogue on n ≤ VL columns of row m from column nb.
static inline vf epilogue(const product_t *p, vf x, int m, int nb, int n) {
  switch (p->epilogue) {
  case EPILOGUE_BIAS:
    return x + load_part(p->aux + nb, n);
  case EPILOGUE_BIAS_SIGMOID:
    return sigmoid(x + load_part(p->aux + nb, n));
  case EPILOGUE_SIGMOID_GRAD: {
    const vf s = load_part(p->aux + (size_t)m * p->N + nb, n);
    return x * s * (1.0f - s);
  }
  default:
    return x;
  }
}

// One tile's sums over `steps` k: rows r at a[r·RS + k·CS] (a += jump every `chunk` k), the
// tile's vectors at b0, b1 (+ k·ld). Written out per row, vector by vector.
#define TILE_KERNEL(name, R, V, RS, CS)                                                              \
  static __attribute__((noinline)) void name(vf *out, const float *a, size_t rs, size_t cs, size_t jump, int chunk, int steps, \
                   const float *b0, const float *b1, size_t ld) {                                    \
    (void)rs;                                                                                        \
    (void)cs;                                                                                        \
    (void)b1;                                                                                        \
    vf acc[R][V];                                                                                    \
    for (int r = 0; r < R; r++)                                                                      \
      for (int v = 0; v < V; v++) acc[r][v] = splat(0);                                              \
    for (int k0 = 0; k0 < steps; k0 += chunk, a += jump) {                                           \
      const int end = steps - k0 < chunk ? steps - k0 : chunk;                                       \
      for (int k = 0; k < end; k++, b0 += ld, b1 += ld) {                                            \
        const vf x0 = load(b0);                                                                      \
        const vf x1 = V == 2 ? load(b1) : x0;                                                        \
        _Pragma("GCC unroll 32") for (int r = 0; r < R; r++) {                                       \
          const float s = a[(size_t)r * (RS) + (size_t)k * (CS)];                                    \
          acc[r][0] += s * x0;                                                                       \
          if (V == 2) acc[r][V - 1] += s * x1;                                                       \
        }                                                                                            \
      }                                                                                              \
    }                                                                                                \
    for (int r = 0; r < R; r++)                                                                      \
      for (int v = 0; v < V; v++) out[r * V + v] = acc[r][v];                                        \
  }

// Rows contiguous (A stored transposed, or a packed partial tile); rows PANEL_WIDTH apart (column
// panels); rows `rs` apart (A as stored).
TILE_KERNEL(wide_contiguous, ROWS, 2, 1, cs)
TILE_KERNEL(wide_panels, ROWS, 2, PANEL_WIDTH, 1)
TILE_KERNEL(wide_rows, ROWS, 2, rs, 1)
TILE_KERNEL(narrow_contiguous, 2 * ROWS, 1, 1, cs)
TILE_KERNEL(narrow_panels, 2 * ROWS, 1, PANEL_WIDTH, 1)
TILE_KERNEL(narrow_rows, 2 * ROWS, 1, rs, 1)

int NAME(vector_floats)(void) { return VL; }

// One vector of columns when all of C's fit in one (the thin products: H or T ≤ VL), else two.
void NAME(plan)(const product_t *p, plan_t *plan) {
  const int narrow = p->N <= VL;
  plan->tile_cols = narrow ? VL : 2 * VL;
  plan->tile_rows = narrow ? 2 * ROWS : ROWS;
  plan->m_tiles = (p->M + plan->tile_rows - 1) / plan->tile_rows;
  plan->n_tiles = (p->N + plan->tile_cols - 1) / plan->tile_cols;
  const size_t b_tiles = p->tB == OPERAND_TRANSPOSED ? (size_t)plan->n_tiles : p->N % plan->tile_cols != 0;
  const size_t a_tile = p->M % plan->tile_rows != 0;
  plan->packed_floats = (b_tiles * plan->tile_cols + a_tile * plan->tile_rows) * (size_t)p->K;
}

static inline float element_a(const product_t *p, int m, int k) {
  switch (p->tA) {
  case OPERAND_PLAIN:
    return p->a[(size_t)m * p->K + k];
  case OPERAND_TRANSPOSED:
    return p->a[(size_t)k * p->M + m];
  default:
    return p->a[(size_t)(k / PANEL_WIDTH) * p->a_pitch + (size_t)m * PANEL_WIDTH + k % PANEL_WIDTH];
  }
}

static inline float element_b(const product_t *p, int k, int n) {
  switch (p->tB) {
  case OPERAND_PLAIN:
    return p->b[(size_t)k * p->N + n];
  case OPERAND_TRANSPOSED:
    return p->b[(size_t)n * p->K + k];
  default:
    return p->b[(size_t)(n / PANEL_WIDTH) * p->b_pitch + (size_t)k * PANEL_WIDTH + n % PANEL_WIDTH];
  }
}

// packed: op(B)'s packed column tiles ([k][tile_cols] each: every tile when B is stored
// transposed, else the partial last one), then op(A)'s partial last row tile ([k][tile_rows]).
// Both zero-padded. Also the row sums.
void NAME(pack)(const product_t *p, const plan_t *plan, float *packed) {
  const int W = plan->tile_cols, R = plan->tile_rows, K = p->K;
  float *to = packed;
  const int first = p->tB == OPERAND_TRANSPOSED ? 0 : p->N % W != 0 ? plan->n_tiles - 1 : plan->n_tiles;
  for (int t = first; t < plan->n_tiles; t++, to += (size_t)K * W)
    for (int k = 0; k < K; k++)
      for (int j = 0; j < W; j++) {
        const int n = t * W + j;
        to[(size_t)k * W + j] = n < p->N ? element_b(p, k, n) : 0.0f;
      }
  if (p->M % R != 0) {
    const int m0 = (plan->m_tiles - 1) * R;
    for (int k = 0; k < K; k++)
      for (int r = 0; r < R; r++) to[(size_t)k * R + r] = m0 + r < p->M ? element_a(p, m0 + r, k) : 0.0f;
  }
  if (p->row_sums) {
    // Each in k order, as the WebAssembly kernel adds them; A stored transposed (the bias
    // gradients' G_Yᵀ, G_Zᵀ) a row of K at a time, the M sums side by side in vectors.
    float *sums = p->row_sums;
    for (int m = 0; m < p->M; m++) sums[m] = 0;
    if (p->tA == OPERAND_TRANSPOSED) {
      for (int k = 0; k < K; k++) {
        const float *row = p->a + (size_t)k * p->M;
        for (int m = 0; m < p->M; m++) sums[m] += row[m];
      }
    } else {
      for (int m = 0; m < p->M; m++)
        for (int k = 0; k < K; k++) sums[m] += element_a(p, m, k);
    }
  }
}

// Adds the tile's sums for k in [k0, k0 + steps) into C (first block: stores them), the epilogue
// after the last block.
static void tile(const product_t *p, const plan_t *plan, const float *packed, int mt, int nt, int k0, int steps) {
  const int W = plan->tile_cols, R = plan->tile_rows, V = W / VL, K = p->K;
  const int m0 = mt * R, n0 = nt * W;
  const int rows = p->M - m0 < R ? p->M - m0 : R, cols = p->N - n0 < W ? p->N - n0 : W;
  // op(B)'s tile: packed, or read in place.
  const float *b0, *b1;
  size_t ld;
  if (p->tB == OPERAND_TRANSPOSED || cols < W) {
    const float *t = packed + (p->tB == OPERAND_TRANSPOSED ? (size_t)nt * K * W : 0);
    b0 = t + (size_t)k0 * W;
    b1 = b0 + VL;
    ld = W;
  } else if (p->tB == OPERAND_PLAIN) {
    b0 = p->b + (size_t)k0 * p->N + n0;
    b1 = b0 + VL;
    ld = p->N;
  } else {
    const int n1 = n0 + VL;
    b0 = p->b + (size_t)(n0 / PANEL_WIDTH) * p->b_pitch + (size_t)k0 * PANEL_WIDTH + n0 % PANEL_WIDTH;
    b1 = p->b + (size_t)(n1 / PANEL_WIDTH) * p->b_pitch + (size_t)k0 * PANEL_WIDTH + n1 % PANEL_WIDTH;
    ld = PANEL_WIDTH;
  }
  // op(A)'s rows: the packed partial tile, or in place.
  vf out[2 * ROWS]; // ROWS × 2 vectors or 2·ROWS × 1
  if (rows < R) {
    const size_t b_tiles = p->tB == OPERAND_TRANSPOSED ? (size_t)plan->n_tiles : p->N % W != 0;
    const float *a = packed + b_tiles * (size_t)K * W + (size_t)k0 * R;
    if (V == 2) wide_contiguous(out, a, 1, R, 0, steps, steps, b0, b1, ld);
    else narrow_contiguous(out, a, 1, R, 0, steps, steps, b0, b1, ld);
  } else if (p->tA == OPERAND_TRANSPOSED) {
    const float *a = p->a + (size_t)k0 * p->M + m0;
    if (V == 2) wide_contiguous(out, a, 1, p->M, 0, steps, steps, b0, b1, ld);
    else narrow_contiguous(out, a, 1, p->M, 0, steps, steps, b0, b1, ld);
  } else if (p->tA == OPERAND_PANELS) {
    // k0 is a multiple of PANEL_WIDTH: chunks of PANEL_WIDTH k, the next panel after each.
    const float *a = p->a + (size_t)(k0 / PANEL_WIDTH) * p->a_pitch + (size_t)m0 * PANEL_WIDTH;
    if (V == 2) wide_panels(out, a, PANEL_WIDTH, 1, p->a_pitch, PANEL_WIDTH, steps, b0, b1, ld);
    else narrow_panels(out, a, PANEL_WIDTH, 1, p->a_pitch, PANEL_WIDTH, steps, b0, b1, ld);
  } else {
    const float *a = p->a + (size_t)m0 * K + k0;
    if (V == 2) wide_rows(out, a, K, 1, 0, steps, steps, b0, b1, ld);
    else narrow_rows(out, a, K, 1, 0, steps, steps, b0, b1, ld);
  }
  const int first = k0 == 0, last = k0 + steps >= K;
  for (int r = 0; r < rows; r++) {
    const int m = m0 + r;
    float *c = p->c + (size_t)m * p->N;
    for (int v = 0; v < V; v++) {
      const int nb = n0 + v * VL, n = cols - v * VL < VL ? cols - v * VL : VL;
      if (n <= 0) break;
      vf x = out[r * V + v];
      if (!first) x += load_part(c + nb, n);
      if (last) x = epilogue(p, x, m, nb, n);
      store_part(c + nb, x, n);
    }
  }
}

// The row tiles [m_first, m_end) × column tiles [n_first, n_end) of C (pack() done first), as in
// a blocked GEMM: KC k at a time, C taking the partial sums between blocks; each group of row
// tiles whose block of op(A) (GROUP_ROWS × KC) stays in L2 passes over every column tile, whose
// block of op(B) (KC × tile_cols) stays in L1 meanwhile. op(A) — the data set, in X·Wᵀ — is read
// from memory once a product, not once per column tile.
#define GROUP_ROWS 256
void NAME(run)(const product_t *p, const plan_t *plan, const float *packed, int m_first, int m_end, int n_first,
               int n_end) {
  const int group = GROUP_ROWS / plan->tile_rows > 1 ? GROUP_ROWS / plan->tile_rows : 1;
  for (int k0 = 0; k0 < p->K; k0 += KC) {
    const int steps = p->K - k0 < KC ? p->K - k0 : KC;
    for (int g = m_first; g < m_end; g += group) {
      const int g_end = g + group < m_end ? g + group : m_end;
      for (int nt = n_first; nt < n_end; nt++)
        for (int mt = g; mt < g_end; mt++) tile(p, plan, packed, mt, nt, k0, steps);
    }
  }
}
