import { describe, expect, it } from 'vitest';
import { resizeNearestCentred } from '../raster/resize';
import { Rng } from '../random';
import { imageRegions, nativeFootprints, pickSpread, superpixelNeighbours, type Footprint } from './imageRegions';
import { uint16LittleEndian } from './roundRaw';

/** The footprints read off the resized map itself, pixel by pixel. */
function bruteForce(superpixels: Uint16Array, count: number, w: number, h: number, W: number, H: number): Footprint[] {
  const native = resizeNearestCentred(superpixels, w, h, W, H);
  const out: Footprint[] = [];
  for (let id = 0; id < count; id++) {
    let [x0, y0, x1, y1, pixels] = [W, H, -1, -1, 0];
    for (let Y = 0; Y < H; Y++) {
      for (let X = 0; X < W; X++) {
        if (native[Y * W + X] !== id) continue;
        pixels++;
        [x0, y0, x1, y1] = [Math.min(x0, X), Math.min(y0, Y), Math.max(x1, X), Math.max(y1, Y)];
      }
    }
    out.push(pixels ? { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, pixels } : { x: 0, y: 0, width: 0, height: 0, pixels: 0 });
  }
  return out;
}

describe('image regions', () => {
  const rng = new Rng(7);
  const w = 12;
  const h = 6;
  const count = 9;
  const superpixels = Uint16Array.from({ length: w * h }, () => Math.floor(rng.next() * count));

  it('serves 16-bit ids as little-endian bytes', () => {
    expect([...uint16LittleEndian(Uint16Array.from([0x1234, 7]))]).toEqual([0x34, 0x12, 7, 0]);
  });

  it('maps boxes and pixel counts to native size exactly as the resized buffer shows them', () => {
    for (const [W, H] of [[12, 6], [30, 17], [7, 3], [2048, 1024]] as const) {
      expect(nativeFootprints(superpixels, count, w, h, W, H)).toEqual(bruteForce(superpixels, count, w, h, W, H));
    }
  });

  it('keeps the hardest regions of at least the minimum size, in score order, with native boxes', () => {
    // Superpixel i covers column i of a 3x2 map; difficulty rises with i, superpixel 0 is below the minimum size.
    const layers = {
      width: 3,
      height: 2,
      count: 3,
      superpixels: Uint16Array.from([0, 1, 2, 1, 1, 2]),
      labels: new Uint8Array(6),
      confidence: new Uint8Array(6).fill(128),
      difficulty: Uint8Array.from([10, 100, 200, 100, 100, 200]),
    };
    const regions = imageRegions(layers, { width: 6, height: 4 }, { minPixels: 2, perImage: 5 });
    expect(regions.map((r) => r.superpixel)).toEqual([2, 1]);
    expect(regions[0]).toMatchObject({ x: 4, y: 0, width: 2, height: 4, pixels: 8 });
    expect(regions[1]).toMatchObject({ x: 0, y: 0, width: 4, height: 4, pixels: 12 });
    expect(imageRegions(layers, { width: 6, height: 4 }, { minPixels: 1, perImage: 1 })).toHaveLength(1);
  });

  it('spreads the picks: a hard superpixel touching one already picked waits until the non-touching ones are in', () => {
    // Four 2-column superpixels side by side (0 | 1 | 2 | 3); 0 and 1 are the hardest and touch, 3 is third.
    const width = 8;
    const height = 2;
    const superpixels = Uint16Array.from({ length: width * height }, (_, p) => Math.floor((p % width) / 2));
    const hardness = [250, 240, 20, 120];
    const layers = {
      width,
      height,
      count: 4,
      superpixels,
      labels: new Uint8Array(width * height),
      confidence: new Uint8Array(width * height).fill(64),
      difficulty: Uint8Array.from(superpixels, (id) => hardness[id]!),
    };
    const neighbours = superpixelNeighbours(superpixels, width, height, 4);
    expect(neighbours.map((set) => [...set].sort())).toEqual([[1], [0, 2], [1, 3], [2]]);

    const native = { width: 16, height: 4 };
    expect(imageRegions(layers, native, { minPixels: 1, perImage: 2 }).map((r) => r.superpixel)).toEqual([0, 3]);
    // Slots left after the spread picks are filled from the passed-over ones, hardest first.
    expect(imageRegions(layers, native, { minPixels: 1, perImage: 3 }).map((r) => r.superpixel)).toEqual([0, 3, 1]);
    expect(imageRegions(layers, native, { minPixels: 1, perImage: 4 }).map((r) => r.superpixel)).toEqual([0, 3, 1, 2]);
    // 2 touches 3 (picked), so with 0 and 3 taken only the passed-over 1 and 2 remain, in score order.
    expect(pickSpread([{ superpixel: 0 }, { superpixel: 1 }, { superpixel: 3 }, { superpixel: 2 }], neighbours, 3)).toEqual([
      { superpixel: 0 },
      { superpixel: 3 },
      { superpixel: 1 },
    ]);
  });
});
