import { describe, expect, it } from 'vitest';
import { METHODS, METHOD_NAMES, METHOD_TRAITS, assetPath, methods, parseAssetPath, parseInput } from './api';

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

describe('a round request', () => {
  it('carries every option `corda adapt` has, and refuses malformed ones by field', () => {
    const options = {
      sourceDatasetId: 1, targetDatasetId: 2, crop: { width: 64, height: 32 }, batchSize: 80, checkpointEvery: 4, evalEvery: 0,
      workingWidth: 64, pretrained: '/enc', variant: 'synthia', recipe: { emaDecay: 0.99, flip: true, optimizer: 'adam' },
    };
    expect(parseInput('startRound', options)).toMatchObject(options);
    const bad: [Record<string, unknown>, string][] = [
      [{ crop: { width: 64 } }, 'crop.height'],
      [{ batchSize: 0 }, 'batchSize'],
      [{ evalEvery: -1 }, 'evalEvery'],
      [{ workingWidth: 8 }, 'workingWidth'],
      [{ recipe: { lr: { nested: 1 } } }, 'recipe.lr'],
      [{ method: 'segformer' }, 'method'],
    ];
    for (const [fields, at] of bad) {
      expect(() => parseInput('startRound', { sourceDatasetId: 1, targetDatasetId: 2, ...fields })).toThrow(`Invalid input for startRound at "${at}"`);
    }
    expect(parseInput('resumeRound', { roundId: 3, backend: 'cpu' })).toEqual({ roundId: 3, backend: 'cpu' });
  });

  it('says for every method what it trains', () => {
    expect(Object.keys(METHOD_TRAITS).sort()).toEqual([...METHODS].sort());
    expect(METHODS.filter((m) => METHOD_TRAITS[m].depth)).toEqual(['corda']);
    expect(METHODS.filter((m) => !METHOD_TRAITS[m].target)).toEqual(['source-only']);
  });
});
