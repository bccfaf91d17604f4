import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { plotRanges, XAxis, YAxis, type ChartFrame } from './ChartAxis';
import { linearScale } from './chartMath';

const FRAME: ChartFrame = { width: 200, height: 100, pad: { left: 40, right: 10, top: 10, bottom: 30 } };
const svg = (element: ReturnType<typeof createElement>) => renderToStaticMarkup(createElement('svg', null, element));

describe('chart axes', () => {
  it('span the plot area inside the padding', () => {
    expect(plotRanges(FRAME)).toEqual({ x: [40, 190], y: [70, 10] });
  });

  it('draw a y tick per round value with a grid line across the plot and the formatted label left of it', () => {
    const y = linearScale([0, 1], plotRanges(FRAME).y);
    const markup = svg(createElement(YAxis, { frame: FRAME, scale: y, ticks: 2, format: (t: number) => `${t * 100}%` }));
    expect(markup.match(/<line /g)).toHaveLength(3); // 0, 0.5, 1
    expect(markup).toContain('<line class="chart__grid" x1="40" x2="190" y1="40" y2="40"></line>');
    expect(markup).toContain('<text class="chart__tick" x="36" y="43" text-anchor="end">50%</text>');
  });

  it('put x labels lower without a title and leave the bottom line to the title when there is one', () => {
    const x = linearScale([0, 10], plotRanges(FRAME).x);
    const bare = svg(createElement(XAxis, { frame: FRAME, scale: x, ticks: 2 }));
    expect(bare).toContain('<text class="chart__tick" x="115" y="92" text-anchor="middle">5</text>');
    const titled = svg(createElement(XAxis, { frame: FRAME, scale: x, ticks: 2, title: 'iteration' }));
    expect(titled).toContain('<text class="chart__tick" x="115" y="84" text-anchor="middle">5</text>');
    expect(titled).toContain('<text class="chart__tick" x="115" y="97" text-anchor="middle">iteration</text>');
  });
});
