// A heatmap of the task-coupling matrix A (tasks × hidden units) on a canvas, blue for negative,
// red for positive, symmetric around zero, with task names down the side.
export function drawHeatmap(canvas: HTMLCanvasElement, A: ArrayLike<number>, rows: number, cols: number, rowNames: string[]): void {
  const g = canvas.getContext('2d')!;
  const left = 90;
  const top = 22;
  const cellW = Math.min(40, (canvas.width - left - 10) / cols);
  const cellH = Math.min(28, (canvas.height - top - 26) / rows); // room below for the scale
  let max = 1e-9;
  for (let i = 0; i < rows * cols; i++) max = Math.max(max, Math.abs(A[i]!));
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  for (let r = 0; r < rows; r++) {
    g.fillStyle = '#1d2330';
    g.textAlign = 'right';
    g.fillText(rowNames[r] ?? `task ${r + 1}`, left - 6, top + (r + 0.5) * cellH, left - 8);
    for (let c = 0; c < cols; c++) {
      const v = A[r * cols + c]! / max;
      const shade = Math.round(255 * (1 - Math.abs(v)));
      g.fillStyle = v >= 0 ? `rgb(255,${shade},${shade})` : `rgb(${shade},${shade},255)`;
      g.fillRect(left + c * cellW, top + r * cellH, cellW - 1, cellH - 1);
    }
  }
  g.fillStyle = '#4a5264';
  g.textAlign = 'center';
  for (let c = 0; c < cols; c++) g.fillText(`h${c + 1}`, left + (c + 0.5) * cellW, top - 10);
  g.textAlign = 'left';
  g.fillText(`|max| = ${max.toPrecision(3)}`, left, top + rows * cellH + 10);
}
