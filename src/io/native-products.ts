// Loads the CPU engine's native products (native/, built by scripts/build-native.mjs into
// native/build/sigmtl-native.node) for sigmtl/node. Optional: where the addon is not built, is
// for another platform, or SIGMTL_NATIVE=0 is set, the engine runs its products on WebAssembly.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeProducts } from '../cpu/wasm-matmul.js';

/** The addon's path inside the package. */
export const NATIVE_ADDON_PATH = 'native/build/sigmtl-native.node';

/** The folder of the package this file is in (src/io/ or a bundle in dist/): the nearest package.json named sigmtl. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sigmtl') return dir;
      } catch {
        // not a readable manifest: keep looking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Why the native products did not load, where they did not (for doctor and the bench). */
export let nativeProductsAbsence: string | undefined;

/** The addon, or undefined (with nativeProductsAbsence saying why). */
export function loadNativeProducts(): NativeProducts | undefined {
  if (process.env.SIGMTL_NATIVE === '0') {
    nativeProductsAbsence = 'turned off (SIGMTL_NATIVE=0)';
    return undefined;
  }
  const root = packageRoot();
  const path = root && join(root, NATIVE_ADDON_PATH);
  if (!path || !existsSync(path)) {
    nativeProductsAbsence = `not built (${NATIVE_ADDON_PATH}: npm run build:native, which needs a C compiler)`;
    return undefined;
  }
  try {
    return createRequire(import.meta.url)(path) as NativeProducts;
  } catch (error) {
    nativeProductsAbsence = `${NATIVE_ADDON_PATH} did not load: ${(error as Error).message.split('\n')[0]}`;
    return undefined;
  }
}
