// A WebGPU device with what sigmtl needs to know about it. Platform-neutral: src/gpu/node.ts
// (Dawn) and src/gpu/browser.ts (navigator.gpu) each find a GPU object and call openDevice().

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  /** A CPU implementation (SwiftShader, WARP, llvmpipe...), not a real GPU. */
  software: boolean;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly limits: GPUSupportedLimits;
  readonly features: readonly string[];
  /** Where the device came from, e.g. "dawn (Vulkan, SwiftShader found at /usr/lib/...)". */
  readonly origin: string;
  /** The GPU object the adapter came from (navigator.gpu, or Dawn's), for peers that need their own device on it. */
  readonly instance: GPU;
  /** Destroys the device and drops every native handle, so the process can exit. */
  destroy(): void;
}

/** Optional features the kernels can use when the adapter has them. */
const WANTED_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'] as const;

/** Limits raised from WebGPU's defaults to what the adapter really offers. */
export const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|warp|software|basic render/i;

export function summarizeAdapter(adapter: Pick<GPUAdapter, 'info'>): AdapterSummary {
  return summarizeInfo(adapter.info);
}

function summarizeInfo(info: GPUAdapterInfo): AdapterSummary {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    device: info.device,
    software: fallback || SOFTWARE_ADAPTER.test(text),
  };
}

/** One line naming an adapter, e.g. "SwiftShader driver 5.0.0 (google, software)"; never empty. */
export function adapterLabel(a: Pick<AdapterSummary, 'vendor' | 'architecture' | 'description' | 'device' | 'software'>): string {
  const name = a.description || a.device || a.architecture || 'WebGPU adapter';
  const details = [a.vendor, a.software ? 'software' : ''].filter(Boolean).join(', ');
  return details ? `${name} (${details})` : name;
}

/** The label of a device's adapter (a device sigmtl opened, or one passed in). */
export function deviceLabel(device: GPUDevice): string {
  return adapterLabel(contextFromDevice(device).adapter);
}

/** What sigmtl knows of a device's adapter: vendor, architecture, whether it is software, a label. */
export function describeDevice(device: GPUDevice): AdapterSummary & { label: string } {
  const adapter = contextFromDevice(device).adapter;
  return { ...adapter, label: adapterLabel(adapter) };
}

export class GpuError extends Error {
  override readonly name = 'GpuError';
}

/**
 * Requests a device with the adapter's real limits and the useful optional features, and routes
 * every uncaptured error into an exception at the next checkpoint (see checkErrors).
 */
export async function openDevice(instance: GPU, adapter: GPUAdapter, origin: string, release: () => void): Promise<GpuContext> {
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'sigmtl' });
  const summary = summarizeAdapter(adapter);
  let destroyed = false;
  watchErrors(device);
  // Held only until destroy(): a GPU object that outlives its device keeps Dawn (and the process) alive.
  let held: GPU | null = instance;
  const ctx: GpuContext = {
    device,
    adapter: summary,
    limits: device.limits,
    features: [...device.features].sort(),
    origin,
    get instance(): GPU {
      if (!held) throw new GpuError('the GPU context was destroyed');
      return held;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      held = null;
      device.destroy();
      release();
    },
  };
  contexts.set(device, ctx);
  return ctx;
}

const contexts = new WeakMap<GPUDevice, GpuContext>();
const watched = new WeakSet<GPUDevice>();

function watchErrors(device: GPUDevice): void {
  if (watched.has(device)) return;
  watched.add(device);
  device.addEventListener('uncapturederror', (event) => {
    // Keep the first error: later ones are usually "invalid due to a previous error".
    if (!pendingErrors.has(device)) pendingErrors.set(device, (event as GPUUncapturedErrorEvent).error.message);
  });
  device.lost.then((info) => lostDevices.set(device, info.message || info.reason || 'no reason given'));
}

const lostDevices = new WeakMap<GPUDevice, string>();

/** Why the device was lost (destroyed, a driver reset, ...), once it has been; otherwise undefined. */
export function deviceLostReason(device: GPUDevice): string | undefined {
  return lostDevices.get(device);
}

/** The error for work on a lost device: what was being done, and why the device went. */
export function deviceLostError(device: GPUDevice, what: string): GpuError {
  return new GpuError(`${what}: the WebGPU device was lost (${deviceLostReason(device) ?? 'destroyed'}); nothing more can run on it`);
}

/**
 * The context of a device someone else made (a page's own GPUDevice): described from
 * device.adapterInfo where the browser has it. Its destroy() leaves the device alone: the
 * caller owns it. A device sigmtl opened gets its own context back.
 */
export function contextFromDevice(device: GPUDevice): GpuContext {
  const known = contexts.get(device);
  if (known) return known;
  watchErrors(device);
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapter = info ? summarizeInfo(info) : { vendor: '', architecture: '', description: '', device: '', software: false };
  const ctx: GpuContext = {
    device,
    adapter,
    limits: device.limits,
    features: [...device.features].sort(),
    origin: 'a GPUDevice passed in',
    get instance(): GPU {
      const gpu = typeof navigator !== 'undefined' ? (navigator as { gpu?: GPU }).gpu : undefined;
      if (!gpu) throw new GpuError('no GPU object is known for a device passed in');
      return gpu;
    },
    destroy() {},
  };
  contexts.set(device, ctx);
  return ctx;
}

const pendingErrors = new WeakMap<GPUDevice, string>();

/** Throws the first uncaptured GPU error seen on this device since the last call, if any. */
export function checkErrors(device: GPUDevice, what: string): void {
  if (lostDevices.has(device)) throw deviceLostError(device, what);
  const message = pendingErrors.get(device);
  if (message !== undefined) {
    pendingErrors.delete(device);
    throw new GpuError(`${what}: ${message}`);
  }
}
