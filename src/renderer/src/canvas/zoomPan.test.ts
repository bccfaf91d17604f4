import { describe, expect, it } from 'vitest';
import {
  MAX_SCALE,
  MIN_SCALE,
  actualSizeView,
  fitView,
  formatZoom,
  panBy,
  toImagePoint,
  wheelZoomFactor,
  zoomAbout,
} from './zoomPan';

describe('fitView', () => {
  it('fits a wide image to the viewport width and centres it vertically', () => {
    const view = fitView({ width: 2048, height: 1024 }, { width: 1024, height: 1024 }, 0);
    expect(view.scale).toBe(0.5);
    expect(view.x).toBe(0);
    expect(view.y).toBe(256);
  });

  it('leaves the margin on the limiting side', () => {
    const view = fitView({ width: 100, height: 100 }, { width: 216, height: 400 }, 8);
    expect(view.scale).toBe(2);
    expect(view.x).toBe(8);
    expect(view.y).toBe(100);
  });

  it('does not divide by zero for an empty image', () => {
    expect(fitView({ width: 0, height: 0 }, { width: 10, height: 10 })).toEqual({ scale: 1, x: 0, y: 0 });
  });
});

describe('zoomAbout', () => {
  it('keeps the image point under the anchor fixed', () => {
    const view = { scale: 0.5, x: 10, y: 20 };
    const anchor = { x: 300, y: 140 };
    const before = toImagePoint(view, anchor);
    const zoomed = zoomAbout(view, 3, anchor);
    expect(zoomed.scale).toBeCloseTo(1.5);
    const after = toImagePoint(zoomed, anchor);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it('clamps the scale and moves the offset only by the applied factor', () => {
    const view = { scale: MAX_SCALE / 2, x: 0, y: 0 };
    const zoomed = zoomAbout(view, 10, { x: 100, y: 100 });
    expect(zoomed.scale).toBe(MAX_SCALE);
    expect(zoomed.x).toBeCloseTo(100 - 100 * 2);
    expect(zoomAbout({ scale: MIN_SCALE, x: 5, y: 5 }, 0.1, { x: 0, y: 0 })).toEqual({ scale: MIN_SCALE, x: 5, y: 5 });
  });

  it('zooming in and out by inverse factors returns to the start', () => {
    const view = { scale: 1.25, x: -40, y: 17 };
    const anchor = { x: 77, y: 33 };
    const back = zoomAbout(zoomAbout(view, 1.7, anchor), 1 / 1.7, anchor);
    expect(back.scale).toBeCloseTo(view.scale);
    expect(back.x).toBeCloseTo(view.x);
    expect(back.y).toBeCloseTo(view.y);
  });
});

describe('actualSizeView', () => {
  it('goes to 100% about the viewport centre', () => {
    const viewport = { width: 800, height: 600 };
    const view = { scale: 0.25, x: 100, y: 50 };
    const centreBefore = toImagePoint(view, { x: 400, y: 300 });
    const actual = actualSizeView(view, viewport);
    expect(actual.scale).toBe(1);
    const centreAfter = toImagePoint(actual, { x: 400, y: 300 });
    expect(centreAfter.x).toBeCloseTo(centreBefore.x);
    expect(centreAfter.y).toBeCloseTo(centreBefore.y);
  });
});

describe('panBy and wheel', () => {
  it('pans by screen pixels without changing the scale', () => {
    expect(panBy({ scale: 3, x: 1, y: 2 }, 10, -5)).toEqual({ scale: 3, x: 11, y: -3 });
  });

  it('zooms in for wheel up, out for wheel down, and treats line deltas like pixels', () => {
    expect(wheelZoomFactor(-100)).toBeGreaterThan(1);
    expect(wheelZoomFactor(100)).toBeLessThan(1);
    expect(wheelZoomFactor(-100) * wheelZoomFactor(100)).toBeCloseTo(1);
    expect(wheelZoomFactor(3, 1)).toBeCloseTo(wheelZoomFactor(120, 0));
    expect(wheelZoomFactor(-100000)).toBe(wheelZoomFactor(-300));
  });

  it('formats the zoom level as a percentage', () => {
    expect(formatZoom(1)).toBe('100%');
    expect(formatZoom(0.5)).toBe('50%');
    expect(formatZoom(0.0512)).toBe('5.1%');
  });
});
