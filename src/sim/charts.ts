/**
 * Charts for simulation reports as standalone SVG text, written by hand so
 * the library needs no plotting dependency: a CDF of samples (lookup
 * latency) and lines through points (get success against churn). Each series
 * is one <path> carrying its name in data-series, so tests and scripts can
 * find it; all text is XML-escaped.
 */

export interface Series {
  readonly name: string;
  /** [x, y] in data units, in drawing order. */
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly logX?: boolean;
  /** Draw steps (for CDFs) rather than straight segments, and mark no points. */
  readonly steps?: boolean;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly xMin?: number;
  readonly xMax?: number;
}

const WIDTH = 720;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 190, top: 44, bottom: 56 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const MAX_CDF_POINTS = 400;

export const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** The empirical CDF of `samples` as points (value, fraction ≤ value), thinned to a few hundred steps. */
export const cdfPoints = (samples: readonly number[]): Array<[number, number]> => {
  const sorted = samples.slice().sort((a, b) => a - b);
  const n = sorted.length;
  const points: Array<[number, number]> = [];
  const stride = Math.max(1, Math.floor(n / MAX_CDF_POINTS));
  for (let i = 0; i < n; i += stride) points.push([sorted[i], (i + 1) / n]);
  if (n > 0) points.push([sorted[n - 1], 1]);
  return points;
};

/** A CDF chart of one or more sample sets. */
export const cdfChart = (options: { title: string; xLabel: string; series: ReadonlyArray<{ name: string; samples: readonly number[] }>; logX?: boolean }): string =>
  lineChart({
    title: options.title,
    xLabel: options.xLabel,
    yLabel: 'fraction of lookups ≤ x',
    series: options.series.map((s) => ({ name: `${s.name} (n = ${s.samples.length})`, points: cdfPoints(s.samples) })),
    logX: options.logX,
    steps: true,
    yMin: 0,
    yMax: 1,
  });

export const lineChart = (options: ChartOptions): string => {
  const all = options.series.flatMap((s) => s.points).filter(([x]) => !options.logX || x > 0);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  let xMin = options.xMin ?? (xs.length ? Math.min(...xs) : 0);
  let xMax = options.xMax ?? (xs.length ? Math.max(...xs) : 1);
  let yMin = options.yMin ?? (ys.length ? Math.min(...ys) : 0);
  let yMax = options.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (options.logX) {
    xMin = 10 ** Math.floor(Math.log10(Math.max(xMin, 1e-9)));
    xMax = 10 ** Math.ceil(Math.log10(Math.max(xMax, xMin * 10)));
  }
  if (xMax <= xMin) xMax = xMin + 1;
  if (yMax <= yMin) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];

  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number =>
    MARGIN.left + (options.logX ? (Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)) : (x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number): number => MARGIN.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);

  const xTicks = options.logX ? logTicks(xMin, xMax) : linearTicks(xMin, xMax);
  const yTicks = linearTicks(yMin, yMax);
  out.push('<g stroke="#ddd" stroke-width="1">');
  for (const t of xTicks) out.push(`<line x1="${f(sx(t))}" y1="${MARGIN.top}" x2="${f(sx(t))}" y2="${MARGIN.top + plotH}"/>`);
  for (const t of yTicks) out.push(`<line x1="${MARGIN.left}" y1="${f(sy(t))}" x2="${MARGIN.left + plotW}" y2="${f(sy(t))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push('<g fill="#333">');
  for (const t of xTicks) out.push(`<text x="${f(sx(t))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  for (const t of yTicks) out.push(`<text x="${MARGIN.left - 8}" y="${f(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  out.push('</g>');

  options.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = series.points.filter(([x]) => !options.logX || x > 0);
    const d: string[] = [];
    points.forEach(([x, y], j) => {
      if (j === 0) d.push(`M${f(sx(x))} ${f(sy(options.steps ? 0 : y))}`);
      if (options.steps) d.push(`H${f(sx(x))}`, `V${f(sy(y))}`);
      else if (j > 0) d.push(`L${f(sx(x))} ${f(sy(y))}`);
    });
    out.push(`<path data-series="${escapeXml(series.name)}" d="${d.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    if (!options.steps) for (const [x, y] of points) out.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${colour}"/>`);
    const ly = MARGIN.top + 14 + i * 20;
    out.push(`<line x1="${WIDTH - MARGIN.right + 14}" y1="${ly - 4}" x2="${WIDTH - MARGIN.right + 34}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 40}" y="${ly}">${escapeXml(series.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};

const linearTicks = (lo: number, hi: number): number[] => {
  const raw = (hi - lo) / 6;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
};

const logTicks = (lo: number, hi: number): number[] => {
  const ticks: number[] = [];
  for (let decade = lo; decade <= hi * (1 + 1e-9); decade *= 10) {
    for (const m of [1, 2, 5]) if (decade * m <= hi * (1 + 1e-9)) ticks.push(Number((decade * m).toPrecision(12)));
  }
  return ticks;
};

const formatTick = (t: number): string => (Math.abs(t) >= 1000 ? `${t / 1000}k` : String(t));
