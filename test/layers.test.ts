// The architecture, checked: layers only import downward, the CLI and the demo stand on the
// public entry points alone, the browser entry reaches no Node built-in, and no TS↔WGSL constant
// is written by hand in a shader.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });

/** Import specifiers of a module (static and dynamic; `import type` too: types are layering). */
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);

/** The layer of a module: its folder under src/, or the file for top-level modules. */
const layerOf = (file: string) => {
  const rel = relative('src', file);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '');
};

const resolveImport = (from: string, specifier: string) => resolve(dirname(from), specifier).replace(/\.js$/, '.ts');

// Each layer and what it may import (besides itself). Lower layers first.
const ALLOWED: Record<string, string[]> = {
  util: [],
  core: ['util'],
  cpu: ['core', 'util'],
  gpu: ['core', 'util'],
  data: ['cpu', 'core', 'util'],
  kernels: ['gpu', 'core', 'util'],
  model: ['data', 'core', 'util'],
  backends: ['kernels', 'gpu', 'cpu', 'data', 'core', 'util'],
  train: ['model', 'cpu', 'data', 'core', 'util'],
  io: ['model', 'train', 'data', 'cpu', 'core', 'util'],
  verify: ['backends', 'model', 'kernels', 'gpu', 'cpu', 'data', 'core', 'util'],
  api: ['verify', 'io', 'train', 'backends', 'model', 'kernels', 'gpu', 'cpu', 'data', 'core', 'util'],
  index: ['api', 'backends', 'verify', 'train', 'io', 'data', 'gpu', 'cpu', 'core', 'kernels'],
  node: ['index', 'api', 'io', 'gpu', 'cpu', 'data'],
};

describe('src/: every import goes down the layers', () => {
  const sources = files('src').filter((f) => !f.startsWith(join('src', 'cli')));
  test.each(sources.map((f) => [relative('src', f)]))('%s', (rel) => {
    const file = join('src', rel);
    const layer = layerOf(file);
    expect(ALLOWED[layer], `layer "${layer}" is not in the table`).toBeDefined();
    for (const specifier of importsOf(file).filter((s) => s.startsWith('.') && !s.endsWith('.wgsl?raw'))) {
      const target = layerOf(relative('.', resolveImport(file, specifier)));
      if (target === layer) continue;
      expect(ALLOWED[layer], `${rel} imports ${specifier} (layer ${target})`).toContain(target);
    }
  });
});

test('the CLI and the demo import only the public entry points (sigmtl, sigmtl/node)', () => {
  const entries: Array<[string, string]> = [
    ...files(join('src', 'cli')).map((f): [string, string] => [join('src', 'cli'), f]),
    ...files('demo').map((f): [string, string] => ['demo', f]),
  ];
  for (const [root, file] of entries) {
    for (const specifier of importsOf(file)) {
      const local = specifier.startsWith('.') && !relative(resolve(root), resolveImport(file, specifier)).startsWith('..');
      const ok = local || specifier === 'sigmtl' || specifier === 'sigmtl/node' || specifier.startsWith('node:') || /^(papaparse|cli-progress|uplot|gpu\.js)(\/|$)/.test(specifier);
      expect(ok, `${file} imports ${specifier}`).toBe(true);
    }
  }
});

test('the browser entry (src/index.ts) reaches no Node built-in and not Dawn', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) {
        if (!specifier.endsWith('.wgsl?raw')) visit(resolveImport(file, specifier));
      } else {
        expect(specifier.startsWith('node:') || specifier === 'webgpu', `${relative('.', file)} imports ${specifier}`).toBe(false);
      }
    }
  };
  visit(resolve('src/index.ts'));
  expect(seen.size).toBeGreaterThan(20);
  expect([...seen].some((f) => f.endsWith(join('gpu', 'node.ts')))).toBe(false);
});

test('no shader declares a generated struct or enum, or switches on a bare number', () => {
  const generated = ['MatmulDims', 'LossDims', 'TaskInfo', 'OptimizerStep', 'Size'];
  for (const name of readdirSync('shaders')) {
    const source = readFileSync(join('shaders', name), 'utf8').replace(/\/\/.*$/gm, '');
    for (const struct of generated) expect(source, `${name} declares struct ${struct}`).not.toMatch(new RegExp(`struct\\s+${struct}\\b`));
    expect(source, `${name} declares a LOSS_/OPTIMIZER_/EPILOGUE_ constant`).not.toMatch(/const\s+(LOSS|OPTIMIZER|EPILOGUE)_/);
    expect(source, `${name} has a numeric case label`).not.toMatch(/case\s+\d/);
    expect(source, `${name} has a numeric workgroup size`).not.toMatch(/@workgroup_size\(\s*\d/);
  }
});

test("every runtime export of 'sigmtl' and 'sigmtl/node' is named in the README", async () => {
  const readme = readFileSync('README.md', 'utf8');
  const names = new Set([...Object.keys(await import('../src/index.js')), ...Object.keys(await import('../src/node.js'))]);
  expect([...names].filter((name) => !new RegExp(`\\b${name}\\b`).test(readme))).toEqual([]);
});

test('every repository path named in a comment, a shader or the docs exists (no dangling references)', () => {
  const texts = [...['src', 'shaders', 'wasm', 'scripts', 'bench', 'test', 'demo', 'docs'].flatMap((dir) => allFiles(dir)), 'README.md'];
  const missing: string[] = [];
  for (const file of texts) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?<![\w@/.-])((?:src|shaders|wasm|scripts|bench|test|docs|demo)\/[\w./-]+\.(?:ts|wgsl|mjs|md|py|sh))\b/g)) {
      try {
        statSync(m[1]!);
      } catch {
        missing.push(`${file}: ${m[1]}`);
      }
    }
  }
  expect(missing).toEqual([]);
});

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'results' ? [] : allFiles(path);
    return /\.(ts|wgsl|mjs|md|py|sh|html)$/.test(name) ? [path] : [];
  });
}

test("the docs name every entry of the tables: the README's options table each loss, optimizer and weighting, methods.md each weighting's row", async () => {
  const { LOSS_KINDS, OPTIMIZER_KINDS, WEIGHTING_KINDS } = await import('../src/index.js');
  const readme = readFileSync('README.md', 'utf8');
  const methods = readFileSync('docs/methods.md', 'utf8');
  const row = (name: string) => readme.split('\n').find((line) => line.startsWith(`| \`${name}\``)) ?? '';
  for (const kind of LOSS_KINDS) expect(row('losses'), `README losses: ${kind}`).toContain(`'${kind}'`);
  for (const kind of OPTIMIZER_KINDS) expect(row('optimizer'), `README optimizer: ${kind}`).toContain(`'${kind}'`);
  for (const kind of WEIGHTING_KINDS) {
    expect(row('weighting'), `README weighting: ${kind}`).toContain(`'${kind}'`);
    expect(methods, `docs/methods.md: a row for ${kind}`).toContain(`| \`${kind}\` |`);
  }
});
