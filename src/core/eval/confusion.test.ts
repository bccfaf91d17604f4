import { describe, expect, it } from 'vitest';
import { CONFUSION_COLS, MISS_COLUMN, accumulate, createConfusion, mergeInto } from './confusion';

const at = (m: Float64Array, gt: number, pred: number): number => m[gt * CONFUSION_COLS + pred]!;
const total = (m: Float64Array): number => m.reduce((a, b) => a + b, 0);

describe('confusion matrix', () => {
  it('is 19 rows of 19 classes plus a miss column', () => {
    expect(createConfusion().length).toBe(19 * 20);
    expect(MISS_COLUMN).toBe(19);
  });

  it('counts gt rows against predicted columns', () => {
    const m = createConfusion();
    accumulate(m, Uint8Array.from([0, 0, 1, 18, 13]), Uint8Array.from([0, 1, 1, 18, 0]));
    expect(at(m, 0, 0)).toBe(1);
    expect(at(m, 0, 1)).toBe(1);
    expect(at(m, 1, 1)).toBe(1);
    expect(at(m, 18, 18)).toBe(1);
    expect(at(m, 13, 0)).toBe(1);
    expect(total(m)).toBe(5);
  });

  it('skips ignore (and any non-class) ground truth, whatever was predicted', () => {
    const m = createConfusion();
    accumulate(m, Uint8Array.from([255, 255, 19, 200, 2]), Uint8Array.from([0, 255, 3, 4, 2]));
    expect(total(m)).toBe(1);
    expect(at(m, 2, 2)).toBe(1);
  });

  it('counts a 255 or out-of-range prediction as a miss for the gt class', () => {
    const m = createConfusion();
    accumulate(m, Uint8Array.from([5, 5, 5]), Uint16Array.from([255, 19, 300]));
    expect(at(m, 5, MISS_COLUMN)).toBe(3);
    expect(total(m)).toBe(3);
  });

  it('adds up over calls and merges', () => {
    const a = createConfusion();
    accumulate(a, Uint8Array.from([3, 3]), Uint8Array.from([3, 4]));
    accumulate(a, Uint8Array.from([3]), Uint8Array.from([3]));
    const b = createConfusion();
    accumulate(b, Uint8Array.from([3, 7]), Uint8Array.from([4, 7]));
    mergeInto(a, b);
    expect(at(a, 3, 3)).toBe(2);
    expect(at(a, 3, 4)).toBe(2);
    expect(at(a, 7, 7)).toBe(1);
    expect(total(a)).toBe(5);
    expect(total(b)).toBe(2);
  });

  it('rejects mismatched sizes', () => {
    expect(() => accumulate(createConfusion(), new Uint8Array(4), new Uint8Array(3))).toThrow(/pixels/);
    expect(() => accumulate(new Float64Array(10), new Uint8Array(1), new Uint8Array(1))).toThrow();
    expect(() => mergeInto(createConfusion(), new Float64Array(3))).toThrow();
  });

  it('counts every evaluated pixel of a full-size image exactly once', () => {
    const n = 2048 * 1024;
    const gt = new Uint8Array(n);
    const pred = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      gt[i] = i % 23 === 0 ? 255 : i % 19;
      pred[i] = (i * 7) % 20 === 19 ? 255 : (i * 7) % 19;
    }
    const m = createConfusion();
    accumulate(m, gt, pred);
    expect(total(m)).toBe(n - Math.ceil(n / 23));
  });
});
