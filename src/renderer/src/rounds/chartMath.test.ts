import { describe, expect, it } from 'vitest';
import type { RoundSummary } from '../../../shared/api';
import { curveIterationSpan, fractionAxisTop, linearScale, linePath, mIoUChanges, niceTicks } from './chartMath';

describe('chart math', () => {
  it('maps linearly, flips for SVG y, and survives a zero-width domain', () => {
    const y = linearScale([0, 2], [100, 0]);
    expect(y(0)).toBe(100);
    expect(y(1)).toBe(50);
    const flat = linearScale([3, 3], [0, 10]);
    expect(flat(3)).toBe(5);
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.013, 0.061, 4)).toEqual([0.02, 0.04, 0.06]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });

  it('draws paths and breaks them at missing values', () => {
    expect(linePath([{ x: 0, y: 1 }, { x: 2, y: 3 }, { x: 4, y: NaN }, { x: 5, y: 6 }])).toBe('M0.0,1.0L2.0,3.0M5.0,6.0');
  });

  it('tops a fraction axis at the next tenth above the largest value, between 0.1 and 1', () => {
    expect(fractionAxisTop([0.12, 0.34])).toBe(0.4);
    expect(fractionAxisTop([0.4])).toBe(0.4);
    expect(fractionAxisTop([0.01])).toBe(0.1);
    expect(fractionAxisTop([])).toBe(0.1);
    expect(fractionAxisTop([0.97, NaN])).toBe(1);
  });

  it('spans a learning curve from iteration 0 to the round length, or to the last point past it', () => {
    expect(curveIterationSpan([{ iteration: 20 }, { iteration: 40 }], 200)).toEqual([0, 200]);
    expect(curveIterationSpan([{ iteration: 20 }, { iteration: 40 }])).toEqual([0, 40]);
    expect(curveIterationSpan([], 50)).toEqual([0, 50]);
  });

  it('gives each finished round its mIoU change against the previous finished round of the same target', () => {
    const round = (id: number, target: number, mIoU: number | null, status: RoundSummary['status'] = 'done') => ({ id, targetDatasetId: target, mIoU, status }) as RoundSummary;
    const changes = mIoUChanges([round(3, 1, 0.3), round(1, 1, 0.2), round(2, 2, 0.5), round(4, 1, 0.9, 'failed'), round(5, 1, null), round(6, 1, 0.25)]);
    expect(changes.get(1)).toBeNull();
    expect(changes.get(3)).toBeCloseTo(0.1);
    expect(changes.get(2)).toBeNull();
    expect(changes.has(4)).toBe(false);
    expect(changes.get(5)).toBeNull();
    expect(changes.get(6)).toBeNull(); // the previous done round (5) has no mIoU
  });
});
