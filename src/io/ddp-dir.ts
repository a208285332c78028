// Writes a DDP job (src/api/ddp.ts) into the directory the user named, and nowhere else: the
// directory is new, empty, or holds an earlier sigmtl DDP job (whose files are replaced); a
// file of the job's that exists as anything but a regular file (a link out of the directory,
// a directory) is refused.
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { DDP_JOB_FORMAT, type DdpJob } from './ddp-script.js';
import { writeFileAtomic } from './files.js';

async function isEarlierJob(dir: string): Promise<boolean> {
  try {
    const settings = JSON.parse(await fs.readFile(join(dir, 'job.json'), 'utf8')) as { format?: unknown };
    return settings.format === DDP_JOB_FORMAT;
  } catch {
    return false;
  }
}

export async function writeDdpJob(dir: string, job: DdpJob): Promise<void> {
  const found = await fs.lstat(dir).catch(() => undefined);
  if (found && !found.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
  if (found && (await fs.readdir(dir)).length > 0 && !(await isEarlierJob(dir))) {
    throw new Error(`${dir} is not empty and holds no sigmtl DDP job (job.json); refusing to write into it`);
  }
  for (const file of job.files) {
    const path = join(dir, ...file.path.split('/'));
    const existing = await fs.lstat(path).catch(() => undefined);
    if (existing && !existing.isFile()) throw new Error(`${path} exists and is not a regular file; refusing to replace it`);
    await fs.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, file.bytes);
    if (file.executable) await fs.chmod(path, 0o755);
  }
}
