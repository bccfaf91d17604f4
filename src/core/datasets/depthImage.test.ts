import { describe, expect, it } from 'vitest';
import { INVALID_DEPTH } from './depthIO';
import { depthToGrey } from './depthImage';

describe('depth as a grey image', () => {
  it('draws near as bright, unknown depth as black, the top of the range white', () => {
    // Targets are inverse-depth-like: 64 is about 10 m away, 8 about 80 m.
    const grey = depthToGrey({ width: 4, height: 1, data: Float32Array.from([64, 8, INVALID_DEPTH, 32]) });
    expect(Array.from(grey)).toEqual([255, 32, 0, 128]);
  });

  it('is all black without any known depth', () => {
    expect(Array.from(depthToGrey({ width: 2, height: 1, data: new Float32Array(2).fill(INVALID_DEPTH) }))).toEqual([0, 0]);
  });
});
