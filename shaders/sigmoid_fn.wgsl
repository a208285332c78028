// σ(x) = 1 / (1 + e^(−x)), computed from e^(−|x|) ∈ (0, 1] so it never overflows:
// ±400 gives exactly 1 and 0 (and a zero gradient), never Inf or NaN.
// Included ahead of every kernel that needs it (see src/kernels/shaders.ts).
fn stableSigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
