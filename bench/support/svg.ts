// A small hand-written SVG line chart (axes, ticks, legend) for the
// convergence curves: no browser, no dependency, deterministic output.

export interface Series {
  name: string;
  color: string;
  /** Dashed line, e.g. for a baseline. */
  dashed?: boolean;
  /** Dotted line, e.g. for a secondary view of the same run. */
  dotted?: boolean;
  /**
   * Straight segments between the points, each marked with a dot: one value
   * per x (seconds per fleet size), not a count that jumps at each event.
   */
  straight?: boolean;
  /** [x, y] points in data units, sorted by x. */
  points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
}

const MARGIN = { top: 40, right: 250, bottom: 50, left: 60 };

/** "Nice" tick values (1, 2, 5 × 10^k steps) covering 0..max. */
export function niceTicks(max: number, targetCount = 6): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / targetCount;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if ((ticks[ticks.length - 1] ?? 0) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, ''));

/** Renders the chart as a standalone SVG document (lines drawn as steps: counts jump at each event). */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 900;
  const height = chart.height ?? 500;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const all = chart.series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(0, ...all.map((p) => p[0])));
  const yTicks = niceTicks(Math.max(0, ...all.map((p) => p[1])));
  const xMax = xTicks[xTicks.length - 1] ?? 1;
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const px = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2 - MARGIN.right / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
  );
  for (const t of xTicks) {
    const x = px(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<line x1="${x}" y1="${MARGIN.top + plotH}" x2="${x}" y2="${MARGIN.top + plotH + 5}" stroke="black"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#eee"/>`,
      `<line x1="${MARGIN.left - 5}" y1="${y}" x2="${MARGIN.left}" y2="${y}" stroke="black"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escape(chart.yLabel)}</text>`,
  );
  const dash = (s: Series) =>
    s.dashed ? ' stroke-dasharray="6 4"' : s.dotted ? ' stroke-dasharray="2 3"' : '';
  chart.series.forEach((s, i) => {
    if (s.straight && s.points.length > 0) {
      const d = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      out.push(`<path d="${d.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash(s)}/>`);
      for (const [x, y] of s.points)
        out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    } else if (s.points.length > 0) {
      let d = `M${px(0).toFixed(1)},${py(0).toFixed(1)}`;
      let lastY = 0;
      for (const [x, y] of s.points) {
        d += ` L${px(x).toFixed(1)},${py(lastY).toFixed(1)} L${px(x).toFixed(1)},${py(y).toFixed(1)}`;
        lastY = y;
      }
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash(s)}/>`);
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 15;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash(s)}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escape(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
