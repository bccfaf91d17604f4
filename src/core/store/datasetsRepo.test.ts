import { describe, expect, it } from 'vitest';
import { legacyDepthSource } from './datasetsRepo';

describe('stored datasets', () => {
  it('names the source of a dataset imported before sources were recorded as that import decoded it', () => {
    expect(legacyDepthSource('cityscapes', 'disparity', 'camera')).toBe('sgm');
    expect(legacyDepthSource('cityscapes', 'disparity', null)).toBe('mono');
    expect(legacyDepthSource('gta5', 'disparity', null)).toBe('mono');
    expect(legacyDepthSource('synthia', 'Depth/Depth', null)).toBe('simulator');
    expect(legacyDepthSource('gta5', null, null)).toBeNull();
  });
});
