import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// One config, four jobs:
//  - `vite build --mode lib` builds the package: dist/index.js (`sigmtl`, browser and Node),
//    dist/node.js (`sigmtl/node`) and dist/cli.js (the `sigmtl` command), the WGSL inlined as
//    strings (`?raw`), dependencies left as imports; `tsc -p tsconfig.build.json` adds dist/types;
//  - `vite build --mode bench` bundles the benchmarks and the soak test (dist-bench/, not published);
//  - the default mode serves and builds the browser demo from demo/;
//  - Vitest reads the `test` block.
const version = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }).version;
const define = { 'import.meta.env.SIGMTL_VERSION': JSON.stringify(version) };
// In the package and the benchmarks process.env must stay process.env (Vite would replace it
// with {} outside SSR builds); only Node code reads it.
const nodeDefine = { ...define, 'process.env': 'globalThis.process.env' };
// The CLI and the demo import the package by its public names, proving the API is enough.
const alias = [
  { find: /^sigmtl\/node$/, replacement: fileURLToPath(new URL('./src/node.ts', import.meta.url)) },
  { find: /^sigmtl$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
];
const external = [/^node:/, 'webgpu', 'papaparse', 'cli-progress', 'hyparquet', /^@tensorflow\//, 'gpu.js'];

export default defineConfig(({ mode }) => {
  if (mode === 'lib' || mode === 'bench') {
    const lib = mode === 'lib';
    return {
      define: nodeDefine,
      resolve: { alias },
      build: {
        outDir: lib ? 'dist' : 'dist-bench',
        emptyOutDir: true,
        target: 'es2022',
        minify: false,
        rollupOptions: {
          input: (lib
            ? { index: 'src/index.ts', node: 'src/node.ts', cli: 'src/cli/main.ts' }
            : { bench: 'bench/main.ts', soak: 'bench/soak.ts', compare: 'bench/compare.ts', contestant: 'bench/contestant.ts' }) as Record<string, string>,
          external,
          preserveEntrySignatures: 'strict' as const,
          output: { format: 'es' as const, entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
        },
      },
    };
  }
  return {
    define,
    resolve: { alias },
    root: 'demo',
    base: './',
    // The bundled data sets are served (and copied into the static build) from data/.
    publicDir: '../data',
    // gpu.js alone is ~700 kB; it is only loaded by this demo.
    build: { outDir: '../dist-demo', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1200 },
    worker: { format: 'es' },
    test: {
      root: '.',
      include: ['test/**/*.test.ts'],
      // One WebGPU device per test file; SwiftShader is a CPU, so files run one after another.
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 60_000,
    },
  };
});
