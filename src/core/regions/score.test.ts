import { describe, expect, it } from 'vitest';
import { classEntropy, regionScore, scoreRegions, type RegionLayers } from './score';

// 4x2 pixels; superpixel 0 is the left half, 1 the right half.
//   superpixels  0 0 1 1     labels  0 0 0 1     confidence 204 (0.8) left, 102 (0.4) right
//                0 0 1 1             0 0 0 1     difficulty  51 (0.2) left, 204 (0.8) right
const twoRegions: RegionLayers = {
  width: 4,
  height: 2,
  superpixels: Uint16Array.from([0, 0, 1, 1, 0, 0, 1, 1]),
  count: 2,
  labels: Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 1]),
  confidence: Uint8Array.from([204, 204, 102, 102, 204, 204, 102, 102]),
  difficulty: Uint8Array.from([51, 51, 204, 204, 51, 51, 204, 204]),
};

describe('region score', () => {
  it('matches the hand-computed scores, the doubtful mixed region first', () => {
    const [first, second] = scoreRegions(twoRegions);
    // Right: disagreement 0.8, uncertainty 0.6, two classes half and half → impurity ln 2 / ln 19.
    expect(first!.superpixel).toBe(1);
    expect(first!.pixels).toBe(4);
    expect(first!.disagreement).toBeCloseTo(0.8, 10);
    expect(first!.uncertainty).toBeCloseTo(0.6, 10);
    expect(first!.impurity).toBeCloseTo(Math.LN2 / Math.log(19), 10);
    expect(first!.score).toBeCloseTo(0.8 * 0.6 * (0.5 + Math.LN2 / Math.log(19)), 10);
    // Left: calm and pure, still ranked (not zero): 0.2 × 0.2 × 0.5.
    expect(second).toMatchObject({ superpixel: 0, pixels: 4, impurity: 0 });
    expect(second!.score).toBeCloseTo(0.02, 10);
  });

  it('ranks a pure region the depth heads disagree on above a calm mixed one', () => {
    expect(regionScore(0.9, 0.5, 0)).toBeGreaterThan(regionScore(0.1, 0.5, 1));
  });

  it('drops regions under the minimum size and ignores 255 in the class histogram', () => {
    const layers: RegionLayers = { ...twoRegions, superpixels: Uint16Array.from([0, 0, 0, 1, 0, 0, 0, 0]), labels: Uint8Array.from([3, 255, 3, 3, 3, 255, 3, 3]) };
    const scores = scoreRegions(layers, 2);
    expect(scores.map((s) => s.superpixel)).toEqual([0]);
    expect(scores[0]!.pixels).toBe(7);
    expect(scores[0]!.impurity).toBe(0);
  });

  it('normalises class entropy by log 19', () => {
    expect(classEntropy(new Array(19).fill(5))).toBeCloseTo(1, 12);
    expect(classEntropy([0, 0, 0])).toBe(0);
    expect(classEntropy([7])).toBe(0);
  });

  it('refuses layers of different sizes', () => {
    expect(() => scoreRegions({ ...twoRegions, difficulty: new Uint8Array(3) })).toThrow(/difficulty layer has 3 pixels/);
  });
});
