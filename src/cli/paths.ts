// Output paths that must not clobber an input: a model written over its own training CSV, a
// prediction over its input, a checkpoint over the model. Paths are compared after resolving
// symlinks, so two names of one file are one file.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';

const canonical = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

/** Throws when an output (flag, path) names the same file as an input or another output; `-` and undefined are skipped. */
export function refuseClobber(outputs: ReadonlyArray<readonly [string, string | undefined]>, inputs: ReadonlyArray<readonly [string, string | undefined]>): void {
  const real = (entries: ReadonlyArray<readonly [string, string | undefined]>) =>
    entries.filter((e): e is readonly [string, string] => !!e[1] && e[1] !== '-').map(([flag, path]) => ({ flag, path, real: canonical(path) }));
  const outs = real(outputs);
  const ins = real(inputs);
  outs.forEach((out, i) => {
    const clash = [...ins, ...outs.slice(0, i)].find((other) => other.real === out.real);
    if (clash) throw new Error(`${out.flag} ${out.path} is the same file as ${clash.flag} ${clash.path}; refusing to overwrite it`);
  });
}
