import { describe, expect, it } from 'vitest';
import type { RegionStats } from '../../../shared/api';
import { formatDuration, regionCountsText, regionTimeText, visitSeconds } from './regionTime';

const stats = (over: Partial<RegionStats>): RegionStats => ({ roundId: 1, open: 200, done: 3, skipped: 1, covered: 0, timed: 4, medianSeconds: 12, ...over });

describe('region time', () => {
  it('times a visit to a tenth of a second and leaves out visits over an hour', () => {
    expect(visitSeconds(1000, 13_460)).toBe(12.5);
    expect(visitSeconds(0, 3_600_000)).toBe(3600);
    expect(visitSeconds(0, 3_600_001)).toBeUndefined();
    expect(visitSeconds(10, 5)).toBeUndefined();
  });

  it('reads durations in seconds, minutes or hours', () => {
    expect([formatDuration(0.4), formatDuration(12.4), formatDuration(89), formatDuration(90), formatDuration(2400), formatDuration(5400), formatDuration(9000)]).toEqual([
      '0 s', '12 s', '89 s', '2 min', '40 min', '1.5 h', '2.5 h',
    ]);
  });

  it('summarises the queue: counts by state and the median visit times the open regions', () => {
    expect(regionCountsText(stats({}))).toBe('3 done · 1 skipped · 0 covered · 200 open');
    expect(regionCountsText(stats({ covered: 2 }))).toBe('3 done · 1 skipped · 2 covered · 200 open');
    expect(regionTimeText(stats({}))).toBe('≈ 12 s per region · 40 min for the 200 open');
    expect(regionTimeText(stats({ open: 0 }))).toBe('≈ 12 s per region');
    expect(regionTimeText(stats({ timed: 0, medianSeconds: null }))).toBeNull();
  });
});
