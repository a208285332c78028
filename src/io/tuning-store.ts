// Autotuning results kept across runs in $XDG_CACHE_HOME/sigmtl/autotune.json (~/.cache by
// default), keyed by adapter. A missing or unreadable file just means tuning again.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KeyValueStore as TuningStore } from '../util/store.js';

export function fileTuningStore(path = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sigmtl', 'autotune.json')): TuningStore {
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    get: (key) => read()[key],
    set(key, value) {
      try {
        mkdirSync(dirname(path), { recursive: true });
        const temporary = `${path}.${process.pid}.tmp`;
        writeFileSync(temporary, JSON.stringify({ ...read(), [key]: value }, null, 2));
        renameSync(temporary, path);
      } catch {
        // a read-only home: tune again next time
      }
    },
  };
}
