// Workgroup counts past maxComputeWorkgroupsPerDimension (65,535) are folded into (x, y); every
// kernel numbers its workgroups as x + y·countX and ignores the few past the real count.
export function foldWorkgroups(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / maxPerDimension);
  const x = Math.ceil(count / y);
  if (y > maxPerDimension) throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDimension}² limit`);
  return [x, y];
}

/** A reduction kernel's workgroup size must be a power of two (its tree halves it): a RangeError naming the kernel otherwise. */
export function checkPowerOfTwo(kernel: string, workgroup: number): void {
  if (!(workgroup >= 1 && (workgroup & (workgroup - 1)) === 0)) throw new RangeError(`${kernel} workgroup ${workgroup} is not a power of two`);
}

/** One workgroup of a kernel with one bind group at a uniform offset (the single-workgroup stages: gls, FAMO, the aggregators' solver). */
export function encodeOneWorkgroup(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, uniformOffset: number): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup, [uniformOffset]);
  pass.dispatchWorkgroups(1);
}
