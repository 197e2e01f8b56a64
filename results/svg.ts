// The Pareto plot as a standalone SVG document: every candidate as a grey dot, the front highlighted and connected,
// axes with ticks and labels, and the target as a vertical line. Pure: data in, text out.

export interface PlotPoint {
  readonly x: number;
  readonly y: number;
  /** Shown as the point's tooltip. */
  readonly label?: string;
}

export interface ParetoPlot {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Every candidate. */
  readonly points: readonly PlotPoint[];
  /** The front, in any order (drawn by increasing x). */
  readonly front: readonly PlotPoint[];
  readonly target?: { readonly x: number; readonly label: string };
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { left: 78, right: 24, top: 62, bottom: 58 } as const;
const COLORS = { dot: '#9e9e9e', front: '#d62728', target: '#1f77b4', axis: '#333333', grid: '#e6e6e6' } as const;

/** A 1, 2 or 5 times a power of ten step that cuts [lo, hi] into about `count` intervals. */
function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

export interface Axis {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly ticks: readonly number[];
}

/** An axis over the values: bounds on multiples of a nice step, with about `count` ticks between them. */
export function niceAxis(values: readonly number[], count = 5): Axis {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length > 0 ? Math.min(...finite) : 0;
  let hi = finite.length > 0 ? Math.max(...finite) : 1;
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    // One value (or none): centre it in a window a tenth of its size.
    const half = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 0.5;
    lo -= half;
    hi += half;
  }
  const step = niceStep(lo, hi, count);
  // Round away float noise (0.30000000000000004) by snapping to the step's decimals.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const snap = (v: number): number => Number(v.toFixed(Math.min(20, decimals)));
  const min = snap(Math.floor(lo / step + 1e-9) * step);
  const max = snap(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; min + i * step <= max + step * 1e-9; i++) ticks.push(snap(min + i * step));
  return { min, max, step, ticks };
}

/** A tick label: 0.85, 12.5, 60M, 2.45M, 300k: the axis's unit (from its largest tick), as many decimals as its step needs. */
export function formatTick(v: number, axis: Axis): string {
  const big = Math.max(Math.abs(axis.min), Math.abs(axis.max));
  const [div, suffix] = big >= 1e6 ? [1e6, 'M'] : big >= 1e4 ? [1e3, 'k'] : [1, ''];
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(axis.step / div) + 1e-9)));
  const text = (v / div).toFixed(decimals);
  // No "-0.00" from a float a hair below zero.
  return `${Number(text) === 0 ? (0).toFixed(decimals) : text}${suffix}`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c] ?? ''};`);
}

/** The values' range widened by 3% each side (not below 0), so that no point sits on an axis line. */
function padded(values: readonly number[]): number[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = (hi - lo) * 0.03;
  // Costs and accuracies are not negative: padding must not put a negative tick on the axis.
  return [lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad];
}

/** Coordinates with two decimals: short, and the same text for the same data. */
const n2 = (v: number): string => String(Math.round(v * 100) / 100);

/** The attribute of the <svg> element that marks a plot as ours, so that `nas results pareto` may replace it. */
const PLOT_MARK = 'data-generator="nas results pareto"';

/** Whether `head` (the first 512 bytes of a file) starts a plot paretoSvg wrote: one that may be written over. */
export function isParetoPlot(head: string): boolean {
  const svgTag = head.split('\n')[1] ?? '';
  return svgTag.startsWith('<svg ') && svgTag.includes(` ${PLOT_MARK}`);
}

/** Where the plot area lies in the document, its axes, and the maps from data to document coordinates. */
interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly xAxis: ReturnType<typeof niceAxis>;
  readonly yAxis: ReturnType<typeof niceAxis>;
  sx(x: number): number;
  sy(y: number): number;
}

function frameOf(plot: ParetoPlot): Frame {
  const width = plot.width ?? 720;
  const height = plot.height ?? 480;
  const [left, right, top, bottom] = [MARGIN.left, width - MARGIN.right, MARGIN.top, height - MARGIN.bottom];
  const all = [...plot.points, ...plot.front];
  const xAxis = niceAxis(padded([...all.map((p) => p.x), ...(plot.target === undefined ? [] : [plot.target.x])]), 6);
  const yAxis = niceAxis(padded(all.map((p) => p.y)), 5);
  return {
    width, height, left, right, top, bottom, xAxis, yAxis,
    sx: (x) => left + ((x - xAxis.min) / (xAxis.max - xAxis.min)) * (right - left),
    sy: (y) => bottom - ((y - yAxis.min) / (yAxis.max - yAxis.min)) * (bottom - top),
  };
}

/** The document's head, title, grid, axes, ticks and axis labels. */
function frameSvg(plot: ParetoPlot, f: Frame): string[] {
  const { width, height, left, right, top, bottom, xAxis, yAxis, sx, sy } = f;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12" ${PLOT_MARK}>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${n2((left + right) / 2)}" y="22" text-anchor="middle" font-size="15">${esc(plot.title)}</text>`,
    '<g class="grid">',
  ];
  for (const t of xAxis.ticks) {
    out.push(`<line x1="${n2(sx(t))}" y1="${n2(top)}" x2="${n2(sx(t))}" y2="${n2(bottom)}" stroke="${COLORS.grid}"/>`);
  }
  for (const t of yAxis.ticks) {
    out.push(`<line x1="${n2(left)}" y1="${n2(sy(t))}" x2="${n2(right)}" y2="${n2(sy(t))}" stroke="${COLORS.grid}"/>`);
  }
  out.push('</g>', `<g class="axes" stroke="${COLORS.axis}">`);
  out.push(`<line x1="${n2(left)}" y1="${n2(bottom)}" x2="${n2(right)}" y2="${n2(bottom)}"/>`);
  out.push(`<line x1="${n2(left)}" y1="${n2(top)}" x2="${n2(left)}" y2="${n2(bottom)}"/>`);
  for (const t of xAxis.ticks) out.push(`<line x1="${n2(sx(t))}" y1="${n2(bottom)}" x2="${n2(sx(t))}" y2="${n2(bottom + 5)}"/>`);
  for (const t of yAxis.ticks) out.push(`<line x1="${n2(left - 5)}" y1="${n2(sy(t))}" x2="${n2(left)}" y2="${n2(sy(t))}"/>`);
  out.push('</g>', `<g class="tick-labels" fill="${COLORS.axis}">`);
  for (const t of xAxis.ticks) {
    out.push(`<text x="${n2(sx(t))}" y="${n2(bottom + 19)}" text-anchor="middle">${esc(formatTick(t, xAxis))}</text>`);
  }
  for (const t of yAxis.ticks) {
    out.push(`<text x="${n2(left - 8)}" y="${n2(sy(t) + 4)}" text-anchor="end">${esc(formatTick(t, yAxis))}</text>`);
  }
  out.push('</g>');
  out.push(
    `<text class="x-label" x="${n2((left + right) / 2)}" y="${n2(height - 14)}" text-anchor="middle">${esc(plot.xLabel)}</text>`,
    `<text class="y-label" x="${n2(18)}" y="${n2((top + bottom) / 2)}" text-anchor="middle" ` +
      `transform="rotate(-90 18 ${n2((top + bottom) / 2)})">${esc(plot.yLabel)}</text>`,
  );
  return out;
}

/** The target's dashed vertical line and label; nothing without a target. */
function targetSvg(plot: ParetoPlot, f: Frame): string[] {
  if (plot.target === undefined) return [];
  const x = n2(f.sx(plot.target.x));
  return [
    `<g class="target" stroke="${COLORS.target}" fill="${COLORS.target}">`,
    `<line x1="${x}" y1="${n2(f.top)}" x2="${x}" y2="${n2(f.bottom)}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${n2(f.sx(plot.target.x) + 4)}" y="${n2(f.top + 12)}" stroke="none">${esc(plot.target.label)}</text>`,
    '</g>',
  ];
}

/** The candidates' dots, and the front as a line through its points in x order. */
function pointsSvg(plot: ParetoPlot, f: Frame, front: readonly PlotPoint[]): string[] {
  const dot = (p: PlotPoint, r: number, fill: string): string => {
    const c = `cx="${n2(f.sx(p.x))}" cy="${n2(f.sy(p.y))}" r="${r}" fill="${fill}"`;
    return p.label === undefined ? `<circle ${c}/>` : `<circle ${c}><title>${esc(p.label)}</title></circle>`;
  };
  const out = [`<g class="candidates" fill-opacity="0.75">`, ...plot.points.map((p) => dot(p, 3, COLORS.dot)), '</g>', `<g class="front">`];
  if (front.length > 1) {
    const pts = front.map((p) => `${n2(f.sx(p.x))},${n2(f.sy(p.y))}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${COLORS.front}" stroke-width="2"/>`);
  }
  out.push(...front.map((p) => dot(p, 4.5, COLORS.front)), '</g>');
  return out;
}

/** The legend in one row above the plot, right-aligned, so that it never hides a point. Text width is estimated. */
function legendSvg(plot: ParetoPlot, f: Frame, frontSize: number): string[] {
  const items: { readonly mark: (x: number, y: number) => string; readonly text: string }[] = [
    { mark: (x, y) => `<circle cx="${n2(x)}" cy="${n2(y)}" r="3" fill="${COLORS.dot}"/>`, text: `candidates (${plot.points.length})` },
    {
      mark: (x, y) =>
        `<line x1="${n2(x - 6)}" y1="${n2(y)}" x2="${n2(x + 6)}" y2="${n2(y)}" stroke="${COLORS.front}" stroke-width="2"/>` +
        `<circle cx="${n2(x)}" cy="${n2(y)}" r="4" fill="${COLORS.front}"/>`,
      text: `Pareto front (${frontSize})`,
    },
  ];
  if (plot.target !== undefined) {
    items.push({
      mark: (x, y) =>
        `<line x1="${n2(x)}" y1="${n2(y - 6)}" x2="${n2(x)}" y2="${n2(y + 6)}" stroke="${COLORS.target}" ` +
        'stroke-width="1.5" stroke-dasharray="3 2"/>',
      text: 'target',
    });
  }
  const itemWidth = (text: string): number => 26 + text.length * 6.5;
  let lx = f.right - items.reduce((w, it) => w + itemWidth(it.text), 0);
  const ly = f.top - 12;
  const out = ['<g class="legend">'];
  for (const it of items) {
    out.push(it.mark(lx + 6, ly), `<text x="${n2(lx + 16)}" y="${n2(ly + 4)}">${esc(it.text)}</text>`);
    lx += itemWidth(it.text);
  }
  out.push('</g>');
  return out;
}

/** The plot as an SVG document (UTF-8 text with an XML declaration). */
export function paretoSvg(plot: ParetoPlot): string {
  const f = frameOf(plot);
  const front = [...plot.front].sort((a, b) => a.x - b.x || a.y - b.y);
  const out = [...frameSvg(plot, f), ...targetSvg(plot, f), ...pointsSvg(plot, f, front), ...legendSvg(plot, f, front.length), '</svg>', ''];
  return out.join('\n');
}
