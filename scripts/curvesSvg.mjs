// Learning curves as a standalone SVG image: target val mIoU against iterations, one line per series, with
// axes and a legend. Pure (data in, text out), so `npm run quality` and a later PyTorch twin draw on one chart:
// a twin's series can be dashed and share its engine counterpart's colour through `group`.

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const WIDTH = 640;
const HEIGHT = 360;
const PAD = { left: 56, right: 180, top: 40, bottom: 48 };

/**
 * The mean of several runs' curves (e.g. one per seed) per iteration, over the runs that scored it.
 * @param {{ iteration: number, valMIoU: number | null }[][]} runs
 * @returns {{ iteration: number, value: number }[]}
 */
export function meanCurve(runs) {
  const sums = new Map();
  for (const run of runs) {
    for (const { iteration, valMIoU } of run) {
      if (valMIoU === null || !Number.isFinite(valMIoU)) continue;
      const acc = sums.get(iteration) ?? { sum: 0, n: 0 };
      acc.sum += valMIoU;
      acc.n++;
      sums.set(iteration, acc);
    }
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([iteration, { sum, n }]) => ({ iteration, value: sum / n }));
}

/** About `count` round-numbered ticks from 0 to max. */
function ticks(max, count) {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = 0; t <= max + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const escapeXml = (text) => String(text).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);
const f1 = (v) => v.toFixed(1);

/**
 * @param {{ label: string, points: { iteration: number, value: number }[], dashed?: boolean, group?: string }[]} series
 *   values are fractions (0.42 = 42 % mIoU); series sharing a `group` (default: the label) share a colour
 * @param {{ title?: string, xLabel?: string, yLabel?: string }} [options]
 * @returns {string} an SVG document
 */
export function curvesSvg(series, options = {}) {
  const { title = 'Target val mIoU during training', xLabel = 'iteration', yLabel = 'val mIoU' } = options;
  const drawn = series.filter((s) => s.points.some((p) => Number.isFinite(p.value)));
  const all = drawn.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value));
  const xMax = Math.max(1, ...all.map((p) => p.iteration));
  const yMax = Math.min(1, Math.max(0.1, Math.ceil(Math.max(0, ...all.map((p) => p.value)) * 10 - 1e-9) / 10));
  const x = (iteration) => PAD.left + (iteration / xMax) * (WIDTH - PAD.left - PAD.right);
  const y = (value) => HEIGHT - PAD.bottom - (value / yMax) * (HEIGHT - PAD.top - PAD.bottom);
  const groups = [...new Set(drawn.map((s) => s.group ?? s.label))];
  const colour = (s) => COLOURS[groups.indexOf(s.group ?? s.label) % COLOURS.length];

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="${PAD.top - 16}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const t of ticks(yMax, 5)) {
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="#dddddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${f1(y(t) + 4)}" text-anchor="end" fill="#555555">${Math.round(t * 100)}%</text>`);
  }
  for (const t of ticks(xMax, 6)) {
    parts.push(`<text x="${f1(x(t))}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" fill="#555555">${t}</text>`);
  }
  parts.push(`<text x="${(PAD.left + WIDTH - PAD.right) / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(PAD.top + HEIGHT - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  if (drawn.length === 0) {
    parts.push(`<text x="${(PAD.left + WIDTH - PAD.right) / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#555555">no val scorings</text>`);
  }
  drawn.forEach((s, i) => {
    const points = s.points.filter((p) => Number.isFinite(p.value)).sort((a, b) => a.iteration - b.iteration);
    const d = points.map((p, k) => `${k === 0 ? 'M' : 'L'}${f1(x(p.iteration))},${f1(y(p.value))}`).join('');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${colour(s)}" stroke-width="2"${dash}><title>${escapeXml(s.label)}</title></path>`);
    for (const p of points) {
      parts.push(`<circle cx="${f1(x(p.iteration))}" cy="${f1(y(p.value))}" r="2.5" fill="${colour(s)}"><title>${escapeXml(`${s.label}: ${(p.value * 100).toFixed(1)}% at ${p.iteration}`)}</title></circle>`);
    }
    const ly = PAD.top + 8 + i * 18;
    const lx = WIDTH - PAD.right + 14;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${colour(s)}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
