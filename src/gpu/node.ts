// Getting a WebGPU device in Node through Dawn (the `webgpu` package).
//
// Where no hardware adapter exists (CI, containers), Dawn's Vulkan backend can run on
// SwiftShader, a CPU Vulkan driver that Chromium ships. We look for its ICD file ourselves and
// point the Vulkan loader at it, unless the user chose a driver with VK_ICD_FILENAMES.
import { existsSync } from 'node:fs';
import { openDevice, type GpuContext } from './context.js';

export interface NodeGpuOptions {
  /** Dawn backend: 'vulkan', 'metal', 'd3d12', 'opengl'... (env SIGMTL_DAWN_BACKEND). */
  backend?: string;
  /** Substring of the adapter name to pick (env SIGMTL_ADAPTER). */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
  /** Skip hardware adapters and use SwiftShader (env SIGMTL_SOFTWARE=1). */
  software?: boolean;
}

export const SWIFTSHADER_ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/snap/chromium/current/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

export const INSTALL_HINT =
  'No WebGPU adapter found. On Debian/Ubuntu without a GPU, install the SwiftShader Vulkan driver ' +
  'that Chromium ships: `sudo apt-get install -y chromium libvulkan1`. ' +
  'If it lives elsewhere, set SIGMTL_SWIFTSHADER_ICD=/path/to/vk_swiftshader_icd.json. ' +
  "Or use the CPU backend (`--backend cpu`, or `backend: 'cpu'` in the library).";

export function findSwiftShaderIcd(env: Record<string, string | undefined> = process.env): string | undefined {
  const candidates = [env.SIGMTL_SWIFTSHADER_ICD, ...SWIFTSHADER_ICD_CANDIDATES];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

type DawnModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

let dawn: Promise<DawnModule> | undefined;
/**
 * One Dawn instance per set of flags for the whole process: each create() makes a native
 * instance that is never freed (~5 MB), and one that is held does not keep the process alive.
 */
const instances = new Map<string, GPU>();

function dawnInstance(module: DawnModule, flags: string[]): GPU {
  const key = [...flags, `icd=${process.env.VK_ICD_FILENAMES ?? ''}`].join(' ');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = module.create(flags);
    instances.set(key, gpu);
  }
  return gpu;
}

/** The optional peer dependency that holds Dawn. */
const DAWN_PACKAGE = 'webgpu';

export const MISSING_PEER_HINT =
  'sigmtl/node needs the optional peer dependency `webgpu` (Dawn) for WebGPU in Node: `npm install webgpu`. ' +
  "Without it, train on the CPU (`backend: 'wasm'` or `'cpu'`, `--backend wasm`).";

function isMissingPackage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(DAWN_PACKAGE);
}

function loadDawn(): Promise<DawnModule> {
  // A plain specifier in a variable: the bundler leaves this import alone (its browser preload
  // helper, which touches `window`, must not wrap a Node-only import).
  dawn ??= import(/* @vite-ignore */ DAWN_PACKAGE).then(
    (imported: unknown) => {
      const module = imported as unknown as DawnModule;
      // The WebGPU enums and classes (GPUBufferUsage...) as in a browser.
      for (const [name, value] of Object.entries(module.globals)) {
        if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
      }
      return module;
    },
    (error: unknown) => {
      dawn = undefined; // a later call tries again (after `npm install webgpu`)
      throw isMissingPackage(error) ? new Error(MISSING_PEER_HINT, { cause: error }) : error;
    },
  );
  return dawn;
}

export async function requestNodeGpu(options: NodeGpuOptions = {}): Promise<GpuContext> {
  const env = process.env;
  process.env.XDG_RUNTIME_DIR ??= '/tmp'; // Dawn warns without it
  const backend = options.backend ?? env.SIGMTL_DAWN_BACKEND;
  const adapterName = options.adapter ?? env.SIGMTL_ADAPTER;
  const software = options.software ?? env.SIGMTL_SOFTWARE === '1';
  const flags: string[] = [];
  if (backend) flags.push(`backend=${backend}`);
  if (adapterName) flags.push(`adapter=${adapterName}`);
  const module = await loadDawn();
  if (env.VK_ICD_FILENAMES === '') delete env.VK_ICD_FILENAMES; // empty means unset, as for the loader
  const userChoseDriver = env.VK_ICD_FILENAMES !== undefined;

  // Dawn's GPU objects are kept for the whole process (see dawnInstance): if one is
  // garbage-collected while its device is alive, the process dies.
  let gpu: GPU | null = null;
  let origin = `dawn${backend ? ` (${backend})` : ''}`;
  let adapter: GPUAdapter | null = null;
  if (!software) {
    gpu = dawnInstance(module, flags);
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  }
  if (!adapter && !userChoseDriver && process.platform === 'linux') {
    const icd = findSwiftShaderIcd(env);
    if (icd) {
      env.VK_ICD_FILENAMES = icd;
      gpu = dawnInstance(module, backend ? flags : [...flags, 'backend=vulkan']);
      adapter = await gpu.requestAdapter();
      origin = `dawn (Vulkan on SwiftShader: ${icd})`;
    }
  }
  if (!adapter) {
    gpu = null;
    throw new Error(INSTALL_HINT + (userChoseDriver ? ` (VK_ICD_FILENAMES is set to ${env.VK_ICD_FILENAMES})` : ''));
  }
  return openDevice(gpu!, adapter, origin, () => {
    gpu = null;
  });
}
