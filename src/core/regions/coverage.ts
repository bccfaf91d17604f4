// Regions a person has already corrected: fixing an object from one region often fixes the regions around it
// too, and the queue should not send the person there again. A region counts as covered when at least half of
// its superpixel's pixels, at the image's own size, are human-set in the image's correction.
//
// Judged exactly on the superpixel's native pixels rather than its box (a box also holds neighbours' pixels,
// so a corrected neighbour would cover a region nobody touched): a native pixel belongs to the superpixel
// when the working-size pixel it shows (raster/resize.ts axisMapping, the mapping of the served buffers) has its
// id. The cost is one pass over the region's box, a decode of the working-size superpixel PNG and an inflate
// of the image's human mask, paid once per image per nextRegion call, and a covered region is stored as such,
// so it is never judged again.
import { decode } from 'fast-png';
import { axisMapping } from '../raster/resize';
import type { Db } from '../store/db';
import { readHumanMask } from '../store/correctionsRepo';
import { markCovered, openImageRegions } from '../store/regionsRepo';
import { getLayer } from '../store/roundsRepo';

/** Share of a region's pixels a person set, at and above which the queue passes it over. */
export const COVERED_SHARE = 0.5;

export interface RegionShape {
  superpixel: number;
  /** Native bounding box of the superpixel. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * For each region, the share of its superpixel's native pixels that are non-zero in `human` (W x H); 0 for
 * a region with no pixel inside the image.
 */
export function humanShares(
  superpixels: Uint16Array,
  w: number,
  h: number,
  human: Uint8Array,
  W: number,
  H: number,
  regions: readonly RegionShape[],
): number[] {
  const cols = axisMapping(w, W);
  const rows = axisMapping(h, H);
  return regions.map((region) => {
    let pixels = 0;
    let set = 0;
    const x1 = Math.min(W, region.x + region.width);
    const y1 = Math.min(H, region.y + region.height);
    for (let Y = Math.max(0, region.y); Y < y1; Y++) {
      const row = rows[Y]! * w;
      for (let X = Math.max(0, region.x); X < x1; X++) {
        if (superpixels[row + cols[X]!] !== region.superpixel) continue;
        pixels++;
        if (human[Y * W + X] !== 0) set++;
      }
    }
    return pixels > 0 ? set / pixels : 0;
  });
}

/**
 * Judges the open regions of one image in a round against the image's human mask, marks those covered and
 * returns their ids. Nothing is judged when the image has no human pixels or its correction is of another
 * size than the image the regions were placed on (the file changed on disk).
 */
export function markCoveredRegions(db: Db, roundId: number, imageId: number): Set<number> {
  const mask = readHumanMask(db, imageId);
  if (!mask) return new Set();
  const image = db.prepare('SELECT width, height FROM images WHERE id = ?').get(imageId) as { width: number; height: number } | undefined;
  if (!image || image.width !== mask.width || image.height !== mask.height) return new Set();
  const open = openImageRegions(db, roundId, imageId);
  const blob = open.length > 0 ? getLayer(db, roundId, imageId, 'superpixels') : null;
  if (!blob) return new Set();
  const png = decode(blob);
  const shares = humanShares(png.data as Uint16Array, png.width, png.height, mask.human, mask.width, mask.height, open);
  const covered = open.filter((_, i) => shares[i]! >= COVERED_SHARE).map((r) => r.id);
  markCovered(db, covered);
  return new Set(covered);
}
