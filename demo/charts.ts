// Live line charts with uPlot: one x series (step) and any number of y series, appended to.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const PALETTE = ['#3949ab', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00897b', '#6d4c41', '#d81b60', '#546e7a', '#c0ca33', '#1e88e5', '#f4511e', '#7cb342', '#5e35b1'];

export class LineChart {
  private readonly plot: uPlot;
  private readonly data: number[][];

  constructor(target: HTMLElement, xLabel: string, yLabel: string, series: string[], options: { logX?: boolean; logY?: boolean; width?: number; markers?: number[] } = {}) {
    this.data = [[], ...series.map(() => [])];
    target.replaceChildren();
    this.plot = new uPlot(
      {
        width: options.width ?? 300,
        height: 260,
        scales: { x: { time: false, distr: options.logX ? 3 : 1, log: 2 }, y: { distr: options.logY ? 3 : 1 } },
        axes: [{ label: xLabel }, { label: yLabel, size: 60 }],
        // Series listed in `markers` are drawn as points only (the restored best epoch).
        series: [
          { label: xLabel },
          ...series.map((label, i) =>
            options.markers?.includes(i)
              ? { label, stroke: '#1d2330', fill: '#1d2330', width: 0, points: { show: true, size: 9 } }
              : { label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true },
          ),
        ],
        legend: { live: false },
      },
      this.data as uPlot.AlignedData,
      target,
    );
  }

  append(x: number, ys: Array<number | null | undefined>): void {
    this.data[0]!.push(x);
    ys.forEach((y, i) => this.data[i + 1]!.push(y ?? (null as unknown as number)));
    this.plot.setData(this.data as uPlot.AlignedData);
  }
}
