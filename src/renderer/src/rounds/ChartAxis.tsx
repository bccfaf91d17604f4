// The axes the Rounds view's charts share: a y axis of ticks with grid lines across the plot, an x axis of tick
// labels (with room for a title underneath when it has one), inside a chart frame of fixed size and padding.
import { niceTicks, type Scale } from './chartMath';
import './rounds.css';

export interface ChartFrame {
  width: number;
  height: number;
  pad: { left: number; right: number; top: number; bottom: number };
}

/** Screen ranges of the plot area inside the padding: x left to right, y bottom to top. */
export function plotRanges({ width, height, pad }: ChartFrame): { x: [number, number]; y: [number, number] } {
  return { x: [pad.left, width - pad.right], y: [height - pad.bottom, pad.top] };
}

interface AxisProps {
  frame: ChartFrame;
  scale: Scale;
  /** About how many ticks. */
  ticks: number;
  format?: (tick: number) => string;
}

export function YAxis({ frame, scale, ticks, format = String }: AxisProps) {
  const { width, pad } = frame;
  return (
    <>
      {niceTicks(scale.domain[0], scale.domain[1], ticks).map((t) => (
        <g key={t}>
          <line className="chart__grid" x1={pad.left} x2={width - pad.right} y1={scale(t)} y2={scale(t)} />
          <text className="chart__tick" x={pad.left - 4} y={scale(t) + 3} textAnchor="end">
            {format(t)}
          </text>
        </g>
      ))}
    </>
  );
}

export function XAxis({ frame, scale, ticks, format = String, title }: AxisProps & { title?: string }) {
  const { width, height, pad } = frame;
  return (
    <>
      {niceTicks(scale.domain[0], scale.domain[1], ticks).map((t) => (
        <text key={t} className="chart__tick" x={scale(t)} y={height - (title ? 16 : 8)} textAnchor="middle">
          {format(t)}
        </text>
      ))}
      {title && (
        <text className="chart__tick" x={(pad.left + width - pad.right) / 2} y={height - 3} textAnchor="middle">
          {title}
        </text>
      )}
    </>
  );
}
