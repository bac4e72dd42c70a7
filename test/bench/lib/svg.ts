/** One line of a chart: a name and its points. */
export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** drawn dashed (e.g. an ideal or a target) */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  width?: number;
  height?: number;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const margin = { left: 70, right: 190, top: 40, bottom: 55 };

/** The chart's size (720 × 420 unless given) and its plot area inside the margins. */
function layout(options: { width?: number; height?: number }) {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  return { width, height, plotW: width - margin.left - margin.right, plotH: height - margin.top - margin.bottom };
}

/** The opening of every chart: the SVG element, a white background, the title, and the y grid with its labels. */
function frame(f: { title: string; width: number; height: number; plotW: number; yMax: number; py: (y: number) => number }): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${f.width}" height="${f.height}" fill="white"/>`,
    `<text x="${f.width / 2 - margin.right / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(f.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (f.yMax * i) / 5;
    out.push(`<line x1="${margin.left}" x2="${margin.left + f.plotW}" y1="${f.py(y)}" y2="${f.py(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${f.py(y) + 4}" text-anchor="end">${fmt(y)}</text>`);
  }
  return out;
}

/** A small self-contained SVG line chart (no dependency): axes with ticks, one polyline per series, a legend. */
export function lineChart(options: ChartOptions): string {
  const { width, height, plotW, plotH } = layout(options);
  const all = options.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const fx = (x: number) => (options.logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const xs = all.map(([x]) => fx(x));
  const xMin = Math.min(...xs, options.logX ? 0 : 0);
  const xMax = Math.max(...xs, xMin + 1);
  const yMax = niceCeil(Math.max(...all.map(([, y]) => y), 1e-9));
  const px = (x: number) => margin.left + ((fx(x) - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => margin.top + plotH - (y / yMax) * plotH;
  const out = frame({ title: options.title, width, height, plotW, yMax, py });
  const xTicks = options.logX ? logTicks(xMin, xMax) : [...new Set(all.map(([x]) => x))].sort((a, b) => a - b);
  for (const x of xTicks) {
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="black"/>`);
    out.push(`<text x="${px(x)}" y="${margin.top + plotH + 18}" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="black"/>`);
  out.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="black"/>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  options.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const pts = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const dash = series.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ")}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"/>`);
    const ly = margin.top + 10 + i * 20;
    out.push(`<line x1="${width - margin.right + 15}" x2="${width - margin.right + 40}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${width - margin.right + 46}" y="${ly + 4}">${esc(series.name)}</text>`);
  });
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}

function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(min); e <= Math.ceil(max); e++) for (const m of [1, 2, 5]) {
    const v = m * 10 ** e;
    if (Math.log10(v) >= min - 1e-9 && Math.log10(v) <= max + 1e-9) ticks.push(v);
  }
  return ticks;
}

function fmt(x: number): string {
  if (Math.abs(x) >= 1000) return `${+(x / 1000).toFixed(1)}k`;
  return String(+x.toFixed(2));
}

/** Grouped bars: one group per category, one bar per series (values ≥ 0). */
export function barChart(options: { title: string; yLabel: string; categories: string[]; series: Array<{ name: string; values: number[] }>; width?: number; height?: number }): string {
  const { width, height, plotW, plotH } = layout(options);
  const yMax = niceCeil(Math.max(...options.series.flatMap((s) => s.values).filter(Number.isFinite), 1e-9));
  const py = (y: number) => margin.top + plotH - (y / yMax) * plotH;
  const groupW = plotW / options.categories.length;
  const barW = (groupW * 0.7) / options.series.length;
  const out = frame({ title: options.title, width, height, plotW, yMax, py });
  options.categories.forEach((category, c) => {
    const x0 = margin.left + c * groupW + groupW * 0.15;
    options.series.forEach((series, s) => {
      const v = series.values[c] ?? 0;
      out.push(`<rect x="${(x0 + s * barW).toFixed(1)}" y="${py(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(margin.top + plotH - py(v)).toFixed(1)}" fill="${COLOURS[s % COLOURS.length]}"/>`);
    });
    out.push(`<text x="${(margin.left + c * groupW + groupW / 2).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle">${esc(category)}</text>`);
  });
  out.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="black"/>`);
  out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="black"/>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  options.series.forEach((series, i) => {
    const ly = margin.top + 10 + i * 20;
    out.push(`<rect x="${width - margin.right + 15}" y="${ly - 6}" width="20" height="12" fill="${COLOURS[i % COLOURS.length]}"/>`);
    out.push(`<text x="${width - margin.right + 42}" y="${ly + 4}">${esc(series.name)}</text>`);
  });
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
