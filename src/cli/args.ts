// Command-line parsing with node:util's parseArgs, plus typed accessors that turn bad values
// into usage errors naming the option.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (options start with --)`);
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function text(p: Parsed, name: string, fallback?: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : fallback;
}

export function required(p: Parsed, name: string): string {
  const v = text(p, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function number(p: Parsed, name: string, fallback: number, check?: { min?: number; max?: number; above?: number; below?: number; integer?: boolean }): number {
  const raw = text(p, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  const bad =
    raw.trim() === '' ||
    !Number.isFinite(v) ||
    (check?.integer && !Number.isInteger(v)) ||
    (check?.min !== undefined && v < check.min) ||
    (check?.max !== undefined && v > check.max) ||
    (check?.above !== undefined && v <= check.above) ||
    (check?.below !== undefined && v >= check.below);
  if (bad) {
    const range = [
      check?.integer ? 'an integer' : 'a number',
      check?.min !== undefined ? `≥ ${check.min}` : '',
      check?.above !== undefined ? `> ${check.above}` : '',
      check?.max !== undefined ? `≤ ${check.max}` : '',
      check?.below !== undefined ? `< ${check.below}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    throw new UsageError(`--${name} must be ${range}, got "${raw}"`);
  }
  return v;
}

export function choice<T extends string>(p: Parsed, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(p, name, fallback)!;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function list(p: Parsed, name: string): string[] | undefined {
  const raw = text(p, name);
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** A size like 512M, 2G, 300000 (bytes). */
export function byteSize(p: Parsed, name: string, fallback: number): number {
  const raw = text(p, name);
  if (raw === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i.exec(raw.trim());
  if (!match) throw new UsageError(`--${name}: "${raw}" is not a size (for example 512M, 2G or a number of bytes)`);
  const unit = (match[2] ?? '').toLowerCase()[0];
  const bytes = Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  if (bytes < 1024) throw new UsageError(`--${name}: ${raw} is below 1 KiB`);
  return Math.floor(bytes);
}
