// Timing with warm-up, interleaved repetitions (each round runs every implementation once, so slow
// drift of the machine hits all alike) and median / min / max. The number of rounds adapts to how
// long one run takes, within a time budget per implementation.

export interface Timed {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

export interface Contender {
  name: string;
  run: () => Promise<unknown>;
}

export interface TimingOptions {
  /** Time to spend on each implementation's timed runs. */
  budgetMs: number;
  maxRounds: number;
  /** A warm-up run longer than this is taken as the only sample (very slow peers at large sizes). */
  oneShotMs: number;
}

export async function interleaved(contenders: Contender[], options: TimingOptions): Promise<Map<string, Timed>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const rounds = new Map<string, number>();
  for (const c of contenders) {
    const started = performance.now();
    await c.run(); // warm-up: compiles pipelines, fills caches
    const first = performance.now() - started;
    if (first > options.oneShotMs) {
      samples.get(c.name)!.push(first);
      rounds.set(c.name, 0);
    } else {
      rounds.set(c.name, Math.max(1, Math.min(options.maxRounds, Math.floor(options.budgetMs / Math.max(first, 1e-3)))));
    }
  }
  const most = Math.max(...rounds.values());
  for (let round = 0; round < most; round++) {
    for (const c of contenders) {
      if (round >= rounds.get(c.name)!) continue;
      const started = performance.now();
      await c.run();
      samples.get(c.name)!.push(performance.now() - started);
    }
  }
  const out = new Map<string, Timed>();
  for (const [name, times] of samples) {
    const sorted = [...times].sort((a, b) => a - b);
    out.set(name, { medianMs: sorted[Math.floor(sorted.length / 2)]!, minMs: sorted[0]!, maxMs: sorted[sorted.length - 1]!, runs: sorted.length });
  }
  return out;
}
