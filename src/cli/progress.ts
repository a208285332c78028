// Training progress: a bar on a terminal (cli-progress), plain periodic lines otherwise.
import cliProgress from 'cli-progress';
import type { ProgressReport } from 'sigmtl';
import { formatNumber } from './output.js';

export interface Progress {
  update(report: ProgressReport): void;
  stop(): void;
}

export function createProgress(enabled: boolean, stream: NodeJS.WriteStream, epochs: number): Progress {
  if (!enabled) return { update() {}, stop() {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{label} |{bar}| step {value}/{total}  loss {loss}  {rate} steps/s  ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(r) {
        // Across the model search, one bar for all of it (its planned steps).
        const [step, total] = r.search ? [r.search.step, r.search.totalSteps] : [r.step, r.totalSteps];
        const payload = { label: where(r, epochs), loss: formatNumber(r.loss), rate: r.stepsPerSecond.toFixed(0) };
        if (!started) {
          bar.start(total, step, payload);
          started = true;
        } else {
          bar.setTotal(Math.max(total, step));
          bar.update(step, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  return {
    update(r) {
      const validation = r.validationLoss !== undefined ? `  val ${formatNumber(r.validationLoss)}` : '';
      const [step, total] = r.search ? [r.search.step, r.search.totalSteps] : [r.step, r.totalSteps];
      stream.write(`${where(r, epochs)}  step ${step}/${total}  loss ${formatNumber(r.loss)}${validation}  ${r.stepsPerSecond.toFixed(0)} steps/s\n`);
    },
    stop() {},
  };
}

/** "epoch 3/200", and during the model search which candidate and rung. */
function where(r: ProgressReport, epochs: number): string {
  const at = `epoch ${r.epoch + 1}/${epochs}`;
  if (!r.search) return at;
  const s = r.search;
  return `${s.phase === 'search' ? `search rung ${s.rung}/${s.rungs}` : 'chosen'} H=${s.hidden} lr ${s.learningRate}, ${at}`;
}
