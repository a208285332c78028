// ℓ(y, ŷ) and ∂ℓ/∂y of each loss code (LOSS_*, generated from src/core/losses.ts); included
// ahead of the kernels that need them (loss.wgsl, gls.wgsl; see src/kernels/loss.ts).
// An unknown code gives NaN, so it can never pass for another loss (the host refuses such codes
// first; `kind & 0u` keeps the NaN out of constant evaluation, which rejects it).
fn notALoss(kind: u32) -> f32 { return bitcast<f32>(0x7fc00000u | (kind & 0u)); }

fn lossValue(kind: u32, logit: f32, truth: f32) -> f32 {
  switch kind {
    case LOSS_MSE: {
      let r = logit - truth;
      return r * r;
    }
    case LOSS_BCE: { return max(logit, 0.0) - logit * truth + log(1.0 + exp(-abs(logit))); }
    default: { return notALoss(kind); }
  }
}

fn lossGradient(kind: u32, logit: f32, truth: f32) -> f32 {
  switch kind {
    case LOSS_MSE: { return 2.0 * (logit - truth); }
    case LOSS_BCE: { return stableSigmoid(logit) - truth; }
    default: { return notALoss(kind); }
  }
}
