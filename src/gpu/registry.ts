// The kernel registry: WGSL source → compute pipeline with an explicit bind-group layout,
// compiled once per device and cached by everything that changes the compiled code.
//
// One binding convention for every kernel: read-only storage inputs, then read-write storage
// outputs, then one uniform struct (with a dynamic offset, so per-step values come from one
// shared uniform buffer and bind groups are made once). Bindings are named: the registry checks
// the WGSL's `@binding(i) var … name` against the spec before compiling, and bind groups are
// built from a record of names, so a binding can never be off by one position.
import { GpuError } from './context.js';

export interface KernelSpec {
  /** Name used in errors and cache keys, e.g. "matmul_regblock". */
  readonly name: string;
  /** Complete WGSL (shared pieces already prepended). */
  readonly source: string;
  readonly entryPoint: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** The uniform struct's variable name. */
  readonly uniform: string;
}

export type KernelConstants = Record<string, number | boolean>;

export interface Kernel {
  readonly spec: KernelSpec;
  readonly constants: KernelConstants;
  readonly key: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export class ShaderCompileError extends GpuError {}

const registries = new WeakMap<GPUDevice, KernelRegistry>();

export class KernelRegistry {
  private readonly kernels = new Map<string, Promise<Kernel>>();
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  /** One layout object per binding signature, so kernels with the same bindings share bind groups. */
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  private constructor(readonly device: GPUDevice) {}

  /** The registry of this device; it goes away with the device. */
  static of(device: GPUDevice): KernelRegistry {
    let registry = registries.get(device);
    if (!registry) {
      registry = new KernelRegistry(device);
      registries.set(device, registry);
    }
    return registry;
  }

  /** The pipeline for `spec` with these override constants; concurrent callers share one compile. */
  get(spec: KernelSpec, constants: KernelConstants = {}): Promise<Kernel> {
    const key = kernelKey(spec, constants);
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.compile(spec, constants, key);
      kernel.catch(() => this.kernels.delete(key));
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  private layout(inputs: number, outputs: number): GPUBindGroupLayout {
    const signature = `${inputs}r${outputs}w`;
    let layout = this.layouts.get(signature);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      const visibility = GPUShaderStage.COMPUTE;
      for (let i = 0; i < inputs; i++) entries.push({ binding: entries.length, visibility, buffer: { type: 'read-only-storage' } });
      for (let i = 0; i < outputs; i++) entries.push({ binding: entries.length, visibility, buffer: { type: 'storage' } });
      entries.push({ binding: entries.length, visibility, buffer: { type: 'uniform', hasDynamicOffset: true } });
      layout = this.device.createBindGroupLayout({ label: `${inputs} inputs, ${outputs} outputs`, entries });
      this.layouts.set(signature, layout);
    }
    return layout;
  }

  private module(spec: KernelSpec): Promise<GPUShaderModule> {
    let module = this.modules.get(spec.source);
    if (!module) {
      module = this.compileModule(spec);
      module.catch(() => this.modules.delete(spec.source));
      this.modules.set(spec.source, module);
    }
    return module;
  }

  private async compileModule(spec: KernelSpec): Promise<GPUShaderModule> {
    checkBindingNames(spec);
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: spec.name, code: spec.source });
    const info = await module.getCompilationInfo();
    const scopeError = await device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0 || scopeError) {
      throw new ShaderCompileError(formatCompileErrors(spec, errors, scopeError?.message));
    }
    return module;
  }

  private async compile(spec: KernelSpec, constants: KernelConstants, key: string): Promise<Kernel> {
    const device = this.device;
    const module = await this.module(spec);
    device.pushErrorScope('validation');
    const layout = this.layout(spec.inputs.length, spec.outputs.length);
    // createComputePipelineAsync crashes dawn.node 0.6.2, so the synchronous call it is.
    const pipeline = device.createComputePipeline({
      label: key,
      layout: device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: spec.entryPoint, constants: toPipelineConstants(constants) },
    });
    const error = await device.popErrorScope();
    if (error) throw new ShaderCompileError(`kernel ${key}: pipeline creation failed: ${error.message}`);
    return { spec, constants, key, pipeline, layout };
  }
}

export function kernelKey(spec: KernelSpec, constants: KernelConstants): string {
  const parts = Object.keys(constants)
    .sort()
    .map((name) => `${name}=${Number(constants[name])}`);
  return `${spec.name}:${spec.entryPoint}${parts.length ? `[${parts.join(',')}]` : ''}`;
}

function toPipelineConstants(constants: KernelConstants): Record<string, number> {
  return Object.fromEntries(Object.entries(constants).map(([name, value]) => [name, Number(value)]));
}

/** "kernel x: 3 errors" + each message with line:col + the numbered source around it. */
export function formatCompileErrors(spec: KernelSpec, messages: readonly GPUCompilationMessage[], fallback?: string): string {
  const lines = spec.source.split('\n');
  const out = [`kernel ${spec.name} (${spec.entryPoint}) failed to compile:`];
  for (const m of messages) {
    out.push(`  ${m.lineNum}:${m.linePos} error: ${m.message}`);
    for (let n = Math.max(1, m.lineNum - 2); n <= Math.min(lines.length, m.lineNum + 2); n++) {
      out.push(`  ${n === m.lineNum ? '>' : ' '}${String(n).padStart(5)} | ${lines[n - 1]}`);
    }
  }
  if (messages.length === 0 && fallback) out.push(`  ${fallback}`);
  return out.join('\n');
}

/** The bindings a WGSL source declares in group 0: binding index → variable name. */
export function declaredBindings(source: string): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const m of source.matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var(?:<[^>]*>)?\s+([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const index = Number(m[1]);
    found.set(index, [...(found.get(index) ?? []), m[2]!]);
  }
  return found;
}

/** Throws unless binding i of the WGSL is named as the spec's i-th binding (inputs, outputs, uniform). */
export function checkBindingNames(spec: KernelSpec): void {
  const declared = declaredBindings(spec.source);
  const names = [...spec.inputs, ...spec.outputs, spec.uniform];
  names.forEach((name, index) => {
    if (!declared.get(index)?.includes(name)) {
      const there = declared.get(index)?.join(' or ') ?? 'nothing';
      throw new ShaderCompileError(`kernel ${spec.name}: binding ${index} should be "${name}", the WGSL declares ${there}`);
    }
  });
}

export type BindingResource = GPUBuffer | GPUBufferBinding;

/** Binds buffers by the kernel's binding names (inputs and outputs), then the uniform slot. */
export function createBindGroup(device: GPUDevice, kernel: Kernel, buffers: Readonly<Record<string, BindingResource>>, uniform: GPUBufferBinding): GPUBindGroup {
  const names = [...kernel.spec.inputs, ...kernel.spec.outputs];
  const unknown = Object.keys(buffers).filter((name) => !names.includes(name));
  const missing = names.filter((name) => !buffers[name]);
  if (unknown.length || missing.length) {
    throw new GpuError(
      `kernel ${kernel.spec.name}: ` +
        [missing.length ? `missing binding(s) ${missing.join(', ')}` : '', unknown.length ? `unknown binding(s) ${unknown.join(', ')}` : ''].filter(Boolean).join('; '),
    );
  }
  const entries: GPUBindGroupEntry[] = names.map((name, binding) => {
    const b = buffers[name]!;
    return { binding, resource: 'buffer' in b ? b : { buffer: b } };
  });
  entries.push({ binding: entries.length, resource: uniform });
  return device.createBindGroup({ label: kernel.key, layout: kernel.layout, entries });
}
