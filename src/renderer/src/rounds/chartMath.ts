// Pure helpers for the Rounds view's charts and history: axis scales and ticks, SVG paths, and each round's
// change against the round before it on the same target.
import type { RoundSummary } from '../../../shared/api';

export interface Scale {
  (value: number): number;
  domain: [number, number];
}

/** A linear map from [d0, d1] to [r0, r1]; a zero-width domain is widened so nothing divides by zero. */
export function linearScale(domain: [number, number], range: [number, number]): Scale {
  let [d0, d1] = domain;
  if (!(d1 > d0)) {
    const pad = Math.abs(d0) * 0.1 || 1;
    d0 -= pad;
    d1 += pad;
  }
  const [r0, r1] = range;
  const scale = ((value: number) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0)) as Scale;
  scale.domain = [d0, d1];
  return scale;
}

/** About `count` round-numbered ticks covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Top of an axis of fractions (mIoU): the next tenth above the largest value, from 0.1 up to 1. */
export function fractionAxisTop(values: readonly number[]): number {
  const largest = Math.max(0, ...values.filter(Number.isFinite));
  return Math.min(1, Math.max(0.1, Math.ceil(largest * 10 - 1e-9) / 10));
}

/** The iterations a learning curve's x axis spans: from 0 (the round's start) to the round's length or last point. */
export function curveIterationSpan(points: readonly { iteration: number }[], iters?: number): [number, number] {
  return [0, Math.max(iters ?? 0, ...points.map((p) => p.iteration))];
}

/** An SVG polyline path through the points, skipping non-finite values. */
export function linePath(points: readonly { x: number; y: number }[]): string {
  let path = '';
  let pen = false;
  for (const { x, y } of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    path += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  return path;
}

/**
 * mIoU change of each finished round against the previous finished round on the same target dataset, or null
 * for the first one (or when either has no mIoU).
 */
export function mIoUChanges(rounds: readonly RoundSummary[]): Map<number, number | null> {
  const changes = new Map<number, number | null>();
  const lastByTarget = new Map<number, RoundSummary>();
  for (const round of [...rounds].sort((a, b) => a.id - b.id)) {
    if (round.status !== 'done') continue;
    const previous = lastByTarget.get(round.targetDatasetId);
    changes.set(round.id, previous && previous.mIoU !== null && round.mIoU !== null ? round.mIoU - previous.mIoU : null);
    lastByTarget.set(round.targetDatasetId, round);
  }
  return changes;
}
