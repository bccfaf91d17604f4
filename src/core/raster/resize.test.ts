import { describe, expect, it } from 'vitest';
import { axisMapping, isScaledSize, resizeNearest, resizeNearestCentred, upsampleNearest } from './resize';

describe('resizeNearest', () => {
  it('doubles a 2x2 map', () => {
    const out = upsampleNearest(Uint8Array.from([1, 2, 3, 4]), 2, 2, 4, 4);
    expect(Array.from(out)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('samples floor(x * w / W) for non-integer factors', () => {
    // w = 3 → W = 5: x = 0..4 → floor(0, 0.6, 1.2, 1.8, 2.4) = 0, 0, 1, 1, 2
    const out = upsampleNearest(Uint8Array.from([10, 20, 30]), 3, 1, 5, 2);
    expect(Array.from(out)).toEqual([10, 10, 20, 20, 30, 10, 10, 20, 20, 30]);
  });

  it('returns the same array when the size does not change, and keeps 16-bit values', () => {
    const src = Uint16Array.from([300, 7]);
    expect(resizeNearest(src, 2, 1, 2, 1)).toBe(src);
    const up = resizeNearest(src, 2, 1, 4, 1);
    expect(up).toBeInstanceOf(Uint16Array);
    expect(Array.from(up)).toEqual([300, 300, 7, 7]);
  });

  it('can downsample, but upsampleNearest refuses to', () => {
    expect(Array.from(resizeNearest(Uint8Array.from([1, 2, 3, 4]), 4, 1, 2, 1))).toEqual([1, 3]);
    expect(() => upsampleNearest(Uint8Array.from([1, 2, 3, 4]), 4, 1, 2, 1)).toThrow();
    expect(() => resizeNearest(Uint8Array.from([1, 2]), 3, 1, 6, 1)).toThrow();
  });
});

describe('isScaledSize', () => {
  it('accepts one scale factor up to a pixel of rounding', () => {
    expect(isScaledSize(2048, 1024, 2048, 1024)).toBe(true);
    expect(isScaledSize(1024, 512, 2048, 1024)).toBe(true);
    expect(isScaledSize(513, 257, 2048, 1024)).toBe(true);
    expect(isScaledSize(957, 526, 1914, 1052)).toBe(true);
  });

  it('refuses another aspect ratio', () => {
    expect(isScaledSize(1024, 1024, 2048, 1024)).toBe(false);
    expect(isScaledSize(1280, 720, 1914, 1052)).toBe(false);
    expect(isScaledSize(1024, 500, 2048, 1024)).toBe(false);
  });
});

describe('isScaledSize on tiny maps', () => {
  it('does not let a one-pixel tolerance hide a different aspect ratio', () => {
    expect(isScaledSize(2, 2, 4, 2)).toBe(false);
    expect(isScaledSize(2, 1, 4, 2)).toBe(true);
    expect(isScaledSize(3, 1, 5, 2)).toBe(true); // 5x2 * 0.6 = 3x1.2
  });
});

describe('resizeNearestCentred', () => {
  it('samples floor((x + 0.5) * w / W), the geometry of the working-size input', () => {
    // w = 3 → W = 5: x = 0..4 → floor(0.3, 0.9, 1.5, 2.1, 2.7) = 0, 0, 1, 2, 2
    expect(Array.from(resizeNearestCentred(Uint8Array.from([10, 20, 30]), 3, 1, 5, 1))).toEqual([10, 10, 20, 30, 30]);
    // Downsampling 4 → 2 reads the second of each pair (floor(0.5 * 2), floor(1.5 * 2)), not the first.
    expect(Array.from(resizeNearestCentred(Uint8Array.from([1, 2, 3, 4]), 4, 1, 2, 1))).toEqual([2, 4]);
    expect(() => resizeNearestCentred(Uint8Array.from([1, 2]), 3, 1, 6, 1)).toThrow(/expected 3x1/);
  });

  it('returns a copy when the size does not change', () => {
    const src = Uint8Array.from([5, 6]);
    const same = resizeNearestCentred(src, 2, 1, 2, 1);
    expect(same).not.toBe(src);
    expect(Array.from(same)).toEqual([5, 6]);
  });

  it('resizes 16-bit ids exactly as each of their byte planes', () => {
    const [w, h] = [12, 6];
    const ids = Uint16Array.from({ length: w * h }, (_, i) => (i * 2654435761) % 65536);
    for (const [W, H] of [[30, 17], [7, 3]] as const) {
      const resized = resizeNearestCentred(ids, w, h, W, H);
      expect(resized).toBeInstanceOf(Uint16Array);
      expect(Array.from(resized, (v) => v & 0xff)).toEqual(Array.from(resizeNearestCentred(Uint8Array.from(ids, (v) => v & 0xff), w, h, W, H)));
      expect(Array.from(resized, (v) => v >> 8)).toEqual(Array.from(resizeNearestCentred(Uint8Array.from(ids, (v) => v >> 8), w, h, W, H)));
    }
  });

  it('maps each native index to the working index it shows', () => {
    expect(Array.from(axisMapping(3, 5))).toEqual([0, 0, 1, 2, 2]);
    expect(Array.from(axisMapping(4, 4))).toEqual([0, 1, 2, 3]);
  });
});
