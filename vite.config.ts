import { defineConfig } from 'vite';

// One config, three jobs:
//  - `vite build --mode cli` bundles the Node command line tool (dist/cli.js) and the benchmarks (dist/bench.js);
//  - the default mode serves and builds the browser demo from demo/;
//  - Vitest reads the `test` block.
// Shaders are imported as `shaders/*.wgsl?raw` everywhere, so all three see the same WGSL files.
export default defineConfig(({ mode }) => {
  if (mode === 'cli') {
    return {
      build: {
        ssr: true,
        outDir: 'dist',
        emptyOutDir: true,
        target: 'node20',
        rollupOptions: {
          input: { cli: 'src/cli/main.ts', bench: 'bench/main.ts' },
          output: { entryFileNames: '[name].js' },
        },
      },
    };
  }
  return {
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
