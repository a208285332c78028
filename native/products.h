// The native twin of wasm/matmul.ts's product for the CPU engine in Node: C = epilogue(op(A)·op(B))
// on the engine's WebAssembly memory, with the same operand codes, epilogues and row sums. One
// source (products.c), compiled once per instruction set (AVX-512, AVX2 + FMA, the baseline) by
// scripts/build-native.mjs; addon.c picks one at load time and shares a product among threads.
#ifndef SIGMTL_PRODUCTS_H
#define SIGMTL_PRODUCTS_H

#include <stddef.h>

// Operand codes (wasm/matmul.ts): as stored, transposed, or in column panels.
#define OPERAND_PLAIN 0
#define OPERAND_TRANSPOSED 1
#define OPERAND_PANELS 2

// Epilogue codes: src/core/epilogues.ts's Epilogue table (a test checks they agree).
#define EPILOGUE_NONE 0
#define EPILOGUE_BIAS 1
#define EPILOGUE_BIAS_SIGMOID 2
#define EPILOGUE_SIGMOID_GRAD 3

// Columns in one column panel of a matrix kept in panels (the data set X): a multiple of every
// build's vector width, so a vector of B never straddles two panels.
#define PANEL_WIDTH 16

typedef struct {
  const float *a, *b; // op(A) M×K, op(B) K×N, laid out as tA, tB say
  float *c;           // M×N, row-major
  const float *aux;   // bias (N) or S (M×N) for the epilogues that read it
  float *row_sums;    // Σ_k op(A)[m,k], or NULL
  int M, N, K, tA, tB, epilogue;
  size_t a_pitch, b_pitch; // floats between two column panels (tA, tB = OPERAND_PANELS)
} product_t;

// How one build cuts C into tiles, and how big its scratch for B must be.
typedef struct {
  int tile_rows, tile_cols, m_tiles, n_tiles;
  size_t packed_floats;
} plan_t;

#define DECLARE_BUILD(suffix)                                                                        \
  void plan_##suffix(const product_t *p, plan_t *plan);                                              \
  void pack_##suffix(const product_t *p, const plan_t *plan, float *packed);                         \
  void run_##suffix(const product_t *p, const plan_t *plan, const float *packed, int m_first, int m_end, \
                    int n_first, int n_end);                                                         \
  int vector_floats_##suffix(void);

DECLARE_BUILD(avx512)
DECLARE_BUILD(avx2)
DECLARE_BUILD(base)

#endif
