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
        format: 'epoch {epoch}/{epochs} |{bar}| step {value}/{total}  loss {loss}  {rate} steps/s  ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(r) {
        const payload = { epoch: r.epoch + 1, epochs, loss: formatNumber(r.loss), rate: r.stepsPerSecond.toFixed(0) };
        if (!started) {
          bar.start(r.totalSteps, r.step, payload);
          started = true;
        } else bar.update(r.step, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  return {
    update(r) {
      const validation = r.validationLoss !== undefined ? `  val ${formatNumber(r.validationLoss)}` : '';
      stream.write(`epoch ${r.epoch + 1}/${epochs}  step ${r.step}/${r.totalSteps}  loss ${formatNumber(r.loss)}${validation}  ${r.stepsPerSecond.toFixed(0)} steps/s\n`);
    },
    stop() {},
  };
}
