import { describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import type { StoredImage } from '../store/datasetsRepo';
import { defaultConfig, defaultEvalEvery } from './config';
import { curvePoint, curveUpTo, labelledValImages, scoresAfter, scoringsLeft } from './valCurve';

describe('the learning curve schedule', () => {
  it('scores about ten times a round by default, on multiples of 10, and can be turned off', () => {
    expect(defaultEvalEvery(300)).toBe(30);
    expect(defaultEvalEvery(1000)).toBe(100);
    expect(defaultEvalEvery(250)).toBe(30);
    expect(defaultEvalEvery(16)).toBe(10);
    expect(defaultConfig('corda', 'tiny').evalEvery).toBe(defaultEvalEvery(defaultConfig('corda', 'tiny').iters));
    expect(defaultConfig('corda', 'tiny', { iters: 300 }).evalEvery).toBe(30);
    expect(defaultConfig('corda', 'tiny', { iters: 2000 }).evalEvery).toBe(200);
    expect(defaultConfig('corda', 'tiny', { iters: 2000, evalEvery: 0 }).evalEvery).toBe(0);
    expect(() => defaultConfig('corda', 'tiny', { evalEvery: -5 })).toThrow(UserError);
    expect(() => defaultConfig('corda', 'tiny', { evalEvery: 2.5 })).toThrow(/val scoring interval must be 0 \(off\) or a whole number/);
  });

  it('scores on every multiple before the end (the final evaluation gives the last point), never when off', () => {
    const config = { evalEvery: 3, iters: 9 };
    expect([...Array(9).keys()].map((i) => i + 1).filter((done) => scoresAfter(done, config))).toEqual([3, 6]);
    expect(scoresAfter(10, { evalEvery: 0, iters: 20 })).toBe(false);
    expect(scoringsLeft(0, config)).toBe(2);
    expect(scoringsLeft(3, config)).toBe(1);
    expect(scoringsLeft(6, config)).toBe(0);
    expect(scoringsLeft(5, { evalEvery: 0, iters: 20 })).toBe(0);
  });

  it('keeps the points a resumed round can vouch for, and copies the losses it is given', () => {
    const losses = { total: 1, sourceCe: 1, sourceDepth: 0, mixedCe: 0, mixedDepth: 0, correctedCe: 0, confidentShare: 0 };
    const curve = [curvePoint(10, 0.1, losses), curvePoint(20, 0.2, losses), curvePoint(30, null, null)];
    expect(curveUpTo(curve, 20).map((p) => p.iteration)).toEqual([10, 20]);
    expect(curve[0]!.losses).toEqual(losses);
    expect(curve[0]!.losses).not.toBe(losses);
    expect(curve[2]!.losses).toEqual({});
  });

  it('scores only val images that have ground truth', () => {
    const image = (id: number, split: string, labelPath: string | null) => ({ id, split, labelPath }) as StoredImage;
    const picked = labelledValImages([image(1, 'train', 'a.png'), image(2, 'val', 'b.png'), image(3, 'val', null), image(4, 'test', 'c.png')]);
    expect(picked.map((i) => i.id)).toEqual([2]);
  });
});
