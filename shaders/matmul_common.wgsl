// Shared head of the matmul kernels (matmul_tiled, matmul_regblock, matmul_regblock_vec4):
// bindings, dimensions, epilogues. Each kernel declares `a` and `b` itself (f32 or vec4 arrays).
//
//   C[M×N] = epilogue(op(A)·op(B)),   op(A): M×K, op(B): K×N, every matrix row-major f32
//   op(A) = A stored M×K, or Aᵀ with A stored K×M (TRANSPOSE_A); likewise op(B) (TRANSPOSE_B)
//
//   EPILOGUE_NONE:         C = acc
//   EPILOGUE_BIAS:         C = acc + aux[n]                     (+bias)
//   EPILOGUE_BIAS_SIGMOID: C = σ(acc + aux[n])                  (+bias, then sigmoid: the forward layer 1)
//   EPILOGUE_SIGMOID_GRAD: C = acc ⊙ S ⊙ (1 − S), S = aux M×N    (sigmoid backward fused into G_Y·A)
//   ROW_SUMS:   also rowSums[m] = Σ_k op(A)[m,k]     (bias gradient: with op(A) = Gᵀ, column sums of G)
// C and rowSums are overwritten, never accumulated. Every offset is in elements.
//
// | binding | name    | access     | shape                                     |
// |---------|---------|------------|-------------------------------------------|
// | 0       | a       | read       | M×K (K×M if TRANSPOSE_A) at offsetA       |
// | 1       | b       | read       | K×N (N×K if TRANSPOSE_B) at offsetB       |
// | 2       | aux     | read       | N (bias) or M×N (S) at offsetAux          |
// | 3       | c       | read_write | M×N at offsetC                            |
// | 4       | rowSums | read_write | M at offsetRowSums                        |
// | 5       | dims    | uniform    | MatmulDims                                |

override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
override EPILOGUE: u32 = EPILOGUE_NONE;
override ROW_SUMS: bool = false;

// EPILOGUE_* codes and MatmulDims: generated from src/kernels/matmul.ts.

@group(0) @binding(2) var<storage, read> aux: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> rowSums: array<f32>;
@group(0) @binding(5) var<uniform> dims: MatmulDims;

fn epilogue(acc: f32, m: u32, n: u32) -> f32 {
  switch EPILOGUE {
    case EPILOGUE_BIAS: { return acc + aux[dims.offsetAux + n]; }
    case EPILOGUE_BIAS_SIGMOID: { return stableSigmoid(acc + aux[dims.offsetAux + n]); }
    case EPILOGUE_SIGMOID_GRAD: {
      let s = aux[dims.offsetAux + m * dims.N + n];
      return acc * s * (1.0 - s);
    }
    case EPILOGUE_NONE, default: { return acc; }
  }
}

fn storeC(m: u32, n: u32, acc: f32) {
  c[dims.offsetC + m * dims.N + n] = epilogue(acc, m, n);
}

// Element offsets of op(A)[m, k] and op(B)[k, n], as (row or column step, k step).
fn strideA() -> vec2u { return select(vec2u(dims.K, 1u), vec2u(1u, dims.M), TRANSPOSE_A); }
fn strideB() -> vec2u { return select(vec2u(1u, dims.N), vec2u(dims.K, 1u), TRANSPOSE_B); }

// The first row and column of C of the block × block part an invocation of a register-blocked
// kernel computes. Workgroups are numbered row-major over tiles of (block·wg.y)×(block·wg.x)
// and folded into (x, y) past 65,535 workgroups, so some may lie past the last tile row.
fn blockOrigin(lid: vec3u, wid: vec3u, nwg: vec3u, wg: vec2u, block: u32) -> vec2u {
  let tilesN = (dims.N + block * wg.x - 1u) / (block * wg.x);
  let tile = wid.x + wid.y * nwg.x;
  return vec2u(((tile / tilesN) * wg.y + lid.y) * block, ((tile % tilesN) * wg.x + lid.x) * block);
}
