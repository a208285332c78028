// Getting a device and compiling kernels: SwiftShader discovery, the adapter report, and compile
// errors that name the kernel with line:col and the numbered source.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { gpu } from './gpu.js';
import { doctorReport } from '../src/verify/doctor.js';
import { findSwiftShaderIcd, INSTALL_HINT, SWIFTSHADER_ICD_CANDIDATES } from '../src/gpu/node.js';
import { KernelRegistry, ShaderCompileError } from '../src/gpu/registry.js';

test('the SwiftShader driver is found by environment variable first, then at known places', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigmtl-icd-'));
  const icd = join(dir, 'vk_swiftshader_icd.json');
  writeFileSync(icd, '{}');
  expect(findSwiftShaderIcd({ SIGMTL_SWIFTSHADER_ICD: icd })).toBe(icd);
  const fallback = findSwiftShaderIcd({ SIGMTL_SWIFTSHADER_ICD: join(dir, 'missing.json') });
  expect(fallback === undefined || SWIFTSHADER_ICD_CANDIDATES.includes(fallback)).toBe(true);
  expect(INSTALL_HINT).toContain('apt-get install -y chromium libvulkan1');
});

test('the adapter report names a software adapter as such and gives real limits', async () => {
  const ctx = await gpu();
  const report = await doctorReport(ctx);
  const onSwiftShader = ctx.adapter.architecture === 'swiftshader' || ctx.origin.includes('SwiftShader');
  expect(report.adapter.software).toBe(onSwiftShader);
  expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  expect(report.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
  expect(report.matmul.tuning.variant).toMatch(/regblock|tiled/);
});

test('a kernel that does not compile: its name, line:col and the numbered source', async () => {
  const ctx = await gpu();
  const source = ['@group(0) @binding(0) var<uniform> u: vec4f;', '@compute @workgroup_size(1)', 'fn main() {', '  let x: u32 = 1.5;', '}'].join('\n');
  const registry = KernelRegistry.of(ctx.device);
  const compile = registry.get({ name: 'broken_kernel', source, entryPoint: 'main', inputs: [], outputs: [], uniform: 'u' });
  await expect(compile).rejects.toBeInstanceOf(ShaderCompileError);
  await compile.catch((error: Error) => {
    expect(error.message).toContain('kernel broken_kernel (main) failed to compile:');
    expect(error.message).toMatch(/ {2}4:\d+ error: /);
    expect(error.message).toContain('>    4 |   let x: u32 = 1.5;');
    expect(error.message).toContain('     3 | fn main() {');
  });
});

test('the registry compiles a kernel once and shares it', async () => {
  const ctx = await gpu();
  const registry = KernelRegistry.of(ctx.device);
  const source = '@group(0) @binding(0) var<uniform> u: vec4f;\n@compute @workgroup_size(1) fn main() { _ = u; }';
  const spec = { name: 'tiny', source, entryPoint: 'main', inputs: [], outputs: [], uniform: 'u' };
  const [first, second] = await Promise.all([registry.get(spec), registry.get(spec)]);
  expect(first).toBe(second);
  expect(await registry.get(spec, {})).toBe(first);
});

test('a kernel whose WGSL binding names differ from its spec is refused before compiling', async () => {
  const ctx = await gpu();
  const registry = KernelRegistry.of(ctx.device);
  const source =
    '@group(0) @binding(0) var<storage, read> b: array<f32>;\n@group(0) @binding(1) var<uniform> u: vec4f;\n@compute @workgroup_size(1) fn main() { _ = b[0]; _ = u; }';
  const spec = { name: 'misnamed', source, entryPoint: 'main', inputs: ['a'], outputs: [], uniform: 'u' };
  await expect(registry.get(spec)).rejects.toThrow('kernel misnamed: binding 0 should be "a", the WGSL declares b');
});

test("doctor(): where backend 'auto' picks WebGPU or the CPU engine, probed at three sizes and remembered", async () => {
  const { doctor } = await import('../src/api/check.js');
  const ctx = await gpu();
  const report = await doctor(ctx.device);
  expect(report.crossover).toHaveLength(3);
  for (const c of report.crossover!) {
    expect(['webgpu', 'wasm']).toContain(c.chosen);
    if (c.stepsPerSecond) expect(c.chosen).toBe(c.stepsPerSecond.wasm > c.stepsPerSecond.webgpu ? 'wasm' : 'webgpu');
  }
  // A software adapter is the CPU itself: the CPU engine wins at every size.
  if (ctx.adapter.software) expect(report.crossover!.every((c) => c.chosen === 'wasm')).toBe(true);
});
