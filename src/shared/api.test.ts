import { describe, expect, it } from 'vitest';
import { METHOD_NAMES, assetPath, methods, parseAssetPath, parseInput } from './api';

describe('asset paths', () => {
  it('parses the two path forms and round-trips them', () => {
    expect(parseAssetPath('image/12/thumb')).toEqual({ imageId: 12, variant: 'thumb' });
    expect(parseAssetPath('image/3/round/7/difficulty')).toEqual({ imageId: 3, roundId: 7, layer: 'difficulty' });
    for (const r of [{ imageId: 1, variant: 'rgb' as const }, { imageId: 2, roundId: 4, layer: 'depth_tgt' as const }]) {
      expect(parseAssetPath(assetPath(r))).toEqual(r);
    }
  });

  it('refuses anything else, including paths that try to leave the grammar', () => {
    for (const bad of ['image/1/passwd', 'image/../1/rgb', 'image/1/rgb/', 'image/x/rgb', 'image/1/round/2/entropy', '/etc/passwd', 'image/1/round/2/../../rgb']) {
      expect(parseAssetPath(bad)).toBeNull();
    }
  });
});

describe('contract', () => {
  it('lists every method once and validates input with one readable sentence', () => {
    expect([...METHOD_NAMES].sort()).toEqual(Object.keys(methods).sort());
    expect(() => parseInput('getImage', { imageId: 0 })).toThrow(/^Invalid input for getImage at "imageId"/);
    expect(parseInput('startRound', { sourceDatasetId: 1, targetDatasetId: 2 })).toMatchObject({ method: 'corda', preset: 'tiny' });
  });
});
