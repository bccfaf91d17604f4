import { describe, expect, it } from 'vitest';
import { curvesSvg, meanCurve } from './curvesSvg.mjs';

describe('learning curves as SVG', () => {
  it('averages runs per iteration over the runs that scored it', () => {
    const mean = meanCurve([
      [{ iteration: 10, valMIoU: 0.2 }, { iteration: 20, valMIoU: 0.4 }],
      [{ iteration: 20, valMIoU: 0.6 }, { iteration: 10, valMIoU: 0.1 }, { iteration: 30, valMIoU: null }],
    ]);
    expect(mean.map((p) => p.iteration)).toEqual([10, 20]);
    expect(mean[0].value).toBeCloseTo(0.15);
    expect(mean[1].value).toBeCloseTo(0.5);
  });

  it('draws one line per series, dashed where asked, coloured per group, with escaped labels and axes in percent', () => {
    const svg = curvesSvg([
      { label: 'corda', points: [{ iteration: 0, value: 0.1 }, { iteration: 100, value: 0.3 }] },
      { label: 'corda <torch>', group: 'corda', dashed: true, points: [{ iteration: 0, value: 0.1 }, { iteration: 100, value: 0.35 }] },
      { label: 'dacs', points: [{ iteration: 50, value: 0.2 }] },
      { label: 'never scored', points: [] },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    const paths = [...svg.matchAll(/<path d="([^"]*)" fill="none" stroke="(#[0-9a-f]{6})"[^>]*?( stroke-dasharray="6 4")?>/g)];
    expect(paths).toHaveLength(3);
    expect(paths[0][2]).toBe(paths[1][2]);
    expect(paths[2][2]).not.toBe(paths[0][2]);
    expect(paths.map((p) => Boolean(p[3]))).toEqual([false, true, false]);
    // y runs from 0 % (bottom, 312) to the next tenth above the largest value, 40 % (top, 40); x from 0 to 100.
    expect(paths[0][1]).toBe('M56.0,244.0L460.0,108.0');
    expect(svg).toContain('corda &lt;torch&gt;');
    expect(svg).not.toContain('never scored');
    expect(svg).toContain('>40%</text>');
  });

  it('says so when nothing was scored', () => {
    expect(curvesSvg([])).toContain('no val scorings');
  });
});
