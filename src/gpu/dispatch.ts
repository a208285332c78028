// Workgroup counts past maxComputeWorkgroupsPerDimension (65,535) are folded into (x, y); every
// kernel numbers its workgroups as x + y·countX and ignores the few past the real count.
export function foldWorkgroups(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / maxPerDimension);
  const x = Math.ceil(count / y);
  if (y > maxPerDimension) throw new RangeError(`dispatch of ${count} workgroups exceeds ${maxPerDimension}² limit`);
  return [x, y];
}
