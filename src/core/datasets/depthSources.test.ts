import { describe, expect, it } from 'vitest';
import { DEPTH_SOURCES } from './depthSources';

describe('depth sources', () => {
  it("prefers the reference's choice for Cityscapes: stereo, then monocular, then the official SGM", () => {
    expect(DEPTH_SOURCES.cityscapes.map((s) => s.source)).toEqual(['stereo', 'mono', 'sgm']);
    const key = { split: 'train', city: 'aachen', stem: 'aachen_000000_000019', file: 'aachen_000000_000019_leftImg8bit.png' };
    expect(DEPTH_SOURCES.cityscapes.map((s) => s.fileOf(key))).toEqual([
      'train/aachen/aachen_000000_000019_depth_stereoscopic.mat',
      'train/aachen/aachen_000000_000019_leftImg8bit.png',
      'train/aachen/aachen_000000_000019_disparity.png',
    ]);
  });
});
