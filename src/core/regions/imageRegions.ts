// An image's review regions: its superpixels scored at the round's working size, the hardest kept, each with
// its bounding box and pixel count in the image's own pixels under the nearest-neighbour mapping that serves
// the raw buffers (nativeSize.ts).
import { axisMapping } from './nativeSize';
import { scoreRegions, type RegionLayers } from './score';

export const REGIONS_PER_IMAGE = 20;
/** Working-size pixels below which a superpixel is too small to be worth a person's visit. */
export const MIN_REGION_PIXELS = 64;

export interface RegionWrite {
  superpixel: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Native pixels. */
  pixels: number;
  score: number;
}

export interface Footprint {
  x: number;
  y: number;
  width: number;
  height: number;
  pixels: number;
}

/** For each working column (or row) i: the first native index showing it and how many do (contiguous). */
function nativeSpans(working: number, native: number): { first: Int32Array; count: Int32Array } {
  const first = new Int32Array(working).fill(-1);
  const count = new Int32Array(working);
  const shows = axisMapping(working, native);
  for (let X = 0; X < native; X++) {
    const i = shows[X]!;
    if (first[i] === -1) first[i] = X;
    count[i]!++;
  }
  return { first, count };
}

/** Every superpixel's box and size in native pixels (pixels 0 where downscaling drops it altogether). */
export function nativeFootprints(superpixels: Uint16Array, count: number, w: number, h: number, W: number, H: number): Footprint[] {
  const cols = nativeSpans(w, W);
  const rows = nativeSpans(h, H);
  const x0 = new Int32Array(count).fill(W);
  const y0 = new Int32Array(count).fill(H);
  const x1 = new Int32Array(count).fill(-1);
  const y1 = new Int32Array(count).fill(-1);
  const pixels = new Float64Array(count);
  for (let y = 0; y < h; y++) {
    const rowCount = rows.count[y]!;
    if (rowCount === 0) continue;
    const top = rows.first[y]!;
    const bottom = top + rowCount - 1;
    for (let x = 0; x < w; x++) {
      const colCount = cols.count[x]!;
      if (colCount === 0) continue;
      const id = superpixels[y * w + x]!;
      const left = cols.first[x]!;
      pixels[id]! += colCount * rowCount;
      if (left < x0[id]!) x0[id] = left;
      if (left + colCount - 1 > x1[id]!) x1[id] = left + colCount - 1;
      if (top < y0[id]!) y0[id] = top;
      if (bottom > y1[id]!) y1[id] = bottom;
    }
  }
  return Array.from({ length: count }, (_, id) =>
    pixels[id]! > 0 ? { x: x0[id]!, y: y0[id]!, width: x1[id]! - x0[id]! + 1, height: y1[id]! - y0[id]! + 1, pixels: pixels[id]! } : { x: 0, y: 0, width: 0, height: 0, pixels: 0 },
  );
}

/** The image's hardest superpixels, at most `perImage`, with native boxes. */
export function imageRegions(
  layers: RegionLayers,
  native: { width: number; height: number },
  options: { perImage?: number; minPixels?: number } = {},
): RegionWrite[] {
  const perImage = options.perImage ?? REGIONS_PER_IMAGE;
  const footprints = nativeFootprints(layers.superpixels, layers.count, layers.width, layers.height, native.width, native.height);
  const regions: RegionWrite[] = [];
  for (const scored of scoreRegions(layers, options.minPixels ?? MIN_REGION_PIXELS)) {
    if (regions.length >= perImage) break;
    const box = footprints[scored.superpixel]!;
    if (box.pixels === 0) continue;
    regions.push({ superpixel: scored.superpixel, ...box, score: scored.score });
  }
  return regions;
}
