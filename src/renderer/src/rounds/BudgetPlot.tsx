// What the corrections bought: each finished round's target mIoU against the share of target training pixels
// that were human-corrected when it started.
import type { RoundSummary } from '../../../shared/api';
import { linearScale, niceTicks } from './chartMath';

const WIDTH = 360;
const HEIGHT = 200;
const PAD = { left: 44, right: 12, top: 10, bottom: 30 };

export function BudgetPlot({ rounds }: { rounds: readonly RoundSummary[] }) {
  const points = rounds.filter((r) => r.status === 'done' && r.mIoU !== null && r.correctedShare !== null);
  if (points.length === 0) return <p className="muted">The plot shows finished, evaluated rounds.</p>;
  const shares = points.map((r) => r.correctedShare!);
  const mious = points.map((r) => r.mIoU!);
  const x = linearScale([0, Math.max(0.05, ...shares)], [PAD.left, WIDTH - PAD.right]);
  const y = linearScale([0, Math.max(...mious) * 1.1], [HEIGHT - PAD.bottom, PAD.top]);
  const yDigits = y.domain[1] < 0.1 ? 1 : 0;
  return (
    <svg className="chart" data-testid="budget-plot" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="mIoU against the share of target training pixels corrected">
      {niceTicks(y.domain[0], y.domain[1], 4).map((t) => (
        <g key={t}>
          <line className="chart__grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} />
          <text className="chart__tick" x={PAD.left - 4} y={y(t) + 3} textAnchor="end">
            {(t * 100).toFixed(yDigits)}%
          </text>
        </g>
      ))}
      {niceTicks(x.domain[0], x.domain[1], 4).map((t) => (
        <text key={t} className="chart__tick" x={x(t)} y={HEIGHT - 16} textAnchor="middle">
          {(t * 100).toFixed(1)}%
        </text>
      ))}
      <text className="chart__tick" x={(PAD.left + WIDTH - PAD.right) / 2} y={HEIGHT - 3} textAnchor="middle">
        target training pixels corrected
      </text>
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
