// How a batch of dispatches is laid out in compute passes. Normally all of them share one pass
// (no pass boundaries between a step's seven dispatches); for profiling, each dispatch gets its
// own pass with timestamp writes at its start and end, so per-kernel GPU time can be read back.

export interface PassRecorder {
  /** The pass the next dispatch (named `label`) goes into. */
  next(label: string): GPUComputePassEncoder;
  /** Ends the open pass. */
  end(): void;
}

export class SinglePass implements PassRecorder {
  private pass: GPUComputePassEncoder | undefined;

  constructor(
    private readonly encoder: GPUCommandEncoder,
    private readonly label: string,
  ) {}

  next(): GPUComputePassEncoder {
    this.pass ??= this.encoder.beginComputePass({ label: this.label });
    return this.pass;
  }

  end(): void {
    this.pass?.end();
    this.pass = undefined;
  }
}

export interface KernelTime {
  kernel: string;
  ms: number;
}

/** One pass per dispatch with begin/end timestamps ('timestamp-query' feature required). */
export class TimedPasses implements PassRecorder {
  private readonly querySet: GPUQuerySet;
  private readonly labels: string[] = [];
  private pass: GPUComputePassEncoder | undefined;

  constructor(
    private readonly device: GPUDevice,
    private readonly encoder: GPUCommandEncoder,
    private readonly capacity: number,
  ) {
    if (!device.features.has('timestamp-query')) throw new Error('this adapter has no timestamp-query feature');
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
  }

  next(label: string): GPUComputePassEncoder {
    this.end();
    const index = this.labels.length;
    if (index >= this.capacity) throw new RangeError(`more than ${this.capacity} timed dispatches`);
    this.labels.push(label);
    this.pass = this.encoder.beginComputePass({
      label,
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 },
    });
    return this.pass;
  }

  end(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  /** Records the resolve into `encoder` (call after end, before submit); returns a reader for after the submit. */
  resolve(): () => Promise<KernelTime[]> {
    const count = 2 * this.labels.length;
    const resolved = this.device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.encoder.resolveQuerySet(this.querySet, 0, count, resolved, 0);
    this.encoder.copyBufferToBuffer(resolved, 0, staging, 0, 8 * count);
    return async () => {
      await staging.mapAsync(GPUMapMode.READ);
      const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      for (const buffer of [resolved, staging]) buffer.destroy();
      this.querySet.destroy();
      return this.labels.map((kernel, i) => ({ kernel, ms: Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e6 }));
    };
  }
}
