// The running round's loss terms against iterations, one line per term, as a small SVG chart.
import { linearScale, linePath, niceTicks } from './chartMath';
import type { LossPoint } from './useRounds';

const WIDTH = 520;
const HEIGHT = 200;
const PAD = { left: 44, right: 110, top: 10, bottom: 26 };
const COLOURS = ['#5aa0ff', '#ff8a65', '#81c784', '#ba68c8', '#ffd54f', '#4dd0e1', '#e57373', '#a1887f'];

export function LossChart({ points }: { points: readonly LossPoint[] }) {
  const terms = [...new Set(points.flatMap((p) => Object.keys(p.losses)))].sort((a, b) => (a === 'total' ? -1 : b === 'total' ? 1 : a.localeCompare(b)));
  if (points.length < 2 || terms.length === 0) return <p className="muted" data-testid="loss-chart-empty">The loss chart starts after the first progress reports.</p>;
  const values = points.flatMap((p) => Object.values(p.losses)).filter(Number.isFinite);
  const x = linearScale([points[0]!.iteration, points.at(-1)!.iteration], [PAD.left, WIDTH - PAD.right]);
  const y = linearScale([Math.min(0, ...values), Math.max(...values)], [HEIGHT - PAD.bottom, PAD.top]);
  return (
    <svg className="chart" data-testid="loss-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Loss terms over iterations">
      {niceTicks(y.domain[0], y.domain[1], 4).map((t) => (
        <g key={t}>
          <line className="chart__grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} />
          <text className="chart__tick" x={PAD.left - 4} y={y(t) + 3} textAnchor="end">
            {t}
          </text>
        </g>
      ))}
      {niceTicks(x.domain[0], x.domain[1], 5).map((t) => (
        <text key={t} className="chart__tick" x={x(t)} y={HEIGHT - 8} textAnchor="middle">
          {t}
        </text>
      ))}
      {terms.map((term, i) => (
        <g key={term}>
          <path className="chart__line" stroke={COLOURS[i % COLOURS.length]} d={linePath(points.map((p) => ({ x: x(p.iteration), y: y(p.losses[term] ?? NaN) })))} />
          <text className="chart__legend" x={WIDTH - PAD.right + 8} y={PAD.top + 12 + i * 14} fill={COLOURS[i % COLOURS.length]}>
            {term}
          </text>
        </g>
      ))}
    </svg>
  );
}
