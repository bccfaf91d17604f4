// The running round's loss terms against iterations, one line per term, as a small SVG chart.
import { plotRanges, XAxis, YAxis, type ChartFrame } from './ChartAxis';
import { linearScale, linePath } from './chartMath';
import type { LossPoint } from './useRounds';

const FRAME: ChartFrame = { width: 520, height: 200, pad: { left: 44, right: 110, top: 10, bottom: 26 } };
const { width: WIDTH, height: HEIGHT, pad: PAD } = FRAME;
const COLOURS = ['#5aa0ff', '#ff8a65', '#81c784', '#ba68c8', '#ffd54f', '#4dd0e1', '#e57373', '#a1887f'];

export function LossChart({ points }: { points: readonly LossPoint[] }) {
  const terms = [...new Set(points.flatMap((p) => Object.keys(p.losses)))].sort((a, b) => (a === 'total' ? -1 : b === 'total' ? 1 : a.localeCompare(b)));
  if (points.length < 2 || terms.length === 0) return <p className="muted" data-testid="loss-chart-empty">The loss chart starts after the first progress reports.</p>;
  const values = points.flatMap((p) => Object.values(p.losses)).filter(Number.isFinite);
  const x = linearScale([points[0]!.iteration, points.at(-1)!.iteration], plotRanges(FRAME).x);
  const y = linearScale([Math.min(0, ...values), Math.max(...values)], plotRanges(FRAME).y);
  return (
    <svg className="chart" data-testid="loss-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Loss terms over iterations">
      <YAxis frame={FRAME} scale={y} ticks={4} />
      <XAxis frame={FRAME} scale={x} ticks={5} />
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
