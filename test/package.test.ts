// The package as a stranger gets it: `npm pack`, install the tarball into a fresh project, then
// (1) type-check a TypeScript consumer of `sigmtl` and `sigmtl/node`, (2) run it in Node on
// WebGPU (Dawn) and on the CPU backend, (3) build a tiny Vite page that imports `sigmtl` and run
// it in headless Chromium on WebGPU. Nothing here reaches into src/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { beforeAll, expect, test } from 'vitest';

const repo = resolve('.');
const CHROMIUM = process.env.SIGMTL_CHROMIUM ?? '/usr/bin/chromium';
const project = mkdtempSync(join(tmpdir(), 'sigmtl-consumer-'));
/** A second consumer that installs the tarball alone: no `webgpu` peer, no @types/node. */
const bare = mkdtempSync(join(tmpdir(), 'sigmtl-bare-'));
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const CONSUMER = `// A user's Node program: train on in-memory data, predict, save, reload, predict again.
import { aggregatorWeights, createWasmBackend, ddpJob, DEFAULT_OPTIMIZER, createWasmMatmul, isCheckpoint, loadModel, nativeProductBuilds, readCsvText, syntheticData, train, VERSION, wasmRelaxedSimdSupported, wasmSimdSupported, WEIGHTINGS, WEIGHTING_KINDS, type DdpJob, type Model, type RowSource, type SearchReport, type StepHook, type StreamTrainOptions, type TrainResult, type WasmKernelOptions, type WeightingEntry, type WeightingKind } from 'sigmtl';
import { loadModelFile, openCsvStream, predictCsvStream, requestNodeDevice, saveModel, writeDdpJob } from 'sigmtl/node';
import { existsSync, writeFileSync } from 'node:fs';

const features: number[][] = [];
const targets: number[][] = [];
for (let i = 0; i < 300; i++) {
  const [a, b] = [Math.sin(i), Math.cos(0.7 * i)];
  features.push([a, b]);
  targets.push([2 * a - b, a * b > 0 ? 1 : 0]);
}

async function run(backend: 'webgpu' | 'cpu', device?: GPUDevice) {
  const result: TrainResult = await train({ features, targets, taskNames: ['value', 'sign'], epochs: 40, backend, device });
  const model: Model = result.model;
  const before = await model.predict(features.slice(0, 10));
  const path = process.argv[2] + '/model-' + backend + '.safetensors';
  await saveModel(path, model);
  const fromFile = await (await loadModelFile(path)).predict(features.slice(0, 10));
  const fromBytes = await loadModel(model.toSafetensors()).predict(features.slice(0, 10));
  const same = before.every((v, i) => v === fromFile[i] && v === fromBytes[i]);
  return { backend: result.backend, lossFirst: result.lossFirst, lossLast: result.lossLast, losses: model.losses, same, first: Array.from(before.slice(0, 2)) };
}

// The rest of the surface: weightings, the single-task comparison, relations, exports, data helpers.
async function surface() {
  const r = await train({ features, targets, hidden: 4, epochs: 4, backend: 'cpu', weighting: { kind: 'dwa', temperature: 2 }, compareSingleTask: true });
  const relations = r.model.taskRelations(features, targets);
  const upgrad: WeightingKind = 'upgrad';
  const aggregated = await train({ features, targets, epochs: 2, backend: 'cpu', weighting: upgrad });
  // A file streamed window by window, on the CPU engine; its predictions streamed back.
  const csv = process.argv[2] + '/rows.csv';
  writeFileSync(csv, 'a,b,value\\n' + features.map(([a, b], i) => [a, b, targets[i]![0]].join(',')).join('\\n') + '\\n');
  const stream: RowSource = await openCsvStream(csv, { targets: ['value'], windowRows: 64 });
  const options: StreamTrainOptions = { stream, epochs: 3, backend: 'wasm' };
  const streamed = await train(options);
  let predicted = '';
  for await (const chunk of predictCsvStream(streamed.model, csv)) predicted += chunk;
  const wasmOnly: WasmKernelOptions = { native: false, relaxedSimd: wasmRelaxedSimdSupported() };
  const engine = await createWasmMatmul(wasmOnly);
  const product = engine.matmul(Float32Array.of(1, 2), Float32Array.of(3, 4), { M: 1, N: 1, K: 2 }).c[0];
  // Large enough for the native products by default (64·32·64 multiply–adds in X·Wᵀ).
  const backend = await createWasmBackend({ shape: { features: 64, hidden: 32, tasks: 1 }, tasks: [{ loss: 'mse', weight: 1 }], optimizer: DEFAULT_OPTIMIZER, maxBatch: 64 });
  const engineRuns = backend.description;
  backend.destroy();
  const uw: WeightingEntry = WEIGHTINGS.uw;
  const hook: StepHook = WEIGHTINGS.famo.stepHook;
  // The default model search, and a run written as a PyTorch DDP job.
  const searched: SearchReport | undefined = (await train({ features, targets, epochs: 2, backend: 'cpu' })).search;
  const job: DdpJob = ddpJob({ features, targets, hidden: 2, epochs: 2 });
  await writeDdpJob(process.argv[2] + '/job', job);
  return {
    search: searched?.tried.length,
    searchPatience: searched?.patience.epochs,
    ddp: existsSync(process.argv[2] + '/job/train_ddp.py') && job.files.some((f) => f.path === 'data/train_x.npy'),
    streamed: [streamed.backend, streamed.trainingRows + streamed.validationRows],
    predictedLines: predicted.trim().split('\\n').length,
    product,
    simd: wasmSimdSupported(),
    engine: backend.kind,
    // The tarball carries the native products built when it was packed (here, this machine's).
    native: nativeProductBuilds().length > 0 && engineRuns.includes('native'),
    hooks: [uw.stepHook, hook],
    kinds: WEIGHTING_KINDS.length,
    upgrad: Object.keys(aggregated.taskWeights).length,
    alpha: Array.from(aggregatorWeights('pcgrad', [1, -1, -1, 2], 2)),
    deltaM: typeof r.comparison?.deltaM === 'number',
    weights: Object.keys(r.taskWeights).length,
    onnx: r.model.toOnnx().length > 100,
    torch: r.model.toTorch().includes('class SigmtlModel'),
    cosine: relations.cosine.length,
    notCheckpoint: !isCheckpoint(r.model.toSafetensors()),
    csv: readCsvText('a,y\\n1,2\\n3,4\\n', { targets: ['y'] }).features.length,
    synthetic: syntheticData({ rows: 20 }).train.taskNames.length,
    version: typeof VERSION === 'string',
  };
}

const device = await requestNodeDevice();
const out = { webgpu: await run('webgpu', device), cpu: await run('cpu'), surface: await surface() };
device.destroy();
console.log(JSON.stringify(out));
`;

/** The README's code block after `<!-- example: NAME ... -->`, as users will paste it. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- example: ${name}`);
  expect(at, `README has no example "${name}"`).toBeGreaterThan(0);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  return block![1]!;
}

beforeAll(() => {
  // npm pack runs `prepare` (the build), as an install from git or a folder would.
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', project], repo)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(project, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toContain('dist/index.js');
  expect(files).toContain('dist/types/index.d.ts');
  expect(files).toContain('LICENSE');
  expect(files, 'the native products built by prepare').toContain('native/build/sigmtl-native.node');
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('shaders/') || f.startsWith('dist-bench'))).toBe(false);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // webgpu is an optional peer dependency: Node users add it, browser-only users do not.
  writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare-consumer', private: true, type: 'module' }));
  npm(['install', '--prefer-offline', tarball], bare);
  npm(
    [
      'install',
      '--prefer-offline',
      tarball,
      `webgpu@${JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./node_modules/webgpu/package.json").version)'], { cwd: repo, encoding: 'utf8' }))}`,
    ],
    project,
  );
}, 300_000);

test('the tarball holds no devDependency import and no Node built-in in the browser entry', () => {
  const dist = join(project, 'node_modules', 'sigmtl', 'dist');
  const browserFiles = [
    join(dist, 'index.js'),
    ...readdirSync(join(dist, 'chunks'))
      .filter((f) => f.startsWith('src-'))
      .map((f) => join(dist, 'chunks', f)),
  ];
  const imports = (file: string) => [...execFileSync('grep', ['-ho', `from "[^"]*"`, file], { encoding: 'utf8' }).matchAll(/from "([^"]*)"/g)].map((m) => m[1]!);
  for (const file of browserFiles) {
    for (const specifier of imports(file)) expect(specifier.startsWith('node:') || specifier === 'webgpu', `${file} imports ${specifier}`).toBe(false);
  }
  const pkg = JSON.parse(execFileSync('cat', [join(project, 'node_modules', 'sigmtl', 'package.json')], { encoding: 'utf8' }));
  const allowed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
  for (const file of readdirSync(dist)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dist, f))) {
    for (const specifier of imports(file)) {
      if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
      expect(allowed.has(specifier), `${file} imports ${specifier}, not a dependency`).toBe(true);
    }
  }
});

test('without the optional peer `webgpu`, sigmtl/node says what to install, and the CPU engine still trains', () => {
  expect(existsSync(join(bare, 'node_modules', 'webgpu')), 'npm left the optional peer out').toBe(false);
  writeFileSync(
    join(bare, 'main.mjs'),
    `import { requestNodeDevice, MISSING_PEER_HINT } from 'sigmtl/node';
import { train } from 'sigmtl';
let message = 'no error';
try {
  await requestNodeDevice();
} catch (error) {
  message = error.message;
}
const features = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i)]);
const targets = features.map(([a, b]) => [a - b]);
const { model } = await train({ features, targets, backend: 'wasm', epochs: 2, hidden: 2 });
console.log(JSON.stringify({ message, hint: MISSING_PEER_HINT, trained: model.shape.features }));
`,
  );
  const run = spawnSync(process.execPath, ['main.mjs'], { cwd: bare, encoding: 'utf8', timeout: 120_000 });
  expect(run.stderr).not.toMatch(/window is not defined/);
  expect(run.status, run.stderr).toBe(0);
  const out = JSON.parse(run.stdout);
  expect(out.message).toBe(out.hint);
  expect(out.message).toContain('npm install webgpu');
  expect(out.trained).toBe(2);
}, 120_000);

test('the shipped types check with skipLibCheck off and without @types/node', () => {
  writeFileSync(
    join(bare, 'main.ts'),
    `import { train, type TrainResult } from 'sigmtl';
import { findSwiftShaderIcd, loadModelFile, requestNodeDevice } from 'sigmtl/node';
export async function main(): Promise<TrainResult> {
  const icd: string | undefined = findSwiftShaderIcd({ SIGMTL_SWIFTSHADER_ICD: '/nowhere' });
  void icd;
  void requestNodeDevice;
  void loadModelFile;
  return train({ features: [[0], [1]], targets: [[0], [1]], backend: 'cpu' });
}
`,
  );
  writeFileSync(
    join(bare, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [], typeRoots: [] },
      files: ['main.ts'],
    }),
  );
  expect(existsSync(join(bare, 'node_modules', '@types', 'node')), 'no @types/node in this consumer').toBe(false);
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', bare], { encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr, 'tsc').toBe('');
});

test('a TypeScript consumer and the README example type-check and run in Node on WebGPU and the CPU', () => {
  writeFileSync(join(project, 'main.ts'), CONSUMER);
  writeFileSync(join(project, 'readme.ts'), readmeExample('node'));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        outDir: 'out',
        typeRoots: [join(repo, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['main.ts', 'readme.ts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr, 'tsc').toBe('');
  const run = spawnSync(process.execPath, [join(project, 'out', 'main.js'), project], { cwd: project, encoding: 'utf8', timeout: 180_000 });
  expect(run.status, run.stderr).toBe(0);
  const out = JSON.parse(run.stdout);
  for (const backend of ['webgpu', 'cpu'] as const) {
    expect(out[backend].backend).toBe(backend);
    expect(out[backend].lossLast).toBeLessThan(out[backend].lossFirst);
    expect(out[backend].losses).toEqual(['mse', 'bce']);
    expect(out[backend].same, 'predictions identical after save and reload').toBe(true);
  }
  expect(out.surface).toEqual({
    search: 10,
    searchPatience: 20,
    ddp: true,
    streamed: ['wasm', 300],
    predictedLines: 301,
    product: 11,
    simd: true,
    engine: 'wasm',
    native: true,
    hooks: ['none', 'scaleTasks'],
    kinds: 8,
    upgrad: 2,
    alpha: [2, 1.5],
    deltaM: true,
    weights: 2,
    onnx: true,
    torch: true,
    cosine: 4,
    notCheckpoint: true,
    csv: 2,
    synthetic: 5,
    version: true,
  });
  const readme = spawnSync(process.execPath, [join(project, 'out', 'readme.js')], { cwd: project, encoding: 'utf8', timeout: 180_000 });
  expect(readme.status, readme.stderr).toBe(0);
  expect(readme.stdout).toMatch(/hammingLoss: [\d.]+/);
  expect(readme.stdout).toMatch(/macroR2: 0\.9\d+/);
  expect(readme.stdout).toMatch(/Float64Array\(2\) \[ [-\d.e]+, 0\.\d+ \]/);
  expect(existsSync(join(project, 'model.safetensors'))).toBe(true);
}, 240_000);

test.skipIf(!existsSync(CHROMIUM))(
  "the README's page example, built with Vite, trains in headless Chromium (backend auto: WebGPU or the CPU engine)",
  async () => {
    const page = join(project, 'page');
    mkdirSync(page, { recursive: true });
    writeFileSync(
      join(page, 'index.html'),
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>sigmtl consumer</title><body></body><script type="module" src="./main.ts"></script>',
    );
    writeFileSync(join(page, 'main.ts'), readmeExample('browser'));
    await build({ root: page, logLevel: 'error', configFile: false, build: { outDir: join(page, 'dist'), target: 'es2022' } });
    const assets = readdirSync(join(page, 'dist', 'assets')).filter((f) => f.endsWith('.js'));
    const bytes = assets.reduce((sum, f) => sum + statSync(join(page, 'dist', 'assets', f)).size, 0);
    console.log(`browser bundle of a page that imports sigmtl: ${(bytes / 1024).toFixed(1)} KiB in ${assets.length} file(s)`);
    expect(bytes).toBeLessThan(400 * 1024);

    const server = await preview({ root: page, logLevel: 'error', configFile: false, build: { outDir: join(page, 'dist') }, preview: { port: 5399, host: '127.0.0.1' } });
    const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'sigmtl-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const tab = await browser.newPage();
      const progress: string[] = [];
      const errors: string[] = [];
      tab.on('console', (m) => (m.type() === 'error' ? errors : progress).push(m.text()));
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(server.resolvedUrls!.local[0]!);
      await tab.waitForFunction(() => /R²/.test(document.body.textContent ?? ''), null, { timeout: 120_000 });
      const text = (await tab.locator('body').textContent())!;
      expect(errors).toEqual([]);
      // backend 'auto': WebGPU or the CPU engine, whichever the probe finds faster on this adapter
      expect(text).toMatch(/^(webgpu|wasm) on .+: R² 0\.9\d+$/);
      expect(progress[0]).toMatch(/^epoch 1: loss [\d.]+$/);
    } finally {
      await browser.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  },
  240_000,
);
