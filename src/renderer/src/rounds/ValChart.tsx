// A round's learning curve: target val mIoU against iterations as a small SVG chart (the LossChart's style),
// with the numbers in a table underneath for screen readers and for anyone who wants them exact.
import type { CurvePoint } from '../../../shared/api';
import { plotRanges, XAxis, YAxis, type ChartFrame } from './ChartAxis';
import { curveIterationSpan, fractionAxisTop, linearScale, linePath } from './chartMath';
import { percent } from './useRounds';

const FRAME: ChartFrame = { width: 360, height: 200, pad: { left: 44, right: 12, top: 10, bottom: 30 } };
const { width: WIDTH, height: HEIGHT } = FRAME;

export function ValChart({ curve, iters, testId = 'val-chart' }: { curve: readonly CurvePoint[]; iters?: number; testId?: string }) {
  const scored = curve.filter((p): p is CurvePoint & { valMIoU: number } => p.valMIoU !== null);
  if (scored.length === 0) {
    return (
      <p className="muted" data-testid={`${testId}-empty`}>
        Val mIoU is charted once the round scores the target&apos;s val split (it needs val images with labels).
      </p>
    );
  }
  const x = linearScale(curveIterationSpan(scored, iters), plotRanges(FRAME).x);
  const y = linearScale([0, fractionAxisTop(scored.map((p) => p.valMIoU))], plotRanges(FRAME).y);
  const last = scored.at(-1)!;
  const label = `Target val mIoU against iterations: ${percent(last.valMIoU)} at iteration ${last.iteration} (${scored.length} scorings; numbers below)`;
  return (
    <figure className="val-chart" data-testid={testId}>
      <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        <title>{label}</title>
        <YAxis frame={FRAME} scale={y} ticks={4} format={(t) => `${Math.round(t * 100)}%`} />
        <XAxis frame={FRAME} scale={x} ticks={4} title="iteration" />
        <path className="chart__line chart__line--val" d={linePath(scored.map((p) => ({ x: x(p.iteration), y: y(p.valMIoU) })))} />
        {scored.map((p) => (
          <circle key={p.iteration} className="chart__point chart__point--val" data-testid={`${testId}-point`} cx={x(p.iteration)} cy={y(p.valMIoU)} r={3}>
            <title>{`iteration ${p.iteration}: val mIoU ${percent(p.valMIoU)}`}</title>
          </circle>
        ))}
      </svg>
      <details className="val-chart__numbers">
        <summary>numbers</summary>
        <table className="per-class" data-testid={`${testId}-table`}>
          <thead>
            <tr>
              <th>iteration</th>
              <th>val mIoU</th>
              <th>loss</th>
            </tr>
          </thead>
          <tbody>
            {curve.map((p) => (
              <tr key={p.iteration}>
                <td>{p.iteration.toLocaleString()}</td>
                <td>{percent(p.valMIoU)}</td>
                <td>{p.losses.total === undefined ? '—' : p.losses.total.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
