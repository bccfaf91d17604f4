// What the corrections bought: each finished round's target mIoU against the share of target training pixels
// that were human-corrected when it started.
import type { RoundSummary } from '../../../shared/api';
import { plotRanges, XAxis, YAxis, type ChartFrame } from './ChartAxis';
import { linearScale } from './chartMath';

const FRAME: ChartFrame = { width: 360, height: 200, pad: { left: 44, right: 12, top: 10, bottom: 30 } };
const { width: WIDTH, height: HEIGHT } = FRAME;

export function BudgetPlot({ rounds }: { rounds: readonly RoundSummary[] }) {
  const points = rounds.filter((r) => r.status === 'done' && r.mIoU !== null && r.correctedShare !== null);
  if (points.length === 0) return <p className="muted">The plot shows finished, evaluated rounds.</p>;
  const shares = points.map((r) => r.correctedShare!);
  const mious = points.map((r) => r.mIoU!);
  const x = linearScale([0, Math.max(0.05, ...shares)], plotRanges(FRAME).x);
  const y = linearScale([0, Math.max(...mious) * 1.1], plotRanges(FRAME).y);
  const yDigits = y.domain[1] < 0.1 ? 1 : 0;
  return (
    <svg className="chart" data-testid="budget-plot" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="mIoU against the share of target training pixels corrected">
      <YAxis frame={FRAME} scale={y} ticks={4} format={(t) => `${(t * 100).toFixed(yDigits)}%`} />
      <XAxis frame={FRAME} scale={x} ticks={4} format={(t) => `${(t * 100).toFixed(1)}%`} title="target training pixels corrected" />
      {points.map((r) => (
        <g key={r.id} data-testid="budget-point">
          <circle className="chart__point" cx={x(r.correctedShare!)} cy={y(r.mIoU!)} r={4}>
            <title>{`Round ${r.id} (${r.method}): mIoU ${(r.mIoU! * 100).toFixed(1)}%, ${(r.correctedShare! * 100).toFixed(2)}% corrected`}</title>
          </circle>
          <text className="chart__tick" x={x(r.correctedShare!) + 6} y={y(r.mIoU!) - 6}>
            #{r.id}
          </text>
        </g>
      ))}
    </svg>
  );
}
