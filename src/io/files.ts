// Node file I/O with atomic writes: the bytes go to a temporary file beside the target, which is
// then renamed over it, so a crash never leaves a half-written model or checkpoint. Only a
// regular file (or a new path) is ever renamed over: a symlink is followed to its target, and a
// device or pipe (/dev/stdout, >(…)) is written in place.
import { promises as fs } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const existing = await fs.lstat(path).catch(() => undefined);
  if (existing?.isSymbolicLink()) return writeFileAtomic(await fs.realpath(path), data);
  if (existing && !existing.isFile()) {
    if (existing.isDirectory()) throw new Error(`${path} is a directory, not a file`);
    await fs.writeFile(path, data); // a device or a pipe: nothing to rename over
    return;
  }
  await fs.mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

export async function readFileBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: no such file`);
    if (code === 'EISDIR') throw new Error(`${path} is a directory, not a file`);
    throw error;
  }
}
