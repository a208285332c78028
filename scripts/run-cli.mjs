// `npm run sigmtl -- <command>` from a checkout: (re)builds dist/ with Vite when a source or shader
// is newer (and the native products when native/ is), quietly, then runs dist/cli.js (or dist-bench/bench.js, soak.js or compare.js with
// --bench, --soak or --compare first, for `npm run bench`, `npm run soak` and `npm run bench:train`).
// Nothing but the command's own output goes to stdout.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const tool = ['--bench', '--soak', '--compare'].includes(args[0]) ? args.shift().slice(2) : undefined;
const bench = tool !== undefined;
const bundle = bench ? join(root, 'dist-bench', `${tool}.js`) : join(root, 'dist', 'cli.js');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const sources = ['src', 'shaders', 'bench'].map((dir) => newest(join(root, dir)));
const stale = !existsSync(bundle) || Math.max(...sources) > statSync(bundle).mtimeMs;
if (stale) {
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const build = spawnSync(process.execPath, [vite, 'build', '--mode', bench ? 'bench' : 'lib', '--logLevel', 'error'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// The native products likewise, where native/ changed since their build (optional: a machine
// without a C compiler runs the engine on WebAssembly).
const addon = join(root, 'native', 'build', 'sigmtl-native.node');
const nativeSources = readdirSync(join(root, 'native')).filter((f) => /\.[ch]$/.test(f));
if (!existsSync(addon) || Math.max(...nativeSources.map((f) => statSync(join(root, 'native', f)).mtimeMs)) > statSync(addon).mtimeMs) {
  spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--optional'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
const run = spawnSync(process.execPath, [bundle, ...args], { stdio: 'inherit' });
// `npm run bench` ends with the training comparison, each contestant in its own process, after
// the in-process benchmarks have exited (nothing of theirs holds threads meanwhile).
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (
  run.status === 0 &&
  tool === 'bench' &&
  !args.some((a) => a.startsWith('--stream')) &&
  !args.includes('--help') &&
  !args.includes('-h') &&
  (only === undefined || only === 'train')
) {
  const passOn = args.filter((a) => a === '--quick' || a === '--json');
  const compare = spawnSync(process.execPath, [join(root, 'dist-bench', 'compare.js'), ...passOn], { stdio: 'inherit' });
  process.exit(compare.status ?? 1);
}
process.exit(run.status ?? 1);
