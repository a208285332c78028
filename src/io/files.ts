// Node file I/O with atomic writes: the bytes go to a temporary file beside the target, which is
// then renamed over it, so a crash never leaves a half-written model or checkpoint. Only a
// regular file (or a new path) is ever renamed over: a symlink is followed to its target, and a
// device or pipe (/dev/stdout, >(…)) is written in place.
import { fstatSync, promises as fs, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Whole bytes or text, or chunks produced as they are written (a stream of predictions). */
export type FileData = Uint8Array | string | AsyncIterable<Uint8Array | string>;

const chunksOf = async function* (data: FileData): AsyncIterable<Uint8Array | string> {
  if (typeof data === 'string' || data instanceof Uint8Array) yield data;
  else yield* data;
};

export async function writeFileAtomic(path: string, data: FileData, hops = 0): Promise<void> {
  const target = await fs.stat(path).catch(() => undefined); // follows links
  if (target?.isDirectory()) throw new Error(`${path} is a directory, not a file`);
  if (target && !target.isFile()) {
    // A device, pipe or socket (/dev/stdout, >(…)): nothing to rename over, so write through it.
    // Our own stdout or stderr is written as such: a socket cannot be reopened by name (ENXIO).
    const stream = [process.stdout, process.stderr].find((s, i) => sameFile(fstatSync(i + 1), target));
    if (stream) {
      for await (const chunk of chunksOf(data)) await new Promise<void>((done, fail) => stream.write(chunk, (error) => (error ? fail(error) : done())));
    } else {
      const device = await fs.open(path, 'w');
      try {
        for await (const chunk of chunksOf(data)) await device.writeFile(chunk);
      } finally {
        await device.close();
      }
    }
    return;
  }
  const link = await fs.lstat(path).catch(() => undefined);
  if (link?.isSymbolicLink()) {
    if (hops > 32) throw new Error(`${path}: too many levels of symbolic links`);
    // Replace the file the link points to (existing or not), never the link itself.
    return writeFileAtomic(resolve(dirname(path), await fs.readlink(path)), data, hops + 1);
  }
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.mkdir(folder, { recursive: true });
    const file = await fs.open(temporary, 'w');
    try {
      for await (const chunk of chunksOf(data)) await file.writeFile(chunk);
      await file.sync(); // the bytes are on disk before the name points at them
    } finally {
      await file.close();
    }
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  await removeStaleTemporaries(folder, basename(path));
}

/** Temporaries of earlier writes to `name` whose process is gone (killed mid-write), by our own naming. */
async function removeStaleTemporaries(folder: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  for (const entry of await fs.readdir(folder).catch(() => [] as string[])) {
    const match = entry.startsWith(prefix) && /^(\d+)\.\d+\.tmp$/.exec(entry.slice(prefix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && !processAlive(pid)) await fs.rm(join(folder, entry), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Model files and checkpoints larger than this are refused before reading (a model of 250 M parameters). */
export const MAX_MODEL_FILE_BYTES = 1 << 30;

/**
 * A regular file's bytes, refused before reading when it is not one (a FIFO would block for
 * ever, /dev/zero never ends) or when it is larger than `limit`; errors name the file.
 */
const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

export async function readFileBytes(path: string, limit = MAX_MODEL_FILE_BYTES): Promise<Uint8Array> {
  let stats;
  try {
    stats = await fs.stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: no such file`);
    if (code === 'EACCES') throw new Error(`${path}: permission denied`);
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (stats.isDirectory()) throw new Error(`${path} is a directory, not a file`);
  if (!stats.isFile()) throw new Error(`${path} is not a regular file (a device, pipe or socket); give a file`);
  if (stats.size > limit) throw new Error(`${path} is ${stats.size} bytes, over the limit of ${limit} bytes for this kind of file`);
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
