// FAMO (src/core/weighting.ts): from each task's batch loss L_t, one Adam step of the task logits ξ
// on δ_t = log L_t(previous step) − log L_t(this step), then α_t = |P|·z_t/(c·L_t), z = softmax(ξ),
// c = Σ_{t∈P} z_t/L_t over the tasks P observed in the batch, and G_Y[:,t] ·= α_t in place.
// Training steps also keep the new state and add α to weightSums; gradients() leaves both.
// One workgroup (WORKGROUP invocations): the L_t with loss.wgsl's reduction (taskLossSums, as
// gls.wgsl), the O(T) update in invocation 0, then the scaling. Twin: src/cpu/famo.ts.
//
// | binding | name       | access     | shape                                             |
// |---------|------------|------------|---------------------------------------------------|
// | 0       | y          | read       | rows×T predictions                                |
// | 1       | targets    | read       | rows×T, starting at row offsetRows                |
// | 2       | mask       | read       | rows×T (1 = observed), starting at offsetRows     |
// | 3       | tasks      | read       | T × TaskInfo                                      |
// | 4       | gradY      | read_write | rows×T (scaled in place)                          |
// | 5       | state      | read_write | 4T: ξ, m, v, the last step's L_t (0: unobserved)  |
// | 6       | weightSums | read_write | T: Σ α since the host last read them              |
// | 7       | dims       | uniform    | FamoDims                                          |

// TaskInfo, FamoDims, the FAMO_* constants and the LOSS_* codes: generated (src/kernels/famo.ts);
// WORKGROUP: shaders/loss_fn.wgsl; taskLoss and reduceTaskLosses: shaders/task_losses.wgsl.
override TASKS: u32 = 1u;

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> tasks: array<TaskInfo>;
@group(0) @binding(4) var<storage, read_write> gradY: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;
@group(0) @binding(6) var<storage, read_write> weightSums: array<f32>;
@group(0) @binding(7) var<uniform> dims: FamoDims;

var<workgroup> xi: array<f32, TASKS>;
var<workgroup> z: array<f32, TASKS>;
var<workgroup> alpha: array<f32, TASKS>;

fn logLoss(l: f32) -> f32 { return log(l + FAMO_LOSS_EPSILON); }

// z = softmax(xi), shifted by the largest logit.
fn softmaxOfXi() {
  let T = dims.tasks;
  var top = xi[0];
  for (var t = 1u; t < T; t++) {
    top = max(top, xi[t]);
  }
  var sum = 0.0;
  for (var t = 0u; t < T; t++) {
    z[t] = exp(xi[t] - top);
    sum += z[t];
  }
  for (var t = 0u; t < T; t++) {
    z[t] /= sum;
  }
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) li: u32) {
  let T = dims.tasks;
  reduceTaskLosses(li);
  if (li == 0u) {
    for (var t = 0u; t < T; t++) {
      xi[t] = state[t];
    }
    if (dims.step >= 1u) {
      softmaxOfXi();
      var mean = 0.0;
      for (var t = 0u; t < T; t++) {
        let last = state[3u * T + t];
        let delta = select(0.0, logLoss(last) - logLoss(taskLoss[t]), taskLoss[t] > 0.0 && last > 0.0);
        alpha[t] = delta; // δ, for the loop below
        mean += z[t] * delta;
      }
      for (var t = 0u; t < T; t++) {
        let g = z[t] * (alpha[t] - mean) + FAMO_DECAY * xi[t];
        let m = FAMO_BETA1 * state[T + t] + (1.0 - FAMO_BETA1) * g;
        let v = FAMO_BETA2 * state[2u * T + t] + (1.0 - FAMO_BETA2) * g * g;
        xi[t] -= (FAMO_LEARNING_RATE / dims.biasCorrection1) * m / (sqrt(v) / sqrt(dims.biasCorrection2) + FAMO_EPSILON);
        if (dims.training != 0u) {
          state[T + t] = m;
          state[2u * T + t] = v;
        }
      }
    }
    softmaxOfXi();
    var count = 0.0;
    var c = 0.0;
    for (var t = 0u; t < T; t++) {
      if (taskLoss[t] > 0.0) {
        count += 1.0;
        c += z[t] / (taskLoss[t] + FAMO_LOSS_EPSILON);
      }
    }
    for (var t = 0u; t < T; t++) {
      alpha[t] = select(0.0, count * z[t] / (c * (taskLoss[t] + FAMO_LOSS_EPSILON)), taskLoss[t] > 0.0);
      if (dims.training != 0u) {
        state[t] = xi[t];
        state[3u * T + t] = taskLoss[t];
        weightSums[t] += alpha[t];
      }
    }
  }
  workgroupBarrier();
  for (var i = li; i < dims.rows * T; i += WORKGROUP) {
    gradY[i] *= alpha[i % T];
  }
}
