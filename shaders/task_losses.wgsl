// Every task's mean loss L_t over the batch, into workgroup memory (0 for a task with no
// observed row): the first half of the single-workgroup rescalings of G_Y (gls.wgsl, famo.wgsl),
// which declare TASKS; taskLossSums comes from loss_fn.wgsl. Every invocation must call it.
var<workgroup> taskLoss: array<f32, TASKS>;

fn reduceTaskLosses(li: u32) {
  for (var t = 0u; t < dims.tasks; t++) {
    let total = taskLossSums(t, li);
    if (li == 0u) {
      taskLoss[t] = select(0.0, total.y / total.x, total.x > 0.0);
    }
    workgroupBarrier(); // every invocation has read partial before the next task overwrites it
  }
}
