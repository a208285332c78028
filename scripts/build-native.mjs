#!/usr/bin/env node
// Builds the CPU engine's native products (native/*.c) into native/build/sigmtl-native.node: a
// Node-API addon, products.c compiled once per instruction set (AVX-512, AVX2 + FMA, the
// baseline; the addon picks the best this CPU runs). Needs a C compiler (cc, or $CC) and Node's
// headers (next to the node binary: <prefix>/include/node). --optional: where either is missing,
// say so and exit 0 (the engine then runs on WebAssembly alone). It reports on stderr (npm pack
// --json runs it through prepare, and its stdout is the JSON).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native');
const target = join(source, 'build', 'sigmtl-native.node');
const optional = process.argv.includes('--optional');
const cc = process.env.CC ?? 'cc';

/** The sources' hash, compiled in: the loader and a test refuse a build older than its sources. */
export function nativeSourceHash() {
  const hash = createHash('sha256');
  for (const file of ['products.h', 'products.c', 'addon.c']) hash.update(readFileSync(join(source, file)));
  return hash.digest('hex').slice(0, 16);
}

function skip(why) {
  if (!optional) throw new Error(`build-native: ${why}`);
  console.error(`build-native: skipped (${why}); the CPU engine runs on WebAssembly alone`);
  process.exit(0);
}

const headers = [join(dirname(process.execPath), '..', 'include', 'node'), process.env.NODE_API_HEADERS].filter(Boolean).find((dir) => existsSync(join(dir, 'node_api.h')));
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!headers) skip(`Node's headers (node_api.h) are not under ${join(dirname(process.execPath), '..', 'include', 'node')}; set NODE_API_HEADERS to their folder`);
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
  } catch {
    skip(`no C compiler: ${cc} did not run (install gcc, or set CC)`);
  }
  const x86 = arch() === 'x64' || arch() === 'ia32';
  // One object per instruction set: vector width (floats), rows of a tile, compiler flags.
  const builds = [
    ...(x86
      ? [
          ['avx512', 16, 8, ['-mavx512f', '-mavx512vl', '-mavx2', '-mfma']],
          ['avx2', 8, 6, ['-mavx2', '-mfma']],
        ]
      : []),
    ['base', 4, 6, []],
  ];
  const work = mkdtempSync(join(tmpdir(), 'sigmtl-native-'));
  try {
    const common = ['-std=gnu11', '-O3', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-function'];
    const objects = builds.map(([name, floats, rows, flags]) => {
      const object = join(work, `products-${name}.o`);
      execFileSync(cc, [...common, ...flags, `-DVL=${floats}`, `-DROWS=${rows}`, `-DSUFFIX=${name}`, '-c', join(source, 'products.c'), '-o', object], { stdio: 'inherit' });
      return object;
    });
    const addon = join(work, 'addon.o');
    // The optimizer update must round as the float64 twin does: no fused multiply–adds (sqrt
    // without errno lets it vectorise; its results are the same).
    const exact = ['-ffp-contract=off', '-fno-math-errno'];
    execFileSync(cc, [...common, ...exact, `-I${headers}`, `-DSOURCE_HASH="${nativeSourceHash()}"`, '-c', join(source, 'addon.c'), '-o', addon], { stdio: 'inherit' });
    mkdirSync(dirname(target), { recursive: true });
    // Linked beside the target, then renamed over it (a running process keeps the old file).
    const staged = `${target}.${process.pid}.tmp`;
    execFileSync(cc, ['-shared', '-o', staged, addon, ...objects, '-lpthread', '-lm'], { stdio: 'inherit' });
    renameSync(staged, target);
  } catch (error) {
    if (optional) skip(`the compiler failed: ${error.message.split('\n')[0]}`);
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.error(`build-native: ${target.slice(root.length + 1)} (${builds.map(([name]) => name).join(', ')})`);
}
