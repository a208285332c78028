// Geometric loss strategy: rescales G_Y, which the loss kernel wrote as each task's own ∂L_t/∂Y,
// into the gradient of the weighted geometric mean of the task losses:
//   L = exp(Σ_{t∈P} w_t·log L_t / Σ_{t∈P} w_t),   ∂L/∂L_t = L·w_t / (W_P·L_t),
// P the tasks observed in the batch with L_t > 0 (the others get a zero gradient). One workgroup
// (WORKGROUP invocations): it recomputes each L_t with loss.wgsl's reduction (taskLossSums; T small
// passes over the batch — handing the loss kernel's L_t over would take it past WebGPU's default
// of 8 storage bindings), then scales G_Y in place.
//
// | binding | name    | access     | shape                                          |
// |---------|---------|------------|------------------------------------------------|
// | 0       | y       | read       | rows×T predictions                             |
// | 1       | targets | read       | rows×T, starting at row offsetRows             |
// | 2       | mask    | read       | rows×T (1 = observed), starting at offsetRows  |
// | 3       | tasks   | read       | T × TaskInfo (weight, loss kind, c_t)          |
// | 4       | gradY   | read_write | rows×T (scaled in place)                       |
// | 5       | dims    | uniform    | LossDims                                       |

// TaskInfo, LossDims and the LOSS_* codes: generated (src/kernels/loss.ts); WORKGROUP: shaders/loss_fn.wgsl;
// taskLoss and reduceTaskLosses: shaders/task_losses.wgsl.
override TASKS: u32 = 1u;

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> tasks: array<TaskInfo>;
@group(0) @binding(4) var<storage, read_write> gradY: array<f32>;
@group(0) @binding(5) var<uniform> dims: LossDims;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(local_invocation_index) li: u32) {
  let T = dims.tasks;
  reduceTaskLosses(li);
  // The weighted geometric mean over the tasks with a positive loss in this batch.
  var logSum = 0.0;
  var weightSum = 0.0;
  for (var t = 0u; t < T; t++) {
    if (taskLoss[t] > 0.0) {
      logSum += tasks[t].weight * log(taskLoss[t]);
      weightSum += tasks[t].weight;
    }
  }
  let geometric = select(0.0, exp(logSum / weightSum), weightSum > 0.0);
  for (var i = li; i < dims.rows * T; i += WORKGROUP) {
    let t = i % T;
    let lt = taskLoss[t];
    gradY[i] = select(0.0, gradY[i] * geometric * tasks[t].weight / (weightSum * lt), lt > 0.0 && weightSum > 0.0);
  }
}
