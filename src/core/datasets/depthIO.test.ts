import { describe, expect, it } from 'vitest';
import { CITYSCAPES_BASELINE, depthToTarget, encodeCityscapesDisparity, encodeMonodepthDisparity, encodeSynthiaDepth } from './demo/generate';
import { cityscapesDisparityToTarget, metresToTarget, monodepthToTarget, synthiaDepthToTarget, INVALID_DEPTH } from './depthIO';

describe('depth targets (CORDA.md §2)', () => {
  // Monodepth-style uint16 saturates below ~2.6 m (target > 257), so the probes start at 3 m.
  const depths = new Float32Array([3, 5, 12.3, 40, 150]);

  it('turns metres into 655.36 / (d + 0.01) and marks < 0.1 m invalid', () => {
    expect(metresToTarget(5)).toBeCloseTo(655.36 / 5.01, 6);
    expect(metresToTarget(0.05)).toBe(INVALID_DEPTH);
    expect(metresToTarget(1000)).toBeCloseTo(655.36 / 655.36, 6);
  });

  it('decodes the three file encodings back to the same target within their quantisation', () => {
    const fx = 2262.52;
    const fromCityscapes = cityscapesDisparityToTarget(encodeCityscapesDisparity(depths, CITYSCAPES_BASELINE, fx), {
      extrinsic: { baseline: CITYSCAPES_BASELINE },
      intrinsic: { fx },
    });
    const fromMonodepth = monodepthToTarget(encodeMonodepthDisparity(depths));
    const fromSynthia = synthiaDepthToTarget(encodeSynthiaDepth(depths));
    depths.forEach((d, i) => {
      const expected = depthToTarget(d);
      expect(Math.abs(fromCityscapes[i]! - expected) / expected).toBeLessThan(0.01);
      expect(Math.abs(fromMonodepth[i]! - expected)).toBeLessThan(1 / 256 + 1e-6);
      expect(Math.abs(fromSynthia[i]! - expected) / expected).toBeLessThan(0.01);
    });
  });

  it('maps the invalid codes to 1.0', () => {
    expect(Array.from(cityscapesDisparityToTarget(new Uint16Array([0, 1]), { extrinsic: { baseline: 0.2 }, intrinsic: { fx: 1000 } }))).toEqual([1, 1]);
    expect(monodepthToTarget(new Uint16Array([0]))[0]).toBe(1);
    expect(synthiaDepthToTarget(new Uint16Array([65535]))[0]).toBe(1);
  });
});
