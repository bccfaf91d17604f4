// An image's review regions: its superpixels scored at the round's working size, the hardest kept, each with
// its bounding box and pixel count in the image's own pixels under the nearest-neighbour mapping that serves
// the raw buffers (raster/resize.ts). Neighbours are suppressed as in RIPU: a wrongly predicted object usually
// spans several adjacent superpixels, and one visit fixes it, so the picks are spread over the image first.
import { axisMapping } from '../raster/resize';
import type { RegionWrite } from '../store/regionsRepo';
import { scoreRegions, type RegionLayers } from './score';

export const REGIONS_PER_IMAGE = 20;
/** Working-size pixels below which a superpixel is too small to be worth a person's visit. */
export const MIN_REGION_PIXELS = 64;

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

/** Each superpixel's 4-connected neighbours at the layers' size. */
export function superpixelNeighbours(superpixels: Uint16Array, width: number, height: number, count: number): Set<number>[] {
  const neighbours = Array.from({ length: count }, () => new Set<number>());
  const link = (a: number, b: number) => {
    if (a === b) return;
    neighbours[a]!.add(b);
    neighbours[b]!.add(a);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x + 1 < width) link(superpixels[p]!, superpixels[p + 1]!);
      if (y + 1 < height) link(superpixels[p]!, superpixels[p + width]!);
    }
  }
  return neighbours;
}

/**
 * Greedy pick with neighbour suppression: in the given (hardest first) order, each item is taken unless it
 * touches one already taken; slots left over are then filled from the passed-over items, still in order, so an
 * image with few hard regions keeps all of them.
 */
export function pickSpread<T extends { superpixel: number }>(ranked: readonly T[], neighbours: readonly Set<number>[], limit: number): T[] {
  const picked: T[] = [];
  const passed: T[] = [];
  const taken = new Set<number>();
  for (const item of ranked) {
    if (picked.length >= limit) break;
    let touches = false;
    for (const other of neighbours[item.superpixel] ?? []) {
      if (taken.has(other)) {
        touches = true;
        break;
      }
    }
    if (touches) {
      passed.push(item);
    } else {
      picked.push(item);
      taken.add(item.superpixel);
    }
  }
  return [...picked, ...passed.slice(0, limit - picked.length)];
}

/** The image's hardest superpixels, at most `perImage`, spread by neighbour suppression, with native boxes. */
export function imageRegions(
  layers: RegionLayers,
  native: { width: number; height: number },
  options: { perImage?: number; minPixels?: number } = {},
): RegionWrite[] {
  const perImage = options.perImage ?? REGIONS_PER_IMAGE;
  const footprints = nativeFootprints(layers.superpixels, layers.count, layers.width, layers.height, native.width, native.height);
  const candidates = scoreRegions(layers, options.minPixels ?? MIN_REGION_PIXELS).filter((scored) => footprints[scored.superpixel]!.pixels > 0);
  const neighbours = superpixelNeighbours(layers.superpixels, layers.width, layers.height, layers.count);
  return pickSpread(candidates, neighbours, perImage).map((scored) => ({ superpixel: scored.superpixel, ...footprints[scored.superpixel]!, score: scored.score }));
}
