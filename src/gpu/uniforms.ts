// One uniform buffer carved into 256-byte slots, bound with dynamic offsets. Each dispatch of
// a recorded batch of steps takes a slot, all slots are uploaded with one writeBuffer before the
// submit, and no bind group or buffer is created per step.
export class UniformArena {
  readonly buffer: GPUBuffer;
  readonly slotBytes: number;
  private readonly staging: ArrayBuffer;
  private used = 0;

  constructor(
    private readonly device: GPUDevice,
    readonly slots: number,
    label = 'uniforms',
  ) {
    this.slotBytes = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
    this.staging = new ArrayBuffer(this.slotBytes * slots);
    this.buffer = device.createBuffer({
      label,
      size: this.slotBytes * slots,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** The binding for bind groups: one slot wide, moved by the dynamic offset. */
  get binding(): GPUBufferBinding {
    return { buffer: this.buffer, size: this.slotBytes };
  }

  /** Reserves a slot, lets `fill` write its bytes, and returns its dynamic offset. */
  push(fill: (view: DataView) => void): number {
    if (this.used >= this.slots) throw new RangeError(`uniform arena full (${this.slots} slots)`);
    const offset = this.used * this.slotBytes;
    fill(new DataView(this.staging, offset, this.slotBytes));
    this.used++;
    return offset;
  }

  /** Uploads the slots used since the last flush and starts over. */
  flush(): void {
    if (this.used === 0) return;
    this.device.queue.writeBuffer(this.buffer, 0, this.staging, 0, this.used * this.slotBytes);
    this.used = 0;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
