// Rows for the streaming tests: y1 = 2a − b + noise (regression), y2 = [a + c > 0] (binary),
// every 9th y1 missing, and a CSV of them with a quoted two-line note every 50 rows.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function streamRows(n: number) {
  const out: { a: number; b: number; c: number; y1: number | null; y2: number }[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b, c] = [Math.sin(i * 0.37), Math.cos(i * 0.11), Math.sin(i * 0.05 + 1)];
    out.push({ a, b, c, y1: i % 9 === 4 ? null : 2 * a - b + 0.05 * Math.sin(i * 7.3), y2: a + c > 0 ? 1 : 0 });
  }
  return out;
}

export function writeStreamCsv(dir: string, name: string, data: ReturnType<typeof streamRows>): string {
  const lines = ['note,a,b,c,y1,y2', ...data.map((r, i) => `${i % 50 === 7 ? '"two\nlines"' : 'n'},${r.a},${r.b},${r.c},${r.y1 ?? ''},${r.y2}`)];
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
