// ℓ(y, ŷ) and ∂ℓ/∂y of each loss code (LOSS_*, generated from src/core/losses.ts), and one task's
// masked loss sum over the batch as a workgroup reduction; included ahead of the kernels that need
// them (loss.wgsl, gls.wgsl, which declare y, targets, mask, tasks and dims; see src/kernels/loss.ts).
// An unknown code gives NaN, so it can never pass for another loss (the host refuses such codes
// first; `kind & 0u` keeps the NaN out of constant evaluation, which rejects it).
fn notALoss(kind: u32) -> f32 { return bitcast<f32>(0x7fc00000u | (kind & 0u)); }

// p is the task's loss parameter (TaskInfo.param): Huber's δ, the quantile's q.
fn lossValue(kind: u32, logit: f32, truth: f32, p: f32) -> f32 {
  switch kind {
    case LOSS_MSE: {
      let r = logit - truth;
      return r * r;
    }
    case LOSS_BCE: { return max(logit, 0.0) - logit * truth + log(1.0 + exp(-abs(logit))); }
    case LOSS_HUBER: {
      let e = abs(logit - truth);
      return select(p * (e - 0.5 * p), 0.5 * e * e, e <= p);
    }
    case LOSS_QUANTILE: {
      let r = truth - logit;
      return select((p - 1.0) * r, p * r, r >= 0.0);
    }
    default: { return notALoss(kind); }
  }
}

fn lossGradient(kind: u32, logit: f32, truth: f32, p: f32) -> f32 {
  switch kind {
    case LOSS_MSE: { return 2.0 * (logit - truth); }
    case LOSS_BCE: { return stableSigmoid(logit) - truth; }
    case LOSS_HUBER: { return clamp(logit - truth, -p, p); }
    case LOSS_QUANTILE: { return select(1.0 - p, -p, logit < truth); }
    default: { return notALoss(kind); }
  }
}

// Invocations per workgroup: a power of two (the reduction halves it), set by the host.
override WORKGROUP: u32 = 256u;

var<workgroup> partial: array<vec2f, WORKGROUP>;

// (Σ_n mask·1, Σ_n mask·ℓ) of task t over the batch, the same in every invocation. Every
// invocation of the workgroup must call it, with the same t (it holds barriers).
fn taskLossSums(t: u32, li: u32) -> vec2f {
  let T = dims.tasks;
  let kind = tasks[t].kind;
  let p = tasks[t].param;
  let dataBase = dims.offsetRows * T + t;
  var local = vec2f(0.0); // (count, loss sum) over this invocation's rows
  for (var n = li; n < dims.rows; n += WORKGROUP) {
    let w = mask[dataBase + n * T];
    if (w != 0.0) {
      local += vec2f(w, w * lossValue(kind, y[n * T + t], targets[dataBase + n * T], p));
    }
  }
  partial[li] = local;
  workgroupBarrier();
  for (var stride = WORKGROUP / 2u; stride > 0u; stride /= 2u) {
    if (li < stride) {
      partial[li] += partial[li + stride];
    }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&partial[0]);
}
