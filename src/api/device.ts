// Where a run's WebGPU device comes from, and opening the backend a run asked for. In order: the
// caller's own GPUDevice; navigator.gpu in a browser; the provider `sigmtl/node` registers
// (Dawn) in Node. 'auto' falls back to the float64 CPU backend with a notice when none works.
import type { BackendConfig, TrainingBackend } from '../core/backend.js';
import { CpuBackend } from '../backends/cpu.js';
import { WasmBackend } from '../backends/wasm.js';
import { wasmSimdSupported } from '../cpu/wasm-matmul.js';
import { probeBackends, probeKey, rememberedBackend } from './backend-choice.js';
import { browserHasWebGpu, requestBrowserGpu } from '../gpu/browser.js';
import { adapterLabel, contextFromDevice, type GpuContext } from '../gpu/context.js';
import type { TuningStore } from '../kernels/autotune.js';
import { WebGpuBackend } from '../backends/webgpu.js';
import type { BackendChoice } from './options.js';

/** Opens a WebGPU context sigmtl owns (and destroys when done with it). */
export type GpuProvider = () => Promise<GpuContext>;

let provider: GpuProvider | undefined;
let tuningStore: TuningStore | undefined;

/** Set by `sigmtl/node` on import: Dawn as the default device source, a file as the tuning store. */
export function setDefaultGpuProvider(next: GpuProvider, store?: TuningStore): void {
  provider = next;
  tuningStore = store;
}

/** Where autotuning keeps its choice: a file in Node (sigmtl/node), localStorage in a browser. */
export function defaultTuningStore(): TuningStore | undefined {
  return tuningStore ?? browserTuningStore();
}

function browserTuningStore(): TuningStore | undefined {
  try {
    const storage = (globalThis as { localStorage?: Storage }).localStorage;
    return storage && { get: (key) => storage.getItem(key), set: (key, value) => storage.setItem(key, value) };
  } catch {
    return undefined; // storage blocked (privacy settings): tune again each time
  }
}

export interface OpenedContext {
  ctx: GpuContext;
  /** Whether sigmtl opened it (and so destroys it). */
  owned: boolean;
}

/** The caller's device, or a default one; throws with what to do when there is none. */
export async function openContext(device?: GPUDevice): Promise<OpenedContext> {
  if (device) return { ctx: contextFromDevice(device), owned: false };
  if (browserHasWebGpu()) return { ctx: await requestBrowserGpu(), owned: true };
  if (provider) return { ctx: await provider(), owned: true };
  throw new Error("no WebGPU here: in Node, import 'sigmtl/node' (Dawn) or pass `device`; in a browser, use one with WebGPU; or use backend: 'cpu'");
}

export interface OpenBackend {
  backend: TrainingBackend;
  ctx?: GpuContext;
  /** "SwiftShader driver 5.0.0 (google, software)", or "CPU (float64 reference)". */
  adapter: string;
  /** Why 'auto' chose the CPU, when it did. */
  notice?: string;
  close(): void;
}

/**
 * Backends kept open for runs that come back to the same model (a model search's candidates, rung
 * after rung): open() gives the one opened for an equal config, and its close() leaves it open;
 * closeAll() closes them. Each run sets its own parameters, optimizer state and data on it.
 */
export class BackendPool {
  private readonly opened = new Map<string, Promise<OpenBackend>>();

  open(choice: BackendChoice, config: BackendConfig, device?: GPUDevice, probeWithDevice = false): Promise<OpenBackend> {
    const key = JSON.stringify([choice, config]);
    let entry = this.opened.get(key);
    if (!entry) {
      entry = openBackend(choice, config, device, probeWithDevice);
      this.opened.set(key, entry);
      entry.catch(() => this.opened.delete(key)); // a failed open is tried again, not remembered
    }
    return entry.then((opened) => ({ ...opened, close: () => {} }));
  }

  async closeAll(): Promise<void> {
    const all = [...this.opened.values()];
    this.opened.clear();
    for (const opened of await Promise.allSettled(all)) if (opened.status === 'fulfilled') opened.value.close();
  }
}

/** `probeWithDevice`: the device is train()'s own, shared by several models, so 'auto' still chooses between it and the CPU engine. */
export async function openBackend(choice: BackendChoice, config: BackendConfig, device?: GPUDevice, probeWithDevice = false): Promise<OpenBackend> {
  const cpu = (notice?: string): OpenBackend => {
    const backend = new CpuBackend(config);
    return { backend, adapter: backend.description, notice, close() {} };
  };
  if (choice === 'cpu') return cpu();
  if (choice === 'wasm') {
    const backend = await WasmBackend.create(config);
    return { backend, adapter: backend.description, close: () => backend.destroy() };
  }
  let opened: OpenedContext;
  try {
    opened = await openContext(device);
  } catch (error) {
    if (choice === 'webgpu') throw error;
    const why = `no WebGPU adapter (${(error as Error).message.split(/[.:]/)[0]})`;
    if (wasmSimdSupported()) {
      const engine = await WasmBackend.create(config);
      return { backend: engine, adapter: engine.description, notice: `${why}; training on the CPU engine`, close: () => engine.destroy() };
    }
    return cpu(`${why}; training on the float64 CPU backend`);
  }
  const { ctx, owned } = opened;
  try {
    const store = defaultTuningStore();
    const label = adapterLabel(ctx.adapter);
    const engineNotice = (rates: string) => `backend auto: the CPU engine trains this shape faster than WebGPU on ${label}${rates}`;
    const useEngine = (engine: WasmBackend, notice: string): OpenBackend => {
      if (owned) ctx.destroy();
      return { backend: engine, adapter: engine.description, notice, close: () => engine.destroy() };
    };
    // Between this adapter and the CPU engine: whichever trains this shape faster (probed once, remembered).
    const probing = choice === 'auto' && (!device || probeWithDevice) && wasmSimdSupported();
    const key = probeKey(label, config);
    if (probing && rememberedBackend(key, store) === 'wasm') return useEngine(await WasmBackend.create(config), engineNotice(' (probed before, remembered)'));
    const backend = await WebGpuBackend.create(ctx, config, { tuningStore: store });
    if (probing && rememberedBackend(key, store) === undefined) {
      const engine = await WasmBackend.create(config);
      const probe = await probeBackends(backend, engine, key, store).catch((error) => {
        backend.destroy();
        engine.destroy();
        throw error;
      });
      if (probe.chosen === 'wasm') {
        backend.destroy();
        return useEngine(engine, engineNotice(` (${probe.stepsPerSecond.wasm.toFixed(0)} against ${probe.stepsPerSecond.webgpu.toFixed(0)} steps/s)`));
      }
      engine.destroy();
    }
    return {
      backend,
      ctx,
      adapter: adapterLabel(ctx.adapter),
      close() {
        backend.destroy();
        if (owned) ctx.destroy();
      },
    };
  } catch (error) {
    if (owned) ctx.destroy();
    throw error;
  }
}
