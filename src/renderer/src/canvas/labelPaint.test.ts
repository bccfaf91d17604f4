import { describe, expect, it } from 'vitest';
import { TRAIN_CLASSES } from '../../../shared/labels';
import { HUMAN_MARK, insideImage, paintLabelWords, PALETTE_WORDS, REGION_EDGE, REGION_FILL, regionShapeWords, rgbaWord, unionRect } from './labelPaint';

/** The RGBA bytes a word puts into an ImageData on a little-endian machine. */
const bytes = (word: number) => Array.from(new Uint8Array(Uint32Array.of(word).buffer));

describe('label painting', () => {
  it('packs colours little-endian, so one word writes R, G, B, A in ImageData order', () => {
    expect(bytes(rgbaWord(1, 2, 3, 4))).toEqual([1, 2, 3, 4]);
    const road = TRAIN_CLASSES[0]!;
    expect(bytes(PALETTE_WORDS[road.trainId]!)).toEqual([...road.color, 255]);
    expect(PALETTE_WORDS[255]).toBe(0); // ignore stays transparent
  });

  it('paints only the clipped rectangle: palette colours for labels, the mark for edited pixels', () => {
    // 3x2: labels 0 1 255 / 2 0 1, the middle column edited.
    const planes = { width: 3, height: 2, labels: Uint8Array.of(0, 1, 255, 2, 0, 1), human: Uint8Array.of(0, 1, 0, 0, 1, 0) };
    const labelWords = new Uint32Array(6).fill(7);
    const humanWords = new Uint32Array(6).fill(7);
    const painted = paintLabelWords(planes, labelWords, humanWords, { x0: 1, y0: -4, x1: 9, y1: 0 });
    expect(painted).toEqual({ x0: 1, y0: 0, x1: 2, y1: 0 });
    expect(Array.from(labelWords)).toEqual([7, PALETTE_WORDS[1], 0, 7, 7, 7]);
    expect(Array.from(humanWords)).toEqual([7, HUMAN_MARK, 0, 7, 7, 7]);
    expect(paintLabelWords(planes, labelWords, humanWords, { x0: 4, y0: 0, x1: 6, y1: 1 })).toBeNull();
  });

  it('draws a region as a faint fill with an opaque edge, cut to its box', () => {
    // 5x4 map: superpixel 3 is the 3x3 block at (1..3, 0..2); the box starts one pixel left of it.
    const width = 5;
    const superpixels = new Uint16Array(20);
    for (let y = 0; y <= 2; y++) for (let x = 1; x <= 3; x++) superpixels[y * width + x] = 3;
    const words = regionShapeWords({ x: 0, y: 0, width: 4, height: 3 }, { superpixels, width, id: 3 });
    const E = REGION_EDGE;
    const F = REGION_FILL;
    // prettier-ignore
    expect(Array.from(words)).toEqual([
      0, E, E, E,
      0, E, F, E,
      0, E, E, E,
    ]);
  });

  it('unites dirty rectangles and tests points against the image', () => {
    expect(unionRect(null, { x0: 1, y0: 2, x1: 3, y1: 4 })).toEqual({ x0: 1, y0: 2, x1: 3, y1: 4 });
    expect(unionRect({ x0: 1, y0: 2, x1: 3, y1: 4 }, { x0: 0, y0: 3, x1: 5, y1: 3 })).toEqual({ x0: 0, y0: 2, x1: 5, y1: 4 });
    expect(insideImage({ x: 0, y: 0 }, { width: 2, height: 2 })).toBe(true);
    expect(insideImage({ x: 1.99, y: 2 }, { width: 2, height: 2 })).toBe(false);
    expect(insideImage({ x: -0.1, y: 1 }, { width: 2, height: 2 })).toBe(false);
  });
});
