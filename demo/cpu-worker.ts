// sigmtl's float64 reference kernels in a Web Worker, so timing them does not freeze the page.
import { matmulReference, sigmoid } from 'sigmtl';

export type CpuJob = { kind: 'matmul'; a: Float32Array; b: Float32Array; n: number } | { kind: 'sigmoid'; x: Float32Array };

self.onmessage = (event: MessageEvent<CpuJob>) => {
  const job = event.data;
  const started = performance.now();
  const result = job.kind === 'matmul' ? matmulReference(job.a, job.b, { M: job.n, N: job.n, K: job.n }) : Float64Array.from(job.x, sigmoid);
  const ms = performance.now() - started;
  (self as unknown as Worker).postMessage({ result, ms }, [result.buffer]);
};
