// A heatmap of the task-coupling matrix A (tasks × hidden units) on a canvas, blue for negative,
// red for positive, symmetric around zero, with task names down the side, a colour legend below,
// each cell's value on hover, and the values as a table for screen readers.
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  A: ArrayLike<number>,
  rows: number,
  cols: number,
  rowNames: string[],
  colNames: string[] = Array.from({ length: cols }, (_, c) => `h${c + 1}`),
  what = 'Task-coupling matrix A',
): void {
  const g = canvas.getContext('2d')!;
  const left = 90;
  const top = 22;
  const cellW = Math.min(40, (canvas.width - left - 10) / cols);
  const cellH = Math.max(6, Math.min(28, 560 / rows));
  canvas.height = Math.ceil(top + rows * cellH + 40); // the matrix, then room for the legend
  let max = 1e-9;
  for (let i = 0; i < rows * cols; i++) max = Math.max(max, Math.abs(A[i]!));
  const colour = (v: number) => {
    const shade = Math.round(255 * (1 - Math.min(1, Math.abs(v))));
    return v >= 0 ? `rgb(255,${shade},${shade})` : `rgb(${shade},${shade},255)`;
  };
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  for (let r = 0; r < rows; r++) {
    g.fillStyle = '#1d2330';
    g.textAlign = 'right';
    g.fillText(rowNames[r] ?? `task ${r + 1}`, left - 6, top + (r + 0.5) * cellH, left - 8);
    for (let c = 0; c < cols; c++) {
      g.fillStyle = colour(A[r * cols + c]! / max);
      g.fillRect(left + c * cellW, top + r * cellH, cellW - 1, cellH - 1);
    }
  }
  g.fillStyle = '#3d4455';
  g.textAlign = 'center';
  if (cellW >= 14) for (let c = 0; c < cols; c++) g.fillText(colNames[c]!.slice(0, Math.floor(cellW / 6)), left + (c + 0.5) * cellW, top - 10);
  // The legend: −|max| … 0 … +|max|.
  const legendY = top + rows * cellH + 10;
  const legendW = Math.max(120, Math.min(200, cols * cellW));
  for (let x = 0; x < legendW; x++) {
    g.fillStyle = colour((2 * x) / (legendW - 1) - 1);
    g.fillRect(left + x, legendY, 1, 8);
  }
  g.fillStyle = '#3d4455';
  g.textAlign = 'left';
  g.fillText(`−${max.toPrecision(2)}`, left, legendY + 18);
  g.textAlign = 'center';
  g.fillText('0', left + legendW / 2, legendY + 18);
  g.textAlign = 'right';
  g.fillText(`+${max.toPrecision(2)}`, left + legendW, legendY + 18);

  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${what}, ${rows} by ${cols}, values from −${max.toPrecision(3)} to +${max.toPrecision(3)}; the table below lists them.`);
  canvas.onmousemove = (event) => {
    const box = canvas.getBoundingClientRect();
    const x = ((event.clientX - box.left) * canvas.width) / box.width;
    const y = ((event.clientY - box.top) * canvas.height) / box.height;
    const [r, c] = [Math.floor((y - top) / cellH), Math.floor((x - left) / cellW)];
    canvas.title = r >= 0 && r < rows && c >= 0 && c < cols ? `${rowNames[r] ?? r} × ${colNames[c]}: ${A[r * cols + c]!.toPrecision(4)}` : '';
  };
  const table = canvas.parentElement?.querySelector('table.values');
  if (table) {
    const header = `<tr><th>task</th>${colNames.map((name) => `<th>${name}</th>`).join('')}</tr>`;
    const body = Array.from(
      { length: rows },
      (_, r) => `<tr><td>${rowNames[r] ?? r}</td>${Array.from({ length: cols }, (_, c) => `<td>${A[r * cols + c]!.toFixed(3)}</td>`).join('')}</tr>`,
    );
    table.innerHTML = header + body.join('');
  }
}
