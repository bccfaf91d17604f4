import { describe, expect, it } from 'vitest';
import { TRAIN_CLASSES } from '../../shared/labels';
import { CONFUSION_COLS, MISS_COLUMN, accumulate, createConfusion } from './confusion';
import { classIoUs, computeMetrics, formatMetricsTable } from './metrics';

/** Builds a matrix from [gt, pred, count] triples. */
function matrixOf(entries: [number, number, number][]): Float64Array {
  const m = createConfusion();
  for (const [g, p, n] of entries) m[g * CONFUSION_COLS + p]! += n;
  return m;
}

describe('computeMetrics', () => {
  it('computes IoU = TP / (TP + FP + FN) on a 3-class toy case', () => {
    //  gt\pred   road  sidewalk  building  miss | row
    //  road        5      1         0        2  |  8
    //  sidewalk    2      6         1        0  |  9
    //  building    0      1         3        0  |  4
    //  column      7      8         4
    // road:     TP 5, FP 7-5 = 2, FN 8-5 = 3  → 5/10
    // sidewalk: TP 6, FP 8-6 = 2, FN 9-6 = 3  → 6/11
    // building: TP 3, FP 4-3 = 1, FN 4-3 = 1  → 3/5
    const m = matrixOf([
      [0, 0, 5], [0, 1, 1], [0, MISS_COLUMN, 2],
      [1, 0, 2], [1, 1, 6], [1, 2, 1],
      [2, 1, 1], [2, 2, 3],
    ]);
    const r = computeMetrics(m);
    expect(r.perClass.road).toBeCloseTo(0.5, 12);
    expect(r.perClass.sidewalk).toBeCloseTo(6 / 11, 12);
    expect(r.perClass.building).toBeCloseTo(0.6, 12);
    // the 16 other classes are absent from gt and prediction: null and left out of the mean
    for (const c of TRAIN_CLASSES.slice(3)) expect(r.perClass[c.name]).toBeNull();
    const mean = (0.5 + 6 / 11 + 0.6) / 3;
    expect(r.mIoU).toBeCloseTo(mean, 12);
    expect(r.mIoU16).toBeCloseTo(mean, 12);
    expect(r.mIoU13).toBeCloseTo(mean, 12);
    expect(Object.keys(r.perClass)).toEqual(TRAIN_CLASSES.map((c) => c.name));
  });

  it('scores a class present only in the prediction (or only in gt) as 0 and keeps it in the mean', () => {
    // gt road predicted as car everywhere: road TP 0 FN 4 → 0; car TP 0 FP 4 → 0; sky perfect → 1
    const r = computeMetrics(matrixOf([[0, 13, 4], [10, 10, 6]]));
    expect(r.perClass.road).toBe(0);
    expect(r.perClass.car).toBe(0);
    expect(r.perClass.sky).toBe(1);
    expect(r.perClass.person).toBeNull();
    expect(r.mIoU).toBeCloseTo(1 / 3, 12);
  });

  it('ignores pixels whose gt is 255, even where predicted as a class', () => {
    const m = createConfusion();
    // 2 road hits, 1 road→miss, 3 ignore pixels predicted as road or person
    accumulate(m, Uint8Array.from([0, 0, 0, 255, 255, 255]), Uint8Array.from([0, 0, 255, 0, 0, 11]));
    const r = computeMetrics(m);
    expect(r.perClass.road).toBeCloseTo(2 / 3, 12); // TP 2, FP 0, FN 1
    expect(r.perClass.person).toBeNull(); // predicted only on ignore pixels
    expect(r.mIoU).toBeCloseTo(2 / 3, 12);
  });

  it('averages the 16- and 13-class protocols over the one 19-class matrix', () => {
    // road(0) in all protocols, wall(3) not in 13, terrain(9) not in 16/13.
    //   gt road → road 4, gt road → wall 1, gt terrain → road 2, gt wall → wall 3, gt terrain → terrain 5
    // road:    TP 4, FP 2 (terrain predicted as road still counts), FN 1 → 4/7
    // wall:    TP 3, FP 1, FN 0 → 3/4
    // terrain: TP 5, FP 0, FN 2 → 5/7
    const r = computeMetrics(matrixOf([[0, 0, 4], [0, 3, 1], [9, 0, 2], [3, 3, 3], [9, 9, 5]]));
    expect(r.perClass.road).toBeCloseTo(4 / 7, 12);
    expect(r.perClass.wall).toBeCloseTo(3 / 4, 12);
    expect(r.perClass.terrain).toBeCloseTo(5 / 7, 12);
    expect(r.mIoU).toBeCloseTo((4 / 7 + 3 / 4 + 5 / 7) / 3, 12);
    expect(r.mIoU16).toBeCloseTo((4 / 7 + 3 / 4) / 2, 12);
    expect(r.mIoU13).toBeCloseTo(4 / 7, 12);
  });

  it('gives null means when nothing was evaluated', () => {
    const r = computeMetrics(createConfusion());
    expect(r.mIoU).toBeNull();
    expect(r.mIoU16).toBeNull();
    expect(r.mIoU13).toBeNull();
    expect(classIoUs(createConfusion()).every((v) => v === null)).toBe(true);
  });

  it('gives a null 13-class mean when only classes outside it occur', () => {
    const r = computeMetrics(matrixOf([[9, 9, 1], [3, 3, 1]]));
    expect(r.mIoU).toBe(1);
    expect(r.mIoU16).toBe(1);
    expect(r.mIoU13).toBeNull();
  });
});

describe('formatMetricsTable', () => {
  it('prints per-class percent, n/a for absent classes, and the three means', () => {
    const text = formatMetricsTable(computeMetrics(matrixOf([[0, 0, 3], [0, 1, 1], [9, 9, 1]])));
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('road '))).toMatch(/\s75\.00$/);
    expect(lines.find((l) => l.startsWith('sidewalk '))).toMatch(/\s0\.00$/);
    expect(lines.find((l) => l.startsWith('terrain '))).toMatch(/100\.00\s+not in 16\/13$/);
    expect(lines.find((l) => l.startsWith('person '))).toMatch(/n\/a$/);
    expect(lines.find((l) => l.startsWith('mIoU (19 classes)'))).toMatch(/58\.33$/);
    expect(lines.find((l) => l.startsWith('mIoU (16 classes)'))).toMatch(/37\.50$/);
    expect(lines.find((l) => l.startsWith('mIoU (13 classes)'))).toMatch(/37\.50$/);
    // values are right-aligned in one column
    const ends = lines.filter((l) => /\d$/.test(l) && !l.includes('not in')).map((l) => l.length);
    expect(new Set(ends).size).toBe(1);
  });
});
