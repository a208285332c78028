// Node-API binding of the native products (products.c): the CPU engine's matmul on its WebAssembly
// memory, by byte offset like the WebAssembly kernel, on the builds this CPU runs (best first),
// a product shared among POSIX threads by tiles; and the float64 optimizer update of
// src/cpu/optimizer.ts on one piece of the parameters. Loaded by src/io/native-products.ts.
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "products.h"

#ifndef SOURCE_HASH
#define SOURCE_HASH "unknown"
#endif

typedef struct {
  const char *name;
  void (*plan)(const product_t *, plan_t *);
  void (*pack)(const product_t *, const plan_t *, float *);
  void (*run)(const product_t *, const plan_t *, const float *, int, int, int, int);
  int (*vector_floats)(void);
} build_t;

#define BUILD(name) {#name, plan_##name, pack_##name, run_##name, vector_floats_##name}
static build_t builds[3];
static int build_count = 0;

static void find_builds(void) {
  if (build_count) return;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) builds[build_count++] = (build_t)BUILD(avx512);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) builds[build_count++] = (build_t)BUILD(avx2);
#endif
  builds[build_count++] = (build_t)BUILD(base);
}

/** Products smaller than this many multiply–adds stay on one thread (a thread's start costs ~20 µs). */
#define PARALLEL_MIN_WORK (1 << 22)

typedef struct {
  const build_t *build;
  const product_t *p;
  const plan_t *plan;
  const float *packed;
  int m_first, m_end, n_first, n_end;
} share_t;

static void *run_share(void *arg) {
  const share_t *s = arg;
  s->build->run(s->p, s->plan, s->packed, s->m_first, s->m_end, s->n_first, s->n_end);
  return NULL;
}

// C's tiles shared out by column tiles when there are at least as many as row tiles, else by row
// tiles; this thread takes the first share. Returns 0, or an error message.
static const char *product(const build_t *build, const product_t *p, int threads) {
  plan_t plan;
  build->plan(p, &plan);
  float *packed = NULL;
  if (plan.packed_floats) {
    packed = malloc(plan.packed_floats * sizeof(float));
    if (!packed) return "out of memory for the packed operands";
  }
  build->pack(p, &plan, packed);
  const int by_columns = plan.n_tiles >= plan.m_tiles;
  const int tiles = by_columns ? plan.n_tiles : plan.m_tiles;
  if ((double)p->M * p->N * p->K < PARALLEL_MIN_WORK) threads = 1;
  if (threads > tiles) threads = tiles;
  if (threads > 64) threads = 64;
  share_t shares[64];
  pthread_t ids[64];
  int started = 0;
  for (int t = 0; t < threads; t++) {
    const int first = (int)((long long)t * tiles / threads), end = (int)((long long)(t + 1) * tiles / threads);
    shares[t] = (share_t){build, p, &plan, packed, 0, plan.m_tiles, 0, plan.n_tiles};
    if (by_columns) shares[t].n_first = first, shares[t].n_end = end;
    else shares[t].m_first = first, shares[t].m_end = end;
  }
  for (int t = 1; t < threads; t++) {
    if (pthread_create(&ids[t], NULL, run_share, &shares[t]) != 0) break;
    started = t;
  }
  // Shares whose thread did not start run here.
  for (int t = started + 1; t < threads; t++) run_share(&shares[t]);
  run_share(&shares[0]);
  for (int t = 1; t <= started; t++) pthread_join(ids[t], NULL);
  free(packed);
  return NULL;
}

// --- Node-API ----------------------------------------------------------------------------------

#define CHECK(call)                                                                                  \
  do {                                                                                               \
    if ((call) != napi_ok) {                                                                         \
      napi_throw_error(env, NULL, "sigmtl native products: a Node-API call failed: " #call);        \
      return NULL;                                                                                   \
    }                                                                                                \
  } while (0)

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

// Reads argument values as doubles (all must be numbers).
static int numbers(napi_env env, napi_value *args, size_t from, size_t count, double *out) {
  for (size_t i = 0; i < count; i++)
    if (napi_get_value_double(env, args[from + i], &out[i]) != napi_ok) return 0;
  return 1;
}

// A byte offset of `floats` floats inside the memory of `bytes` bytes, as a pointer; NULL if not.
static void *region(char *base, size_t bytes, double offset, double floats) {
  if (offset < 0 || offset != (double)(size_t)offset || (size_t)offset % 4 != 0) return NULL;
  if (offset + 4 * floats > (double)bytes) return NULL;
  return base + (size_t)offset;
}

static size_t operand_floats(int code, int rows, int cols, int panel_across, size_t pitch) {
  // rows×cols as stored; for panels, `panel_across` columns cut into panels `pitch` floats apart.
  if (code != OPERAND_PANELS) return (size_t)rows * cols;
  return (size_t)((panel_across + PANEL_WIDTH - 1) / PANEL_WIDTH - 1) * pitch + (size_t)rows * PANEL_WIDTH;
}

// matmul(memory, a, b, c, M, N, K, tA, tB, epilogue, aux, rowSums, bPitch, aPitch, threads, build)
static napi_value matmul(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value args[16];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 16) return fail(env, "matmul: expected 16 arguments");
  void *data;
  size_t bytes;
  if (napi_get_arraybuffer_info(env, args[0], &data, &bytes) != napi_ok) return fail(env, "matmul: the memory must be an ArrayBuffer");
  double v[15];
  if (!numbers(env, args, 1, 15, v)) return fail(env, "matmul: offsets, sizes and codes must be numbers");
  const int M = (int)v[3], N = (int)v[4], K = (int)v[5], tA = (int)v[6], tB = (int)v[7], epi = (int)v[8];
  const int threads = (int)v[13], which = (int)v[14];
  if (M < 1 || N < 1 || K < 1 || v[3] != M || v[4] != N || v[5] != K) return fail(env, "matmul: M, N and K must be positive integers");
  if (tA < 0 || tA > 2 || tB < 0 || tB > 2 || epi < 0 || epi > 3) return fail(env, "matmul: unknown operand or epilogue code");
  if (threads < 1 || which < 0 || which >= build_count) return fail(env, "matmul: threads must be ≥ 1 and the build one of `builds`");
  const double b_pitch_bytes = v[11], a_pitch_bytes = v[12];
  if ((tB == OPERAND_PANELS && (b_pitch_bytes < 64.0 * K || (size_t)b_pitch_bytes % 4)) ||
      (tA == OPERAND_PANELS && (a_pitch_bytes < 64.0 * M || (size_t)a_pitch_bytes % 4)))
    return fail(env, "matmul: a panel pitch must hold a panel's rows (16 floats each)");
  product_t p = {.M = M, .N = N, .K = K, .tA = tA, .tB = tB, .epilogue = epi};
  p.a_pitch = tA == OPERAND_PANELS ? (size_t)a_pitch_bytes / 4 : 0;
  p.b_pitch = tB == OPERAND_PANELS ? (size_t)b_pitch_bytes / 4 : 0;
  const size_t aux_floats = epi == EPILOGUE_SIGMOID_GRAD ? (size_t)M * N : epi == EPILOGUE_NONE ? 0 : (size_t)N;
  p.a = region(data, bytes, v[0], (double)operand_floats(tA, M, K, K, p.a_pitch));
  p.b = region(data, bytes, v[1], (double)operand_floats(tB, K, N, N, p.b_pitch));
  p.c = region(data, bytes, v[2], (double)M * N);
  p.aux = aux_floats ? region(data, bytes, v[9], (double)aux_floats) : NULL;
  p.row_sums = v[10] != 0 ? region(data, bytes, v[10], M) : NULL;
  if (!p.a || !p.b || !p.c || (aux_floats && !p.aux) || (v[10] != 0 && !p.row_sums))
    return fail(env, "matmul: an operand lies outside the memory or is not 4-byte aligned");
  const char *error = product(&builds[which], &p, threads);
  if (error) return fail(env, error);
  return NULL;
}

// packColumnPanels(memory, src, rows, cols, out, pitch): rows×cols row-major → column panels of
// PANEL_WIDTH (zero-padded), `pitch` bytes apart.
static napi_value pack_column_panels(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 6) return fail(env, "packColumnPanels: expected 6 arguments");
  void *data;
  size_t bytes;
  if (napi_get_arraybuffer_info(env, args[0], &data, &bytes) != napi_ok) return fail(env, "packColumnPanels: the memory must be an ArrayBuffer");
  double v[5];
  if (!numbers(env, args, 1, 5, v)) return fail(env, "packColumnPanels: arguments must be numbers");
  const int rows = (int)v[1], cols = (int)v[2];
  const size_t pitch = (size_t)v[4] / 4;
  if (rows < 1 || cols < 1 || v[4] < 64.0 * rows || (size_t)v[4] % 4) return fail(env, "packColumnPanels: bad rows, cols or pitch");
  const float *src = region(data, bytes, v[0], (double)rows * cols);
  float *out = region(data, bytes, v[3], (double)operand_floats(OPERAND_PANELS, rows, cols, cols, pitch));
  if (!src || !out) return fail(env, "packColumnPanels: a region lies outside the memory or is not 4-byte aligned");
  const int panels = (cols + PANEL_WIDTH - 1) / PANEL_WIDTH;
  for (int q = 0; q < panels; q++)
    for (int n = 0; n < rows; n++) {
      float *to = out + (size_t)q * pitch + (size_t)n * PANEL_WIDTH;
      for (int j = 0; j < PANEL_WIDTH; j++) {
        const int col = q * PANEL_WIDTH + j;
        to[j] = col < cols ? src[(size_t)n * cols + col] : 0.0f;
      }
    }
  return NULL;
}

// A Float64Array argument's values and length; 0 if it is not one.
static int float64s(napi_env env, napi_value value, double **out, size_t *length) {
  napi_typedarray_type type;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok || type != napi_float64_array) return 0;
  *out = data;
  return 1;
}

// The loops, one per optimizer, on arrays that do not overlap; cloned for the vector widths this
// CPU may have (square root and division round the same at every width; no multiply–adds).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

VECTOR_CLONES static void sgd_loop(double *restrict params, const double *restrict g, size_t n, double lr, double decay) {
  for (size_t i = 0; i < n; i++) {
    const double p = params[i];
    params[i] = p - decay * p - lr * g[i];
  }
}

VECTOR_CLONES static void momentum_loop(double *restrict params, const double *restrict g, double *restrict velocity, size_t n, double lr, double decay, double mu) {
  for (size_t i = 0; i < n; i++) {
    const double p = params[i];
    const double v = mu * velocity[i] + g[i];
    velocity[i] = v;
    params[i] = p - decay * p - lr * v;
  }
}

VECTOR_CLONES static void adam_loop(double *restrict params, const double *restrict g, double *restrict first, double *restrict second, size_t n, double lr, double decay,
                                    double c1, double c2, double beta1, double beta2, double epsilon) {
  for (size_t i = 0; i < n; i++) {
    const double p = params[i];
    const double gi = g[i];
    const double m = beta1 * first[i] + (1 - beta1) * gi;
    const double s = beta2 * second[i] + (1 - beta2) * gi * gi;
    first[i] = m;
    second[i] = s;
    params[i] = p - decay * p - (lr * (m * c1)) / (sqrt(s * c2) + epsilon);
  }
}

// update(kind, params, grads, first, second, start, end, gradBase, lr, decay, c1, c2, beta1, beta2,
// epsilon, momentum): one optimizer step on params[start, end) with g_i = grads[i − gradBase] and
// decay = lr·λ (or 0) — the loops of src/cpu/optimizer.ts, the same operations in the same order
// in float64, built without contraction into multiply–adds, so the results are the same bit for bit.
static napi_value update(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value args[16];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 16) return fail(env, "update: expected 16 arguments");
  char kind[16];
  size_t kind_length;
  if (napi_get_value_string_utf8(env, args[0], kind, sizeof kind, &kind_length) != napi_ok) return fail(env, "update: the optimizer kind must be a string");
  const int sgd = !strcmp(kind, "sgd"), momentum = !strcmp(kind, "momentum"), adam = !strcmp(kind, "adam");
  if (!sgd && !momentum && !adam) return fail(env, "update: the optimizer kind must be sgd, momentum or adam");
  double *params, *grads, *first, *second;
  size_t n_params, n_grads, n_first, n_second;
  if (!float64s(env, args[1], &params, &n_params) || !float64s(env, args[2], &grads, &n_grads) || !float64s(env, args[3], &first, &n_first) ||
      !float64s(env, args[4], &second, &n_second))
    return fail(env, "update: params, grads and the two state arrays must be Float64Arrays");
  double v[11];
  if (!numbers(env, args, 5, 11, v)) return fail(env, "update: start, end, gradBase and the settings must be numbers");
  const double start = v[0], end = v[1], base = v[2];
  if (start < 0 || start > end || end > n_params || start != (double)(size_t)start || end != (double)(size_t)end || base != (double)(size_t)base ||
      start < base || end - base > n_grads || end > n_first || end > n_second)
    return fail(env, "update: the piece [start, end) lies outside the parameters, gradients or state");
  const size_t i0 = (size_t)start, i1 = (size_t)end;
  const double *g = grads - (size_t)base;
  const double lr = v[3], decay = v[4], c1 = v[5], c2 = v[6], beta1 = v[7], beta2 = v[8], epsilon = v[9], mu = v[10];
  if (sgd) sgd_loop(params + i0, g + i0, i1 - i0, lr, decay);
  else if (momentum) momentum_loop(params + i0, g + i0, first + i0, i1 - i0, lr, decay, mu);
  else adam_loop(params + i0, g + i0, first + i0, second + i0, i1 - i0, lr, decay, c1, c2, beta1, beta2, epsilon);
  return NULL;
}

NAPI_MODULE_INIT() {
  find_builds();
  napi_value fn, names, value;
  napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, matmul, NULL, &fn);
  napi_set_named_property(env, exports, "matmul", fn);
  napi_create_function(env, "packColumnPanels", NAPI_AUTO_LENGTH, pack_column_panels, NULL, &fn);
  napi_set_named_property(env, exports, "packColumnPanels", fn);
  napi_create_function(env, "update", NAPI_AUTO_LENGTH, update, NULL, &fn);
  napi_set_named_property(env, exports, "update", fn);
  napi_create_array_with_length(env, build_count, &names);
  for (int i = 0; i < build_count; i++) {
    napi_create_string_utf8(env, builds[i].name, NAPI_AUTO_LENGTH, &value);
    napi_set_element(env, names, i, value);
  }
  napi_set_named_property(env, exports, "builds", names);
  napi_create_int32(env, PANEL_WIDTH, &value);
  napi_set_named_property(env, exports, "panelWidth", value);
  napi_create_string_utf8(env, SOURCE_HASH, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, exports, "sourceHash", value);
  return exports;
}
